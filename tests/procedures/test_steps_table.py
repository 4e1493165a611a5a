"""The 流程 table: a procedure revision's steps on its page and in its Word export, the
same rows on both, every text escaped."""
import io

import docx

from pages import signed_in


def test_the_steps_show_on_the_revision_page_and_in_the_word_export(app, f, now, controller, form,
                                                                     draft_procedure, release):
    steps = [{"name": "受理<script>", "form_id": form.id, "due_hours": {"ordinary": 24, "emergency": 2}},
             {"name": "回访", "due_working_days": 3, "escalate_to": "controller"}]
    proc, rev = draft_procedure(steps)
    release(rev)
    page = signed_in(app, controller).get(f"/revisions/{rev.id}").get_data(as_text=True)
    assert "<h2>流程步骤</h2>" in page and "受理&lt;script&gt;" in page and "<script>" not in page.split("</nav>", 1)[-1]
    assert f"{form.code} {form.title}" in page
    assert "一般 24 小时; 紧急 2 小时" in page and "3 个工作日" in page and "文控" in page

    exported = docx.Document(io.BytesIO(f.api(controller).get(f"/revisions/{rev.id}/export.docx").data))
    rows = [[c.text for c in row.cells] for table in exported.tables for row in table.rows]
    assert ["1", "受理<script>", f"{form.code} {form.title}", "", "一般 24 小时; 紧急 2 小时", "部门经理"] in rows
    assert ["2", "回访", "", "", "3 个工作日", "文控"] in rows


def test_a_revision_without_steps_has_no_steps_table(app, f, now, controller):
    rev = f.effective(f.document(controller), controller=controller)
    page = signed_in(app, controller).get(f"/revisions/{rev.id}").get_data(as_text=True)
    assert "流程步骤" not in page


def test_the_procedure_page_starts_runs_and_a_step_record_links_back(app, f, now, controller, staff, form,
                                                                    procedure, start):
    proc = procedure([{"name": "受理", "form_id": form.id, "due_hours": 24}])
    page = signed_in(app, staff).get(f"/documents/{proc.id}").get_data(as_text=True)
    assert f"/documents/{proc.id}/runs/new" in page and f"/runs?document_id={proc.id}" in page
    reviewer_page = signed_in(app, f.user("external_reviewer")).get(f"/documents/{proc.id}").get_data(as_text=True)
    assert f"/documents/{proc.id}/runs/new" not in reviewer_page
    run = start(staff, proc)
    done = f.api(staff).post(f"/runs/{run['id']}/steps/0/complete", json={"data": {"customer": "厦门恒达"}})
    assert done.status_code == 200, done.get_json()
    record_id = done.get_json()["steps"][0]["record_id"]
    record_page = signed_in(app, staff).get(f"/records/{record_id}").get_data(as_text=True)
    assert f'href="/runs/{run["id"]}"' in record_page and run["number"] in record_page

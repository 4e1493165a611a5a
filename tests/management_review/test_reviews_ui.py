"""The management review in the browser: plan, hold, outputs, completion, approval, report."""
from factories import PASSWORD
from management_review.conftest import utc
from pages import page_form
from portal.extensions import db
from portal.management_review.models import ManagementReview


def _review():
    db.session.expire_all()
    return db.session.query(ManagementReview).one()


def _fill(form, **values):
    for name, value in values.items():
        form[name] = value  # replaces, as typing into the field does


def test_plan_hold_decide_complete_approve(people, browser, frozen):
    frozen(utc(2026, 9, 1, 2))
    organiser = browser(people.organiser)
    assert "/management-reviews" in organiser.get("/").get_data(as_text=True)  # in the navigation
    page = organiser.get("/management-reviews/new").get_data(as_text=True)
    form = page_form(page)
    assert 'name="chair"' in page and 'name="members"' in page and "cb_auditor" not in page
    _fill(form, title="2026年度管理评审", period_from="2026-01-01", period_to="2026-08-31",
          meeting_date="2026-09-10", chair="chenjianhua")
    form.setlist("members", ["sunli", "zhaoguoqiang"])
    response = organiser.post("/management-reviews/new", data=form)
    assert response.status_code == 302
    review = _review()
    assert (review.number, review.state, review.chair.username) == ("MR-2026-01", "planned", "chenjianhua")
    assert [u.username for u in review.members] == ["sunli", "zhaoguoqiang"]

    page = organiser.get(f"/management-reviews/{review.id}").get_data(as_text=True)
    assert 'id="inputs"' in page and "SHA-256" not in page
    organiser.post(f"/management-reviews/{review.id}/hold", data=page_form(page, "/hold"))
    review = _review()
    page = organiser.get(f"/management-reviews/{review.id}").get_data(as_text=True)
    assert review.state == "held" and review.inputs_sha256 in page

    form = page_form(page, "/outputs")
    _fill(form, decision="投诉逾期自动提醒上线", owner="sunli", due_date="2026-12-31")
    organiser.post(f"/management-reviews/{review.id}/outputs", data=form)
    output = _review().outputs[0]
    assert (output.decision, output.owner.username, output.state) == ("投诉逾期自动提醒上线", "sunli", "open")

    owner = browser(people.member)
    page = owner.get(f"/management-reviews/{review.id}").get_data(as_text=True)
    form = page_form(page, "/complete")
    form["note"] = "已上线"
    owner.post(f"/review-outputs/{output.id}/complete", data=form)
    assert _review().outputs[0].state == "completed"
    assert "/complete" not in organiser.get(f"/management-reviews/{review.id}").get_data(as_text=True)

    chair = browser(people.chair)
    page = chair.get(f"/management-reviews/{review.id}").get_data(as_text=True)
    form = page_form(page, "/approve")
    assert "password" in form and "suitable" not in form  # the boxes start unticked
    _fill(form, suitable="1", adequate="1", summary="体系适宜、充分；有效性待提高。", password="wrong")
    response = chair.post(f"/management-reviews/{review.id}/approve", data=form)
    assert response.status_code == 403 and _review().state == "held"
    # refused, the form keeps what the chair wrote, never the password
    form = page_form(response.get_data(as_text=True), "/approve")
    assert "flash error" in response.get_data(as_text=True)
    assert (form.get("suitable"), form.get("adequate"), form.get("effective")) == ("1", "1", None)
    assert form["summary"] == "体系适宜、充分；有效性待提高。" and form["password"] == ""
    form["password"] = PASSWORD
    chair.post(f"/management-reviews/{review.id}/approve", data=form)
    review = _review()
    assert review.state == "closed" and review.conclusion == {"suitable": True, "adequate": True, "effective": False}
    page = browser(people.outsider).get(f"/management-reviews/{review.id}?lang=en").get_data(as_text=True)
    assert "Management review report .docx" in page and "体系适宜、充分；有效性待提高。" in page
    report = browser(people.outsider).get(f"/management-reviews/{review.id}/report.docx")
    assert report.status_code == 200 and report.get_data()[:2] == b"PK"


def test_the_new_form_keeps_values_and_names_the_problem(people, browser, frozen):
    frozen(utc(2026, 9, 1, 2))
    client = browser(people.controller)
    form = page_form(client.get("/management-reviews/new").get_data(as_text=True))
    _fill(form, title="倒置的期间", period_from="2026-08-31", period_to="2026-01-01",
          meeting_date="2026-09-10", chair="chenjianhua")
    form.setlist("members", [])
    response = client.post("/management-reviews/new", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "倒置的期间" in page and 'class="error"' in page
    assert db.session.query(ManagementReview).count() == 0


def test_who_sees_the_planning_and_the_buttons(people, review, browser):
    for who in ("member", "outsider", "auditor"):
        assert browser(getattr(people, who)).get("/management-reviews/new").status_code == 403
    member_page = browser(people.member).get(f"/management-reviews/{review.id}").get_data(as_text=True)
    assert "/hold" not in member_page and "/approve" not in member_page
    assert browser(people.outsider).get(f"/management-reviews/{review.id}").status_code == 404
    assert review.number not in browser(people.outsider).get("/management-reviews").get_data(as_text=True)
    reviewer = browser(people.reviewer)
    assert reviewer.get(f"/management-reviews/{review.id}").status_code == 404
    assert reviewer.post(f"/management-reviews/{review.id}/hold", data={"csrf_token": reviewer.csrf}).status_code == 403
    en = browser(people.organiser).get("/management-reviews?lang=en").get_data(as_text=True)
    assert "Management reviews" in en and review.number in en

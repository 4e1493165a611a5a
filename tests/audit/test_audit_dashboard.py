"""The dashboard's audit sections: 我的纠正措施 for the owner (overdue marked), 我的审核 for the lead
and team, 逾期措施 for controllers, auditors and the audited department's approvers and manager,
待验证 for independent auditors — each within what the reader may see."""
from datetime import datetime, timezone

import pytest

from portal.accounts import services as accounts
from portal.audit import queries


def at(day: int):
    return datetime(2026, 5, day, 2, tzinfo=timezone.utc)


@pytest.fixture
def overdue(frozen, action):
    """An open action of 生产部 due 2026-05-03, seen on 2026-05-10."""
    frozen(at(1))
    act = action(due_date="2026-05-03")
    frozen(at(10))
    return act


def sections(kit, web) -> dict:
    page = kit.page(web, "/")
    return {name: f'id="{name}"' in page for name in ("my-actions", "my-audits", "overdue-actions",
                                                     "actions-to-verify")}, page


def test_the_owner_sees_the_action_marked_overdue(browser, kit, owner, overdue):
    shown, page = sections(kit, browser(owner))
    assert shown == {"my-actions": True, "my-audits": False, "overdue-actions": False, "actions-to-verify": False}
    mine = page[page.index('id="my-actions"'):]
    assert overdue["number"] in mine and 'class="overdue"' in mine


def test_the_lead_sees_the_audit_and_the_overdue_action(browser, kit, lead, overdue, running):
    shown, page = sections(kit, browser(lead))
    assert shown["my-audits"] and running["number"] in page
    assert shown["overdue-actions"] and overdue["number"] in page[page.index('id="overdue-actions"'):]
    assert not shown["actions-to-verify"]


def test_a_controller_watches_every_overdue_action(f, browser, kit, overdue):
    shown, page = sections(kit, browser(f.user("controller")))
    assert shown["overdue-actions"] and overdue["number"] in page and not shown["my-audits"]


def test_approvers_and_managers_watch_their_departments_overdue_actions(f, browser, kit, overdue, depts):
    sc_approver, sh_approver, manager = (f.user("approver", department="SC"), f.user("approver", department="SH"),
                                         f.user("staff", department="ZB"))
    accounts.set_department_manager(f.user("admin"), "SC", manager.username)
    assert sections(kit, browser(sc_approver))[0]["overdue-actions"]
    assert sections(kit, browser(manager))[0]["overdue-actions"]
    assert not sections(kit, browser(sh_approver))[0]["overdue-actions"]
    assert queries.overdue_actions_query(f.user("staff", department="SC")) is None


def test_an_independent_auditor_sees_what_to_verify(f, browser, kit, action, owner, second_auditor):
    act = action()
    f.api(owner).post(f"/actions/{act['id']}/complete", json={"note": "完成"})
    shown, page = sections(kit, browser(second_auditor))
    assert shown["actions-to-verify"] and act["number"] in page[page.index('id="actions-to-verify"'):]
    insider = f.user("auditor", department="SC")  # of the audited department: may not verify
    assert not sections(kit, browser(insider))[0]["actions-to-verify"]
    assert sections(kit, browser(owner))[0] == {"my-actions": True, "my-audits": False, "overdue-actions": False,
                                                "actions-to-verify": False}


def test_the_reviewer_sees_no_audit_still_running(f, browser, kit, overdue, running):
    reviewer = f.user("external_reviewer")
    shown, page = sections(kit, browser(reviewer))
    assert not any(shown.values()) and overdue["number"] not in page
    data = queries.action_dashboard(reviewer)
    assert data == {"my_actions": [], "my_audits": [], "overdue_actions": [], "actions_to_verify": []}

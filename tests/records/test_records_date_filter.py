"""GET /records?from=&to= narrows by the day a record was issued, on SQLite and on
PostgreSQL (where comparing the day with text was a 500, found by tests/test_api_fuzz.py)."""
from datetime import datetime, timezone


def test_records_are_filtered_by_the_day_they_were_issued(app, api, effective_form, issue, frozen):
    form = effective_form()
    numbers = {}
    for day in (3, 10, 20):
        frozen(datetime(2026, 11, day, 4, 0, tzinfo=timezone.utc))
        numbers[day] = issue(api, form)["number"]

    def listed(query: str) -> set[str]:
        response = api.get(f"/records?form_id={form.id}&{query}")
        assert response.status_code == 200, response.get_json()
        return {r["number"] for r in response.get_json()["items"]}

    assert listed("from=2026-11-10") == {numbers[10], numbers[20]}
    assert listed("to=2026-11-10") == {numbers[3], numbers[10]}
    assert listed("from=2026-11-04&to=2026-11-19") == {numbers[10]}
    assert listed("from=0001-01-01&to=9999-12-31") == set(numbers.values())

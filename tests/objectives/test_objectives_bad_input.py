"""Hostile ids and query parameters never give a 5xx (checked on PostgreSQL too)."""


def test_edges(world, f, make):
    obj = make({"kind": "count", "form_id": world.form.id}, unit="count", target=1)
    api = f.api(world.controller)
    for path in ("/objectives/99999999999", "/objectives/99999999999/values", "/objectives/0/chart.svg"):
        assert api.get(path).status_code == 404, path
    for q in ("from=%00", "from=%F0%9F%98%80", "department=%00", "from=9999-12&to=9999-12", "from=1970-01&to=1970-01",
              "to=9998-12", "active=2", "department=" + "x" * 40):
        for path in (f"/objectives/{obj.id}/values", f"/objectives/{obj.id}/chart.svg", "/objectives.xlsx", "/objectives"):
            r = api.get(path + "?" + q)
            assert r.status_code < 500, (path, q, r.get_data(as_text=True)[:300])
    assert api.post("/objectives", json={"measure": {"kind": "on_time", "document_id": 2**40}}).status_code == 422
    assert api.post("/objectives", json=[1]).status_code == 400

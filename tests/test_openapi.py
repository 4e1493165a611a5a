"""The OpenAPI description (/api/v1/openapi.json) describes every route the API has, with a
schema for every answer and the limits the handlers enforce; a method a path does not take
answers 405 with `Allow` (RFC 9110), on the API and in the browser."""
import json
import re

import pytest

from portal.openapi import spec
from portal.validation import MAX_ID


def _api_routes(app) -> set[tuple[str, str]]:
    names = {"item_id": "{item_id}", "year": "{year}", "date": "{date}", "index": "{index}"}
    routes = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: names.get(m.group(1), "{id}"), rule.rule[len("/api/v1"):])
            routes |= {(method.lower(), path) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return routes


def _operations():
    return [(method, path, op) for path, ops in spec()["paths"].items() for method, op in ops.items()]


def test_the_description_is_served_as_built_and_is_valid_openapi_3_1(client):
    import jsonschema_rs
    from schemathesis.specs.openapi.definitions import OPENAPI_31

    served = client.get("/api/v1/openapi.json")
    assert served.status_code == 200 and served.get_json() == json.loads(json.dumps(spec()))
    errors = [e.message for e in jsonschema_rs.validator_for(OPENAPI_31).iter_errors(served.get_json())]
    assert errors == []


def test_every_route_is_described_and_every_description_is_a_route(app):
    described = {(method, path) for method, path, _ in _operations()}
    assert sorted(_api_routes(app) - described) == []
    assert sorted(described - _api_routes(app)) == []


@pytest.mark.parametrize("method, path, op", _operations(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_operation_says_what_it_answers(method, path, op):
    successes = {code: r for code, r in op["responses"].items() if code.startswith("2")}
    assert len(successes) == 1
    for media in next(iter(successes.values()))["content"].values():
        assert media["schema"], f"{method.upper()} {path}: a 2xx without a schema"
    if path != "/openapi.json":
        for code in ("400", "401", "403", "404"):
            error = op["responses"][code]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}
    if "requestBody" in op:
        assert {"409", "422", "413"} <= set(op["responses"])


def test_limits_the_handlers_enforce_are_documented():
    for method, path, op in _operations():
        params = {p["name"]: p for p in op.get("parameters", [])}
        if "per_page" in params and path != "/search":
            assert params["per_page"]["schema"]["maximum"] == 100, path
        for name, param in params.items():
            if name == "id" or name.endswith("_id") or name == "against":
                assert param["schema"]["type"] == "integer" and param["schema"]["maximum"] == MAX_ID, (path, name)
    schemas = spec()["components"]["schemas"]
    assert schemas["DocumentCreate"]["properties"]["title"]["maxLength"] == 300
    assert schemas["DocumentCreate"]["properties"]["doc_type"]["enum"][0] == "manual"
    assert set(schemas["DocumentCreate"]["required"]) == {"code", "title", "doc_type", "department"}
    assert schemas["DocumentUpdate"]["additionalProperties"] is False  # unknown fields are 422
    assert schemas["Error"]["properties"]["error"]["required"] == ["code", "message"]


def test_a_method_the_api_path_does_not_take_is_405_with_allow(client):
    response = client.open("/api/v1/documents", method="DELETE")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}


def test_a_method_a_page_does_not_take_is_405_with_allow(client):
    response = client.open("/login", method="PUT")
    assert response.status_code == 405 and response.mimetype == "text/html"
    assert {"GET", "POST"} <= {m.strip() for m in response.headers["Allow"].split(",")}

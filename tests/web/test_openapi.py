"""The OpenAPI document says what the API answers (issue 12, item 15): one error shape, a 404
wherever a path names a record, 422 in that shape, the period's pattern, and 405 for a method a
path does not allow."""

from __future__ import annotations

import pytest

from pingan.web.openapi import ERROR_SCHEMA


def assert_error_shape(body: dict) -> None:
    """The body has the documented Error shape (required keys, string messages)."""
    assert set(body) == {"error"}
    error = body["error"]
    assert set(ERROR_SCHEMA["properties"]["error"]["required"]) <= set(error) <= set(
        ERROR_SCHEMA["properties"]["error"]["properties"])
    assert all(isinstance(error[k], str) and error[k] for k in ("code", "message", "message_en"))


@pytest.fixture
def doc(client):
    return client.get("/openapi.json").json()


def operations(doc):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_every_error_documented_is_the_one_shape_the_api_answers(doc):
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    assert doc["components"]["schemas"]["Error"] == ERROR_SCHEMA
    for path, method, op in operations(doc):
        for status, response in op["responses"].items():
            if status.startswith("4"):
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}, (
                    method, path, status)
                assert response["description"], (method, path, status)


def test_a_path_that_names_a_record_documents_404(doc):
    named = [(path, method, op) for path, method, op in operations(doc) if "{" in path]
    assert named
    for path, method, op in named:
        assert "404" in op["responses"], (method, path)


def test_an_api_operation_documents_401_except_login(doc):
    assert "401" in doc["paths"]["/api/v1/incidents"]["get"]["responses"]
    login = doc["paths"]["/api/v1/auth/login"]["post"]["responses"]
    assert login["401"]["description"] == "wrong credentials"  # wrong password, not "no session"


def test_a_404_and_a_422_answer_in_the_documented_shape(client, world, login):
    headers = login("dispatcher")
    missing = client.get("/api/v1/incidents/999999", headers=headers)
    assert missing.status_code == 404
    assert_error_shape(missing.json())
    invalid = client.get("/api/v1/incidents", params={"since": "not a time"}, headers=headers)
    assert invalid.status_code == 422
    assert_error_shape(invalid.json())
    assert [f["field"] for f in invalid.json()["error"]["fields"]] == ["since"]


def test_the_period_parameter_documents_its_pattern(doc):
    period = next(p for p in doc["paths"]["/api/v1/stats/kpis/{slug}"]["get"]["parameters"] if p["name"] == "period")
    assert period["schema"].get("pattern") or any(s.get("pattern") for s in period["schema"].get("anyOf", []))


def test_a_method_a_path_does_not_allow_is_405_in_the_error_shape(client, world, login):
    resp = client.delete("/api/v1/incidents", headers=login("dispatcher"))
    assert resp.status_code == 405
    assert_error_shape(resp.json())
    assert resp.headers["allow"]  # (Starlette names the methods of the first route of that path)
    assert "delete" not in client.get("/openapi.json").json()["paths"]["/api/v1/incidents"]

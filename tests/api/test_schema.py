"""The OpenAPI document at /api/schema/ and the reference page at /api/docs/ that renders it."""

import re

import pytest
from django.urls import URLPattern, get_resolver, reverse

from api import schema as schema_module
from api.schema import openapi_document
from tests.conftest import text_of

METHODS = ("get", "head", "post", "put", "patch", "delete")


def _operations(document: dict) -> list[tuple[str, str, dict]]:
    return [(path, method, item[method]) for path, item in document["paths"].items() for method in METHODS if method in item]


def test_the_document_is_valid_openapi_3_1(client, db):
    # The meta-schema schemathesis validates against (jsonschema_rs, Draft 2020-12).
    from schemathesis.specs.openapi.definitions import OPENAPI_31_VALIDATOR

    document = client.get(reverse("api_schema")).json()
    assert document["openapi"] == "3.1.0"
    errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in OPENAPI_31_VALIDATOR.iter_errors(document)]
    assert errors == []


def test_every_ref_points_at_a_component():
    document = openapi_document()
    text = str(document)
    for ref in set(re.findall(r"'\$ref': '#/([^']+)'", text)):
        node = document
        for part in ref.split("/"):
            assert part in node, f"#/{ref} points nowhere"
            node = node[part]


def test_every_particle_url_is_described():
    described = set(openapi_document()["paths"])
    particle = {
        "/" + re.sub(r"<\w+:(\w+)>", r"{\1}", str(p.pattern))
        for p in get_resolver().url_patterns
        if isinstance(p, URLPattern) and (p.name or "").startswith("particle_")
    }
    assert particle and particle <= described


def test_every_operation_names_its_auth_scope_and_answers():
    document = openapi_document()
    schemes = document["components"]["securitySchemes"]
    assert (schemes["particleAuth"]["type"], schemes["particleAuth"]["scheme"]) == ("http", "bearer")
    if schema_module.EMNIFY_PATHS:
        assert (schemes["emnifyAuth"]["type"], schemes["emnifyAuth"]["scheme"]) == ("http", "bearer")
    assert schemes["particleAccessToken"]["in"] == "query" and schemes["particleAccessToken"]["name"] == "access_token"
    for path, method, operation in _operations(document):
        assert operation.get("summary"), (method, path)
        assert operation.get("security") or path.endswith("/authenticate"), (method, path)
        assert any(code.startswith("2") for code in operation["responses"]), (method, path)
        assert "401" in operation["responses"] or path.endswith("/authenticate"), (method, path)


def test_the_dialects_may_not_both_claim_a_path(monkeypatch):
    monkeypatch.setattr(schema_module, "EMNIFY_PATHS", {"/v1/sims": {}})
    with pytest.raises(ValueError, match="Both dialects define the path /v1/sims"):
        openapi_document()


def test_the_docs_page_shows_every_operation_with_its_auth(client, db):
    response = client.get(reverse("api_docs"))
    page = text_of(response)
    for path, method, operation in _operations(openapi_document()):
        assert f"{method.upper()} {path}" in page
        assert operation["summary"] in page
    assert "sims:import" in page and "particleAuth" in page and "access_token in the query" in page
    # Request body fields and example answers are spelled out.
    assert "mb_limit" in page and '"total_pages": 1' in page and '"error": "invalid_token"' in page


def test_the_docs_page_works_offline(client, db):
    html = client.get(reverse("api_docs")).content.decode()
    sources = re.findall(r"""(?:src|href)=["']([^"'#]+)""", html)
    assert sources and all(not re.match(r"(https?:)?//", source) for source in sources), sources


def test_the_docs_and_the_tokens_page_link_each_other(teammate_client):
    docs = teammate_client.get(reverse("api_docs")).content.decode()
    tokens = teammate_client.get(reverse("api_tokens")).content.decode()
    assert f'href="{reverse("api_tokens")}"' in docs and f'href="{reverse("api_schema")}"' in docs
    assert f'href="{reverse("api_docs")}"' in tokens

"""/docs and /redoc work with no network: every asset they reference is served by the app."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

REFERENCE = re.compile(r'(?:src|href|spec-url)="([^"]+)"')


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_a_docs_page_references_only_assets_the_app_serves(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    references = REFERENCE.findall(response.text)
    assert references, response.text
    assert all(ref.startswith("/") and not ref.startswith("//") for ref in references), references
    scripts = [ref for ref in references if ref.endswith(".js")]
    assert scripts, "the page loads no script: it would stay blank"
    for ref in references:
        asset = client.get(ref)
        assert asset.status_code == 200, ref
        assert len(asset.content) > 0, ref
    if page == "/docs":
        bundle = client.get("/docs/assets/swagger-ui-bundle.js")
        assert b"SwaggerUIBundle" in bundle.content
        assert len(bundle.content) > 500_000  # the real bundle, not a placeholder
        assert client.get("/docs/assets/swagger-start.js").text.count("/v1/openapi.json") == 1
    else:
        assert b"Redoc" in client.get("/docs/assets/redoc.standalone.js").content[:2000]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_a_docs_page_has_a_policy_that_allows_its_own_scripts_and_nothing_from_elsewhere(
    client: TestClient, page: str
) -> None:
    policy = client.get(page).headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'none'"
    assert "http" not in policy


def test_an_unknown_docs_asset_is_a_404_in_the_envelope(client: TestClient) -> None:
    response = client.get("/docs/assets/../../etc/passwd")
    assert response.status_code == 404
    response = client.get("/docs/assets/nope.js")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"

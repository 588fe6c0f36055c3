"""The contract tells clients that every database route may answer 503 with Retry-After."""

from __future__ import annotations

from quant_api.app import create_app
from quant_api.settings import ApiSettings


def test_every_route_but_health_documents_503_with_retry_after_as_json() -> None:
    app = create_app(ApiSettings(jwt_secret="x" * 40))  # builds the contract; no server needed
    paths = app.openapi()["paths"]
    operations = [(m, path, op) for path, ops in paths.items() for m, op in ops.items()]
    assert len(operations) >= 26
    for method, path, operation in operations:
        responses = operation["responses"]
        if path == "/v1/health":
            assert "503" not in responses  # always 200: it says what is down
            continue
        unavailable = responses.get("503")
        assert unavailable is not None, f"{method} {path}"
        assert "Retry-After" in unavailable["headers"], f"{method} {path}"
        assert list(unavailable["content"]) == ["application/json"], f"{method} {path}"

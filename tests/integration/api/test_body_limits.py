"""Request bodies are limited per route before they are read (issue 10, defect 6)."""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
from fastapi.testclient import TestClient

from quant_db.schema.identity import Role
from tests.integration.api.checks import assert_error
from tests.integration.api.seed import Seeder
from tests.integration.api.served import quant_api

MB = 1024 * 1024


def test_a_login_body_over_the_auth_limit_is_refused_with_413_naming_the_body(
    client: TestClient,
) -> None:
    body = {"username": "ana", "password": "x" * 20_000}
    response = client.post("/v1/auth/login", json=body)
    error = assert_error(response, 413, "payload_too_large", "body")
    assert "16,384 bytes" in error["message"]


def test_a_streamed_body_without_a_length_is_cut_off_at_the_limit(client: TestClient) -> None:
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            sent.append(1)
            yield b" " * 4096

    response = client.post(
        "/v1/auth/login", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_error(response, 413, "payload_too_large", "body")
    assert "content-length" not in {k.lower() for k in response.request.headers}


def test_other_routes_take_the_default_and_run_creation_takes_more(
    client: TestClient, seed: Seeder
) -> None:
    admin = seed.user("root", Role.ADMIN)
    big_patch = {"params": {"note": "x" * 70_000}}
    patched = client.patch("/v1/strategies/momentum_v1", json=big_patch, headers=admin.headers)
    assert_error(patched, 413, "payload_too_large", "body")
    # 200 kB of run request is over the default but within the run limit: validated, not refused
    run = {"strategy_id": "momentum_v1", "label": "x" * 200_000}
    created = client.post("/v1/runs", json=run, headers=admin.headers)
    assert created.status_code == 422, created.text


def _rss(pid: int) -> int:
    return int(psutil.Process(pid).memory_info().rss)


def _request_head(port: int, path: str, extra: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: application/json\r\n{extra}\r\n"
    ).encode()


def _answer(sock: socket.socket) -> tuple[int, dict[str, object]]:
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def test_a_20_mb_body_is_refused_by_quant_api_before_it_is_read_and_memory_stays_flat(
    tmp_path: Path, database_url: str, redis_url: str
) -> None:
    with quant_api(tmp_path, database_url, redis_url) as api:
        port = int(api.url.rsplit(":", 1)[1])
        for _ in range(3):  # warm up: imports, connection pools, first-request caches
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(_request_head(port, "/v1/auth/login", "Content-Length: 2\r\n") + b"{}")
                _answer(sock)
        before = _rss(api.pid)

        # declared: the answer comes before a single byte of the body is sent
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(_request_head(port, "/v1/auth/login", f"Content-Length: {20 * MB}\r\n"))
            status, body = _answer(sock)
        assert status == 413
        assert body["error"]["code"] == "payload_too_large"  # type: ignore[index]

        # chunked, no length: the server stops taking it at the limit and closes the connection
        sent = 0
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(_request_head(port, "/v1/auth/login", "Transfer-Encoding: chunked\r\n"))
            chunk = b"%x\r\n%s\r\n" % (64 * 1024, b" " * 64 * 1024)
            # send until the server answers (it does not read past the limit), then read it
            while sent < 20 * MB and not select.select([sock], [], [], 0.01)[0]:
                sock.sendall(chunk)
                sent += 64 * 1024
            status, _ = _answer(sock)
        assert status == 413
        assert sent < 20 * MB, "the server read the whole 20 MB"
        time.sleep(0.5)
        after = _rss(api.pid)
    assert after - before < 10 * MB, f"RSS grew from {before / MB:.0f} to {after / MB:.0f} MB"

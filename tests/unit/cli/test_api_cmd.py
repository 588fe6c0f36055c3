"""`quant api` starts uvicorn with proxy headers off unless QUANT_TRUSTED_PROXIES names proxies."""

from __future__ import annotations

from quant_cli.api_cmd import proxy_options


def test_without_trusted_proxies_uvicorn_reads_no_forwarded_headers() -> None:
    # uvicorn's own default would trust X-Forwarded-For from 127.0.0.1 (issue 10, defect 5)
    assert proxy_options([]) == {"proxy_headers": False, "forwarded_allow_ips": ""}


def test_trusted_proxies_are_handed_to_uvicorn_as_given() -> None:
    assert proxy_options(["10.0.0.0/8", "127.0.0.1"]) == {
        "proxy_headers": True,
        "forwarded_allow_ips": ["10.0.0.0/8", "127.0.0.1"],
    }

"""Headers every answer carries: no MIME sniffing, no framing, no referrer, a content security
policy, and `Cache-Control: no-store` unless a route chose its own caching."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# JSON answers: nothing in them may load or run anything
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# an HTML answer that names no policy of its own (the run report: one self-contained page whose
# charts are inline scripts): it may run its own inline code but load or send nothing, and runs
# in a sandbox (an opaque origin), so it could not read the API origin's storage either
HTML_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'none'; sandbox allow-scripts allow-popups"
)

_FIXED = {
    b"x-content-type-options": b"nosniff",
    b"x-frame-options": b"DENY",
    b"referrer-policy": b"no-referrer",
}


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _FIXED.items():
                    headers[name.decode()] = value.decode()
                if "content-security-policy" not in headers:
                    html = headers.get("content-type", "").startswith("text/html")
                    headers["Content-Security-Policy"] = HTML_POLICY if html else API_POLICY
                # answers carry tokens and account data: no browser or proxy keeps them unless
                # a route said otherwise (the docs' static assets)
                headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)

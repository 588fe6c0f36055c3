"""/docs (Swagger UI) and /redoc served with no network: their scripts and styles come from the
installed fastapi-offline package (the upstream bundles, repackaged), not from a CDN."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from quant_api.errors import not_found

ASSETS_PATH = "/docs/assets"
OPENAPI_URL = "/v1/openapi.json"
# Swagger UI needs inline styles (it sets style attributes) and data: images; Redoc also starts
# a web worker from a blob: URL. Scripts: only these files, no inline code, no eval.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_CACHED = "public, max-age=86400"

# starts Swagger UI on the page below; a file, not an inline script, so the policy can forbid those
_SWAGGER_START = f"""window.addEventListener("load", function () {{
  window.ui = SwaggerUIBundle({{
    url: "{OPENAPI_URL}",
    dom_id: "#swagger-ui",
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  }});
}});
"""

_PACKAGED = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}


def _page(title: str, head: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n"
        f'<link rel="icon" type="image/png" href="{ASSETS_PATH}/favicon.png">\n'
        f"{head}</head>\n<body>\n{body}</body>\n</html>\n"
    )


SWAGGER_PAGE = _page(
    "Quant platform API - Swagger UI",
    f'<link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">\n',
    '<div id="swagger-ui"></div>\n'
    f'<script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>\n'
    f'<script src="{ASSETS_PATH}/swagger-start.js"></script>\n',
)
REDOC_PAGE = _page(
    "Quant platform API - ReDoc",
    "",
    f'<redoc spec-url="{OPENAPI_URL}"></redoc>\n'
    f'<script src="{ASSETS_PATH}/redoc.standalone.js"></script>\n',
)


@cache
def _asset(name: str) -> bytes:
    if name == "swagger-start.js":
        return _SWAGGER_START.encode()
    return (files("fastapi_offline") / "static" / name).read_bytes()


router = APIRouter(include_in_schema=False)


def _html(page: str) -> HTMLResponse:
    return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_POLICY})


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    return _html(SWAGGER_PAGE)


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    return _html(REDOC_PAGE)


@router.get(ASSETS_PATH + "/{name}")
async def asset(name: str) -> Response:
    media = "text/javascript; charset=utf-8" if name == "swagger-start.js" else _PACKAGED.get(name)
    if media is None:
        raise not_found("docs asset", repr(name))
    return Response(_asset(name), media_type=media, headers={"Cache-Control": _CACHED})

"""The route template a request matched (`/v1/runs/{run_id}`), the label of its latency metric."""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.types import Scope

UNMATCHED = "unmatched"
"""The label of a request no route matched: raw paths would make a label per URL."""


@dataclass(frozen=True)
class _Index:
    by_route: dict[int, str]  # id(route object) -> its full template, prefixes included
    static: frozenset[str]  # templates without parameters, matched by the raw path


_indexes: weakref.WeakKeyDictionary[Any, _Index] = weakref.WeakKeyDictionary()


def _index(app: Any) -> _Index:
    found = _indexes.get(app)
    if found is None:
        by_route: dict[int, str] = {}
        for context in iter_route_contexts(app.routes):
            template = context.path_format or context.path
            if template:
                by_route[id(context.original_route)] = template
        static = frozenset(t for t in by_route.values() if "{" not in t)
        found = _indexes[app] = _Index(by_route, static)
    return found


def route_template(scope: Scope) -> str:
    """The template of the route that handled `scope` (known once the app has run), else
    UNMATCHED. Included routers' prefixes are part of it; a route mounted without FastAPI's
    routing (GET /metrics) is known by its fixed path."""
    app = scope.get("app")
    if app is None or not hasattr(app, "routes"):
        return UNMATCHED
    index = _index(app)
    route = scope.get("route")
    if route is not None:
        return index.by_route.get(id(route)) or str(getattr(route, "path", UNMATCHED))
    path = scope.get("path", "")
    return path if path in index.static else UNMATCHED

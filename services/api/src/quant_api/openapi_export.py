"""Print the API's OpenAPI document, the source of the dashboard's generated TypeScript types.

`python -m quant_api.openapi_export > apps/dashboard/lib/api/openapi.json` (`make dashboard-api`
does this and regenerates the types). Building the document starts no server.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from quant_api.app import create_app
from quant_api.settings import ApiSettings


def openapi_document() -> dict[str, Any]:
    # fixed settings: the document must not depend on the caller's environment
    return create_app(ApiSettings(jwt_secret=None, _env_file=None)).openapi()  # type: ignore[call-arg]


def render() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())

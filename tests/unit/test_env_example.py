"""`.env.example` lists every variable the platform reads (issue 4: "listing every variable")."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic_settings import BaseSettings

from quant_api.settings import ApiSettings
from quant_brokers.alpaca.settings import AlpacaBrokerSettings
from quant_brokers.ib.settings import IbSettings
from quant_db.settings import StorageSettings
from quant_marketdata.alpaca.settings import AlpacaDataSettings
from quant_marketdata.ib.settings import IbDataSettings

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    *ROOT.glob("packages/*/src/**/*.py"),
    *ROOT.glob("services/*/src/**/*.py"),
    *ROOT.glob("apps/cli/src/**/*.py"),
]
# read from the environment in code rather than through a settings class
DIRECT = re.compile(r'(?:envvar=|environ\.get\(|environ\[|getenv\()"([A-Z][A-Z0-9_]+)"')
NOT_OURS = {"XDG_RUNTIME_DIR"}  # set for pgserver's own lookup, never by an operator
# apps/dashboard/lib/server/config.ts and client-address.ts
DASHBOARD = {"QUANT_API_URL", "NEXT_PUBLIC_API_URL", "QUANT_DASHBOARD_PROXY_HOPS"}


def _settings_names(cls: type[BaseSettings]) -> set[str]:
    prefix = str(cls.model_config.get("env_prefix", ""))
    return {(field.alias or f"{prefix}{name}").upper() for name, field in cls.model_fields.items()}


def _listed() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_every_variable_the_platform_reads_is_in_env_example() -> None:
    read = (
        _settings_names(ApiSettings)
        | _settings_names(StorageSettings)
        | _settings_names(AlpacaDataSettings)
        | _settings_names(IbSettings)
        | _settings_names(IbDataSettings)
        | _settings_names(AlpacaBrokerSettings)
        | {m for path in SOURCES for m in DIRECT.findall(path.read_text())}
        | DASHBOARD
    ) - NOT_OURS
    assert "QUANT_RATE_LIMIT_READS" in read  # the collection itself works
    assert sorted(read - _listed()) == []

"""The strategies table follows the YAML folders: new files become rows, bad files are skipped.

The folders are configs/strategies (QUANT_STRATEGIES_DIR) and the user's strategies folder
(QUANT_STRATEGIES_PATH, whose modules the configs' classes load from). They are synced at startup
and again, by StrategyCatalog.refresh(), whenever a YAML or Python file in them changed.

Rule for rows that already exist: status and mode are never touched (they are operated through
the API). The config follows its file, unless an admin has edited it through the API (an
`strategy.update` audit entry exists): then the row wins and a warning says the file differs.
"""

from __future__ import annotations

import asyncio
import copy
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from quant_db.schema import AuditEntry, Strategy
from quant_db.schema.runs import Mode
from quant_domain import ConfigError
from quant_strategy import Strategy as StrategyClass
from quant_strategy import StrategyConfig, load_strategy_config, resolve_class
from quant_strategy.strategy_folder import Fingerprint, config_files, fingerprint, strategies_path

STRATEGY_UPDATE = "strategy.update"
UNKNOWN_STRATEGY = "unknown strategy {!r}; GET /v1/strategies lists them"

log = structlog.get_logger("quant_api.strategies")
# class -> its params model's JSON schema; a class re-imported after an edit is a new key
_PARAMS_SCHEMAS: weakref.WeakKeyDictionary[type[StrategyClass[Any]], dict[str, Any]] = (
    weakref.WeakKeyDictionary()
)


@dataclass
class SyncReport:
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # file -> reason


def params_schema(stored: Mapping[str, Any]) -> dict[str, Any] | None:
    """The JSON schema of the params model of the class a stored config names (types, bounds,
    defaults, descriptions); None when the config or the class does not load. Kept per class
    (the same for every strategy of a class); callers get a copy."""
    try:
        config = StrategyConfig.model_validate(stored)
        cls = resolve_class(config)
    except (ValidationError, ConfigError):
        return None
    if cls not in _PARAMS_SCHEMAS:
        _PARAMS_SCHEMAS[cls] = cls.params_model.model_json_schema()
    return copy.deepcopy(_PARAMS_SCHEMAS[cls])


def validate_config(config: StrategyConfig) -> None:
    """Raise ConfigError unless the class imports and accepts the params (as a run would)."""
    resolve_class(config).parse_params(config)


def merged_config(
    stored: Mapping[str, Any],
    *,
    params: Mapping[str, Any] | None = None,
    risk: Mapping[str, Any] | None = None,
    universe: list[str] | None = None,
) -> StrategyConfig:
    """`stored` with `params` and `risk` merged in (a param set to None goes back to its default)
    and `universe` replaced, validated as a run would: pydantic's ValidationError or ConfigError
    when refused."""
    data = dict(stored)
    if params is not None:
        merged = {**data.get("params", {}), **params}
        data["params"] = {name: value for name, value in merged.items() if value is not None}
    if risk is not None:
        data["risk"] = {**data.get("risk", {}), **risk}
    if universe is not None:
        data["universe"] = universe
    config = StrategyConfig.model_validate(data)
    validate_config(config)
    return config


def load_folders(folders: Sequence[Path], report: SyncReport) -> list[StrategyConfig]:
    """Every valid strategy YAML in `folders`; invalid ones are recorded in `report` and logged.
    An id defined twice keeps its first file (the folders in order, files by name)."""
    configs: dict[str, StrategyConfig] = {}
    for path in (path for folder in folders for path in config_files(folder)):
        try:
            config = load_strategy_config(path)
            validate_config(config)
        except ConfigError as exc:
            reason = str(exc)
        except Exception as exc:  # a strategy module that fails to import must not stop the API
            reason = f"{type(exc).__name__}: {exc}"
        else:
            if config.id in configs:
                reason = f"id {config.id!r} is already defined by another file"
            else:
                configs[config.id] = config
                continue
        report.skipped[str(path)] = reason
        log.warning("strategy_config_skipped", file=str(path), reason=reason)
    return list(configs.values())


def stored_form(config: StrategyConfig) -> dict[str, Any]:
    return config.model_dump(mode="json", by_alias=True)


async def _sync(session: AsyncSession, configs: list[StrategyConfig], report: SyncReport) -> None:
    edited = set(
        await session.scalars(
            select(AuditEntry.target_id).where(AuditEntry.action == STRATEGY_UPDATE).distinct()
        )
    )
    rows = {row.id: row for row in await session.scalars(select(Strategy))}
    for config in configs:
        wanted = stored_form(config)
        row = rows.get(config.id)
        if row is None:
            # ON CONFLICT: two API processes starting together must not fail each other
            await session.execute(
                insert(Strategy)
                .values(
                    id=config.id,
                    class_path=config.class_path,
                    config=wanted,
                    status="active",
                    mode=Mode.BACKTEST,
                )
                .on_conflict_do_nothing(index_elements=["id"])
            )
            report.inserted.append(config.id)
        elif row.config == wanted and row.class_path == config.class_path:
            report.kept.append(config.id)
        elif config.id in edited:
            report.kept.append(config.id)
            log.warning(
                "strategy_file_differs_from_api_edit",
                strategy_id=config.id,
                hint="the row edited through the API is kept; PATCH it to change it",
            )
        else:
            row.config = wanted
            row.class_path = config.class_path
            report.updated.append(config.id)


async def sync_strategies(
    sessions: async_sessionmaker[AsyncSession], folders: Sequence[Path]
) -> SyncReport:
    """Bring the strategies table in line with the YAML files in `folders` (module docstring)."""
    report = SyncReport()
    # off the event loop: it imports the configs' modules (a user's module may be slow to load)
    configs = await asyncio.to_thread(load_folders, folders, report)
    async with sessions() as session, session.begin():
        await _sync(session, configs, report)
    log.info(
        "strategies_synced",
        folders=[str(folder) for folder in folders],
        inserted=report.inserted,
        updated=report.updated,
        kept=len(report.kept),
        skipped=len(report.skipped),
    )
    return report


class StrategyCatalog:
    """The strategy folders of one API process, synced again when a file in them changes.

    `configs_dir` holds YAML configs only; the user's strategies folder (read when the catalog is
    built) holds configs and the modules they load, so an edited `.py` file also re-syncs: a
    config skipped because its module failed to import is taken once the module is fixed.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], configs_dir: Path) -> None:
        self.sessions = sessions
        self.configs_dir = configs_dir
        self.strategies_dir = strategies_path()
        self._synced: tuple[Fingerprint, Fingerprint] | None = None
        self._lock = asyncio.Lock()

    @property
    def folders(self) -> list[Path]:
        return [self.configs_dir, self.strategies_dir]

    def _fingerprint(self) -> tuple[Fingerprint, Fingerprint]:
        return (
            fingerprint(self.configs_dir, (".yaml", ".yml")),
            fingerprint(self.strategies_dir, (".yaml", ".yml", ".py")),
        )

    async def sync(self) -> SyncReport:
        """Sync now, whatever changed."""
        async with self._lock:
            return await self._sync_now()

    async def _sync_now(self) -> SyncReport:
        if not self.configs_dir.is_dir():
            log.warning("strategies_folder_missing", folder=str(self.configs_dir))
        seen = self._fingerprint()
        report = await sync_strategies(self.sessions, self.folders)
        self._synced = seen
        return report

    async def refresh(self) -> SyncReport | None:
        """Sync if a file in the folders changed since the last sync (a few stat calls when none
        did); the report, or None when nothing changed."""
        if self._synced == self._fingerprint():
            return None
        async with self._lock:
            if self._synced == self._fingerprint():  # another request synced meanwhile
                return None
            return await self._sync_now()

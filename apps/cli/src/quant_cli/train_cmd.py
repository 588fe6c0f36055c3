"""`quant train CONFIG`: train, validate and register a model as its training config says."""

# ruff: noqa: PLC0415 - xgboost, pandas and SQLAlchemy load when the command runs, not for --help
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from quant_cli.database import cli_request_id, cli_via, in_session
from quant_cli.errors import user_errors
from quant_cli.sources import open_data

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from quant_models.dataset import TrainingSet
    from quant_models.training_config import TrainingConfig


def store_inputs(spec: TrainingConfig) -> tuple[TrainingSet, str]:
    """inputs.features: the feature set over the source's bars, through the feature store
    (computed once per version, reused after), labelled from the same bars; the rows kept run
    from inputs.features.start to its end, past each symbol's warm-up."""
    import asyncio
    from datetime import UTC, datetime, time

    import asyncpg

    from quant_db.feature_store import features_with_store
    from quant_db.migrate import migrated_url
    from quant_db.settings import get_settings
    from quant_db.urls import asyncpg_dsn
    from quant_domain import ConfigError
    from quant_features import bars_panel, load_feature_set
    from quant_models.feature_training import labelled_set

    inputs = spec.inputs.features
    assert inputs is not None
    try:
        label = spec.label.spec()
    except ValueError as exc:
        raise ConfigError(str(exc), file=spec.source, field="label.kind") from None
    path = spec.feature_set_path()
    if not path.exists():
        raise ConfigError(
            f"no feature set {inputs.set!r} (looked for {path})",
            file=spec.source,
            field="inputs.features.set",
        )
    feature_set = load_feature_set(path)
    source = open_data(inputs.data)
    known = source.symbols()
    for position, symbol in enumerate(inputs.symbols):
        if symbol not in known:
            raise ConfigError(
                f"unknown symbol {symbol!r}; the data source has {', '.join(known[:12])}",
                file=spec.source,
                field=f"inputs.features.symbols.{position}",
            )
    last = None if inputs.end is None else datetime.combine(inputs.end, time.max, tzinfo=UTC)
    bars = bars_panel({s: source.get_bars(s, None, last) for s in inputs.symbols})

    async def through_store() -> tuple[Any, Any]:
        connection: Any = await asyncpg.connect(asyncpg_dsn(migrated_url(get_settings())))
        try:
            return await features_with_store(connection, feature_set, bars)
        finally:
            await connection.close()

    features, outcome = asyncio.run(through_store())
    typer.echo(
        f"features {feature_set.name} version {outcome.version}: store "
        f"{'hit' if outcome.hit else 'miss'} ({len(outcome.reused)} symbols reused, "
        f"{len(outcome.computed)} computed)"
    )
    start = None if inputs.start is None else datetime.combine(inputs.start, time.min, tzinfo=UTC)
    data = labelled_set(feature_set, features, bars, label, start=start)
    return data, outcome.version


@user_errors
def train_command(
    config: Annotated[Path, typer.Argument(metavar="CONFIG", help="a training config (YAML)")],
) -> None:
    """Train CONFIG's model, validate it by purged walk-forward (and CPCV), register it as a candidate."""
    from quant_db.provenance import code_version
    from quant_db.settings import get_settings
    from quant_models import registry
    from quant_models.artifacts import ArtifactStore
    from quant_models.training import load_inputs, train
    from quant_models.training_config import load_training_config

    spec = load_training_config(config)
    if spec.inputs.features is not None:
        data, version = store_inputs(spec)
        spec = spec.model_copy(
            update={"inputs": spec.inputs.model_copy(update={"feature_set_version": version})}
        )
    else:
        data = load_inputs(spec)
    typer.echo(f"{spec.name}: {len(data):,} rows x {data.X.shape[1]} features")
    outcome = train(spec, data, report=typer.echo)
    artifact = ArtifactStore.from_settings(get_settings()).put(outcome.model.to_bytes())
    features = spec.inputs.feature_set_version or (
        "synthetic" if spec.inputs.synthetic is not None else "unversioned"
    )

    async def record(session: AsyncSession) -> str:
        model = await registry.register(
            session,
            name=spec.name,
            kind=outcome.model.kind,
            feature_set_version=features,
            label_definition=spec.label.model_dump(exclude_none=True),
            train_window=data.window(),
            data_fingerprint=data.fingerprint(),
            params=outcome.params.model_dump(),
            validation=outcome.validation,
            artifact=artifact,
            code_version=code_version(),
            trained_via=cli_via(),
            request_id=cli_request_id(),
        )
        await session.commit()
        dsr = outcome.validation["dsr"]
        return (
            f"registered {registry.describe(model)} as a candidate: OOS Sharpe "
            f"{outcome.validation['oos_sharpe']:.2f}, DSR {dsr:.3f}, artifact "
            f"{artifact.sha256[:12]}"
        )

    typer.echo(in_session(record))

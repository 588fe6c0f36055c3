"""`quant train CONFIG`: train, validate and register a model as its training config says."""

# ruff: noqa: PLC0415 - xgboost, pandas and SQLAlchemy load when the command runs, not for --help
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from quant_cli.database import cli_request_id, cli_via, in_session
from quant_cli.errors import user_errors

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


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

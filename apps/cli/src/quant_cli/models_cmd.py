"""`quant models`: the model registry from the shell: list, show, promote, demote."""

# ruff: noqa: PLC0415 - SQLAlchemy loads when a command runs, not for --help
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from quant_cli.database import cli_request_id, cli_via, in_session
from quant_cli.errors import user_errors
from quant_domain import QuantError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from quant_db.schema import RegisteredModel

models_app = typer.Typer(
    help="Trained models: lineage, validation and stages.", no_args_is_help=True
)

Ref = Annotated[str, typer.Argument(metavar="MODEL", help="#id, name:version, or name (latest)")]
Reason = Annotated[str, typer.Option(help="why; recorded with the decision and in the audit log")]
AsUser = Annotated[
    str, typer.Option("--user", help="an active admin's username, recorded as who decided")
]


class OperatorError(QuantError):
    """The decision cannot be made as asked (not an admin)."""


def _number(value: Any) -> str:
    return "-" if not isinstance(value, int | float) else f"{value:.2f}"


def _score(model: RegisteredModel, key: str) -> str:
    return _number(model.validation.get(key))


@models_app.command("list")
@user_errors
def list_command(
    name: Annotated[str | None, typer.Option(help="only the versions of this model")] = None,
) -> None:
    """List registered models: id, name, version, stage, OOS Sharpe, DSR, artifact."""
    from quant_models import registry

    async def read(session: AsyncSession) -> str:
        models = await registry.list_models(session, name)
        if not models:
            return "no models registered (train one with `quant train CONFIG`)"
        rows = [f"{'id':>4}  {'name':<24} {'ver':>3}  {'stage':<9} {'sharpe':>6} {'dsr':>5}  sha"]
        rows += [
            f"{m.id:>4}  {m.name:<24} {m.version:>3}  {m.stage:<9} "
            f"{_score(m, 'oos_sharpe'):>6} {_score(m, 'dsr'):>5}  {m.artifact_sha256[:12]}"
            for m in models
        ]
        return "\n".join(rows)

    typer.echo(in_session(read))


def _show(model: RegisteredModel, changes: list[Any]) -> str:
    validation = model.validation
    lines = [
        f"{model.name} v{model.version} (#{model.id}), {model.kind}, stage {model.stage} "
        f"since {model.stage_since:%Y-%m-%d %H:%M %Z}",
        f"  features      {model.feature_set_version}",
        f"  label         {model.label_definition}",
        f"  trained on    {model.train_start:%Y-%m-%d} .. {model.train_end:%Y-%m-%d}, "
        f"data {model.data_fingerprint[:16]}",
        f"  code          {model.code_version}, via {model.trained_via}",
        f"  artifact      {model.artifact_uri}",
        f"  validation    OOS Sharpe {_score(model, 'oos_sharpe')}, DSR {_score(model, 'dsr')}, "
        f"PBO {_score(model, 'pbo')}, trials {validation.get('n_trials', '-')}",
    ]
    for fold in validation.get("walk_forward", {}).get("folds", []):
        lines.append(
            f"    fold {fold['start']}..{fold['end']}: Sharpe {_number(fold['sharpe'])}, hit "
            f"{fold['hit_rate']:.3f}, purged {fold['purged']}, embargoed {fold['embargoed']}"
        )
    cpcv = validation.get("cpcv")
    if cpcv:
        summary = cpcv["summary"]
        lines.append(
            f"  CPCV          {int(summary['paths'])} paths, median Sharpe {summary['median']:.2f}, "
            f"p05 {summary['p05']:.2f}, positive {summary['share_positive']:.0%}"
        )
    top = sorted(validation.get("importances", {}).items(), key=lambda kv: -kv[1])[:5]
    if top:
        lines.append("  importances   " + ", ".join(f"{k} {v:.3f}" for k, v in top))
    lines.append("  stages")
    lines += [
        f"    {c.decided_at:%Y-%m-%d %H:%M} {c.from_stage or '-'} -> {c.to_stage}: {c.reason}"
        for c in changes
    ]
    return "\n".join(lines)


@models_app.command("show")
@user_errors
def show_command(model: Ref) -> None:
    """Show a model's lineage, validation folds, importances and stage history."""
    from quant_models import registry

    async def read(session: AsyncSession) -> str:
        found = await registry.find(session, model)
        return _show(found, await registry.history(session, found))

    typer.echo(in_session(read))


def _decide(ref: str, *, promote: bool, reason: str, username: str, policy: Any) -> None:
    from sqlalchemy import select

    from quant_db.schema import User
    from quant_db.schema.identity import Role
    from quant_models import registry
    from quant_models.errors import GateRefused

    async def decide(session: AsyncSession) -> str:
        user = await session.scalar(select(User).where(User.username == username))
        if user is None or not user.is_active or user.role is not Role.ADMIN:
            raise OperatorError(f"--user: {username!r} is not an active admin")
        decision = await registry.change_stage(
            session,
            ref=ref,
            promote=promote,
            reason=reason,
            user=user,
            policy=policy,
            request_id=cli_request_id(),
            via=cli_via(),
        )
        await session.commit()  # a refusal is audited too
        if not decision.accepted:
            raise GateRefused(decision.refusal())
        change = decision.change
        assert change is not None
        return f"{registry.describe(decision.model)}: {change.from_stage} -> {change.to_stage}"

    typer.echo(in_session(decide))


@models_app.command("promote")
@user_errors
def promote_command(
    model: Ref,
    reason: Reason,
    user: AsUser,
    min_oos_sharpe: Annotated[
        float, typer.Option(help="gate: least walk-forward OOS Sharpe (annualised)")
    ] = 0.5,
    min_dsr: Annotated[float, typer.Option(help="gate: least deflated Sharpe ratio")] = 0.95,
    min_paper_days: Annotated[
        float, typer.Option(help="gate: least days in paper before live")
    ] = 20.0,
) -> None:
    """Promote MODEL one stage (candidate -> paper -> live) through the gate; exit 2 if refused."""
    from pydantic import ValidationError

    from quant_cli.errors import fail, validation_message
    from quant_models.registry import GatePolicy

    try:
        policy = GatePolicy(
            min_oos_sharpe=min_oos_sharpe, min_dsr=min_dsr, min_paper_days=min_paper_days
        )
    except ValidationError as exc:
        flags = {
            "min_oos_sharpe": "--min-oos-sharpe",
            "min_dsr": "--min-dsr",
            "min_paper_days": "--min-paper-days",
        }
        raise fail(validation_message(exc, flags, "--min-*")) from None
    _decide(model, promote=True, reason=reason, username=user, policy=policy)


@models_app.command("demote")
@user_errors
def demote_command(model: Ref, reason: Reason, user: AsUser) -> None:
    """Demote MODEL one stage (live -> paper -> candidate); audited."""
    from quant_models.registry import GatePolicy

    _decide(model, promote=False, reason=reason, username=user, policy=GatePolicy())

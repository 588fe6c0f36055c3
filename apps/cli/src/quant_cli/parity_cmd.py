"""`quant parity RUN_A RUN_B`: two stored runs lined up order by order, every difference named."""

# ruff: noqa: PLC0415 - SQLAlchemy and the engine load when the command runs, not for --help
from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

import typer

from quant_cli.database import in_session
from quant_cli.errors import fail, user_errors

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from quant_engine.parity import ParityReport

SHOWN = 20


def _run_id(text: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise fail(f"{name}: {text!r} is not a run id (a UUID)") from None


def render(report: ParityReport, shown: int) -> str:
    """The summary, the notes, then the first `shown` differences, one per line."""
    lines = [f"{report.left} against {report.right}: {report.summary()}"]
    lines += [f"note: {note}" for note in report.notes]
    differences = report.differences
    for line in differences[:shown]:
        what = f"{line.symbol} {line.client_order_id}".strip() or "step"
        lines.append(f"  {line.decided_at:%Y-%m-%d %H:%M} {line.verdict}: {what}: {line.detail}")
    if len(differences) > shown:
        lines.append(f"  ... and {len(differences) - shown} more (--show to see more)")
    return "\n".join(lines)


@user_errors
def parity_command(
    run_a: Annotated[str, typer.Argument(metavar="RUN_A", help="a run id (e.g. a paper session)")],
    run_b: Annotated[str, typer.Argument(metavar="RUN_B", help="a run id (e.g. its backtest)")],
    show: Annotated[int, typer.Option(min=0, help="differences to list")] = SHOWN,
) -> None:
    """Line up two stored runs over the same bars and name each difference (exit 1 if any).

    Orders are matched by client order id (then by session and sequence, then by bar and
    symbol); each difference is a different decision, a different fill price (the fill model,
    the costs), a rejection (with its code) or a missed bar. Fills and final equity are
    compared to the cent.
    """
    ids = (_run_id(run_a, "RUN_A"), _run_id(run_b, "RUN_B"))

    async def read(session: AsyncSession) -> str:
        from quant_db.run_trades import load_run_trades
        from quant_engine.parity import compare

        runs = []
        for name, run_id in zip(("RUN_A", "RUN_B"), ids, strict=True):
            run = await load_run_trades(session, run_id)
            if run is None:
                raise fail(f"{name}: no run {run_id}")
            runs.append(run)
        a, b = runs
        left, right = a.name, b.name
        if left == right:
            left, right = f"A {left}", f"B {right}"
        report = compare(a, b, left, right)
        text = render(report, show)
        if not report.identical:
            typer.echo(text)
            raise typer.Exit(1)
        return text

    typer.echo(in_session(read))

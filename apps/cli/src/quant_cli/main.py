"""The `quant` command: one entry point for research, data and (later) the platform's services."""

from __future__ import annotations

import sys

import typer
from typer.exceptions import TyperException

from quant_cli.registry import Registered, lazy_group

# in the order `quant --help` lists them; each module is imported only when its command is used
COMMANDS = (
    Registered(
        "backtest",
        "quant_cli.backtest_cmd:backtest",
        "Backtest CONFIG; print a metrics table and write report.html and result.json.",
    ),
    Registered(
        "check-lookahead",
        "quant_cli.lookahead_cmd:check_lookahead_command",
        "Check CONFIG for look-ahead bias: exit 1 if a decision used later bars, 3 if suspicious.",
    ),
    Registered(
        "walk-forward",
        "quant_cli.walk_forward_cmd:walk_forward_command",
        "Walk-forward optimise CONFIG (its walk_forward: block, overridden by these flags).",
    ),
    Registered(
        "paper-replay",
        "quant_cli.paper_cmd:paper_replay_command",
        "Paper-trade CONFIG over stored bars replayed step by step, checked against a backtest.",
    ),
    Registered(
        "trade",
        "quant_cli.trade_cmd:trade_command",
        "Paper-trade each CONFIG on a replay of stored bars through the bus and the database.",
    ),
    Registered(
        "parity",
        "quant_cli.parity_cmd:parity_command",
        "Line up two stored runs over the same bars and name each difference (exit 1 if any).",
    ),
    Registered(
        "train",
        "quant_cli.train_cmd:train_command",
        "Train CONFIG's model, validate it by purged walk-forward (and CPCV), register it as a candidate.",
    ),
    Registered(
        "worker",
        "quant_cli.worker_cmd:worker_command",
        "Run jobs from the queue; stop cleanly on Ctrl-C or SIGTERM (the current run is retried later).",
    ),
    Registered(
        "api",
        "quant_cli.api_cmd:api_command",
        "Serve the /v1 API (migrates the database and syncs configs/strategies at startup).",
    ),
    Registered(
        "up",
        "quant_cli.up_cmd:up_command",
        "Start the API, the workers and the dashboard on the embedded defaults (or DATABASE_URL / REDIS_URL).",
    ),
    Registered(
        "compile",
        "quant_cli.compile_cmd:compile_command",
        "Compile the fast path's kernels into numba's cache, so no first sweep or job waits for it.",
    ),
    Registered(
        "execution",
        "quant_cli.execution_cmd:execution_app",
        "The execution service: paper sessions for the strategies in PAPER mode.",
    ),
    Registered(
        "monitoring",
        "quant_cli.monitoring_cmd:monitoring_app",
        "The monitoring service: alert rules, channels and heartbeats.",
    ),
    Registered(
        "strategies", "quant_cli.catalog_cmd:strategies_app", "Strategy configs and classes."
    ),
    Registered("data", "quant_cli.data_cmd:data_app", "Market data."),
    Registered(
        "features", "quant_cli.features_cmd:features_app", "Feature sets and the feature store."
    ),
    Registered(
        "models",
        "quant_cli.models_cmd:models_app",
        "Trained models: lineage, validation and stages.",
    ),
    Registered("brokers", "quant_cli.brokers_cmd:brokers_app", "Broker accounts."),
    Registered("db", "quant_cli.db_cmd:db_app", "Database schema."),
    Registered("users", "quant_cli.api_cmd:users_app", "Users of the HTTP API."),
    Registered(
        "api-keys",
        "quant_cli.api_keys_cmd:api_keys_app",
        "API keys for scripts (long-lived, revocable).",
    ),
    Registered(
        "reconcile",
        "quant_cli.reconcile_cmd:reconcile_app",
        "Reconciliation of each broker account with what the platform stored.",
    ),
    Registered(
        "kill-switch",
        "quant_cli.kill_switch_cmd:kill_switch_app",
        "Set the kill-switch mode straight in the database (works while the API is down).",
    ),
    Registered(
        "risk",
        "quant_cli.risk_cmd:risk_app",
        "The risk policy, its breakers, and the risk service.",
    ),
)

app = lazy_group(
    typer.Typer(
        name="quant",
        help="Quant platform: backtest strategies, inspect data, run the services.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        add_completion=False,
    ),
    COMMANDS,
)


def main() -> None:
    """Run the CLI; usage mistakes print one `error:` line and exit 2 (no help box, no traceback)."""
    try:
        code = app.main(standalone_mode=False)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except (
        TyperException
    ) as exc:  # Typer's vendored click usage errors (bad option, missing argument)
        message = exc.format_message().replace("Value error, ", "")
        if not message:  # a bare command group: its help was printed
            sys.exit(0)
        print(f"error: {message} (see --help)", file=sys.stderr)
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)

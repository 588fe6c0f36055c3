"""structlog set-up shared by every service: JSON lines (or key=value), bound context, redaction.

Both structlog loggers and the standard library's (the bus, the execution service, libraries)
go through the same processors, so every line carries the context and nothing skips redaction.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any, Literal, TextIO

import structlog
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import Processor

from quant_telemetry.redaction import SecretRedactor

LogFormat = Literal["json", "kv"]
StandardStream = Literal["stdout", "stderr"]
LEVELS = ("debug", "info", "warning", "error")
# the context keys services bind; any other key binds too, these are the ones dashboards join on
CONTEXT_KEYS = ("service", "run_id", "strategy_id", "client_order_id", "request_id")

_redactor = SecretRedactor()
# HTTP clients log every request URL at INFO; a Slack incoming-webhook URL is itself the secret
QUIET_LOGGERS = ("httpx", "httpx2", "httpcore", "urllib3")


def _target(stream: TextIO | StandardStream) -> TextIO:
    if isinstance(stream, str):
        return sys.stdout if stream == "stdout" else sys.stderr
    return stream


class _LiveStream(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to `stream`, or to whatever sys.stderr / sys.stdout is at the time of each line
    (pytest's capture replaces them after the handler is made)."""

    def __init__(self, stream: TextIO | StandardStream) -> None:
        super().__init__()
        self._target = stream

    @property
    def stream(self) -> TextIO:
        return _target(self._target)

    @stream.setter
    def stream(self, value: TextIO) -> None:
        """StreamHandler assigns its stream in __init__; the live property ignores it."""


def _service_adder(service: str) -> Processor:
    def add(
        logger: object, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        event.setdefault("service", service)
        return event

    return add


def configure_logging(
    service: str,
    level: str = "info",
    fmt: LogFormat = "json",
    secrets: Iterable[str] = (),
    stream: TextIO | StandardStream = "stderr",
    own_root: bool | None = None,
) -> None:
    """Route structlog and stdlib logging through one pipeline on `stream` (default stderr).

    Args:
        service: added to every line as `service`.
        level: debug, info, warning or error.
        fmt: "json" for services (one object per line), "kv" for a terminal.
        secrets: values never to appear in a line (settings' keys, passwords, webhook secrets).
        stream: where lines go; "stderr" or "stdout" are looked up at each line.
        own_root: route the standard library's records too, through a handler on the root
            logger. None: only when no other handler is on it (as logging.basicConfig does), so
            a host that configured logging itself (pytest, an embedding application) keeps it.
    """
    if level.lower() not in LEVELS:
        raise ValueError(f"log level {level!r}: use one of {', '.join(LEVELS)}")
    numeric = logging.getLevelNamesMapping()[level.upper()]
    _redactor.add(secrets)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        _service_adder(service),
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.processors.KeyValueRenderer(
            key_order=["timestamp", "level", "event", *CONTEXT_KEYS], drop_missing=True
        )
    )
    finishing: list[Processor] = [
        # tracebacks without local variables: those hold tokens and passwords
        structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
        _redactor,
        renderer,
    ]
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _LiveStream)]:
        root.removeHandler(old)
    if own_root is None:
        own_root = not root.handlers
    wrapper = structlog.make_filtering_bound_logger(numeric)
    if not own_root:
        # structlog renders its own lines; the standard library's stay with the host's handlers
        structlog.configure(
            processors=[*shared, *finishing],
            wrapper_class=wrapper,
            logger_factory=lambda *_: structlog.PrintLogger(_target(stream)),
            cache_logger_on_first_use=False,
        )
        return
    structlog.configure(
        processors=[
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=wrapper,
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    handler = _LiveStream(stream)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *finishing],
        )
    )
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))


def reset_logging() -> None:
    """Undo configure_logging (tests calling a command in-process; the process ends otherwise)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _LiveStream)]:
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)
    structlog.reset_defaults()


def add_secrets(secrets: Iterable[str]) -> None:
    """Values learned after start-up (a broker key read from the database) join the redaction."""
    _redactor.add(secrets)


@contextlib.contextmanager
def log_context(**values: Any) -> Iterator[None]:
    """Bind run_id, strategy_id, client_order_id, request_id, ... for the lines logged inside."""
    tokens = structlog.contextvars.bind_contextvars(**values)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)

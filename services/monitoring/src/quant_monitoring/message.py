"""What an alert says on each channel: Slack text, the signed webhook's JSON, an email."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

WEBHOOK_EVENT = "alert.raised"
TIMESTAMP_HEADER = "X-Quant-Timestamp"


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """An alert as it leaves the platform (read from its row when the delivery is sent)."""

    alert_id: int
    ts: datetime
    severity: str
    source: str
    message: str
    dedupe_key: str
    title: str | None = None
    strategy_id: str | None = None
    run_id: uuid.UUID | None = None
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def headline(self) -> str:
        return self.title or self.message.splitlines()[0][:120]


def slack_payload(alert: AlertMessage) -> dict[str, Any]:
    """Slack's incoming-webhook body: `text` only, which every client shows."""
    lines = [f"[{alert.severity.upper()}] {alert.headline}"]
    if alert.title:
        lines.append(alert.message)
    where = [f"source: {alert.source}"]
    if alert.strategy_id:
        where.append(f"strategy: {alert.strategy_id}")
    lines.append(" | ".join(where))
    return {"text": "\n".join(lines)}


def webhook_payload(alert: AlertMessage) -> dict[str, Any]:
    """The generic webhook's JSON (ADR 0040): stable keys a receiver can rely on."""
    return {
        "event": WEBHOOK_EVENT,
        "alert_id": alert.alert_id,
        "severity": alert.severity,
        "ts": alert.ts.astimezone(UTC).isoformat(),
        "source": alert.source,
        "title": alert.title,
        "message": alert.message,
        "dedupe_key": alert.dedupe_key,
        "details": {
            "strategy_id": alert.strategy_id,
            "run_id": None if alert.run_id is None else str(alert.run_id),
            **alert.context,
        },
    }


def webhook_body(alert: AlertMessage) -> bytes:
    """The exact bytes sent (and signed): compact JSON with sorted keys."""
    return json.dumps(
        webhook_payload(alert), sort_keys=True, separators=(",", ":"), default=str
    ).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over `<timestamp>.<body>` (the timestamp bars replays)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def email_message(alert: AlertMessage, sender: str, to: list[str]) -> EmailMessage:
    mail = EmailMessage()
    mail["Subject"] = f"[quant {alert.severity}] {alert.headline}"
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    lines = [
        alert.message,
        "",
        f"severity: {alert.severity}",
        f"source: {alert.source}",
        f"raised at: {alert.ts.astimezone(UTC).isoformat()}",
        f"alert id: {alert.alert_id}",
    ]
    if alert.strategy_id:
        lines.append(f"strategy: {alert.strategy_id}")
    for key, value in sorted(alert.context.items()):
        lines.append(f"{key}: {value}")
    mail.set_content("\n".join(lines) + "\n")
    return mail

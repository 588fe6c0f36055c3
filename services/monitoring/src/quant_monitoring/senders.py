"""Sending one alert to one channel: Slack, the signed webhook, SMTP.

Errors are described without the URL, the secret or the password (they end up in the
`alert_deliveries.last_error` column and in the logs): an HTTP status and the first words of
the answer, or the kind of network error.
"""

from __future__ import annotations

import asyncio
import smtplib
import time

import httpx

from quant_monitoring.channel_config import EmailChannel, SlackChannel, WebhookChannel
from quant_monitoring.message import (
    TIMESTAMP_HEADER,
    AlertMessage,
    email_message,
    signature,
    slack_payload,
    webhook_body,
)

Channel = SlackChannel | WebhookChannel | EmailChannel
# 4xx answers other than these mean the request itself is wrong: retrying cannot help
_RETRYABLE = {408, 425, 429}


class DeliveryError(Exception):
    """One attempt failed. `permanent`: do not retry; `retry_after`: the receiver's wish (s)."""

    def __init__(
        self, reason: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


def _check(response: httpx.Response) -> None:
    if 200 <= response.status_code < 300:
        return
    words = response.text.strip().splitlines()[0][:120] if response.text.strip() else ""
    status = response.status_code
    raise DeliveryError(
        f"HTTP {status}" + (f": {words}" if words else ""),
        permanent=400 <= status < 500 and status not in _RETRYABLE,
        retry_after=_retry_after(response) if status == 429 else None,
    )


def _network(exc: httpx.HTTPError, timeout: float) -> DeliveryError:
    if isinstance(exc, httpx.TimeoutException):
        return DeliveryError(f"no answer within {timeout:g} s ({type(exc).__name__})")
    return DeliveryError(f"network error: {type(exc).__name__}")


class Senders:
    """Sends with one shared HTTP client; every attempt is bounded by `timeout` seconds."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._client: httpx.AsyncClient | None = None  # opened by the first send

    @property
    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            # trust_env off: no proxy from the environment sees a webhook URL (a secret)
            self._client = httpx.AsyncClient(
                timeout=self.timeout, follow_redirects=False, trust_env=False
            )
        return self._client

    async def send(self, channel: Channel, alert: AlertMessage) -> None:
        """Deliver `alert` once; raises DeliveryError when the channel did not take it."""
        # the overall bound also covers a receiver that trickles its answer byte by byte
        async with asyncio.timeout(self.timeout + 1):
            if isinstance(channel, SlackChannel):
                await self._post(channel.url.get_secret_value(), slack_payload(alert))
            elif isinstance(channel, WebhookChannel):
                await self._signed(channel, alert)
            else:
                await asyncio.to_thread(self._mail, channel, alert)

    async def _post(self, url: str, payload: dict[str, object]) -> None:
        try:
            response = await self._http.post(url, json=payload)
        except httpx.HTTPError as exc:
            raise _network(exc, self.timeout) from None
        _check(response)

    async def _signed(self, channel: WebhookChannel, alert: AlertMessage) -> None:
        body = webhook_body(alert)
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: stamp,
            channel.signature_header: signature(channel.secret.get_secret_value(), stamp, body),
        }
        try:
            response = await self._http.post(
                channel.url.get_secret_value(), content=body, headers=headers
            )
        except httpx.HTTPError as exc:
            raise _network(exc, self.timeout) from None
        _check(response)

    def _mail(self, channel: EmailChannel, alert: AlertMessage) -> None:
        mail = email_message(alert, channel.sender, channel.to)
        try:
            with smtplib.SMTP(channel.host, channel.port, timeout=self.timeout) as smtp:
                if channel.starttls:
                    smtp.starttls()
                if channel.username and channel.password is not None:
                    smtp.login(channel.username, channel.password.get_secret_value())
                smtp.send_message(mail)
        except smtplib.SMTPResponseException as exc:
            # 5xx: the server refuses for good (bad address, auth); 4xx: try again later
            raise DeliveryError(
                f"SMTP {exc.smtp_code}", permanent=500 <= exc.smtp_code < 600
            ) from None
        except smtplib.SMTPException as exc:
            raise DeliveryError(f"SMTP error: {type(exc).__name__}") from None
        except OSError as exc:
            raise DeliveryError(f"network error: {type(exc).__name__}") from None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

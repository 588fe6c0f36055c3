"""IbBroker's link to the Gateway: connect with retries, reconnect, and IB's link codes.

326 (client id in use) and refused connections are retried with Backoff until the caller's
timeout; a socket that drops is reconnected with Backoff for as long as the adapter is open.
1100 pauses submits; 1101 (data lost: subscriptions resent) and 1102 recover executions and
then resume. After every (re)connect the order-id floor is lifted above every id used, the
executions are recovered, and only then is the connection handler told connected=True.
Part of IbBroker; runs on its thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from quant_brokers.base import Backoff
from quant_brokers.ib.recovery import Recovery
from quant_domain.ports import ConnectionHandler

log = logging.getLogger(__name__)


class ClientIdInUse(ConnectionError):
    """IB refused the connection with 326: another session holds this client id."""


class Link(Recovery):
    """The connection half of IbBroker, over the recovery it runs after each (re)connect."""

    backoff: Backoff
    highest_order_id: int
    connect_attempts: int
    _up: bool
    _paused: bool
    _closing: bool
    _connecting: bool
    _reconnecting: asyncio.Task[None] | None
    _losses: int  # 1100s seen: a restore that began before the latest one must not resume
    _connection_handler: ConnectionHandler | None

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        task.add_done_callback(self._task_done)

    @staticmethod
    def _task_done(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("ib adapter task failed", exc_info=task.exception())

    async def _connect_until(self, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                await self._connect_once(min(self.settings.connect_timeout, timeout))
                return
            except (OSError, TimeoutError, ConnectionError) as exc:
                delay = self.backoff.next_delay()
                if self._closing or loop.time() + delay >= deadline:
                    raise
                log.warning("ib connect failed (%s); retrying in %.2f s", exc, delay)
                await asyncio.sleep(delay)

    async def _connect_once(self, timeout: float) -> None:
        ib = self._ib_client()
        self.connect_attempts += 1
        refused: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def on_error(req_id: int, code: int, text: str, contract: Any) -> None:
            if code == 326 and not refused.done():
                refused.set_result(text)

        ib.errorEvent += on_error
        self._connecting = True
        settings = self.settings
        connecting = asyncio.ensure_future(
            ib.connectAsync(
                settings.host, settings.port, self.client_id, timeout, account=self.account_id
            )
        )
        try:
            done, _ = await asyncio.wait(
                {connecting, refused}, timeout=timeout, return_when="FIRST_COMPLETED"
            )
            if connecting not in done:
                connecting.cancel()
                with contextlib.suppress(BaseException):
                    await connecting
                ib.disconnect()
                if refused.done():
                    raise ClientIdInUse(f"326: {refused.result()}")
                raise TimeoutError(f"no API start within {timeout} s")
            connecting.result()
        finally:
            ib.errorEvent -= on_error
            self._connecting = False
        await self._synchronise()

    async def _synchronise(self) -> None:
        """After a (re)connect: pick the account, lift the id floor, recover, then say so."""
        ib = self._ib_client()
        accounts = ib.managedAccounts()
        if not self.account_id and len(accounts) == 1:
            self.account_id = accounts[0]
        if self.account_id not in accounts:
            ib.disconnect()
            wanted = repr(self.account_id) if self.account_id else "none set (QUANT_IB_ACCOUNT)"
            raise ConnectionError(f"account {wanted}; the Gateway manages {accounts}")
        client: Any = ib.client  # untyped in ib_async
        client.updateReqId(self.highest_order_id + 1)
        self._swept = 0
        await self.recover()
        self.backoff.reset()
        self._up, self._paused = True, False
        self._notify(True, f"IB connected at {self.settings.endpoint}, executions recovered")

    def _on_disconnected(self) -> None:
        if self._closing or self._connecting or not self._up:
            return
        self._up = False
        for coid, timer in list(self._unacked.items()):
            timer.cancel()
            self.reports.unknown(coid, "the IB link dropped before IB answered")
        self._notify(False, "IB link lost; reconnecting")
        if self._reconnecting is None or self._reconnecting.done():
            self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        while not self._closing and not self._up:
            await asyncio.sleep(self.backoff.next_delay())
            try:
                await self._connect_once(self.settings.connect_timeout)
            except (OSError, TimeoutError, ConnectionError) as exc:
                log.warning("ib reconnect failed: %s", exc)

    def _on_error(self, req_id: int, code: int, text: str, contract: Any) -> None:
        if code == 1100:
            self._losses += 1
            if self._up and not self._paused:
                self._paused = True
                self._notify(False, f"IB 1100: {text}; submits paused")
        elif code in (1101, 1102) and self._up:
            self._spawn(self._restore(resubscribe=code == 1101, code=code))

    async def _restore(self, *, resubscribe: bool, code: int) -> None:
        ib = self._ib_client()
        losses = self._losses
        if resubscribe:  # 1101: IB dropped our subscriptions
            timeout = self.settings.request_timeout
            await asyncio.wait_for(ib.reqPositionsAsync(), timeout)
            await asyncio.wait_for(ib.reqAccountUpdatesAsync(self.account_id), timeout)
        await self.recover()
        if losses != self._losses:
            return  # lost again meanwhile: the next 1101/1102 restores
        self._paused = False
        self._notify(True, f"IB {code}: connectivity restored, executions recovered")

    def _notify(self, up: bool, detail: str) -> None:
        log.info("ib link %s: %s", "up" if up else "down", detail)
        handler = self._connection_handler
        if handler is not None:
            try:
                handler(up, detail)
            except Exception:
                log.exception("ib connection handler failed")

"""Failed sign-ins counted in Redis per username and per client address (ADR 0016).

An attempt first takes a place in both counters, atomically and only while both are under their
limits, so a burst of parallel guesses cannot all slip through before the first one is counted;
a sign-in that succeeds gives its places back. So failures are what is limited: one account's
failures never lock out another account, one address cannot try many accounts fast, and a user
who signs in correctly again and again is never refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from limits import parse
from redis.asyncio import Redis

from quant_api.errors import ApiError
from quant_api.settings import ApiSettings

# KEYS: account counter, address counter. ARGV: their limits, then their windows in seconds.
# Returns 0 when the attempt was admitted (both counted), else -(1 or 2) * 1e6 - seconds left on
# the counter that is full, so the caller learns which limit it hit and for how long.
_ADMIT = """
for i = 1, 2 do
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  if used >= tonumber(ARGV[i]) then
    local ttl = redis.call('TTL', KEYS[i])
    if ttl < 1 then
      redis.call('EXPIRE', KEYS[i], ARGV[i + 2])
      ttl = tonumber(ARGV[i + 2])
    end
    return -(i * 1000000 + ttl)
  end
end
for i = 1, 2 do
  if redis.call('INCR', KEYS[i]) == 1 then
    redis.call('EXPIRE', KEYS[i], ARGV[i + 2])
  end
end
return 0
"""

_GIVE_BACK = """
for i = 1, #KEYS do
  if tonumber(redis.call('GET', KEYS[i]) or '0') > 0 then
    redis.call('DECR', KEYS[i])
  end
end
return 0
"""

_WHICH = {1: ("account", "body.username"), 2: ("address", None)}


@dataclass(frozen=True, slots=True)
class Attempt:
    """The two counters one sign-in attempt holds a place in."""

    keys: tuple[str, str]


class LoginLimits:
    """The failed sign-in counters of one app, on the app's Redis."""

    def __init__(self, settings: ApiSettings, redis: Redis) -> None:
        account, address = (
            parse(settings.rate_limit_login_account),
            parse(settings.rate_limit_login),
        )
        self._limits = (account.amount, address.amount)
        self._windows = (account.get_expiry(), address.get_expiry())
        self._prefix = f"{settings.rate_limit_prefix}:login-failures"
        self._admit = redis.register_script(_ADMIT)
        self._give_back = redis.register_script(_GIVE_BACK)

    async def admit(self, username: str, address: str) -> Attempt:
        """Count an attempt against the username and the address; 429 (nothing counted) when
        either has used up its failures for the current window."""
        attempt = Attempt(
            (f"{self._prefix}:account:{username}", f"{self._prefix}:address:{address}")
        )
        verdict = int(
            await self._admit(keys=list(attempt.keys), args=[*self._limits, *self._windows])
        )
        if verdict == 0:
            return attempt
        which, seconds = divmod(-verdict, 1_000_000)
        kind, field = _WHICH[which]
        limit = self._limits[which - 1]
        whose = "this account" if kind == "account" else "your address"
        raise ApiError(
            429,
            f"too many failed sign-ins for {whose} ({limit} per "
            f"{self._windows[which - 1]} s); retry in {max(seconds, 1)} s",
            field=field,
            headers={"Retry-After": str(max(seconds, 1))},
        )

    async def succeeded(self, attempt: Attempt) -> None:
        """A sign-in that succeeded is not a failure: give its places back."""
        await self._give_back(keys=list(attempt.keys))

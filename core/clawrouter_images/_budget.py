"""A USD budget that several spenders share: one client's calls, a sync and an async client,
or every tool built together for an agent.

A call reserves its estimate before it is sent, so calls in flight at once cannot overspend
together, and settles it afterwards: as spent if the call was (or may have been) paid,
released if it cannot have been.
"""

from __future__ import annotations

import threading
from typing import Protocol

from ._exceptions import BudgetExceededError, ClawRouterError, InvalidRequestError, quote

# Float sums of prices (0.0525 + 0.105 ...) must not refuse a call that fits exactly.
_SLACK = 1e-9


def usd_limit(name: str, value: object) -> float | None:
    """A USD cap, or None.  Anything but a number >= 0 is refused, NaN included: it
    compares false with everything, so a NaN cap would silently allow any spending."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise InvalidRequestError(
            f"{name} must be a number of USD, 0 or more, not {quote(repr(value), 60)}"
        )
    return float(value)


def _usd(value: float) -> str:
    from ._catalog import format_usd  # the catalogue imports this package's errors only

    return format_usd(round(value, 6))


class Budget:
    """At most ``limit_usd`` (None: no limit) across everything that spends from it.

    Thread-safe; the same object may serve threads and event loops at once.
    """

    def __init__(
        self, limit_usd: float | None = None, *, name: str = "budget_usd", advice: str = ""
    ) -> None:
        self.limit_usd = usd_limit(name, limit_usd)
        self._advice = advice or f"Raise {name}, or start a new budget."
        self._spent = 0.0
        self._reserved = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Budget(limit_usd={self.limit_usd!r}, spent_usd={self.spent_usd!r})"

    @property
    def spent_usd(self) -> float:
        """Estimated USD of the calls that were, or may have been, paid."""
        return round(self._spent, 6)

    def count(self, usd: float) -> None:
        """Count ``usd`` as spent without a call: spending this object did not see (what
        earlier runs of a batch spent, or may have spent, into the same folder)."""
        with self._lock:
            self._spent += usd

    def check(self, call: Priced) -> None:
        """Refuse ``call`` if its estimate does not fit in what is left (nothing is
        reserved).  The call is worded only for a refusal: this runs on every paid call."""
        if self.limit_usd is None:
            return
        spent, held, estimate = self._spent, self._reserved, call.estimate
        left = max(self.limit_usd - spent - held, 0.0)
        if estimate > left + _SLACK:
            in_flight = f", {_usd(held)} held by calls in flight" if held > _SLACK else ""
            raise BudgetExceededError(
                f"budget of {_usd(self.limit_usd)} reached: {_usd(spent)} spent{in_flight}, "
                f"{_usd(left)} left; {call.what} would cost {_usd(estimate)}. {self._advice}"
            )

    def spending(self, call: Priced) -> _Hold:
        """Reserve ``call.estimate`` around one call (``with budget.spending(call)``);
        afterwards count it as spent unless the call failed with an error that says it
        cannot have been paid."""
        return _Hold(self, call)


class Priced(Protocol):
    """What a hold needs of a call: its estimate, and its name for a refusal."""

    @property
    def estimate(self) -> float: ...

    @property
    def what(self) -> str: ...


class _Hold:
    # A class, not @contextmanager: it runs on every paid call of every client and tool.
    __slots__ = ("_budget", "_call", "_estimate")

    def __init__(self, budget: Budget, call: Priced) -> None:
        self._budget, self._call, self._estimate = budget, call, call.estimate

    def __enter__(self) -> None:
        budget = self._budget
        with budget._lock:
            budget.check(self._call)
            budget._reserved += self._estimate

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        paid = exc.may_have_been_paid if isinstance(exc, ClawRouterError) else True
        budget = self._budget
        with budget._lock:
            budget._reserved -= self._estimate
            if paid:
                budget._spent += self._estimate

"""The budget of password checks that anyone can make the service run.

A password is checked with Argon2id: tens of milliseconds of a CPU and 19 MiB each, paid for an
unknown email too (a dummy verification, so the answer's timing does not tell who has an
account). Left unbounded, strangers could spend every CPU on wrong passwords and make real
sign-ins wait. So every sign-in attempt first spends from three budgets, before the account is
even looked up, which keeps known and unknown emails alike:

- its chat's: :data:`CHECKS_PER_CHAT_PER_MINUTE` and :data:`CHECKS_PER_CHAT_PER_HOUR`;
- its client address's, when the channel knows it (the web chat):
  :data:`CHECKS_PER_CLIENT_BURST` in any 10 seconds, :data:`CHECKS_PER_CLIENT_PER_MINUTE` and
  :data:`CHECKS_PER_CLIENT_PER_HOUR`, across all the chats it opens (the short window keeps a
  flood of new chats from one address from spending a minute's worth at once);
- the whole service's, shared by every worker through the ``rate_limits`` table, in two
  shares: ``per_second`` (``CASEBOT_PASSWORD_CHECKS_PER_SECOND``, by default
  :data:`DEFAULT_CHECKS_PER_SECOND`, a fraction of what the CPUs can hash) for a requester's
  first attempt in an hour (its client address's, or its chat's where the address is not
  known), and a quarter of that (:func:`repeat_share`) for the attempts that follow. A person
  signing in makes one or two attempts; a flood makes many from each address. So a flood is
  held to the small share, its hashes stay far below what the CPUs can do, and a person's first
  attempt still finds room and a short queue (a person's retries may be asked to wait a
  moment while a flood lasts).

An attempt over a requester's budget is refused (``RateLimited``) without touching the
service's budget, so a flood from a few addresses cannot use up what everyone else shares; an
attempt over the service's budget is refused (``PasswordChecksBusy``) for a second at most.
Refused attempts cost a database write and no Argon2id.

A refusal costs one ordinary chat turn: the budgets are tried in the turn's own unit of work.
An attempt that passes is then spent for good in a transaction of its own before its hash is
computed (deferred work, ``core.deferral``), so a burst of concurrent attempts cannot all pass
on counts that are not committed yet; each attempt is counted once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Final

from core import ratelimit
from core.deferral import active_deferral
from core.errors import PasswordChecksBusy, RateLimited
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "CHECKS_PER_CHAT_PER_HOUR",
    "CHECKS_PER_CHAT_PER_MINUTE",
    "CHECKS_PER_CLIENT_BURST",
    "CHECKS_PER_CLIENT_PER_HOUR",
    "CHECKS_PER_CLIENT_PER_MINUTE",
    "DEFAULT_CHECKS_PER_SECOND",
    "FIRST_KEY",
    "REPEAT_KEY",
    "PasswordBudget",
    "chat_requester",
    "client_requester",
    "repeat_share",
    "requesters_of",
    "spend_password_check",
]

# A person mistyping a password a few times stays far below these; an account locks after five
# wrong ones in a row anyway (core/accounts/lockout.py).
CHECKS_PER_CHAT_PER_MINUTE: Final = 10
CHECKS_PER_CHAT_PER_HOUR: Final = 30
# One address may be an office or a household behind one router: a looser budget, but an
# hour's worth stays far below what one CPU hashes in a minute.
CHECKS_PER_CLIENT_BURST: Final = 5
CHECKS_PER_CLIENT_PER_MINUTE: Final = 30
CHECKS_PER_CLIENT_PER_HOUR: Final = 200
# One Argon2id verification takes 25-50 ms of an idle CPU, several times that on a busy one:
# four a second per CPU (and a quarter of that for repeat attempts) keeps the hash queue short.
DEFAULT_CHECKS_PER_SECOND: Final = 4 * (os.cpu_count() or 2)
FIRST_KEY: Final = "password_checks:first"
REPEAT_KEY: Final = "password_checks:repeat"

_BURST: Final = timedelta(seconds=10)
_MINUTE: Final = timedelta(minutes=1)
_HOUR: Final = timedelta(hours=1)
_SECOND: Final = timedelta(seconds=1)


def chat_requester(channel: str, chat_id: str) -> str:
    """The requester key of a chat."""
    return f"chat:{channel}:{chat_id}"


def client_requester(client: str) -> str:
    """The requester key of a client address (as ``bot.channels.web.client_address`` keys it)."""
    return f"client:{client}"


@dataclass(frozen=True, slots=True)
class PasswordBudget:
    """Who is asking for a password check, and the service's rate.

    Attributes:
        per_second: password checks the whole service runs a second at most (for first
            attempts; :func:`repeat_share` of it for the others); None: no service-wide rate.
        requesters: the chat (``chat_requester``) and the client address
            (``client_requester``), when known; each has its own budget.

    Raises:
        ValueError: ``per_second`` is below 1.
    """

    per_second: int | None = DEFAULT_CHECKS_PER_SECOND
    requesters: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.per_second is not None and self.per_second < 1:
            raise ValueError("the password checks per second must be at least 1")


def repeat_share(per_second: int) -> int:
    """The service's checks a second for attempts that are not their requester's first in an
    hour: a quarter of ``per_second``, at least one."""
    return max(1, per_second // 4)


def _limits(requester: str) -> list[tuple[str, int, timedelta]]:
    if requester.startswith("client:"):
        return [
            (f"password_check:b:{requester}", CHECKS_PER_CLIENT_BURST, _BURST),
            (f"password_check:m:{requester}", CHECKS_PER_CLIENT_PER_MINUTE, _MINUTE),
            (f"password_check:h:{requester}", CHECKS_PER_CLIENT_PER_HOUR, _HOUR),
        ]
    return [
        (f"password_check:m:{requester}", CHECKS_PER_CHAT_PER_MINUTE, _MINUTE),
        (f"password_check:h:{requester}", CHECKS_PER_CHAT_PER_HOUR, _HOUR),
    ]


async def _spend(uow: UnitOfWork, budget: PasswordBudget) -> None:
    limits = [limit for requester in budget.requesters for limit in _limits(requester)]
    first = True
    if limits:
        used = await ratelimit.hit_all(uow, limits)
        # The last requester is the most general one (the address, when known): its hour.
        hour = next(
            usage
            for usage, (key, _, _) in zip(reversed(used), reversed(limits), strict=True)
            if key.startswith("password_check:h:")
        )
        first = hour.count == 1
    if budget.per_second is None:
        return
    key, limit = (
        (FIRST_KEY, budget.per_second) if first else (REPEAT_KEY, repeat_share(budget.per_second))
    )
    try:
        await ratelimit.hit(uow, key, limit=limit, window=_SECOND)
    except RateLimited as exc:
        raise PasswordChecksBusy(retry_after_seconds=exc.retry_after_seconds) from None


async def _spend_now(uow_factory: UnitOfWorkFactory, budget: PasswordBudget) -> RateLimited | None:
    """Spend in a transaction of its own, committed at once; the refusal, if any, as a value."""
    async with uow_factory() as uow:
        try:
            await _spend(uow, budget)
        except RateLimited as refused:
            await uow.commit()
            return refused
        await uow.commit()
    return None


async def spend_password_check(
    uow: UnitOfWork, budget: PasswordBudget, uow_factory: UnitOfWorkFactory | None = None
) -> None:
    """Spend one password check from each budget before the password is checked.

    The spending is first tried in the caller's unit of work (commit it even when this raises:
    a refused attempt counts too, so hammering does not shorten the wait), which makes a
    refusal as cheap as an ordinary turn. Inside a deferral's scope (a chat turn, which runs
    again once its hash is known and undoes the run before), an attempt that passes is then
    spent for good in a transaction of its own (with ``uow_factory``), as deferred work done
    before the hash: so concurrent attempts cannot all pass on counts not yet committed, and
    each attempt is counted once.

    Raises:
        RateLimited: a requester (the chat, the client address) is over its budget; the
            service's budget was not touched.
        PasswordChecksBusy: the service is over its rate; try again within a second or so.
        WorkNeeded: inside a deferral's scope, until the attempt is spent for good.
    """
    deferral = active_deferral() if uow_factory is not None else None
    key = ("password_check", budget)
    if deferral is not None and deferral.knows(key):
        outcome = deferral.known_or_pending(key, _nothing)
        if isinstance(outcome, RateLimited):
            raise outcome
        return
    await _spend(uow, budget)  # a refusal here is final: the caller commits it
    if deferral is not None and uow_factory is not None:
        deferral.known_or_pending(key, partial(_spend_now, uow_factory, budget))


async def _nothing() -> None:
    return None


def requesters_of(channel: str, chat_id: str, client: str | None) -> tuple[str, ...]:
    """The requester keys of a chat and, when known, of its client address."""
    chat = chat_requester(channel, chat_id)
    return (chat,) if client is None else (chat, client_requester(client))

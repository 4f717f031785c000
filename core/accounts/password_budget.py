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
- the whole service's: ``per_second`` (``CASEBOT_PASSWORD_CHECKS_PER_SECOND``, by default
  :data:`DEFAULT_CHECKS_PER_SECOND`, a fraction of what the CPUs can hash), shared by every
  worker through the ``rate_limits`` table.

An attempt over a requester's budget is refused (``RateLimited``) without touching the
service's budget, so a flood from a few addresses cannot use up what everyone else shares; an
attempt over the service's budget is refused (``PasswordChecksBusy``) for a second at most.
Refused attempts cost a database write and no Argon2id.

A turn that needs a hash runs again once the hash is known (``core.deferral``): the budget is
spent once per attempt, as deferred work of its own, in its own committed unit of work, before
the hash is computed.
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
    "GLOBAL_KEY",
    "PasswordBudget",
    "chat_requester",
    "client_requester",
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
# One Argon2id verification takes 25-50 ms of a CPU: about a third of each CPU's capacity.
DEFAULT_CHECKS_PER_SECOND: Final = 8 * (os.cpu_count() or 2)
GLOBAL_KEY: Final = "password_checks"

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
        per_second: password checks the whole service runs a second at most.
        requesters: the chat (``chat_requester``) and the client address
            (``client_requester``), when known; each has its own budget.

    Raises:
        ValueError: ``per_second`` is below 1.
    """

    per_second: int = DEFAULT_CHECKS_PER_SECOND
    requesters: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.per_second < 1:
            raise ValueError("the password checks per second must be at least 1")


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
    if limits:
        await ratelimit.hit_all(uow, limits)  # refused here: the service's budget is untouched
    try:
        await ratelimit.hit(uow, GLOBAL_KEY, limit=budget.per_second, window=_SECOND)
    except RateLimited as exc:
        raise PasswordChecksBusy(retry_after_seconds=exc.retry_after_seconds) from None


async def _spend_now(uow_factory: UnitOfWorkFactory, budget: PasswordBudget) -> RateLimited | None:
    async with uow_factory() as uow:
        try:
            await _spend(uow, budget)
        except RateLimited as refused:
            await uow.commit()  # a refused attempt counts too: hammering does not help
            return refused
        await uow.commit()
    return None


async def spend_password_check(uow_factory: UnitOfWorkFactory, budget: PasswordBudget) -> None:
    """Spend one password check from each budget, committed at once in its own unit of work.

    Inside a deferral's scope (a chat turn) the spending is deferred work: the first run of the
    turn notes it, it is done once between runs, and the runs after find its outcome.

    Raises:
        RateLimited: a requester (the chat, the client address) is over its budget.
        PasswordChecksBusy: the service is over its rate; try again within a second or so.
        WorkNeeded: inside a deferral's scope, when the spending is not done yet.
    """
    deferral = active_deferral()
    if deferral is None:
        refused = await _spend_now(uow_factory, budget)
    else:
        key = ("password_check", budget)
        outcome = deferral.known_or_pending(key, partial(_spend_now, uow_factory, budget))
        refused = outcome if isinstance(outcome, RateLimited) else None
    if refused is not None:
        raise refused


def requesters_of(channel: str, chat_id: str, client: str | None) -> tuple[str, ...]:
    """The requester keys of a chat and, when known, of its client address."""
    chat = chat_requester(channel, chat_id)
    return (chat,) if client is None else (chat, client_requester(client))

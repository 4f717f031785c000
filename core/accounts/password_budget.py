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
  first attempt in a minute (its client address's, or its chat's where the address is not
  known), and a quarter of that (:func:`repeat_share`) for the attempts that follow. A person
  signing in makes one or two attempts; a flood makes many from each address. So a flood uses
  up the small share, its hashes stay far below what the CPUs can do, and a person's first
  attempt still finds room and a short queue.

An attempt over a requester's budget is refused (``RateLimited``) without touching the
service's budget, so a flood from a few addresses cannot use up what everyone else shares; an
attempt over the service's budget is refused (``PasswordChecksBusy``) for a second at most.
Refused attempts cost a database write and no Argon2id.

The budget is spent in the chat turn's own unit of work, so a refusal costs one ordinary turn
and no transaction of its own. A turn that needs a hash runs again once the hash is known
(``core.deferral``), undoing the first run: the attempt is counted once, by the run that commits.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from core import ratelimit
from core.errors import PasswordChecksBusy, RateLimited
from core.uow import UnitOfWork

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
# One Argon2id verification takes 25-50 ms of a CPU: about a third of each CPU's capacity.
DEFAULT_CHECKS_PER_SECOND: Final = 8 * (os.cpu_count() or 2)
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


def repeat_share(per_second: int) -> int:
    """The service's checks a second for attempts that are not their requester's first in a
    minute: a quarter of ``per_second``, at least one."""
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


async def spend_password_check(uow: UnitOfWork, budget: PasswordBudget) -> None:
    """Spend one password check from each budget, in the caller's unit of work (commit it even
    when this raises: a refused attempt counts too, so hammering does not shorten the wait).

    Call it before the password is checked, in the same unit of work as the rest of the attempt:
    a chat turn that runs again once its hash is known (``core.deferral``) undoes the first
    run's spending with the rest of that run, so an attempt is counted once.

    Raises:
        RateLimited: a requester (the chat, the client address) is over its budget; the
            service's budget was not touched.
        PasswordChecksBusy: the service is over its rate; try again within a second or so.
    """
    limits = [limit for requester in budget.requesters for limit in _limits(requester)]
    first = True
    if limits:
        used = await ratelimit.hit_all(uow, limits)
        # The last requester is the most general one (the address, when known): its minute.
        minute = next(
            usage
            for usage, (key, _, _) in zip(reversed(used), reversed(limits), strict=True)
            if key.startswith("password_check:m:")
        )
        first = minute.count == 1
    key, limit = (
        (FIRST_KEY, budget.per_second) if first else (REPEAT_KEY, repeat_share(budget.per_second))
    )
    try:
        await ratelimit.hit(uow, key, limit=limit, window=_SECOND)
    except RateLimited as exc:
        raise PasswordChecksBusy(retry_after_seconds=exc.retry_after_seconds) from None


def requesters_of(channel: str, chat_id: str, client: str | None) -> tuple[str, ...]:
    """The requester keys of a chat and, when known, of its client address."""
    chat = chat_requester(channel, chat_id)
    return (chat,) if client is None else (chat, client_requester(client))

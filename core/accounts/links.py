"""Which chat is signed in as which account, and which representative acts for which client.

These services run inside the caller's unit of work; the caller commits.
"""

from __future__ import annotations

import logging
from typing import Final, NamedTuple

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.accounts.models import Account, AccountKind, ChannelLink, RepresentativeGrant
from core.errors import AccountNotFound, NotAllowed, NotAuthorized
from core.statements import Prepared
from core.uow import UnitOfWork

__all__ = [
    "Chat",
    "account_for_chat",
    "account_id_for_chat",
    "can_act_for",
    "chats_of_account",
    "clients_of",
    "get_account",
    "grant_client",
    "link_chat",
    "revoke_client",
    "unlink_chat",
    "unlink_chats_of_account",
]

logger = logging.getLogger(__name__)


class Chat(NamedTuple):
    """One chat on one channel (``telegram``, ``web``, ``console``)."""

    channel: str
    chat_id: str


async def get_account(uow: UnitOfWork, account_id: int) -> Account:
    """The account with this id.

    Raises:
        AccountNotFound: there is none.
    """
    account = await uow.session.get(Account, account_id)
    if account is None:
        raise AccountNotFound()
    return account


# --- channel links ---------------------------------------------------------------------------


async def link_chat(uow: UnitOfWork, account_id: int, channel: str, chat_id: str) -> None:
    """Sign a chat in as an account, replacing whatever account the chat was signed in as.

    One statement (an upsert on the chat's unique key), so two sign-ins from the same chat at
    once leave exactly one link instead of failing on the constraint.
    """
    insert = pg_insert if uow.dialect == "postgresql" else sqlite_insert
    now = uow.clock.now()
    statement = insert(ChannelLink).values(
        channel=channel, chat_id=chat_id, account_id=account_id, created_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=[ChannelLink.channel, ChannelLink.chat_id],
        set_={"account_id": account_id, "created_at": now},
    )
    await uow.session.execute(statement)
    logger.info("linked a %s chat to account %s", channel, account_id)


async def unlink_chat(uow: UnitOfWork, channel: str, chat_id: str) -> bool:
    """Sign a chat out. Returns whether it was signed in."""
    result = await uow.session.execute(
        delete(ChannelLink)
        .where(ChannelLink.channel == channel, ChannelLink.chat_id == chat_id)
        .returning(ChannelLink.id)
    )
    return result.first() is not None


# Built once: every turn of a chat asks it.
_ACCOUNT_FOR_CHAT: Final = (
    select(Account)
    .join(ChannelLink, ChannelLink.account_id == Account.id)
    .where(ChannelLink.channel == bindparam("channel"), ChannelLink.chat_id == bindparam("chat_id"))
)


async def account_for_chat(uow: UnitOfWork, channel: str, chat_id: str) -> Account | None:
    """The account a chat is signed in as, or None."""
    account: Account | None = await uow.session.scalar(
        _ACCOUNT_FOR_CHAT, {"channel": channel, "chat_id": chat_id}
    )
    return account


_ACCOUNT_ID_FOR_CHAT: Final = Prepared(
    select(ChannelLink.account_id).where(
        ChannelLink.channel == bindparam("channel"), ChannelLink.chat_id == bindparam("chat_id")
    )
)


async def account_id_for_chat(uow: UnitOfWork, channel: str, chat_id: str) -> int | None:
    """The id of the account a chat is signed in as, or None (every turn asks: one column,
    no ORM entity to load)."""
    row = await uow.fetch_one(_ACCOUNT_ID_FOR_CHAT, {"channel": channel, "chat_id": chat_id})
    return None if row is None else int(row[0])


async def chats_of_account(uow: UnitOfWork, account_id: int) -> list[Chat]:
    """Every chat signed in as the account, oldest link first."""
    rows = await uow.session.execute(
        select(ChannelLink.channel, ChannelLink.chat_id)
        .where(ChannelLink.account_id == account_id)
        .order_by(ChannelLink.id)
    )
    return [Chat(channel, chat_id) for channel, chat_id in rows]


async def unlink_chats_of_account(
    uow: UnitOfWork, account_id: int, *, keep: Chat | None = None
) -> list[Chat]:
    """Sign every chat of an account out, except ``keep``.

    Returns:
        The chats signed out, so the caller can tell them.
    """
    chats = [chat for chat in await chats_of_account(uow, account_id) if chat != keep]
    for chat in chats:
        await unlink_chat(uow, chat.channel, chat.chat_id)
    return chats


# --- representatives -------------------------------------------------------------------------


async def grant_client(uow: UnitOfWork, representative_id: int, client_id: int) -> bool:
    """Let a representative act for a client account.

    Returns:
        True if granted now, False if it was granted already.

    Raises:
        AccountNotFound: either account does not exist.
        NotAuthorized: the first account is not a representative.
        NotAllowed: both ids are the same account.
    """
    if representative_id == client_id:
        raise NotAllowed()
    representative = await get_account(uow, representative_id)
    await get_account(uow, client_id)
    if representative.kind is not AccountKind.REPRESENTATIVE:
        raise NotAuthorized()
    if await uow.session.get(RepresentativeGrant, (representative_id, client_id)) is not None:
        return False
    uow.session.add(
        RepresentativeGrant(
            representative_id=representative_id, client_id=client_id, created_at=uow.clock.now()
        )
    )
    await uow.flush()
    return True


async def revoke_client(uow: UnitOfWork, representative_id: int, client_id: int) -> bool:
    """Withdraw a grant. Returns whether there was one."""
    result = await uow.session.execute(
        delete(RepresentativeGrant)
        .where(
            RepresentativeGrant.representative_id == representative_id,
            RepresentativeGrant.client_id == client_id,
        )
        .returning(RepresentativeGrant.client_id)
    )
    return result.first() is not None


async def can_act_for(uow: UnitOfWork, actor_id: int, account_id: int) -> bool:
    """Whether the actor may act for the account: it is the actor's own, or granted to it."""
    if actor_id == account_id:
        return True
    grant = await uow.session.get(RepresentativeGrant, (actor_id, account_id))
    return grant is not None


async def clients_of(uow: UnitOfWork, representative_id: int) -> list[Account]:
    """The accounts a representative may act for, in the order they were granted."""
    rows = await uow.session.scalars(
        select(Account)
        .join(RepresentativeGrant, RepresentativeGrant.client_id == Account.id)
        .where(RepresentativeGrant.representative_id == representative_id)
        .order_by(RepresentativeGrant.created_at, Account.id)
    )
    return list(rows)

"""The handoff's services on a real database (SQLite and PostgreSQL): the queue, the exclusive
claim, messages both ways, transfer and close, and secure messages answered later."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from bot.notify.notifications import UnknownNotification, render_message
from core.accounts.models import Account
from core.db import Database
from core.errors import (
    AlreadyClaimed,
    AlreadyReplied,
    HandoffNotOpen,
    NotHandoffAgent,
    SecureMessageNotFound,
)
from core.handoff import (
    AGENT_MESSAGE,
    AGENT_REPLY,
    DEFAULT_HOURS,
    HANDOFF_CLAIMED,
    HANDOFF_CLOSED,
    HANDOFF_PLACE,
    HANDOFF_TRANSFERRED,
    FixedDesk,
    HandoffStatus,
    Sender,
    claim,
    close,
    end_by_person,
    get_handoff,
    handoff_messages,
    place_in_queue,
    post_agent_message,
    post_person_message,
    queue_position,
    reply_to_secure_message,
    request_agent,
    secure_messages,
    send_secure_message,
    transfer,
)
from core.handoff.service import DEFAULT_WAIT, NEAR_HEAD, PLACE_DELAY, PLACE_INTERVAL
from core.outbox.models import OutboxMessage
from core.outbox.service import pending_notifications
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock

CLAIMS = 50


async def ask(uow_factory: UnitOfWorkFactory, chat_id: str, language: str = "en") -> int:
    async with uow_factory() as uow:
        handoff = await request_agent(
            uow, channel="webchat", chat_id=chat_id, language=language, topic="appointments"
        )
        await uow.commit()
        return handoff.id


async def test_people_wait_in_the_queue_of_their_language_in_order(
    uow_factory: UnitOfWorkFactory,
) -> None:
    first = await ask(uow_factory, "a")
    spanish = await ask(uow_factory, "b", "es")
    second = await ask(uow_factory, "c")
    async with uow_factory() as uow:
        assert await queue_position(uow, first) == 1
        assert await queue_position(uow, second) == 2
        assert await queue_position(uow, spanish) == 1
        place = await place_in_queue(uow, second)
        assert place.position == 2
        assert place.wait == 2 * DEFAULT_WAIT  # no claims yet to measure a wait by


async def test_asking_again_keeps_the_place(uow_factory: UnitOfWorkFactory) -> None:
    first = await ask(uow_factory, "a")
    await ask(uow_factory, "b")
    assert await ask(uow_factory, "a") == first
    async with uow_factory() as uow:
        assert await queue_position(uow, first) == 1


async def test_the_estimated_wait_comes_from_recent_claims(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    done = await ask(uow_factory, "a")
    clock.advance(minutes=10)
    async with uow_factory() as uow:
        await claim(uow, done, 1, "Maria")
        await uow.commit()
    waiting = await ask(uow_factory, "b")
    async with uow_factory() as uow:
        assert (await place_in_queue(uow, waiting)).wait == timedelta(minutes=10)


async def test_a_claim_tells_the_person_who_they_chat_with(
    uow_factory: UnitOfWorkFactory,
) -> None:
    handoff_id = await ask(uow_factory, "a")
    async with uow_factory() as uow:
        handoff = await claim(uow, handoff_id, 7, "Maria")
        await uow.commit()
    assert handoff.status == HandoffStatus.CLAIMED
    assert (handoff.staff_id, handoff.agent_name) == (7, "Maria")
    async with uow_factory() as uow:
        [told] = await pending_notifications(uow)
        assert await queue_position(uow, handoff_id) == 0
    assert (told.kind, told.channel, told.address) == (HANDOFF_CLAIMED, "webchat", "a")
    assert told.payload["agent_name"] == "Maria"


async def test_a_second_claim_gets_an_error_that_says_who_has_it(
    uow_factory: UnitOfWorkFactory,
) -> None:
    handoff_id = await ask(uow_factory, "a")
    async with uow_factory() as uow:
        await claim(uow, handoff_id, 7, "Maria")
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(AlreadyClaimed) as refused:
            await claim(uow, handoff_id, 8, "Li")
    assert (refused.value.handoff_id, refused.value.staff_id) == (handoff_id, 7)
    assert refused.value.status == "claimed"


async def test_fifty_agents_claim_at_once_and_exactly_one_wins(
    uow_factory: UnitOfWorkFactory,
) -> None:
    handoff_id = await ask(uow_factory, "a")

    async def attempt(staff_id: int) -> int | None:
        async with uow_factory() as uow:
            try:
                await claim(uow, handoff_id, staff_id, f"Agent {staff_id}")
            except AlreadyClaimed:
                return None
            await uow.commit()
            return staff_id

    results = await asyncio.gather(*(attempt(n) for n in range(1, CLAIMS + 1)))
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    async with uow_factory() as uow:
        handoff = await get_handoff(uow, handoff_id)
        told = [n for n in await pending_notifications(uow) if n.kind == HANDOFF_CLAIMED]
    assert handoff.staff_id == winners[0]
    assert len(told) == 1


async def test_messages_go_both_ways_and_a_secret_is_withheld(
    uow_factory: UnitOfWorkFactory,
) -> None:
    handoff_id = await ask(uow_factory, "a")
    async with uow_factory() as uow:
        with pytest.raises(HandoffNotOpen):  # nobody has it yet
            await post_person_message(uow, handoff_id, "hello?")
        await claim(uow, handoff_id, 7, "Maria")
        await post_person_message(uow, handoff_id, "my biometrics letter is lost")
        await post_person_message(uow, handoff_id, "Sunflower-42!", withheld=True)
        await post_agent_message(uow, handoff_id, 7, "I can help with that.")
        with pytest.raises(NotHandoffAgent):
            await post_agent_message(uow, handoff_id, 8, "me too")
        await uow.commit()
    async with uow_factory() as uow:
        messages = await handoff_messages(uow, handoff_id)
        sent = [n for n in await pending_notifications(uow) if n.kind == AGENT_MESSAGE]
    said = [(m.sender, m.event, m.text) for m in messages]
    assert (Sender.PERSON, None, "my biometrics letter is lost") in said
    assert (Sender.SYSTEM, "withheld", "") in said
    assert (Sender.AGENT, None, "I can help with that.") in said
    assert all("Sunflower" not in m.text for m in messages)
    assert [n.payload["text"] for n in sent] == ["I can help with that."]
    assert sent[0].address == "a"


async def test_a_transfer_to_another_language_puts_the_person_back_in_its_queue(
    uow_factory: UnitOfWorkFactory,
) -> None:
    handoff_id = await ask(uow_factory, "a")
    async with uow_factory() as uow:
        await claim(uow, handoff_id, 7, "Maria")
        handoff = await transfer(uow, handoff_id, 7, to_language="es")
        await uow.commit()
    assert (handoff.status, handoff.language, handoff.staff_id) == (
        HandoffStatus.WAITING,
        "es",
        None,
    )
    async with uow_factory() as uow:
        assert await queue_position(uow, handoff_id) == 1
        kinds = [n.kind for n in await pending_notifications(uow)]
    assert kinds == [HANDOFF_CLAIMED, HANDOFF_TRANSFERRED]


async def test_a_transfer_to_another_agent_hands_the_chat_over(
    uow_factory: UnitOfWorkFactory,
) -> None:
    handoff_id = await ask(uow_factory, "a")
    async with uow_factory() as uow:
        await claim(uow, handoff_id, 7, "Maria")
        await transfer(uow, handoff_id, 7, to_staff=(9, "Li"))
        with pytest.raises(NotHandoffAgent):
            await post_agent_message(uow, handoff_id, 7, "still here")
        await post_agent_message(uow, handoff_id, 9, "Hello, I am Li.")
        await uow.commit()
    async with uow_factory() as uow:
        told = await pending_notifications(uow)
    assert [n.payload["agent_name"] for n in told if n.kind == HANDOFF_CLAIMED] == [
        "Maria",
        "Li",
    ]


async def test_close_and_end_by_person(uow_factory: UnitOfWorkFactory, clock: FakeClock) -> None:
    closed = await ask(uow_factory, "a")
    left = await ask(uow_factory, "b")
    ended = await ask(uow_factory, "c")
    async with uow_factory() as uow:
        await claim(uow, closed, 7, "Maria")
        with pytest.raises(NotHandoffAgent):
            await close(uow, closed, "resolved", staff_id=8)
        done = await close(uow, closed, "resolved", staff_id=7)
        gone = await end_by_person(uow, left)
        await claim(uow, ended, 7, "Maria")
        over = await end_by_person(uow, ended)
        with pytest.raises(HandoffNotOpen):
            await end_by_person(uow, ended)
        await uow.commit()
    assert (done.status, done.outcome, done.closed_at) == (
        HandoffStatus.CLOSED,
        "resolved",
        clock.now(),
    )
    assert (gone.status, over.status) == (HandoffStatus.ABANDONED, HandoffStatus.CLOSED)
    async with uow_factory() as uow:
        closing = [n for n in await pending_notifications(uow) if n.kind == HANDOFF_CLOSED]
    assert [n.address for n in closing] == ["a"]  # a person who left is not told


async def test_a_reply_to_a_secure_message_goes_to_the_chat(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        message = await send_secure_message(
            uow, channel="telegram", chat_id="42", locale="es", text="¿Dónde está mi tarjeta?"
        )
        await uow.commit()
    async with uow_factory() as uow:
        assert [m.id for m in await secure_messages(uow)] == [message.id]
        await reply_to_secure_message(uow, message.id, 7, "Su tarjeta fue enviada.")
        with pytest.raises(AlreadyReplied):
            await reply_to_secure_message(uow, message.id, 7, "again")
        with pytest.raises(SecureMessageNotFound):
            await reply_to_secure_message(uow, message.id + 1, 7, "nobody")
        await uow.commit()
    async with uow_factory() as uow:
        [sent] = await pending_notifications(uow)
        assert await secure_messages(uow) == []
    assert (sent.kind, sent.channel, sent.address) == (AGENT_REPLY, "telegram", "42")
    assert sent.payload["text"] == "Su tarjeta fue enviada."
    assert sent.payload["locale"] == "es"


async def test_a_reply_to_a_signed_in_person_also_goes_to_their_email(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        account = Account(email="ana@example.com", password_hash="x")
        uow.session.add(account)
        await uow.flush()
        message = await send_secure_message(
            uow, channel="webchat", chat_id="s1", locale="fr", text="Bonjour", account_id=account.id
        )
        await reply_to_secure_message(uow, message.id, 7, "Bonjour !")
        await uow.commit()
    async with uow_factory() as uow:
        sent = await pending_notifications(uow)
    assert [(n.kind, n.channel, n.address) for n in sent] == [
        (AGENT_REPLY, "webchat", "s1"),
        (AGENT_REPLY, "email", "ana@example.com"),
    ]


# --- the desk --------------------------------------------------------------------------------

MONDAY_NOON_NY = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


async def test_the_desk_takes_only_its_languages_within_hours_and_below_the_limit(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    clock.set(MONDAY_NOON_NY)
    desk = FixedDesk(languages={"en", "es"}, queue_limit=1, uow_factory=uow_factory)
    assert await desk.can_take("en")
    assert not await desk.can_take("ko")
    await ask(uow_factory, "a")
    assert not await desk.can_take("en")  # the queue is full
    assert await desk.can_take("es")
    clock.set(datetime(2026, 3, 7, 17, 0, tzinfo=UTC))  # Saturday
    assert not await desk.can_take("es")
    assert not await FixedDesk(languages={"en"}, available=False, clock=clock).can_take("en")


def test_the_next_opening_is_the_next_weekday_morning_in_new_york() -> None:
    saturday = datetime(2026, 3, 7, 17, 0, tzinfo=UTC)
    assert DEFAULT_HOURS.next_opening(saturday) == datetime(2026, 3, 9, 12, 0, tzinfo=UTC)
    assert DEFAULT_HOURS.next_opening(MONDAY_NOON_NY) == MONDAY_NOON_NY
    evening = datetime(2026, 3, 3, 1, 30, tzinfo=UTC)  # Monday 20:30 in New York
    assert DEFAULT_HOURS.next_opening(evening) == datetime(2026, 3, 3, 13, 0, tzinfo=UTC)


async def test_secure_messages_of_an_account_survive_as_its_own(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        account = Account(email="ben@example.com", password_hash="x")
        uow.session.add(account)
        await uow.flush()
        await send_secure_message(
            uow, channel="test", chat_id="c", locale="en", text="hi", account_id=account.id
        )
        await uow.commit()
    async with uow_factory() as uow:
        [kept] = await secure_messages(uow)
        owner = await uow.session.scalar(select(Account.email).where(Account.id == kept.account_id))
    assert owner == "ben@example.com"


async def test_leaving_as_an_agent_claims_never_loses_the_claim(
    uow_factory: UnitOfWorkFactory,
) -> None:
    handoffs = [await ask(uow_factory, f"chat-{n}") for n in range(10)]

    async def agent(handoff_id: int) -> bool:
        async with uow_factory() as uow:
            try:
                await claim(uow, handoff_id, 7, "Maria")
            except AlreadyClaimed:
                return False
            await uow.commit()
            return True

    async def person(handoff_id: int) -> None:
        async with uow_factory() as uow:
            await end_by_person(uow, handoff_id)
            await uow.commit()

    results = await asyncio.gather(
        *(coro for h in handoffs for coro in (agent(h), person(h))), return_exceptions=True
    )
    assert not [r for r in results if isinstance(r, BaseException)]
    async with uow_factory() as uow:
        for handoff_id, won in zip(handoffs, results[::2], strict=True):
            handoff = await get_handoff(uow, handoff_id)
            if won:
                assert (handoff.status, handoff.outcome) == (
                    HandoffStatus.CLOSED,
                    "ended_by_person",
                )
            else:
                assert handoff.status == HandoffStatus.ABANDONED


async def test_moves_of_the_line_leave_one_notice_with_the_newest_place(
    uow_factory: UnitOfWorkFactory,
) -> None:
    first = await ask(uow_factory, "first")
    second = await ask(uow_factory, "second")
    third = await ask(uow_factory, "third")
    fourth = await ask(uow_factory, "fourth")
    async with uow_factory() as uow:
        await end_by_person(uow, third)  # "fourth" is number 3 now
        await claim(uow, first, 7, "Maria")  # "second" is next, "fourth" number 2
        await claim(uow, fourth, 8, "Li")  # taken out of order: its notices are withdrawn
        await uow.commit()
    async with uow_factory() as uow:
        notices = [n for n in await pending_notifications(uow) if n.kind == HANDOFF_PLACE]
        told = [(n.address, await render_message(uow, n)) for n in notices]
        assert await queue_position(uow, second) == 1
    assert [(address, reply.text) for address, reply in told] == [
        ("second", "You are next in line. An agent will be with you soon.")
    ]


async def place_notices(uow_factory: UnitOfWorkFactory) -> dict[str, OutboxMessage]:
    async with uow_factory() as uow:
        return {n.address: n for n in await pending_notifications(uow) if n.kind == HANDOFF_PLACE}


async def test_far_back_a_place_is_told_at_most_every_interval_and_near_the_head_soon(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    ids = [await ask(uow_factory, f"p{n}") for n in range(1, NEAR_HEAD + 4)]
    async with uow_factory() as uow:
        await claim(uow, ids[0], 7, "Maria")
        await uow.commit()
    now = clock.now()
    notices = await place_notices(uow_factory)
    # p2 .. p(NEAR_HEAD+1) are now at places 1 .. NEAR_HEAD; the rest further back.
    soon = {f"p{n}" for n in range(2, NEAR_HEAD + 2)}
    assert set(notices) == {f"p{n}" for n in range(2, NEAR_HEAD + 4)}
    for address, notice in notices.items():
        due = notice.next_attempt_at.replace(tzinfo=UTC)
        assert due == now + (PLACE_DELAY if address in soon else PLACE_INTERVAL), address

    async with uow_factory() as uow:  # the line moves again: the pending notices stay as
        await claim(uow, ids[1], 7, "Maria")  # they are, and who is near the head now is
        await uow.commit()  # told soon
    again = await place_notices(uow_factory)
    assert {a: n.id for a, n in again.items()} == {a: n.id for a, n in notices.items() if a != "p2"}
    nearest = f"p{NEAR_HEAD + 2}"  # at place NEAR_HEAD now
    assert again[nearest].next_attempt_at.replace(tzinfo=UTC) == now + PLACE_DELAY
    last = f"p{NEAR_HEAD + 3}"
    assert again[last].next_attempt_at.replace(tzinfo=UTC) == now + PLACE_INTERVAL


async def test_a_place_notice_tells_the_place_when_it_is_sent(
    uow_factory: UnitOfWorkFactory,
) -> None:
    ids = [await ask(uow_factory, f"p{n}") for n in range(1, 8)]
    async with uow_factory() as uow:
        await claim(uow, ids[0], 7, "Maria")  # p7 is number 6 ...
        await uow.commit()
    notice = (await place_notices(uow_factory))["p7"]
    async with uow_factory() as uow:
        await claim(uow, ids[1], 7, "Maria")  # ... and number 5 by the time it goes
        await end_by_person(uow, ids[2])  # ... number 4
        await uow.commit()
    async with uow_factory() as uow:
        reply = await render_message(uow, notice)
        gone = (await place_notices(uow_factory))["p4"]
        await claim(uow, ids[3], 8, "Li")
        await uow.flush()
        with pytest.raises(UnknownNotification, match="no longer waiting"):
            await render_message(uow, gone)
    assert "number 4 in the line" in reply.text, reply.text


async def waiting_for_a_lock(db: Database) -> None:
    """Until a transaction on ``db``'s database waits for a row another one holds."""
    other = Database(db.url)
    try:
        while True:
            async with other.engine.connect() as connection:
                waiting = await connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname ="
                        " current_database() AND wait_event_type = 'Lock'"
                    )
                )
            if waiting:
                return
            await asyncio.sleep(0.02)
    finally:
        await other.dispose()


@pytest.mark.postgres
async def test_claims_at_the_same_moment_leave_one_place_notice_per_person(
    postgres_db: Database, clock: FakeClock
) -> None:
    """Two agents claim at once: the second claim's transaction must see the notices the first
    one left pending (not pass over them as locked and write a second one for everyone: with
    twenty agents and a long line, the outbox filled with thousands of notices)."""
    uow_factory = UnitOfWorkFactory(postgres_db, clock)
    ids = [await ask(uow_factory, f"p{n}") for n in range(1, 9)]
    async with uow_factory() as uow:  # everyone behind has a pending notice now
        await claim(uow, ids[0], 7, "Maria")
        await uow.commit()
    first_done, second_done = asyncio.Event(), asyncio.Event()

    async def first() -> None:  # holds its transaction open until the second one waits
        async with uow_factory() as uow:
            await claim(uow, ids[2], 7, "Maria")  # p3: the notices of p4.. are its to write
            first_done.set()
            waits = asyncio.ensure_future(waiting_for_a_lock(postgres_db))
            ends = asyncio.ensure_future(second_done.wait())
            await asyncio.wait([waits, ends], timeout=20, return_when=asyncio.FIRST_COMPLETED)
            waits.cancel()
            ends.cancel()
            await uow.commit()

    async def second() -> None:
        await first_done.wait()
        async with uow_factory() as uow:
            await claim(uow, ids[1], 8, "Li")  # p2, ahead of p3: the same notices again
            await uow.commit()
        second_done.set()

    await asyncio.wait_for(asyncio.gather(first(), second()), 30)
    async with uow_factory() as uow:
        notices = [n.address for n in await pending_notifications(uow) if n.kind == HANDOFF_PLACE]
    assert sorted(notices) == [f"p{n}" for n in range(4, 9)]

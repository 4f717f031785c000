"""Case statuses from USCIS's Case Status API, through a local fake of it in its own process:
lookups in three languages, the shared token, 429 storms and outages, the cache, the daily
budget, and updates of followed USCIS cases. Nothing here calls the real USCIS."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from benchmarks.results import free_port
from bot.admin.uscis import uscis_check
from bot.app import App
from bot.dialogs.context import Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from bot.notify.notifications import render_message
from bot.settings import Settings
from bot.uscis.client import UscisClient
from bot.uscis.wiring import close_uscis
from bot.wording.i18n import translator
from core.accounts.links import link_chat
from core.accounts.models import Account
from core.cases.models import Case
from core.cases.uscis import Budget, CircuitBreaker
from core.cases.uscis.service import CaseSourceMode, Uscis, poll_uscis
from core.db import Database
from core.demo import DEMO_EMAIL
from core.locks import USCIS_POLL_LOCKS, AdvisoryLock
from core.outbox.models import OutboxMessage
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.fakes import FakeClock, FakeMailer
from tests.uscis_fake import CLIENT_ID, CLIENT_SECRET, FakeUscis, case_body

pytestmark = pytest.mark.usefixtures("demo")

APPROVED = "EAC2290000001"
NOT_ANSWERING = "USCIS's system is not answering right now"
BUSY = "Many people are checking their cases right now. Please try again in a minute."
USED_UP = "We have used up today's case lookups at USCIS. Please try again tomorrow"
CONTACT = "1-800-375-5283"

MAX_TRIES = 4  # requests of one lookup, at most (the client retries the rest)


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeUscis]:
    server = FakeUscis(free_port(), rate=50)
    yield server
    server.stop()


@pytest.fixture
async def fake(fake_server: FakeUscis) -> FakeUscis:
    await fake_server.control(reset=True, rate=50, lifetime=1799)
    await fake_server.control(
        cases={
            APPROVED: case_body(
                APPROVED,
                "Case Was Approved",
                "Caso Fue Aprobado",
                desc_es="Aprobamos su caso (texto de USCIS).",
                history=[
                    {
                        "date": "01-05-2026 09:00:00",
                        "completed_text_en": "Case Was Received",
                        "completed_text_es": "Caso Fue Recibido",
                    },
                ],
            )
        }
    )
    return fake_server


def make_uscis(
    db: Database, clock: FakeClock, url: str, *, rate: float = 40, daily: int = 1000
) -> Uscis:
    client = UscisClient(
        url, CLIENT_ID, CLIENT_SECRET, max_tries=MAX_TRIES, backoff=0.01, max_backoff=0.05
    )
    return Uscis(
        source=client,
        db=db,
        budget=Budget(rate=rate, daily=daily),
        breaker=CircuitBreaker(clock),
        turn_timeout=2.0,
        turn_max_wait=1.0,
    )


@pytest.fixture
async def uscis(db: Database, clock: FakeClock, fake: FakeUscis) -> AsyncIterator[Uscis]:
    made = make_uscis(db, clock, fake.url)
    yield made
    await close_uscis(made)


def engine_for(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, uscis: Uscis, mode: CaseSourceMode
) -> Engine:
    services = Services(
        uow_factory=uow_factory,
        mailer=FakeMailer(),
        clock=clock,
        case_source=mode,
        uscis=uscis,
    )
    return Engine(services, all_dialogs())


@pytest.fixture
def engine(uow_factory: UnitOfWorkFactory, clock: FakeClock, uscis: Uscis) -> Engine:
    return engine_for(uow_factory, clock, uscis, CaseSourceMode.BOTH)


def chat_in(engine: Engine, locale: str | None = None, chat_id: str = "chat-1") -> FakeChat:
    return FakeChat(engine, chat_id=chat_id, locale_hint=locale)


async def requests(fake: FakeUscis) -> int:
    stats: dict[str, Any] = await fake.stats()
    return int(stats["requests"])


# --- lookups in the person's language --------------------------------------------------------


async def test_a_receipt_the_local_record_lacks_is_looked_up_at_uscis(
    engine: Engine, fake: FakeUscis
) -> None:
    chat = chat_in(engine)
    await chat.send(f"check my case {APPROVED}")
    assert f"Case {APPROVED} (I-130)" in chat.text
    assert "Status: Case Was Approved" in chat.text
    assert "Good news: USCIS approved your case." in chat.text
    assert "Last update: February 20, 2026" in chat.text
    assert "Get updates" in chat.buttons
    assert await requests(fake) == 1


async def test_spanish_readers_get_the_text_uscis_wrote_in_spanish(engine: Engine) -> None:
    chat = chat_in(engine, "es")
    await chat.send(f"estado de mi caso {APPROVED}")
    assert "Caso Fue Aprobado" in chat.text
    assert "Aprobamos su caso (texto de USCIS)." in chat.text


async def test_other_languages_get_the_catalogs_translation_of_a_known_title(
    engine: Engine,
) -> None:
    chat = chat_in(engine, "fr")
    await chat.send(f"statut de mon dossier {APPROVED}")
    french = translator("fr")
    assert french._("Case Was Approved") != "Case Was Approved"
    assert french._("Case Was Approved") in chat.text
    assert "Caso Fue Aprobado" not in chat.text


async def test_a_title_the_catalog_does_not_know_is_shown_verbatim_and_logged_once(
    engine: Engine, fake: FakeUscis, caplog: pytest.LogCaptureFixture, db: Database
) -> None:
    odd = "EAC2290000002"
    title = f"Case Was Sent To An Imaginary Office On {db.dialect}"  # once per process
    await fake.control(cases={odd: case_body(odd, title, "Caso Imaginario")})
    caplog.set_level(logging.WARNING)
    for n in range(2):
        chat = chat_in(engine, "vi", chat_id=f"odd-{n}")
        await chat.send(f"check my case {odd}")
        assert f": {title}" in chat.text
        assert (
            translator("vi")._(
                "This is the status as USCIS wrote it. We do not have a plain explanation of it "
                "yet: the notice USCIS sends you explains what it means."
            )
            in chat.text
        )
    assert sum(title in record.getMessage() for record in caplog.records) == 1


async def test_an_unknown_receipt_at_uscis_gets_the_usual_answer_and_is_not_asked_twice(
    engine: Engine, fake: FakeUscis
) -> None:
    chat = chat_in(engine)
    await chat.send("check my case EAC2290000404")
    assert "We could not find a case with that receipt number" in chat.text
    await chat.send("EAC2290000404")
    assert await requests(fake) == 1


async def test_a_local_case_is_not_looked_up_at_uscis_when_the_source_is_both(
    engine: Engine, fake: FakeUscis
) -> None:
    chat = chat_in(engine)
    await chat.send("check my case WAC2212345678")
    assert "Status: Case Was Approved" in chat.text
    assert await requests(fake) == 0


async def test_a_receipt_number_of_the_wrong_shape_is_never_sent_to_uscis(
    engine: Engine, fake: FakeUscis
) -> None:
    chat = chat_in(engine)
    await chat.send("check my case")
    await chat.send("IOE12345")
    assert "missing digits: after IOE come 10 digits, and it has 5" in chat.text
    assert await requests(fake) == 0


# --- the token -------------------------------------------------------------------------------


async def test_one_token_serves_many_lookups_and_is_renewed_when_it_expires(
    engine: Engine, fake: FakeUscis, uscis: Uscis, clock: FakeClock
) -> None:
    receipts = [f"EAC22900001{n:02d}" for n in range(6)]
    await fake.control(cases={r: case_body(r) for r in receipts})
    for n, receipt in enumerate(receipts[:4]):
        chat = chat_in(engine, chat_id=f"token-{n}")
        await chat.send(f"check my case {receipt}")
        assert "Status: Case Was Received" in chat.text
    assert (await fake.stats())["token_requests"] == 1
    await fake.control(expire_tokens=True)
    for n, receipt in enumerate(receipts[4:]):
        chat = chat_in(engine, chat_id=f"token-late-{n}")
        await chat.send(f"check my case {receipt}")
        assert "Status: Case Was Received" in chat.text
    stats = await fake.stats()
    assert stats["token_requests"] == 2
    assert stats["statuses"]["401"] == 1


# --- USCIS busy or down ----------------------------------------------------------------------


@pytest.mark.parametrize("retry_after", [30, None])
async def test_a_429_storm_gets_a_quick_clear_answer(
    engine: Engine, fake: FakeUscis, retry_after: int | None
) -> None:
    storm: dict[str, Any] = {"status": 429}
    if retry_after is not None:
        storm["retry_after"] = retry_after
    await fake.control(always=storm)
    chat = chat_in(engine)
    await chat.send(f"check my case {APPROVED}")
    assert NOT_ANSWERING in chat.text
    assert CONTACT in chat.text
    # A Retry-After beyond the turn's patience is not waited for: one request; without one,
    # the few retries of the backoff, as many as the turn's time allows (on a busy machine
    # its clock may run out before the last), never more than the client's tries.
    sent = await requests(fake)
    if retry_after:
        assert sent == 1
    else:
        assert 2 <= sent <= MAX_TRIES, sent


async def test_an_outage_opens_the_circuit_so_later_lookups_answer_at_once(
    engine: Engine, fake: FakeUscis, clock: FakeClock
) -> None:
    await fake.control(always={"status": 503})
    for n in range(3):
        chat = chat_in(engine, chat_id=f"down-{n}")
        await chat.send(f"check my case EAC229000030{n}")
        assert NOT_ANSWERING in chat.text
    sent = await requests(fake)
    chat = chat_in(engine, chat_id="down-after")
    await chat.send("check my case EAC2290000399")
    assert NOT_ANSWERING in chat.text
    assert await requests(fake) == sent  # the circuit is open: USCIS was not asked
    await fake.control(always=None)
    clock.advance(seconds=31)
    await chat.send("EAC2290000001")
    assert "Status: Case Was Approved" in chat.text


async def test_slow_answers_time_out_into_the_outage_answer(
    engine: Engine, fake: FakeUscis
) -> None:
    await fake.control(always={"status": 200, "delay": 5})
    chat = chat_in(engine)
    await chat.send(f"check my case {APPROVED}")
    assert NOT_ANSWERING in chat.text


@pytest.mark.parametrize("body", ["{not json", '{"case_status": {"receiptNumber": 42}}', "[]"])
async def test_a_malformed_answer_is_an_outage_answer_logged_once(
    engine: Engine, fake: FakeUscis, body: str, caplog: pytest.LogCaptureFixture
) -> None:
    await fake.control(always={"status": 200, "body": body})
    caplog.set_level(logging.WARNING, logger="bot.uscis.client")
    for n in range(2):
        chat = chat_in(engine, chat_id=f"bad-{n}")
        await chat.send(f"check my case {APPROVED}")
        assert NOT_ANSWERING in chat.text
    reports = [
        r for r in caplog.records if r.name == "bot.uscis.client" and "malformed" in r.message
    ]
    assert len(reports) == 1


async def test_during_an_outage_a_cached_answer_is_shown_with_its_time(
    engine: Engine, fake: FakeUscis, clock: FakeClock
) -> None:
    chat = chat_in(engine)
    await chat.send(f"check my case {APPROVED}")
    clock.advance(hours=2)  # the cached answer is stale: USCIS is asked again
    await fake.control(always={"status": 503})
    await chat.send(APPROVED)
    assert "USCIS's system is not answering right now, so this is what it said on" in chat.text
    assert "Status: Case Was Approved" in chat.text


async def test_past_the_daily_budget_a_cached_answer_says_the_lookups_are_used_up(
    uow_factory: UnitOfWorkFactory, db: Database, clock: FakeClock, fake: FakeUscis
) -> None:
    small = make_uscis(db, clock, fake.url, daily=1)
    engine = engine_for(uow_factory, clock, small, CaseSourceMode.USCIS)
    chat = chat_in(engine)
    await chat.send(f"check my case {APPROVED}")
    clock.advance(hours=2)  # stale, and the day's one request is spent
    await chat.send(APPROVED)
    assert "We have used up today's case lookups at USCIS, so this is what USCIS said on" in (
        chat.text
    )
    assert NOT_ANSWERING not in chat.text
    assert "Status: Case Was Approved" in chat.text
    assert await requests(fake) == 1
    await close_uscis(small)


async def test_beyond_our_share_of_the_rate_a_cached_answer_says_many_people_are_checking(
    uow_factory: UnitOfWorkFactory, db: Database, clock: FakeClock, fake: FakeUscis
) -> None:
    slow = make_uscis(db, clock, fake.url, rate=0.2)  # the next slot is 5.5 s away
    engine = engine_for(uow_factory, clock, slow, CaseSourceMode.USCIS)
    chat = chat_in(engine, "es")
    await chat.send(f"estado de mi caso {APPROVED}")
    clock.advance(hours=2)
    await chat.send(APPROVED)
    spanish = translator("es")
    busy = spanish._(
        "Many people are checking their cases right now, so this is what USCIS said on {when}. "
        "Please try again in a minute for a newer answer."
    )
    assert busy.startswith("Muchas personas")  # translated
    assert busy.split("{when}")[0] in chat.text
    assert "Caso Fue Aprobado" in chat.text
    assert await requests(fake) == 1
    await close_uscis(slow)


async def test_a_fresh_cached_answer_asks_uscis_nothing(engine: Engine, fake: FakeUscis) -> None:
    for n in range(3):
        chat = chat_in(engine, chat_id=f"cache-{n}")
        await chat.send(f"check my case {APPROVED}")
        assert "Status: Case Was Approved" in chat.text
    assert await requests(fake) == 1


async def test_other_chats_are_answered_while_a_lookup_waits_on_uscis(
    engine: Engine, fake: FakeUscis
) -> None:
    await fake.control(plan=[{"status": 200, "delay": 1.5}])  # the first answer comes slowly
    slow = chat_in(engine, chat_id="slow")
    waiting = asyncio.create_task(slow.send(f"check my case {APPROVED}"))
    for _ in range(1000):  # until the slow request is at USCIS
        if await requests(fake):
            break
        await asyncio.sleep(0.01)
    other = chat_in(engine, chat_id="local")
    await other.send("check my case WAC2212345678")
    assert "Status: Case Was Approved" in other.text
    assert not waiting.done()  # the local lookup did not queue behind the one at USCIS
    await waiting
    assert "Status: Case Was Approved" in slow.text
    assert await requests(fake) == 1


async def test_a_signed_in_owner_reading_spanish_gets_the_history_in_uscis_spanish(
    uow_factory: UnitOfWorkFactory, clock: FakeClock, uscis: Uscis, fake: FakeUscis
) -> None:
    owned = "IOE0912345679"  # the demo account's
    fee_es = "Pago de Huellas Dactilares Fue Recibido"  # not the catalog's Spanish
    history = [
        {
            "date": "01-05-2026 09:00:00",
            "completed_text_en": "Case Was Received",
            "completed_text_es": "Caso Fue Recibido",
        },
        {
            "date": "01-20-2026 11:00:00",
            "completed_text_en": "Fingerprint Fee Was Received",
            "completed_text_es": fee_es,
        },
    ]
    await fake.control(
        cases={owned: case_body(owned, "Case Was Approved", "Caso Fue Aprobado", history=history)}
    )
    engine = engine_for(uow_factory, clock, uscis, CaseSourceMode.USCIS)
    chat = chat_in(engine, "es")
    async with uow_factory() as uow:
        ana = await uow.session.scalar(select(Account.id).where(Account.email == DEMO_EMAIL))
        assert ana is not None
        await link_chat(uow, ana, chat.channel, chat.chat_id)
        await uow.commit()
    await chat.send(f"estado de mi caso {owned}")
    assert "Caso Fue Aprobado" in chat.text
    history_part = chat.text.split("Historial:")[1]
    assert fee_es in history_part
    assert "Caso Fue Recibido" in history_part


# --- the budget ------------------------------------------------------------------------------


async def test_the_daily_budget_is_never_exceeded(
    uow_factory: UnitOfWorkFactory, db: Database, clock: FakeClock, fake: FakeUscis
) -> None:
    await fake.control(
        cases={f"EAC22900002{n:02d}": case_body(f"EAC22900002{n:02d}") for n in range(5)}
    )
    small = make_uscis(db, clock, fake.url, daily=3)
    engine = engine_for(uow_factory, clock, small, CaseSourceMode.USCIS)
    answers = []
    for n in range(5):
        chat = chat_in(engine, chat_id=f"budget-{n}")
        await chat.send(f"check my case EAC22900002{n:02d}")
        answers.append(chat.text)
    assert await requests(fake) == 3
    assert all("Case Was Received" in text for text in answers[:3])
    assert all(USED_UP in text and CONTACT in text for text in answers[3:])
    assert not any(NOT_ANSWERING in text for text in answers)
    await close_uscis(small)


async def test_a_burst_beyond_our_share_of_the_rate_is_told_apart_from_an_outage(
    uow_factory: UnitOfWorkFactory, db: Database, clock: FakeClock, fake: FakeUscis
) -> None:
    receipts = ["EAC2290000601", "EAC2290000602"]
    await fake.control(cases={r: case_body(r) for r in receipts})
    slow = make_uscis(db, clock, fake.url, rate=0.2)  # the next slot is 5.5 s away
    engine = engine_for(uow_factory, clock, slow, CaseSourceMode.USCIS)
    first = chat_in(engine, chat_id="burst-1")
    await first.send(f"check my case {receipts[0]}")
    assert "Status: Case Was Received" in first.text
    second = chat_in(engine, "es", chat_id="burst-2")
    await second.send(f"estado de mi caso {receipts[1]}")
    spanish = translator("es")
    busy = spanish._(
        "Many people are checking their cases right now. Please try again in a minute. You "
        "can also call the USCIS Contact Center at {phone} (TTY {tty})."
    )
    assert busy.startswith("Muchas personas")  # translated
    assert busy.split("{phone}")[0] in second.text
    assert CONTACT in second.text
    assert await requests(fake) == 1
    await close_uscis(slow)


@pytest.mark.postgres
async def test_two_workers_on_postgresql_share_the_daily_budget(
    postgres_db: Database, postgres_url: str, clock: FakeClock, fake: FakeUscis
) -> None:
    receipts = [f"EAC22900003{n:02d}" for n in range(20)]
    await fake.control(cases={r: case_body(r) for r in receipts})
    second = Database(postgres_db.url)  # another worker: its own pool, client and breaker
    workers = [
        (UnitOfWorkFactory(db, clock), make_uscis(db, clock, fake.url, rate=20, daily=7))
        for db in (postgres_db, second)
    ]
    engines = [engine_for(f, clock, u, CaseSourceMode.USCIS) for f, u in workers]

    async def ask(n: int) -> str:
        chat = chat_in(engines[n % 2], chat_id=f"worker-{n}")
        await chat.send(f"check my case {receipts[n]}")
        return chat.text

    texts = await asyncio.gather(*(ask(n) for n in range(len(receipts))))
    assert await requests(fake) == 7
    assert sum("Case Was Received" in text for text in texts) == 7
    assert (await fake.stats())["over_limit"] == 0
    for _, made in workers:
        await close_uscis(made)
    await second.dispose()


# --- updates of followed cases ---------------------------------------------------------------


async def test_a_followed_uscis_case_that_changes_is_notified_like_a_local_one(
    engine: Engine,
    fake: FakeUscis,
    uscis: Uscis,
    uow_factory: UnitOfWorkFactory,
    clock: FakeClock,
) -> None:
    moving = "EAC2290000500"
    await fake.control(cases={moving: case_body(moving)})
    chat = chat_in(engine)
    await chat.send(f"check my case {moving}")
    await chat.press("Get updates")
    assert "I will send you a message here" in chat.text
    await fake.control(
        cases={
            moving: case_body(
                moving, "Case Was Approved", "Caso Fue Aprobado", modified="03-01-2026 11:00:00"
            )
        }
    )
    assert await poll_uscis(uow_factory, uscis, mode=CaseSourceMode.BOTH) == 0  # still fresh
    clock.advance(hours=2)
    assert await poll_uscis(uow_factory, uscis, mode=CaseSourceMode.BOTH) == 1
    async with uow_factory() as uow:
        sent = (await uow.session.scalars(select(OutboxMessage))).all()
        case = await uow.session.scalar(select(Case).where(Case.receipt_number == moving))
    assert case is not None
    assert case.status_code == "approved"
    assert [(m.kind, m.address, m.payload["status_code"]) for m in sent] == [
        ("case_status_changed", chat.chat_id, "approved")
    ]
    clock.advance(timedelta(hours=2))
    assert await poll_uscis(uow_factory, uscis, mode=CaseSourceMode.BOTH) == 1
    async with uow_factory() as uow:
        assert len((await uow.session.scalars(select(OutboxMessage))).all()) == 1


async def test_one_worker_at_a_time_polls(
    engine: Engine,
    fake: FakeUscis,
    uscis: Uscis,
    uow_factory: UnitOfWorkFactory,
    clock: FakeClock,
    db: Database,
) -> None:
    followed = "EAC2290000520"
    await fake.control(cases={followed: case_body(followed)})
    chat = chat_in(engine)
    await chat.send(f"check my case {followed}")
    await chat.press("Get updates")
    clock.advance(hours=2)
    # Another worker (on PostgreSQL its own connection; SQLite has one process) is polling.
    other = Database(db.url) if db.dialect == "postgresql" else db
    polling = AdvisoryLock(other, USCIS_POLL_LOCKS, 0)
    assert await polling.try_acquire()
    sent = await requests(fake)
    assert await poll_uscis(uow_factory, uscis, mode=CaseSourceMode.BOTH) == 0
    assert await requests(fake) == sent
    await polling.release()
    assert await poll_uscis(uow_factory, uscis, mode=CaseSourceMode.BOTH) == 1
    assert await requests(fake) == sent + 1
    if other is not db:
        await other.dispose()


async def test_a_change_between_titles_the_catalog_lacks_is_notified_in_uscis_words(
    engine: Engine,
    fake: FakeUscis,
    uscis: Uscis,
    uow_factory: UnitOfWorkFactory,
    clock: FakeClock,
) -> None:
    odd = "EAC2290000510"
    first, second = "Case Was Sent To Office A For Study", "Case Was Sent To Office B For Study"
    await fake.control(cases={odd: case_body(odd, first, "Caso Enviado A La Oficina A")})
    english, spanish = chat_in(engine, chat_id="odd-en"), chat_in(engine, "es", chat_id="odd-es")
    for chat, locale in ((english, "en"), (spanish, "es")):
        await chat.send(f"check my case {odd}")
        await chat.press(translator(locale)._("Get updates"))
    modified = "03-01-2026 11:00:00"
    await fake.control(
        cases={odd: case_body(odd, second, "Caso Enviado A La Oficina B", modified=modified)}
    )
    clock.advance(hours=2)
    assert await poll_uscis(uow_factory, uscis, mode=CaseSourceMode.BOTH) == 1
    async with uow_factory() as uow:
        sent = (await uow.session.scalars(select(OutboxMessage))).all()
        texts = {m.address: (await render_message(uow, m)).text for m in sent}
    assert set(texts) == {english.chat_id, spanish.chat_id}
    assert f"Update on your case {odd}: {second}" in texts[english.chat_id]
    assert "Caso Enviado A La Oficina B" in texts[spanish.chat_id]
    assert "Status Not In The Catalog" not in "".join(texts.values())


# --- operators -------------------------------------------------------------------------------


async def test_admin_uscis_check_shows_the_answer_the_cache_and_the_budget_left(
    db: Database,
    uow_factory: UnitOfWorkFactory,
    clock: FakeClock,
    uscis: Uscis,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    app = App(settings=Settings(), db=db, uow_factory=uow_factory, clock=clock, uscis=uscis)
    assert await uscis_check(app, APPROVED) == 0
    first = capsys.readouterr().out
    assert "cache: nothing cached" in first
    assert "status: Case Was Approved -> catalog approved" in first
    assert "status (es): Caso Fue Aprobado" in first
    assert "budget: 1 of 1000 used today, 999 left" in first
    assert await uscis_check(app, APPROVED) == 0
    assert "cache: found, fetched 2026-03-02 15:00:00Z (fresh)" in capsys.readouterr().out
    assert CLIENT_SECRET not in first

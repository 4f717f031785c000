"""The appointments flow, end to end through a fake chat, on SQLite and PostgreSQL.

The fake clock starts on Monday 2026-03-02 at 15:00 UTC (8:00 in Phoenix, which keeps Mountain
Standard Time all year).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta
from typing import Any

from icalendar import Calendar
from sqlalchemy import select

from bot.dialogs.appointments.appointments import appointments_dialog
from bot.dialogs.base import Button, Dialog, Flow, Prompt, Start, Step, Transition
from bot.dialogs.context import Context, Services
from bot.dialogs.registry import FLOWS, all_dialogs, build_dialogs
from bot.engine import Engine
from bot.wording.i18n import translator
from core.accounts.links import link_chat
from core.accounts.models import Account, AccountKind, RepresentativeGrant
from core.accounts.otp import totp
from core.appointments import book_appointment, get_office, reschedule_appointment
from core.appointments.models import Appointment, AppointmentStatus
from core.cases.models import Case
from core.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_TOTP_SECRET
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.fakes import FakeClock, FakeMailer

READY = "IOE0912345679"  # Fingerprint Fee Was Received
NOT_READY = "IOE0912345678"  # Case Was Received
BIOMETRICS = "Biometrics (fingerprints and photo)"
IN_PERSON = "Help in person at a field office"
WEDNESDAY = "Wednesday, March 4, 2026"
THURSDAY = "Thursday, March 5, 2026"
PHX_0730_WED = datetime(2026, 3, 4, 14, 30, tzinfo=UTC)  # 7:30 AM MST


def at(clock_time: str) -> str:
    """A time label as Babel writes it in English ("7:30 AM" with a narrow no-break space)."""
    return clock_time.replace(" ", "\u202f")


async def ana(uow_factory: UnitOfWorkFactory) -> int:
    async with uow_factory() as uow:
        account_id = await uow.session.scalar(select(Account.id).where(Account.email == DEMO_EMAIL))
    assert account_id is not None
    return account_id


async def sign_in(uow_factory: UnitOfWorkFactory, chat_id: str = "chat-1") -> int:
    """Sign the chat in as Ana, as the sign-in flow would."""
    account_id = await ana(uow_factory)
    async with uow_factory() as uow:
        await link_chat(uow, account_id, "test", chat_id)
        await uow.commit()
    return account_id


async def book_directly(
    uow_factory: UnitOfWorkFactory,
    account_id: int,
    starts_at: datetime = PHX_0730_WED,
    *,
    office: str = "PHX",
    kind: str = "biometrics",
    receipt: str | None = READY,
) -> str:
    async with uow_factory() as uow:
        case_id = None
        if receipt is not None:
            case_id = await uow.session.scalar(
                select(Case.id).where(Case.receipt_number == receipt)
            )
        found = await get_office(uow, office)
        appointment = await book_appointment(
            uow,
            account_id=account_id,
            office_id=found.id,
            starts_at=starts_at,
            kind=kind,
            case_id=case_id,
        )
        await uow.commit()
        return appointment.confirmation_code


async def appointments(uow_factory: UnitOfWorkFactory) -> list[Appointment]:
    async with uow_factory() as uow:
        return list(await uow.session.scalars(select(Appointment).order_by(Appointment.id)))


async def open_booking(chat: FakeChat) -> None:
    await chat.send("hi")
    await chat.press("Appointments")
    await chat.press("Book an appointment")


async def to_phoenix_times(chat: FakeChat) -> None:
    """Book biometrics for the ready case at Phoenix, up to the times of Wednesday."""
    await open_booking(chat)
    await chat.press(BIOMETRICS)
    await chat.press(READY)
    await chat.press("Phoenix Field Office")
    await chat.press(WEDNESDAY)


def calendar_of(chat: FakeChat) -> Calendar:
    files = [a for r in chat.replies for a in r.attachments]
    assert len(files) == 1
    assert files[0].kind == "file"
    assert files[0].content_type == "text/calendar"
    return Calendar.from_ical(files[0].data)


def event_of(calendar: Calendar) -> Any:
    return next(iter(calendar.walk("VEVENT")))


# --- booking ---------------------------------------------------------------------------------


async def test_books_biometrics_in_the_offices_time_zone_with_a_calendar_file(
    chat: FakeChat, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in(uow_factory)
    await chat.send("hi")
    await chat.press("Appointments")
    assert chat.buttons[:2] == ["Book an appointment", "My appointments"]
    await chat.press("Book an appointment")
    await chat.press(BIOMETRICS)
    assert f"{READY} (I-485): Fingerprint Fee Was Received" in chat.text
    assert READY in chat.buttons
    assert NOT_READY not in chat.buttons  # listed with its status, but it cannot be booked
    await chat.press(READY)
    assert "Phoenix Field Office" in chat.buttons
    await chat.press("Phoenix Field Office")
    # Today still has times in Phoenix (8:00 there now; the first bookable is 9:00).
    assert chat.buttons[0] == "Monday, March 2, 2026"
    await chat.press(WEDNESDAY)
    assert "Times are local time in Phoenix (MST)" in chat.text
    assert chat.buttons[0] == at("7:30 AM")  # 14:30 UTC: Phoenix keeps standard time
    await chat.press(at("7:30 AM"))
    assert "Office: Phoenix Field Office" in chat.text
    assert "Address: 2035 N Central Ave, Phoenix, AZ 85004" in chat.text
    assert f"When: {WEDNESDAY}, {at('7:30 AM')} (MST)" in chat.text
    assert f"Case: {READY}" in chat.text
    assert f"Type: {BIOMETRICS}" in chat.text
    await chat.press("Confirm")

    [booked] = await appointments(uow_factory)
    assert booked.starts_at == PHX_0730_WED
    assert "Your appointment is booked." in chat.text
    assert f"Confirmation code: {booked.confirmation_code}" in chat.text
    assert chat.attachments == [f"appointment-{booked.confirmation_code}.ics"]
    calendar = calendar_of(chat)
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert event_of(calendar).decoded("DTSTART") == PHX_0730_WED
    assert booked.confirmation_code in str(event_of(calendar)["DESCRIPTION"])
    assert "What else can I help with?" in chat.text  # back at the menu


async def test_explains_why_a_case_is_not_ready_for_biometrics(
    chat: FakeChat, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in(uow_factory)
    await open_booking(chat)
    await chat.press(BIOMETRICS)
    await chat.send(NOT_READY)  # typed: it has no button
    assert "not ready for a biometrics appointment yet" in chat.text
    assert 'Its status now is "Case Was Received"' in chat.text
    assert '"Fingerprint Fee Was Received" or "Biometrics Appointment Was Scheduled"' in chat.text
    assert "We will tell you" not in chat.text  # nobody asked to follow it
    assert "you will hear" not in chat.text
    assert READY in chat.buttons  # still choosing a case
    await chat.send(READY)  # typing a receipt number works too
    assert "Which office" in chat.text
    assert await appointments(uow_factory) == []


async def test_an_existing_biometrics_appointment_is_explained_and_shown(
    chat: FakeChat, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    code = await book_directly(uow_factory, await sign_in(uow_factory))
    await open_booking(chat)
    await chat.press(BIOMETRICS)
    await chat.press(READY)
    assert f"You already have an appointment of this kind (confirmation {code})" in chat.text
    assert "Your appointments:" in chat.text
    assert f"Reschedule {code}" in chat.buttons


async def test_in_person_by_state_offers_the_nearest_offices_when_the_state_has_none(
    chat: FakeChat, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in(uow_factory)
    await open_booking(chat)
    await chat.press(IN_PERSON)
    await chat.send("Texas")
    assert "There is no office in Texas. These are the nearest:" in chat.text
    assert chat.buttons[:3] == [
        "Denver Field Office",
        "Phoenix Field Office",
        "Los Angeles Field Office",
    ]
    await chat.send("Atlantis")
    assert "Please type a US state (like Texas or TX) or a 5-digit ZIP code." in chat.text
    await chat.send("IL")
    assert "Which day would you like at the Chicago Field Office?" in chat.text
    await chat.press(WEDNESDAY)
    assert "Times are local time in Chicago (CST)" in chat.text
    assert chat.buttons[0] == at("8:00 AM")
    await chat.press(at("8:00 AM"))
    assert f"Type: {IN_PERSON}" in chat.text
    assert "Case:" not in chat.text
    await chat.press("Confirm")
    [booked] = await appointments(uow_factory)
    assert booked.case_id is None
    assert booked.starts_at == datetime(2026, 3, 4, 14, 0, tzinfo=UTC)


async def test_in_person_by_zip_code_finds_the_office_of_that_state(
    chat: FakeChat, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in(uow_factory)
    await open_booking(chat)
    await chat.press(IN_PERSON)
    await chat.send("12")
    assert "ZIP code" in chat.text
    await chat.send("85004")
    assert "Which day would you like at the Phoenix Field Office?" in chat.text


async def test_a_typed_date_and_time_are_understood(
    chat: FakeChat, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in(uow_factory)
    await open_booking(chat)
    await chat.press(IN_PERSON)
    await chat.send("Chicago")
    await chat.send("someday")
    # The example is the first day offered (today, March 2, in Chicago): one with free times.
    assert "Please type a date like 3/2, or choose a day below." in chat.text
    assert "For example" not in chat.text
    await chat.send("3/1/2026")
    assert "That day has already passed." in chat.text
    await chat.send("12/1/2026")  # a refusal of the domain raised while reading the answer
    assert "That date is too far ahead." in chat.text
    await chat.send("3/7/2026")
    assert "There are no free times on Saturday, March 7, 2026" in chat.text
    await chat.send("Wednesday")
    assert f"Free times on {WEDNESDAY}" in chat.text
    await chat.send("back")
    await chat.send("3/5")
    assert f"Free times on {THURSDAY}" in chat.text
    await chat.send("back")
    await chat.send("2026-03-06")
    assert "Free times on Friday, March 6, 2026" in chat.text
    await chat.send("3:45")
    assert "That time is not free that day." in chat.text
    await chat.send("10:30 am")
    assert f"When: Friday, March 6, 2026, {at('10:30 AM')} (CST)" in chat.text
    await chat.press("Confirm")
    [booked] = await appointments(uow_factory)
    assert booked.starts_at == datetime(2026, 3, 6, 16, 30, tzinfo=UTC)


async def test_a_slot_taken_meanwhile_is_explained_and_the_days_times_shown_again(
    chat: FakeChat, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    ana_id = await sign_in(uow_factory)
    await to_phoenix_times(chat)
    await chat.press(at("7:30 AM"))
    assert "Confirm" in chat.buttons
    # Two other people take both seats (capacity 2) before Ana confirms.
    async with uow_factory() as uow:
        other = Account(email="other@example.com", password_hash="x")
        uow.session.add(other)
        await uow.commit()
        other_id = other.id
    await book_directly(uow_factory, ana_id, kind="in_person", receipt=None)
    await book_directly(uow_factory, other_id, kind="in_person", receipt=None)

    await chat.press("Confirm")
    assert "Sorry, that time was just taken." in chat.text
    assert f"Free times on {WEDNESDAY}" in chat.text
    assert at("7:30 AM") not in chat.buttons
    assert at("8:00 AM") in chat.buttons
    await chat.press(at("8:00 AM"))
    await chat.press("Confirm")
    assert "Your appointment is booked." in chat.text
    biometrics = [a for a in await appointments(uow_factory) if a.case_id is not None]
    assert [a.starts_at for a in biometrics] == [PHX_0730_WED + timedelta(minutes=30)]


def offering_engine(
    uow_factory: UnitOfWorkFactory,
    mailer: FakeMailer,
    clock: FakeClock,
    args: dict[str, str],
) -> Engine:
    """Every flow, with "Check a case status" replaced by one button that starts the
    appointments flow with ``args`` (as the real case views do)."""

    class Offer(enum.Enum):
        SHOW = "show"

    def offer_prompt(ctx: Context) -> Prompt:
        return Prompt("Your case allows biometrics.", [Button("Book biometrics", "go")])

    async def offer_handle(ctx: Context, value: Any) -> Transition:
        return Start("appointments", args)

    offer = Dialog(
        name="case_status",
        states=Offer,
        initial=Offer.SHOW,
        title="Check a case status",
        steps={Offer.SHOW: Step(offer_prompt, offer_handle, starts=("appointments",))},
    )
    dialogs = build_dialogs([Flow.of(offer) if f.name == offer.name else f for f in FLOWS])
    return Engine(Services(uow_factory=uow_factory, mailer=mailer, clock=clock), dialogs)


async def sign_in_through_the_flow(chat: FakeChat, clock: FakeClock) -> None:
    """Answer the sign-in flow's questions as Ana (it is asking for the email)."""
    assert "type the email address of your USCIS online account" in chat.text
    await chat.send(DEMO_EMAIL)
    await chat.send(DEMO_PASSWORD)
    await chat.send(totp(DEMO_TOTP_SECRET, clock.now()))


async def test_another_flow_can_start_the_booking_at_the_office_question(
    uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock, demo: None
) -> None:
    engine = offering_engine(uow_factory, mailer, clock, {"case": READY, "kind": "biometrics"})
    chat = FakeChat(engine)
    await sign_in(uow_factory)
    await chat.send("hi")
    await chat.press("Check a case status")
    await chat.press("Book biometrics")
    assert f"Let's book a biometrics appointment for case {READY}." in chat.text
    assert "Which office would you like to go to?" in chat.text
    assert "Phoenix Field Office" in chat.buttons
    await chat.send("back")
    assert "What would you like to do?" in chat.text
    await chat.press("Book an appointment")
    assert "What kind of appointment do you need?" in chat.text  # the case is not kept
    await chat.send("menu")
    await chat.press("Check a case status")
    await chat.press("Book biometrics")
    await chat.send("AZ")
    await chat.press(WEDNESDAY)
    await chat.press(at("7:30 AM"))
    assert f"Case: {READY}" in chat.text
    await chat.press("Confirm")
    [booked] = await appointments(uow_factory)
    assert booked.starts_at == PHX_0730_WED


async def test_a_preset_case_that_cannot_be_booked_is_explained_and_the_cases_shown(
    uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock, demo: None
) -> None:
    await sign_in(uow_factory)
    for receipt in (NOT_READY, "EAC2190012345"):  # not ready; not Ana's nor a client's
        engine = offering_engine(
            uow_factory, mailer, clock, {"case": receipt, "kind": "biometrics"}
        )
        chat = FakeChat(engine)
        await chat.send("menu")
        await chat.press("Check a case status")
        await chat.press("Book biometrics")
        if receipt == NOT_READY:
            assert "not ready for a biometrics appointment yet" in chat.text
            assert 'Its status now is "Case Was Received"' in chat.text
        else:
            assert "That case is not in your account." in chat.text
        assert "Which office" not in chat.text
        assert "Which case is the biometrics appointment for?" in chat.text
        await chat.press(READY)
        assert "Which office would you like to go to?" in chat.text
    assert await appointments(uow_factory) == []


async def test_a_preset_case_already_booked_shows_the_appointments(
    uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock, demo: None
) -> None:
    code = await book_directly(uow_factory, await sign_in(uow_factory))
    engine = offering_engine(uow_factory, mailer, clock, {"case": READY, "kind": "biometrics"})
    chat = FakeChat(engine)
    await chat.send("hi")
    await chat.press("Check a case status")
    await chat.press("Book biometrics")
    assert f"You already have an appointment of this kind (confirmation {code})" in chat.text
    assert "Your appointments:" in chat.text
    assert f"Reschedule {code}" in chat.buttons


async def test_a_preset_booking_signs_in_first_then_asks_for_the_office(
    uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock, demo: None
) -> None:
    engine = offering_engine(uow_factory, mailer, clock, {"case": READY, "kind": "biometrics"})
    chat = FakeChat(engine)
    await chat.send("hi")
    await chat.press("Check a case status")
    await chat.press("Book biometrics")
    assert "please sign in first" in chat.text
    await sign_in_through_the_flow(chat, clock)
    assert f"Let's book a biometrics appointment for case {READY}." in chat.text
    assert "Which office would you like to go to?" in chat.text
    await chat.press("Phoenix Field Office")
    await chat.press(WEDNESDAY)
    await chat.press(at("7:30 AM"))
    await chat.press("Confirm")
    [booked] = await appointments(uow_factory)
    assert booked.starts_at == PHX_0730_WED


async def test_a_representative_books_biometrics_for_a_clients_case_from_my_cases(
    engine: Engine, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    async with uow_factory() as uow:
        lawyer = Account(
            email="lawyer@example.com",
            password_hash="x",
            kind=AccountKind.REPRESENTATIVE,
            email_verified=True,
        )
        uow.session.add(lawyer)
        await uow.flush()
        uow.session.add(
            RepresentativeGrant(representative_id=lawyer.id, client_id=await ana(uow_factory))
        )
        await uow.commit()
        lawyer_id = lawyer.id
    chat = FakeChat(engine, chat_id="lawyer-chat")
    async with uow_factory() as uow:
        await link_chat(uow, lawyer_id, "test", chat.chat_id)
        await uow.commit()
    await chat.send("hi")
    await chat.press("My cases")
    await chat.press(f"{DEMO_EMAIL}: {READY} · I-485 · Fingerprint Fee Was Received")
    await chat.press("Book biometrics")
    assert f"Let's book a biometrics appointment for case {READY}." in chat.text
    await chat.press("Phoenix Field Office")
    await chat.press(WEDNESDAY)
    await chat.press(at("7:30 AM"))
    await chat.press("Confirm")
    [booked] = await appointments(uow_factory)
    assert booked.account_id == await ana(uow_factory)  # the client's appointment
    assert "Book biometrics" in chat.buttons  # back at the case, as My cases left it
    # Booking again from the start lists the clients' cases to choose from.
    await chat.send("menu")
    await chat.press("Appointments")
    await chat.press("Book an appointment")
    await chat.press(BIOMETRICS)
    assert f"{DEMO_EMAIL}: {READY} (I-485): Fingerprint Fee Was Received" in chat.text
    await chat.press(READY)
    assert "You already have an appointment of this kind" in chat.text


async def test_a_chat_that_is_not_signed_in_signs_in_and_comes_back(
    chat: FakeChat, clock: FakeClock, demo: None
) -> None:
    await chat.send("hi")
    await chat.press("Appointments")
    assert "please sign in first" in chat.text
    assert "Sign in" not in chat.buttons  # no extra tap: the sign-in flow asks straight away
    await sign_in_through_the_flow(chat, clock)
    assert "What would you like to do?" in chat.text
    assert chat.buttons[:2] == ["Book an appointment", "My appointments"]
    await chat.send("back")  # out of the flow, not to the same question again
    assert "Appointments" in chat.buttons
    assert "Book an appointment" not in chat.buttons


async def test_back_out_of_signing_in_offers_to_sign_in_again(
    chat: FakeChat, clock: FakeClock, demo: None
) -> None:
    await chat.send("hi")
    await chat.press("Appointments")
    await chat.send("back")
    assert "please sign in first" in chat.text
    assert "Book an appointment" not in chat.buttons
    await chat.press("Sign in")
    await sign_in_through_the_flow(chat, clock)
    assert "What would you like to do?" in chat.text


async def test_without_a_sign_in_flow_it_says_whom_to_call(
    uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock
) -> None:
    dialogs = all_dialogs()
    dialogs["appointments"] = appointments_dialog({flow.name for flow in FLOWS} - {"link_account"})
    engine = Engine(Services(uow_factory=uow_factory, mailer=mailer, clock=clock), dialogs)
    chat = FakeChat(engine)
    await chat.send("hi")
    await chat.press("Appointments")
    assert "please sign in first" in chat.text
    assert "1-800-375-5283" in chat.text
    assert "Sign in" not in chat.buttons


# --- managing --------------------------------------------------------------------------------


async def reschedule_to(chat: FakeChat, code: str, day: str, clock_time: str) -> None:
    await chat.send("hi")
    await chat.press("Appointments")
    await chat.press("My appointments")
    await chat.press(f"Reschedule {code}")
    await chat.press(day)
    await chat.press(at(clock_time))


async def test_reschedules_then_refuses_within_12_hours(
    chat: FakeChat, clock: FakeClock, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    code = await book_directly(uow_factory, await sign_in(uow_factory))
    await reschedule_to(chat, code, THURSDAY, "9:00 AM")
    assert f"From: {WEDNESDAY}, {at('7:30 AM')} (MST)" in chat.text
    assert f"To: {THURSDAY}, {at('9:00 AM')} (MST)" in chat.text
    await chat.press("Confirm")
    assert "Your appointment is moved." in chat.text
    moved = datetime(2026, 3, 5, 16, 0, tzinfo=UTC)
    event = event_of(calendar_of(chat))
    assert event.decoded("DTSTART") == moved
    assert event["SEQUENCE"] == 1
    [appointment] = await appointments(uow_factory)
    assert (appointment.starts_at, appointment.reschedule_count) == (moved, 1)

    clock.set(moved - timedelta(hours=10))
    await chat.send("hi")  # a long pause signs the chat out: sign in again
    await sign_in(uow_factory)
    await chat.send("hi")
    await chat.press("Appointments")
    await chat.press("My appointments")
    await chat.press(f"Reschedule {code}")
    assert "cannot be changed online within 12 hours" in chat.text
    assert "1-800-375-5283" in chat.text
    assert f"Cancel {code}" in chat.buttons  # still at the list


async def test_refuses_a_third_reschedule(
    chat: FakeChat, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    account_id = await sign_in(uow_factory)
    code = await book_directly(uow_factory, account_id)
    async with uow_factory() as uow:
        await reschedule_appointment(
            uow,
            account_id=account_id,
            code=code,
            new_starts_at=PHX_0730_WED + timedelta(minutes=30),
        )
        await uow.commit()
    await reschedule_to(chat, code, THURSDAY, "9:00 AM")
    await chat.press("Confirm")
    assert "Your appointment is moved." in chat.text
    await chat.send("hi")
    await chat.press("Appointments")
    await chat.press("My appointments")
    await chat.press(f"Reschedule {code}")
    assert "already rescheduled twice" in chat.text
    [appointment] = await appointments(uow_factory)
    assert appointment.reschedule_count == 2


async def test_cancels_with_a_calendar_file_that_removes_the_event(
    chat: FakeChat, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    code = await book_directly(uow_factory, await sign_in(uow_factory))
    await chat.send("hi")
    await chat.press("Appointments")
    await chat.press("My appointments")
    assert f"Confirmation code: {code}" in chat.text
    assert f"{WEDNESDAY}, {at('7:30 AM')} (MST)" in chat.text
    await chat.press(f"Cancel {code}")
    assert "Do you want to cancel this appointment?" in chat.text
    await chat.press("No, keep it")
    await chat.press(f"Cancel {code}")
    await chat.press("Yes, cancel it")
    assert f"Your appointment {code} is cancelled." in chat.text
    assert "open the attached file to remove it" in chat.text
    calendar = calendar_of(chat)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(event_of(calendar)["STATUS"]) == "CANCELLED"
    [appointment] = await appointments(uow_factory)
    assert appointment.status is AppointmentStatus.CANCELLED
    await chat.send("hi")
    await chat.press("Appointments")
    await chat.press("My appointments")
    assert "You have no upcoming appointments." in chat.text


# --- what the engine shares ------------------------------------------------------------------


async def test_a_stale_button_reshows_the_current_step(
    chat: FakeChat, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in(uow_factory)
    await open_booking(chat)
    await chat.press(BIOMETRICS)
    old = chat.button(READY).payload
    await chat.press(READY)
    await chat.press_payload(old)
    assert "This menu has expired." in chat.text
    assert "Which office would you like to go to?" in chat.text


async def test_back_and_menu_in_the_middle(
    chat: FakeChat, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in(uow_factory)
    await to_phoenix_times(chat)
    await chat.send("back")
    assert "Which day would you like at the Phoenix Field Office?" in chat.text
    await chat.send("back")
    assert "Which office would you like to go to?" in chat.text
    await chat.send("menu")
    assert "What else can I help with?" in chat.text
    assert "Appointments" in chat.buttons
    assert await appointments(uow_factory) == []


async def test_a_language_change_rerenders_dates_in_that_language(
    chat: FakeChat, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in(uow_factory)
    await to_phoenix_times(chat)
    await chat.send("language")
    await chat.press("Español")
    assert "miércoles, 4 de marzo de 2026" in chat.text
    await chat.send("7:30")
    assert "miércoles, 4 de marzo de 2026" in chat.text
    await chat.press(translator("es")._("Confirm"))
    [booked] = await appointments(uow_factory)
    assert booked.starts_at == PHX_0730_WED


async def test_an_idle_booking_expires(
    chat: FakeChat, clock: FakeClock, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in(uow_factory)
    await to_phoenix_times(chat)
    clock.advance(minutes=16)
    await chat.send("7:30")
    assert "That conversation timed out" in chat.text
    assert "You were signed out" in chat.text
    assert await appointments(uow_factory) == []


async def test_a_restart_in_the_middle_resumes(
    chat: FakeChat,
    demo: None,
    uow_factory: UnitOfWorkFactory,
    mailer: FakeMailer,
    clock: FakeClock,
) -> None:
    await sign_in(uow_factory)
    await to_phoenix_times(chat)
    await chat.press(at("7:30 AM"))
    confirm = chat.button("Confirm").payload
    restarted = Engine(Services(uow_factory=uow_factory, mailer=mailer, clock=clock), all_dialogs())
    again = FakeChat(restarted, chat_id=chat.chat_id)
    await again.press_payload(confirm)
    assert "Your appointment is booked." in again.text
    [booked] = await appointments(uow_factory)
    assert booked.starts_at == PHX_0730_WED

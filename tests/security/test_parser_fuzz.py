"""Every parser of what people type, fuzzed on its own: it returns a value or raises the one
error type its callers catch (which the engine turns into a localized re-prompt), nothing else,
and what it accepts survives a round trip.

Receipt numbers are fuzzed in tests/unit/test_receipt_number.py already (parse raises nothing
but InvalidReceiptNumber and round-trips, find never raises, a number is found after any
words); here only the messy typing people do is added: a number typed with dashes, spaces,
lower case, a ``#`` and O/I slips among the digits reads back as itself.
"""

from __future__ import annotations

import contextlib
import unicodedata
from datetime import UTC, date, datetime, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.dialogs.appointments.inputs import parse_day, parse_time
from bot.dialogs.links import book_link, open_link
from bot.wording.i18n import LOCALES
from bot.wording.local_input import (
    NO,
    YES,
    ascii_digits,
    fold,
    local_day,
    local_time,
    month_names,
    weekday_names,
    yes_no,
)
from core.accounts.backup_codes import (
    format_backup_code,
    generate_backup_code,
    looks_like_backup_code,
    normalize_backup_code,
)
from core.accounts.email_codes import code_matches, hash_email_code
from core.accounts.otp import normalize_digits, verify_totp
from core.accounts.policy import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    check_password,
    validate_email,
)
from core.cases.access_code import hash_access_code, normalize_access_code, verify_access_code
from core.cases.receipt import PREFIXES, ReceiptNumber
from core.demo import DEMO_ACCESS_CODE, DEMO_TOTP_SECRET
from core.errors import CodeReused, InvalidCode, InvalidEmail, WeakPassword
from tests.fuzzing import examples

TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
# Any text, including lone surrogates, control characters and combining marks.
anything = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8")),
    st.text(alphabet="0123456789٠١٢٣٤٥٦٧٨٩０１２３/.-: hH年月日시분점点", max_size=20),
)
# Some digits, as the people of each locale type them.
digits = st.text(alphabet="0123456789٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹０１２３４５６７８９ -", max_size=12)


# --- dates and times -------------------------------------------------------------------------


@given(anything, st.sampled_from(LOCALES), st.dates(date(2000, 1, 1), date(2100, 1, 1)))
@example("31/2", "es", TODAY)
@example("2026年2月30日", "zh", TODAY)
@example("9999/99/99", "en", TODAY)
@example("0/0", "fr", TODAY)
@example("3/4/0", "en", date(2100, 1, 1))
@example("12/31/9999", "en", TODAY)
def test_a_typed_day_is_a_date_or_a_value_error(text: str, locale: str, today: date) -> None:
    try:
        found = local_day(text, today, locale, relative={"mañana": 1, "tomorrow": 1})
    except ValueError:
        return
    assert today <= found <= today + timedelta(days=366)


@given(anything)
@example("25:00")
@example("12:60 pm")
@example("0 pm")
@example("下午13点")
@example("٩:٣٠ م")
def test_a_typed_time_is_a_time_or_a_value_error(text: str) -> None:
    try:
        found = local_time(text)
    except ValueError:
        return
    assert 0 <= found.hour <= 23
    assert 0 <= found.minute <= 59


@given(anything, st.dates(date(2000, 1, 1), date(2100, 1, 1)))
def test_the_english_day_and_time_readers_raise_only_value_errors(text: str, today: date) -> None:
    for parse in (lambda: parse_day(text, today), lambda: parse_time(text)):
        with contextlib.suppress(ValueError):
            parse()


@given(anything)
def test_yes_no_and_folding_never_raise(text: str) -> None:
    assert yes_no(text) in (YES, NO, None)
    assert isinstance(fold(text), str)
    converted = ascii_digits(text)
    assert len(converted) == len(text)
    assert all(not ch.isdecimal() or ch.isascii() for ch in converted)


# --- codes -----------------------------------------------------------------------------------


@given(st.one_of(anything, digits), st.one_of(st.none(), st.integers(-5, 2**40)))
@example("\u0663" * 6, None)  # Arabic-Indic digits
@example("１２３４５６", 0)  # full-width
def test_an_authenticator_code_is_accepted_or_refused_with_a_code_error(
    typed: str, last_step: int | None
) -> None:
    assert isinstance(normalize_digits(typed), str)
    try:
        step = verify_totp(DEMO_TOTP_SECRET, typed, NOW, last_step)
    except (InvalidCode, CodeReused):
        return
    assert abs(step - int(NOW.timestamp()) // 30) <= 1


@given(anything)
@example("7k3q 9wxm 2pld")
@example("7K3Q-9WXM-2PLO")  # O is read as zero
def test_a_backup_code_is_read_or_refused_with_invalid_code(typed: str) -> None:
    try:
        normalized = normalize_backup_code(typed)
    except InvalidCode:
        assert not looks_like_backup_code(typed)
        return
    assert looks_like_backup_code(typed)
    assert normalize_backup_code(format_backup_code(normalized)) == normalized


@settings(max_examples=examples(20))
@given(st.data())
def test_a_new_backup_code_reads_back_however_it_is_typed(data: st.DataObject) -> None:
    code = generate_backup_code()
    typed = data.draw(
        st.sampled_from([code, code.lower(), code.replace("-", " "), code[:4] + code[5:]])
    )
    assert normalize_backup_code(typed) == code.replace("-", "")


@settings(max_examples=examples(30))  # each check runs the access code's key derivation
@given(anything)
def test_an_access_code_check_is_true_or_false(typed: str) -> None:
    stored = hash_access_code(DEMO_ACCESS_CODE)
    assert isinstance(normalize_access_code(typed), str)
    assert verify_access_code(typed, stored) is (normalize_access_code(typed) == DEMO_ACCESS_CODE)
    assert verify_access_code(typed, None) is False


@given(st.one_of(anything, digits), st.text(max_size=120))
def test_an_email_code_check_is_true_or_false_whatever_is_stored(typed: str, stored: str) -> None:
    assert code_matches(stored, typed) in (True, False)
    assert code_matches(hash_email_code("123456"), typed) is (normalize_digits(typed) == "123456")


# --- emails and passwords --------------------------------------------------------------------


@given(st.one_of(anything, st.emails()))
@example("ANA.DEMO@EXAMPLE.COM")
@example("a@b.c\x00")
@example("ｆｕｌｌ＠ｗｉｄｔｈ．ｃｏｍ")
def test_an_email_is_normalised_or_refused_with_invalid_email(typed: str) -> None:
    try:
        email = validate_email(typed)
    except InvalidEmail:
        return
    assert validate_email(email) == email  # the stored form is valid and stable
    assert email == email.strip()
    assert email.count("@") == 1


@given(anything, st.one_of(st.none(), st.emails()))
@example("a" * (MAX_PASSWORD_LENGTH + 1), None)
@example("ﬃ" * 40, None)  # NFKC makes it longer
@example("password", None)
def test_a_password_is_accepted_in_nfkc_or_refused_with_a_reason(
    typed: str, email: str | None
) -> None:
    try:
        accepted = check_password(typed, email)
    except WeakPassword as weak:
        reason = weak.reason
        assert reason in {"too_short", "too_long", "common", "contains_email", "repetitive"}
        return
    assert accepted == unicodedata.normalize("NFKC", typed)
    assert MIN_PASSWORD_LENGTH <= len(accepted) <= MAX_PASSWORD_LENGTH


# --- receipt numbers as people type them, and links ------------------------------------------


@given(
    st.sampled_from(sorted(PREFIXES)),
    st.from_regex(r"[0-9]{10}", fullmatch=True),
    st.sampled_from(["", " ", "-", " - "]),
    st.booleans(),
    st.booleans(),
)
def test_a_receipt_number_typed_messily_reads_back_as_itself(
    prefix: str, number: str, separator: str, lower: bool, slips: bool
) -> None:
    canonical = f"{prefix}{number}"
    digits_typed = number.replace("0", "O").replace("1", "I") if slips else number
    typed = f"#{prefix}{separator}{digits_typed[:2]}{separator}{digits_typed[2:]}"
    typed = typed.lower() if lower else typed
    receipt = ReceiptNumber.parse(typed)
    assert str(receipt) == canonical
    masked = receipt.masked()
    assert masked.startswith(prefix)
    assert masked.endswith(number[-3:])
    assert number[:7] not in masked


@given(st.text(max_size=80))
@example("go:book:biometrics:ioe-0912345679")
@example("go:book:biometrics:" + "9" * 60)
def test_a_link_payload_is_a_link_or_nothing(payload: str) -> None:
    link = open_link(payload)
    if link is None:
        return
    assert link.dialog == "appointments"
    assert len(book_link(link.args["kind"], link.args.get("case")).encode()) <= 64


# --- dates and times written with each locale's own words --------------------------------------


def _locale_words(locale: str) -> list[str]:
    return [*weekday_names(locale), *month_names(locale)]


LOCALE_PIECES = st.sampled_from(LOCALES).flatmap(
    lambda locale: st.tuples(
        st.just(locale),
        st.lists(
            st.one_of(
                st.sampled_from(_locale_words(locale)),
                st.integers(0, 3000).map(str),
                st.sampled_from(["/", "-", ".", " ", "年", "月", "日", "일", "de", "1st", ":"]),
                st.sampled_from(["오후", "下午", "م", "pm", "à", "às", "в"]),
            ),
            max_size=6,
        ).map(" ".join),
    )
)


@given(LOCALE_PIECES, st.dates(date(2000, 1, 1), date(2100, 1, 1)))
def test_a_day_or_time_in_a_locales_own_words_is_a_value_or_a_value_error(
    pieces: tuple[str, str], today: date
) -> None:
    locale, text = pieces
    with contextlib.suppress(ValueError):
        found = local_day(text, today, locale, relative={})
        assert today <= found <= today + timedelta(days=366)
    with contextlib.suppress(ValueError):
        moment = local_time(text)
        assert 0 <= moment.hour <= 23

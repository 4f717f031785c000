"""The watch over secrets in logs (tests/secret_logs.py) sees what it must and lets the rest be."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator

import pytest

from core.accounts.otp import totp
from core.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from core.ports import OutgoingMail
from tests.fakes import FakeClock, FakeMailer
from tests.secret_logs import SecretLogWatch

logger = logging.getLogger("casebot.tests.secret_logs")

MODULE_PASSWORD = "tangerine-quartz-harbor-19"


@pytest.fixture(autouse=True)
def _logged_on_purpose(no_secrets_in_logs: SecretLogWatch) -> Iterator[None]:
    """These tests log secrets on purpose: the watch around each test forgets them after."""
    yield
    no_secrets_in_logs.forget()


def watched(*lines: str, watch: SecretLogWatch | None = None) -> list[str]:
    """Log each line at DEBUG under a fresh watch; what it calls a leak."""
    watch = watch or SecretLogWatch()
    with watch.installed():
        for line in lines:
            logger.debug("%s", line)
    return watch.leaks()


def test_the_autouse_watch_sees_a_secret_this_test_logs(
    no_secrets_in_logs: SecretLogWatch,
) -> None:
    logger.debug("signing in with %s", DEMO_PASSWORD)
    leaks = no_secrets_in_logs.leaks()
    assert len(leaks) == 1
    assert "casebot.tests.secret_logs DEBUG" in leaks[0]
    assert DEMO_PASSWORD not in leaks[0]  # the report names the record, not the secret


def test_the_autouse_watch_knows_this_modules_constants(
    no_secrets_in_logs: SecretLogWatch,
) -> None:
    logger.info("password %s", MODULE_PASSWORD)
    assert no_secrets_in_logs.leaks()


def test_a_failing_watch_fails_the_test_with_where_it_leaked() -> None:
    watch = SecretLogWatch()
    with watch.installed():
        logging.getLogger("bot.somewhere").warning("oops %s", DEMO_PASSWORD)
    [leak] = watch.leaks()
    assert leak.startswith("bot.somewhere WARNING at ")
    assert "test_secret_logs.py" in leak


@pytest.mark.parametrize(
    "line",
    [
        "looked up WAC2212345678",
        "looked up wac2212345678 for someone",
        "backup code 7K3Q-9WXM-2PLE issued",
        "new secret JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
    ],
)
def test_secret_shapes_are_caught_whoever_made_them(line: str) -> None:
    assert watched(line)


@pytest.mark.parametrize(
    "line",
    [
        "looked up WAC*******678",
        "turn took 12.5 ms",
        "GET /api/chat/sessions/0123abcd/messages 200",
        "account 42 signed in on test with authenticator",
        "uuid 6f1c2d3e-4a5b-4c6d-8e9f-0a1b2c3d4e5f",
    ],
)
def test_ordinary_lines_pass(line: str) -> None:
    assert watched(line) == []


def test_minted_web_tokens_are_secrets() -> None:
    before = secrets.token_urlsafe
    watch = SecretLogWatch()
    with watch.installed():
        token = secrets.token_urlsafe(32)
        logger.debug("session token %s", token)
    assert token in watch.minted
    assert watch.leaks()
    assert secrets.token_urlsafe is before  # put back afterwards


def test_mailed_codes_and_the_demo_authenticator_codes_are_secrets() -> None:
    clock, mailer = FakeClock(), FakeMailer()
    mailer.sent.append(OutgoingMail(to="a@example.com", subject="code", body="Code: 482913"))
    watch = SecretLogWatch()
    watch.add_fixture_values([clock, mailer])
    clock.advance(minutes=20)
    assert watched("code 482913", watch=watch)
    watch = SecretLogWatch()
    watch.add_fixture_values([clock])
    assert watched(f"typed {totp(DEMO_TOTP_SECRET, clock.now())}", watch=watch)
    watch = SecretLogWatch()
    watch.add_fixture_values([clock])
    assert watched("update 482913 handled", watch=watch) == []


def test_the_secret_half_of_a_bot_token_is_watched_alone() -> None:
    watch = SecretLogWatch()
    watch.add("123456789:AAF-fake-token-half")
    assert watched("GET /botXXX:AAF-fake-token-half/getMe", watch=watch)


def test_sql_drivers_stay_at_warning_and_levels_are_restored() -> None:
    root = logging.getLogger()
    before = (root.level, logging.getLogger("sqlalchemy.engine").level)
    watch = SecretLogWatch()
    with watch.installed():
        assert root.level == logging.DEBUG
        assert not logging.getLogger("sqlalchemy.engine").isEnabledFor(logging.INFO)
    assert (root.level, logging.getLogger("sqlalchemy.engine").level) == before

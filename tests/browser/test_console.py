"""The agent console in a real browser against a real ``casebot serve``: set-up from the
operator's link, sign-in with an authenticator code, the availability switch, sign-out; a
wrong code shows an error; a hostile display name stays text. No request leaves the server
and nothing breaks the page's Content-Security-Policy."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from core.accounts.otp import totp
from tests.browser.staff_support import ALWAYS_OPEN, PASSWORD, add_staff
from tests.serve_support import Served, serving

# Without playwright the browser fixture skips (on CI: fails) and says why.
with contextlib.suppress(ImportError):
    from playwright.sync_api import expect

HOSTILE = '<img src=x onerror="window.pwned=1">Li'


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, Path]]:
    folder = tmp_path_factory.mktemp("console-serve")
    # Agents' hours around the clock: the test does not depend on when it runs.
    with serving(folder, {"CASEBOT_AGENT_HOURS": ALWAYS_OPEN}) as served:
        yield served, folder


def watch(page: Any) -> tuple[list[str], list[str]]:
    """Every request the page makes and every console message it logs."""
    requests_made: list[str] = []
    messages: list[str] = []
    page.on("request", lambda request: requests_made.append(request.url))
    page.on("console", lambda message: messages.append(message.text))
    return requests_made, messages


def test_set_up_sign_in_switch_and_sign_out(
    page: Any, console_server: tuple[Served, Path], artifacts: Path
) -> None:
    served, folder = console_server
    code = add_staff(folder, "maria@agency.example", "Maria", "en,es")
    requests_made, messages = watch(page)
    page.goto(f"{served.base}/console#setup={code}")
    assert "#setup" not in page.url  # the code leaves the address bar at once
    page.fill("#setup-password", PASSWORD)
    page.fill("#setup-repeat", PASSWORD)
    page.click("#setup-form button[type=submit]")
    expect(page.locator("#enrol-secret")).to_have_text(re.compile(r"^[A-Z2-7]{32}$"))
    expect(page.locator("#enrol-qr")).to_have_attribute("src", re.compile("^data:image/png"))
    page.screenshot(path=str(artifacts / "console-enrol.png"))
    secret = page.locator("#enrol-secret").inner_text()
    now = datetime.now(UTC)
    page.fill("#enrol-code", totp(secret, now))
    page.click("#enrol-form button[type=submit]")
    expect(page.locator("#notice")).to_contain_text("Your account is ready")
    expect(page.locator("#signin-email")).to_have_value("maria@agency.example")

    page.fill("#signin-password", PASSWORD)
    page.fill("#signin-code", totp(secret, now + timedelta(seconds=30)))
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#me-name")).to_have_text("Maria")
    expect(page.locator("#me-languages")).to_have_text("EN, ES")
    switch = page.locator("#availability")
    expect(switch).not_to_be_checked()
    expect(page.locator("#availability-label")).to_have_text("Away")
    expect(page.locator("#queue")).to_contain_text("No one is waiting.")

    switch.click()
    expect(page.locator("#availability-label")).to_have_text("Available")
    expect(switch).to_be_enabled()
    page.screenshot(path=str(artifacts / "console-available.png"))
    expect(page.locator("#stats")).to_be_hidden()  # an agent's console has no figures
    page.reload()  # the tab keeps its session, the server the switch
    expect(page.locator("#me-name")).to_have_text("Maria")
    expect(page.locator("#availability")).to_be_checked()

    page.click("#sign-out")
    expect(page.locator("#notice")).to_have_text("You are signed out.")
    expect(page.locator("#view-signin")).to_be_visible()
    page.reload()
    expect(page.locator("#view-signin")).to_be_visible()

    assert all(url.startswith(served.base) for url in requests_made), requests_made
    assert not [m for m in messages if "Content Security Policy" in m], messages


def test_a_bad_code_shows_an_error_and_a_hostile_name_stays_text(
    page: Any, console_server: tuple[Served, Path]
) -> None:
    served, folder = console_server
    code = add_staff(folder, "li@agency.example", HOSTILE, "zh")
    started = requests.post(
        f"{served.base}/api/console/setup", json={"code": code, "password": PASSWORD}, timeout=10
    ).json()
    now = datetime.now(UTC)
    confirmed = requests.post(
        f"{served.base}/api/console/setup/confirm",
        json={"code": code, "totp": totp(started["secret"], now)},
        timeout=10,
    )
    assert confirmed.status_code == 200
    _requests, messages = watch(page)
    # The link again, once used: the page says so.
    page.goto(f"{served.base}/console#setup={code}")
    page.fill("#setup-password", PASSWORD)
    page.fill("#setup-repeat", PASSWORD + "x")
    page.click("#setup-form button[type=submit]")
    expect(page.locator("#setup-error")).to_have_text("The two passwords are not the same.")
    page.fill("#setup-repeat", PASSWORD)
    page.click("#setup-form button[type=submit]")
    expect(page.locator("#setup-error")).to_contain_text("This set-up link is not valid")

    page.goto(f"{served.base}/console")
    page.fill("#signin-email", "li@agency.example")
    page.fill("#signin-password", PASSWORD)
    page.fill("#signin-code", "000000" if totp(started["secret"], now) != "000000" else "111111")
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#signin-error")).to_have_text(
        "The email, password or authenticator code is not right."
    )
    expect(page.locator("#view-console")).to_be_hidden()

    page.fill("#signin-password", PASSWORD)
    page.fill("#signin-code", totp(started["secret"], now + timedelta(seconds=30)))
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#me-name")).to_have_text(HOSTILE)
    assert page.locator("#who img").count() == 0
    assert page.evaluate("window.pwned") is None
    assert not [m for m in messages if "Content Security Policy" in m], messages


def sign_in_ready(
    page: Any, served: Served, folder: Path, email: str, name: str, role: str = "agent"
) -> None:
    """A staff member set up through the API, signed in on the page."""
    code = add_staff(folder, email, name, "en,es", role)
    started = requests.post(
        f"{served.base}/api/console/setup", json={"code": code, "password": PASSWORD}, timeout=10
    ).json()
    now = datetime.now(UTC)
    confirmed = requests.post(
        f"{served.base}/api/console/setup/confirm",
        json={"code": code, "totp": totp(started["secret"], now)},
        timeout=10,
    )
    assert confirmed.status_code == 200
    page.goto(f"{served.base}/console")
    page.fill("#signin-email", email)
    page.fill("#signin-password", PASSWORD)
    page.fill("#signin-code", totp(started["secret"], now + timedelta(seconds=30)))
    page.click("#signin-form button[type=submit]")
    expect(page.locator("#me-name")).to_have_text(name)


class Person:
    """A person in the web chat, through its API."""

    def __init__(self, base: str) -> None:
        self.base = base
        data = requests.post(f"{base}/api/chat/sessions", json={"locale": "en"}, timeout=10).json()
        self.id, self.auth = data["session_id"], {"Authorization": f"Bearer {data['token']}"}

    def send(self, text: str) -> str:
        response = requests.post(
            f"{self.base}/api/chat/sessions/{self.id}/messages",
            json={"text": text},
            headers=self.auth,
            timeout=10,
        )
        assert response.status_code == 200, response.text
        return "\n".join(r["text"] for r in response.json()["replies"])

    def sees(self, text: str) -> bool:
        """Whether the person's transcript shows ``text`` (waiting for the outbox to deliver
        it, up to a generous bound)."""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            messages = requests.get(
                f"{self.base}/api/chat/sessions/{self.id}/messages", headers=self.auth, timeout=10
            ).json()["messages"]
            if any(text in m["text"] for m in messages):
                return True
            time.sleep(0.2)
        return False


def test_an_agent_claims_replies_and_closes(
    page: Any, console_server: tuple[Served, Path], artifacts: Path
) -> None:
    served, folder = console_server
    requests_made, messages = watch(page)
    sign_in_ready(page, served, folder, "ana@agency.example", "Ana")
    page.locator("#availability").click()
    expect(page.locator("#availability-label")).to_have_text("Available")

    person = Person(served.base)
    assert "You are number 1 in the line" in person.send("I want to talk to a real person")
    waiting = page.locator("#queue [data-conversation]")
    expect(waiting).to_have_count(1)  # live, by the console's WebSocket
    waiting.get_by_role("button", name="Claim").click()
    expect(page.locator("#conversation")).to_be_visible()
    expect(page.locator("#bot-transcript")).to_contain_text("I want to talk to a real person")
    expect(page.locator("#queue")).to_contain_text("No one is waiting.")
    assert person.sees("You are now chatting with Ana.")

    hostile = "<img src=x onerror=window.pwned=document.domain> is my card mailed?"
    person.send(hostile)
    expect(page.locator("#messages")).to_contain_text(hostile)  # as text, live
    assert page.locator("#conversation img").count() == 0
    assert page.evaluate("window.pwned") is None

    page.select_option("#canned", label="Greeting")
    expect(page.locator("#reply-text")).to_have_value(
        "Hello, I am here to help. What can I do for you?"
    )
    page.click("#reply-send")
    expect(page.locator("#messages")).to_contain_text("Hello, I am here to help.")
    assert person.sees("Ana: Hello, I am here to help. What can I do for you?")
    page.screenshot(path=str(artifacts / "console-conversation.png"))

    page.select_option("#transfer-language", "es")
    page.click("#transfer")
    expect(page.locator("#notice")).to_have_text("The conversation was transferred.")
    expect(page.locator("#close")).to_be_disabled()  # waiting again, in the Spanish line
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("ES")
    waiting.get_by_role("button", name="Claim").click()
    expect(page.locator("#close")).to_be_enabled()

    page.select_option("#outcome", "resolved")
    page.click("#close")
    expect(page.locator("#notice")).to_have_text("The conversation is closed.")
    assert person.sees("Ana ended the chat.")
    ours = (served.base, served.base.replace("http", "ws", 1))
    assert all(url.startswith(ours) for url in requests_made), requests_made
    assert not [m for m in messages if "Content Security Policy" in m], messages


def figures_of(page: Any, line: str) -> dict[str, str]:
    """The row of ``line`` (EN, ..., or All) of the figures table, by column header."""
    table = page.get_by_role("table", name="Waiting-time figures")
    headers = table.locator("thead th").all_inner_texts()
    row = table.get_by_role("row").filter(has=page.get_by_role("rowheader", name=line, exact=True))
    cells = row.locator("th, td").all_inner_texts()
    return dict(zip(headers, cells, strict=True))


def test_a_supervisor_sees_the_waiting_time_figures_live(
    page: Any, console_server: tuple[Served, Path], artifacts: Path
) -> None:
    served, folder = console_server
    requests_made, messages = watch(page)
    sign_in_ready(page, served, folder, "ada@agency.example", "Ada", role="supervisor")
    stats = page.locator("#stats")
    expect(stats).to_be_visible()
    table = page.get_by_role("table", name="Waiting-time figures")
    expect(table.get_by_role("rowheader", name="EN", exact=True)).to_be_visible()
    expect(table.get_by_role("rowheader", name="All lines", exact=True)).to_be_visible()
    expect(stats).to_contain_text("UTC")  # the day of "today" is the agents' time zone's
    page.locator("#availability").click()
    expect(page.locator("#availability-label")).to_have_text("Available")

    person = Person(served.base)
    assert "You are number 1 in the line" in person.send("I want to talk to a real person")
    english = table.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="EN", exact=True)
    )
    expect(english.locator("td").first).to_have_text("1")  # live: waiting now
    assert figures_of(page, "EN")["With an agent"] == "0"
    page.screenshot(path=str(artifacts / "console-figures.png"))

    waiting = page.locator("#queue [data-conversation]")
    waiting.get_by_role("button", name="Claim").click()
    expect(english.locator("td").first).to_have_text("0")
    row = figures_of(page, "EN")
    assert row["With an agent"] == "1"
    assert row["Wait p50"] != "none"  # the claim just measured
    assert figures_of(page, "All lines")["With an agent"] == "1"
    page.select_option("#outcome", "resolved")
    page.click("#close")
    expect(page.locator("#notice")).to_have_text("The conversation is closed.")
    assert not [m for m in messages if "Content Security Policy" in m], messages
    ours = (served.base, served.base.replace("http", "ws", 1))
    assert all(url.startswith(ours) for url in requests_made), requests_made

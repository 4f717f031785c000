"""What users install: the wheel, built from this checkout, in a new empty environment.

The wheel and sdist are built as ``make wheel`` builds them, installed with the locked versions
of what they need into a virtual environment of their own, and run from an empty folder with no
source tree on the path. The assistant must then speak every language it ships: a conversation
through the web chat API in each of the 11 locales (greeting, a case lookup, a mistyped receipt
number), the web widget's labels per locale, and ``casebot chat --lang ar``. Any text that comes
back in English where the locale's catalog has a translation fails here.

Needs uv (``make`` installs it under ``.tools/``). Outside CI the module is skipped with a
message when uv is missing; on CI (``CI=true``) that fails the run.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.channels.web.widget_labels import WIDGET_LABELS
from bot.wording.i18n import DEFAULT_LOCALE, LOCALES, translator
from tests.conftest import ON_CI
from tests.conversation.test_every_locale import english_pieces, translated

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_CASE = "WAC2212345678"  # demo data: Case Was Approved
MISTYPED = "WAC22123"  # too short to be a receipt number
CATALOG = re.compile(r"var CATALOG = (\{.*?\});\n")


def _uv() -> str | None:
    local = ROOT / ".tools" / "bin" / "uv"
    return str(local) if local.exists() else shutil.which("uv")


def _run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass(frozen=True)
class Installed:
    """casebot installed from its wheel into an environment of its own."""

    venv: Path
    home: Path  # an empty folder to run it from
    wheel: Path  # the wheel it was installed from

    @property
    def casebot(self) -> str:
        return str(self.venv / "bin" / "casebot")

    @property
    def env(self) -> dict[str, str]:
        # Nothing of this checkout or of the test run leaks in: no PYTHONPATH, no CASEBOT_*.
        return {
            "PATH": f"{self.venv / 'bin'}:/usr/bin:/bin",
            "HOME": str(self.home),
            "LANG": "C.UTF-8",
        }

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.casebot, *args],
            cwd=self.home,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    uv = _uv()
    if uv is None:
        if ON_CI:
            pytest.fail("release tests: uv is missing (make installs it); required on CI")
        pytest.skip("release tests skipped: uv is missing (run make once to install it)")
    base = tmp_path_factory.mktemp("release")
    dist, venv, home = base / "dist", base / "venv", base / "home"
    home.mkdir()
    # The sdist from the checkout, then the wheel from the sdist, as `make wheel` does: the
    # catalogs must survive both steps.
    _run(uv, "build", "--quiet", "--out-dir", str(dist), str(ROOT), cwd=base)
    [wheel] = dist.glob("casebot-*.whl")
    requirements = base / "requirements.txt"
    _run(
        uv, "export", "--quiet", "--frozen", "--no-emit-project", "--no-header",
        "--format", "requirements-txt", "--output-file", str(requirements),
        cwd=ROOT,
    )  # fmt: skip
    _run(uv, "venv", "--quiet", "--python", sys.executable, str(venv), cwd=base)
    python = str(venv / "bin" / "python")
    _run(uv, "pip", "install", "--quiet", "--python", python, "--require-hashes",
         "-r", str(requirements), cwd=base)  # fmt: skip
    _run(uv, "pip", "install", "--quiet", "--python", python, "--no-deps", str(wheel), cwd=base)
    installed = Installed(venv=venv, home=home, wheel=wheel)
    found = _run(python, "-c", "import bot; print(bot.__file__)", cwd=home, env=installed.env)
    assert str(venv) in found, found
    assert str(ROOT) not in found, found
    return installed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _request(url: str, body: Any = None, token: str | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (http, our own server)
        url, data=data, method="GET" if data is None else "POST"
    )
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (our own server)
        text = response.read().decode()
    return json.loads(text) if response.headers.get_content_type() == "application/json" else text


@pytest.fixture(scope="module")
def server(installed: Installed) -> Iterator[str]:
    demo = installed.run("demo")
    assert demo.returncode == 0, demo.stderr
    port = _free_port()
    log = (installed.home / "serve.log").open("w")
    process = subprocess.Popen(
        [installed.casebot, "serve", "--port", str(port)],
        cwd=installed.home,
        env=installed.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _request(f"{base}/healthz")
                break
            except (urllib.error.URLError, ConnectionError):
                assert process.poll() is None, (installed.home / "serve.log").read_text()
                assert time.monotonic() < deadline, "casebot serve did not answer in 60 s"
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


class WebChat:
    """One web chat session through the HTTP API of the installed server."""

    def __init__(self, base: str, locale: str) -> None:
        opened = _request(f"{base}/api/chat/sessions", {"locale": locale})
        self.url = f"{base}/api/chat/sessions/{opened['session_id']}/messages"
        self.token: str = opened["token"]
        self.replies: list[dict[str, Any]] = []

    def send(self, text: str) -> str:
        return self._turn({"text": text})

    def press(self, label: str) -> str:
        buttons = {b["label"]: b["payload"] for b in self.replies[-1]["buttons"]}
        assert label in buttons, (label, list(buttons))
        return self._turn({"payload": buttons[label]})

    def _turn(self, body: dict[str, str]) -> str:
        replies = _request(self.url, body, self.token)["replies"]
        assert replies, body
        self.replies.extend(replies)
        return "\n".join(reply["text"] for reply in replies)


def assert_in_its_language(locale: str, texts: list[str]) -> None:
    """No text is a translated msgid left in English, nor holds a long English run of one."""
    if locale == DEFAULT_LOCALE:
        return
    table = translated(locale)
    kept = "\n".join(table.values())  # English a catalog keeps on purpose is no sign
    pieces = {piece for msgid in table for piece in english_pieces(msgid) if piece not in kept}
    for text in texts:
        assert text not in table, (locale, text)
        for piece in pieces:
            assert piece not in text, (locale, piece, text)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_installed_server_speaks_each_language(server: str, locale: str) -> None:
    t = translator(locale)  # the source tree's catalog: what the wheel must have carried
    chat = WebChat(server, locale)
    greeting = chat.send("")
    assert t._("Check a case status") in [b["label"] for b in chat.replies[-1]["buttons"]]
    chat.press(t._("Check a case status"))
    refused = chat.send(MISTYPED)
    found = chat.send(PUBLIC_CASE)
    assert t._("Case Was Approved") in found
    if locale != DEFAULT_LOCALE:
        english = WebChat(server, DEFAULT_LOCALE)
        assert greeting != english.send("")
        english.press("Check a case status")
        assert refused != english.send(MISTYPED), "the error came back in English"
    texts = [reply["text"] for reply in chat.replies]
    texts += [button["label"] for reply in chat.replies for button in reply["buttons"]]
    assert_in_its_language(locale, texts)


def test_the_installed_widget_carries_every_languages_labels(server: str) -> None:
    script = _request(f"{server}/widget.js")
    found = CATALOG.search(script)
    assert found is not None, "widget.js carries no catalog"
    labels = json.loads(found[1])["labels"]
    for locale in LOCALES:
        t = translator(locale)
        assert labels[locale] == {key: t._(msgid) for key, msgid in WIDGET_LABELS.items()}
        if locale != DEFAULT_LOCALE:
            translations = translated(locale)
            for key, msgid in WIDGET_LABELS.items():
                if msgid in translations:
                    assert labels[locale][key] != msgid, (locale, key)


def test_the_installed_terminal_chat_speaks_arabic(installed: Installed) -> None:
    t = translator("ar")
    assert installed.run("demo").returncode == 0
    done = installed.run("chat", "--lang", "ar", stdin=f"{PUBLIC_CASE}\n")
    assert done.returncode == 0, done.stderr
    assert t._("Case Was Approved") in done.stdout
    assert_in_its_language("ar", done.stdout.splitlines())


def test_the_wheel_carries_the_knowledge_base_and_the_installed_casebot_answers_from_it(
    installed: Installed,
) -> None:
    shipped = {f"bot/knowledge/{p.name}" for p in (ROOT / "bot" / "knowledge").glob("*.toml")}
    assert {"bot/knowledge/topics.toml", "bot/knowledge/en.toml"} <= shipped
    with zipfile.ZipFile(installed.wheel) as wheel:
        assert shipped <= set(wheel.namelist())
    done = installed.run("understand", "where do i find my receipt number")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["topic"] == "receipt_number"


def test_a_missing_catalog_stops_the_start_with_one_line_naming_it(installed: Installed) -> None:
    [catalog] = installed.venv.glob("lib/python*/site-packages/bot/locales/es/LC_MESSAGES/*.mo")
    aside = catalog.with_suffix(".aside")
    catalog.rename(aside)
    try:
        done = installed.run("serve", "--port", str(_free_port()))
    finally:
        aside.rename(catalog)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "(es)" in line, line
    assert "make catalogs" in line, line

"""Every catalog under locales/ is complete, and the template holds every message of the code.

``make i18n`` extracts the messages and updates the catalogs; translators fill them in. A message
added to the code without a new template, or a catalog with a missing, empty or fuzzy entry, a
placeholder that differs from its msgid, or the wrong number of plural forms, fails here.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.pofile import read_po

from bot.wording.i18n import LOCALES, translator

ROOT = Path(__file__).resolve().parents[2]


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("casebot_i18n_tool", ROOT / "scripts/i18n.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


TOOL = _tool()


@pytest.mark.parametrize("locale", TOOL.TRANSLATED)
def test_the_catalog_is_complete(locale: str) -> None:
    assert TOOL.check(locale) == []


def test_the_template_holds_every_message_of_the_code(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    fresh = tmp_path / "casebot.pot"
    monkeypatch.setattr(TOOL, "TEMPLATE", fresh)
    monkeypatch.setattr(TOOL, "LOCALES_DIR", tmp_path)
    TOOL.extract()
    with fresh.open("rb") as f:
        extracted = {message.id for message in read_po(f) if message.id}
    with (ROOT / "locales/casebot.pot").open("rb") as f:
        committed = {message.id for message in read_po(f) if message.id}
    assert extracted - committed == set(), "new messages: run make i18n and translate them"
    assert committed - extracted == set(), "messages gone from the code: run make i18n"


def test_the_placeholder_check_catches_a_mismatch() -> None:
    assert TOOL.placeholders("Hello {name}, {n} left {{literal}}") == ["n", "name"]
    assert TOOL.placeholders("Hola {nombre}") != TOOL.placeholders("Hello {name}")


@pytest.mark.parametrize("locale", [locale for locale in LOCALES if locale != "en"])
def test_the_compiled_catalog_is_the_one_the_assistant_reads(locale: str) -> None:
    # A stale or missing .mo would show English: the running translator must agree with the .po.
    with (ROOT / f"locales/{locale}/LC_MESSAGES/casebot.po").open("rb") as f:
        catalog = read_po(f)
    sample = [m for m in catalog if m.id and isinstance(m.id, str) and m.string][:25]
    assert sample
    for message in sample:
        assert translator(locale)._(message.id) == message.string

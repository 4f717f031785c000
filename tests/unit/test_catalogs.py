"""Every catalog under bot/locales/ is complete, and the template holds every message of the code.

``make i18n`` extracts the messages and updates the catalogs; translators fill them in. A message
added to the code without a new template, or a catalog with a missing, empty or fuzzy entry, a
placeholder that differs from its msgid, or the wrong number of plural forms, fails here.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.pofile import read_po

from bot.wording import i18n
from bot.wording.i18n import (
    LOCALES,
    LOCALES_DIR,
    CatalogError,
    Translator,
    check_catalogs,
    translator,
)

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
    with (LOCALES_DIR / "casebot.pot").open("rb") as f:
        committed = {message.id for message in read_po(f) if message.id}
    assert extracted - committed == set(), "new messages: run make i18n and translate them"
    assert committed - extracted == set(), "messages gone from the code: run make i18n"


def test_the_placeholder_check_catches_a_mismatch() -> None:
    assert TOOL.placeholders("Hello {name}, {n} left {{literal}}") == ["n", "name"]
    assert TOOL.placeholders("Hola {nombre}") != TOOL.placeholders("Hello {name}")


@pytest.mark.parametrize("locale", [locale for locale in LOCALES if locale != "en"])
def test_the_compiled_catalog_is_the_one_the_assistant_reads(locale: str) -> None:
    # A stale or missing .mo would show English: the running translator must agree with the .po.
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "casebot.po").open("rb") as f:
        catalog = read_po(f)
    sample = [m for m in catalog if m.id and isinstance(m.id, str) and m.string][:25]
    assert sample
    for message in sample:
        assert translator(locale)._(message.id) == message.string


def test_a_missing_catalog_is_an_error_naming_the_locale_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    with pytest.raises(CatalogError) as raised:
        Translator("es")
    assert raised.value.locale == "es"
    assert raised.value.path == tmp_path / "es" / "LC_MESSAGES" / "casebot.mo"
    assert "make catalogs" in str(raised.value)


@pytest.mark.parametrize("content", [b"", b"not a catalog at all", b"\xde\x12\x04\x95\x00"])
def test_an_unreadable_catalog_is_an_error_not_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    (tmp_path / "fr" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "fr" / "LC_MESSAGES" / "casebot.mo").write_bytes(content)
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    with pytest.raises(CatalogError, match=r"\(fr\)"):
        Translator("fr")


def test_start_up_reads_every_locales_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every catalog but Russian's: the check names Russian, which nobody had asked for yet.
    for locale in LOCALES[:-1]:
        (tmp_path / locale / "LC_MESSAGES").mkdir(parents=True)
        shutil.copy(
            LOCALES_DIR / locale / "LC_MESSAGES" / "casebot.mo",
            tmp_path / locale / "LC_MESSAGES" / "casebot.mo",
        )
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    translator.cache_clear()
    try:
        with pytest.raises(CatalogError) as raised:
            check_catalogs()
    finally:
        translator.cache_clear()
    assert raised.value.locale == LOCALES[-1] == "ru"


# How each language writes a count, form by form (CLDR's categories): Spanish, French and
# Portuguese put "de" after a whole million, Tagalog links 4, 6 and 9 with "na", Arabic has
# its dual, its 3-10 and its 11-99, Russian its 2-4.
@pytest.mark.parametrize(
    ("locale", "n", "shown"),
    [("es", 1, "1 minuto"), ("es", 0, "0 minutos"), ("es", 2, "2 minutos"),
     ("es", 1000000, "1000000 de minutos"), ("es", 1000001, "1000001 minutos"),
     ("fr", 0, "0 minute"), ("fr", 1, "1 minute"), ("fr", 2, "2 minutes"),
     ("fr", 2000000, "2000000 de minutes"), ("pt", 1, "1 minuto"), ("pt", 2, "2 minutos"),
     ("pt", 1000000, "1000000 de minutos"), ("tl", 5, "5 minuto"), ("tl", 4, "4 na minuto"),
     ("tl", 16, "16 na minuto"), ("tl", 10, "10 minuto"), ("ar", 2, "2 دقيقتين"),
     ("ar", 5, "5 دقائق"), ("ar", 11, "11 دقيقة"), ("ar", 100, "100 دقيقة"),
     ("ru", 1, "1 минуту"), ("ru", 22, "22 минуты"), ("ru", 12, "12 минут"),
     ("ru", 5, "5 минут")],
)  # fmt: skip
def test_each_count_takes_the_form_its_language_writes(locale: str, n: int, shown: str) -> None:
    assert translator(locale).ngettext("{n} minute", "{n} minutes", n).format(n=n) == shown

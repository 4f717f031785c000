"""Extract, update and compile the gettext catalogs under ``bot/locales/`` (``make i18n``).

    python scripts/i18n.py extract   # bot/**.py -> bot/locales/casebot.pot
    python scripts/i18n.py update    # the template into each bot/locales/<l>/LC_MESSAGES/casebot.po
    python scripts/i18n.py compile   # every .po -> .mo (what the running assistant reads)
    python scripts/i18n.py all       # the three, in order
    python scripts/i18n.py check [L ...]  # every translated catalog complete (exit 1 if not)

Babel's own API rather than the ``pybabel`` command: our locale codes are the ones people know
(``tl``, ``zh``) while CLDR names their data ``fil`` and ``zh_Hans``, and ``pybabel init/update``
would write the CLDR name into the header and the directory. New entries are never fuzzy-matched
(a guessed translation shown to an applicant is worse than none; the completeness test catches
an untranslated one) and obsolete ones are dropped.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.wording.i18n import (  # noqa: E402
    BABEL_LOCALE,
    DEFAULT_LOCALE,
    DOMAIN,
    LANGUAGE_NAMES,
    LOCALES,
    LOCALES_DIR,
)

TEMPLATE = LOCALES_DIR / f"{DOMAIN}.pot"
WIDTH = 100
# English is the msgids themselves: its catalog only carries the plural rule.
TRANSLATED = tuple(locale for locale in LOCALES if locale != DEFAULT_LOCALE)


def po_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def extract() -> None:
    LOCALES_DIR.mkdir(exist_ok=True)
    subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [
            sys.executable, "-m", "babel.messages.frontend", "extract",
            "--mapping-file", str(ROOT / "babel.cfg"),
            "--keyword", "N_", "--keyword", "ngettext:1,2",
            "--add-comments", "Translators:",
            "--no-location", "--sort-output", "--omit-header",
            "--width", str(WIDTH),
            "--project", "casebot",
            "--output-file", str(TEMPLATE),
            str(ROOT),
        ],
        check=True,
        cwd=ROOT,
    )  # fmt: skip


def update() -> None:
    with TEMPLATE.open("rb") as f:
        template = read_po(f)
    for locale in LOCALES:
        path = po_path(locale)
        babel_locale = BABEL_LOCALE.get(locale, locale)
        if path.exists():
            with path.open("rb") as f:
                catalog = read_po(f, locale=babel_locale)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(
                locale=babel_locale,
                project="casebot",
                header_comment=f"# {LANGUAGE_NAMES[locale]} messages of casebot.",
                copyright_holder="the casebot authors",
                last_translator="casebot translators",
                language_team=LANGUAGE_NAMES[locale],
                fuzzy=False,
            )
        created = catalog.creation_date
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.creation_date = created  # a rerun with nothing new changes nothing
        catalog.obsolete.clear()
        with path.open("wb") as f:
            write_po(f, catalog, width=WIDTH, omit_header=False, sort_output=True, no_location=True)
        _set_language_header(path, locale)


def _set_language_header(path: Path, locale: str) -> None:
    # The header names the language as gettext will look it up (tl, zh), not CLDR's name.
    text = path.read_text(encoding="utf-8")
    lines = [
        f'"Language: {locale}\\n"' if line.startswith('"Language: ') else line
        for line in text.splitlines()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def compile_all() -> None:
    for locale in LOCALES:
        path = po_path(locale)
        with path.open("rb") as f:
            catalog = read_po(f, locale=BABEL_LOCALE.get(locale, locale))
        with path.with_suffix(".mo").open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)


_PLACEHOLDER = re.compile(r"\{(\w*)(?:[:!][^{}]*)?\}")


def placeholders(text: str) -> list[str]:
    """The ``{name}`` fields of a brace-format string, sorted (``{{`` is a literal brace)."""
    return sorted(_PLACEHOLDER.findall(text.replace("{{", "").replace("}}", "")))


def check(locale: str) -> list[str]:
    """What is wrong with one locale's catalog: one line per problem, empty when complete.

    Complete means: every entry of the template is there, translated, not fuzzy, with the same
    ``{placeholders}`` as its msgid (each plural form as the plural msgid), exactly as many
    plural forms as the language has (CLDR, through Babel), and nothing obsolete.
    """
    with TEMPLATE.open("rb") as f:
        template = read_po(f)
    path = po_path(locale)
    if not path.exists():
        return [f"{path}: missing"]
    with path.open("rb") as f:
        catalog = read_po(f, locale=BABEL_LOCALE.get(locale, locale))
    name = path.relative_to(ROOT)
    problems: list[str] = []
    expected_forms = Catalog(locale=BABEL_LOCALE.get(locale, locale)).plural_forms
    if catalog.plural_forms != expected_forms:
        problems.append(f"{name}: Plural-Forms is {catalog.plural_forms!r}, not {expected_forms!r}")
    if catalog.obsolete:
        problems.append(f"{name}: {len(catalog.obsolete)} obsolete entries (run make i18n)")
    for message in template:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        found = catalog.get(message.id)
        if found is None:
            problems.append(f"{name}: missing {msgid!r} (run make i18n)")
            continue
        if found.fuzzy:
            problems.append(f"{name}: fuzzy {msgid!r}")
        if isinstance(message.id, str):
            forms = [found.string] if isinstance(found.string, str) else list(found.string)
            wanted = placeholders(message.id)
        else:
            forms = [found.string] if isinstance(found.string, str) else list(found.string)
            wanted = placeholders(message.id[1])
            if len(forms) != catalog.num_plurals:
                problems.append(
                    f"{name}: {msgid!r} has {len(forms)} plural forms, not {catalog.num_plurals}"
                )
        for form in forms:
            if not form or not form.strip():
                problems.append(f"{name}: untranslated {msgid!r}")
            elif locale != DEFAULT_LOCALE and placeholders(form) != wanted:
                problems.append(
                    f"{name}: {msgid!r} has placeholders {placeholders(form)}, not {wanted}"
                )
    for message in catalog:
        if message.id and message.id not in template:
            problems.append(f"{name}: {message.id!r} is not in the template (run make i18n)")
    return problems


def main(argv: list[str]) -> int:
    steps = {"extract": [extract], "update": [update], "compile": [compile_all]}
    steps["all"] = [extract, update, compile_all]
    if argv[:1] == ["check"]:
        problems = [line for locale in (argv[1:] or TRANSLATED) for line in check(locale)]
        print("\n".join(problems) or "every catalog is complete")
        return 1 if problems else 0
    if len(argv) != 1 or argv[0] not in steps:
        print(__doc__, file=sys.stderr)
        return 2
    for step in steps[argv[0]]:
        step()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""The web widget's own labels come from the gettext catalogs, written into widget.js as the
server serves it; the widget's language switch keeps the conversation's place."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from bot.channels.web.server import STATIC_DIR
from bot.channels.web.widget_labels import LABEL_MARKER, WIDGET_LABELS, widget_script
from bot.wording.i18n import LANGUAGE_NAMES, LOCALES, translator
from core.conversations import Conversation
from core.uow import UnitOfWorkFactory
from tests.integration.webchat_support import ChatSession

pytestmark = pytest.mark.usefixtures("demo")

ASK = (
    "Please type your receipt number. It has 3 letters and 10 digits, like IOE0912345678, and "
    "is on the notice USCIS sent when it received your case."
)
CATALOG = re.compile(r"var CATALOG = (\{.*?\});\n")


def catalog_in(script: str) -> dict[str, Any]:
    found = CATALOG.search(script)
    assert found is not None, "widget.js carries no catalog"
    data: dict[str, Any] = json.loads(found[1])
    return data


async def test_widget_js_is_served_with_every_locales_labels_from_the_catalogs(
    client: TestClient[Any, Any],
) -> None:
    response = await client.get("/widget.js")
    assert response.status == 200
    assert response.content_type == "text/javascript"
    script = await response.text()
    assert LABEL_MARKER not in script
    catalog = catalog_in(script)
    assert catalog["locales"] == list(LOCALES)
    assert catalog["names"] == LANGUAGE_NAMES
    assert catalog["rtl"] == ["ar"]
    assert set(catalog["labels"]) == set(LOCALES)
    for locale in LOCALES:
        labels = catalog["labels"][locale]
        assert set(labels) == set(WIDGET_LABELS)
        for key, msgid in WIDGET_LABELS.items():
            assert labels[key] == translator(locale)._(msgid), (locale, key)
    assert catalog["labels"]["en"]["open"] == "Open chat"


def test_the_served_widget_has_no_label_table_of_its_own() -> None:
    # The labels live in the catalogs only: the static file declares none of them.
    source = (STATIC_DIR / "widget.js").read_text(encoding="utf-8")
    assert LABEL_MARKER in source
    for msgid in WIDGET_LABELS.values():
        assert f'"{msgid}"' not in source, msgid
    assert "Abrir chat" not in source


def test_a_label_that_would_close_a_script_element_is_escaped() -> None:
    script = widget_script(f"var CATALOG = {LABEL_MARKER};\n")
    assert "</" not in script
    assert catalog_in(script)["labels"]["en"]["send"] == "Send"


def test_a_script_without_the_marker_is_refused() -> None:
    with pytest.raises(ValueError, match="marker"):
        widget_script("var LABELS = {};\n")


async def test_the_widgets_language_switch_shows_the_same_step_again_in_the_new_language(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory
) -> None:
    # What the picker does: "language", then the chosen language's button.
    chat = await ChatSession.open(client, locale="en")
    await chat.send("")
    await chat.press("Check a case status")
    assert chat.replies[-1]["text"] == ASK
    await chat.send("language")
    await chat.press(LANGUAGE_NAMES["fr"])
    fr = translator("fr")
    assert chat.replies[-1]["text"] == fr._(ASK)
    labels = [b["label"] for b in chat.replies[-1]["buttons"]]
    assert fr._("Back") in labels
    assert fr._("Menu") in labels
    async with uow_factory() as uow:
        locale = await uow.session.scalar(
            select(Conversation.locale).where(Conversation.chat_id == chat.id)
        )
    assert locale == "fr"
    await chat.send("WAC2212345678")
    assert fr._("Case Was Approved") in chat.text

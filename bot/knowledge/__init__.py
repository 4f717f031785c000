"""The knowledge base: short, official answers to the questions people ask (where is my receipt
number, is this call really USCIS), in every language, each with its source page and the flow
that helps.

``base`` reads the data files beside this module (``topics.toml`` and one ``<language>.toml``
per language); ``matching`` tells which topic a question asks about, and whether a message is
a question at all (with ``questions``, how a question is worded, and ``words``, how a text is
cut into the words it compares). Like ``bot.understanding``, it knows nothing of dialogs or
channels.
"""

from __future__ import annotations

from bot.knowledge.base import (
    LANGUAGES,
    KnowledgeBase,
    KnowledgeError,
    Topic,
    Wording,
    knowledge_base,
)

__all__ = ["LANGUAGES", "KnowledgeBase", "KnowledgeError", "Topic", "Wording", "knowledge_base"]

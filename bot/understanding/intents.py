"""Free-text understanding: which flow a message asks for, any receipt number in it, and the
language it is written in, for all eleven languages.

The public contract (``casebot understand``) prints ``{"intent", "receipt_number",
"language"}``; intents are case_status, link_account, appointment, password_reset, language,
agent (the person asks for a human), help, cancel, greeting and unknown.

How (the README's design notes say why): the message is folded (case, accents, tone marks,
Arabic letter variants) and cut into words, with receipt and form numbers masked. Weighted
cues of every language are looked up in it, forgiving misspellings (one edit in a word of 4-7
letters, two from 8), Russian endings (stems) and Arabic clitics, and matching phrases whose
words are split by others; Chinese and Korean cues match inside the text. The intent with the
most cue weight wins (the weights make "cancel my appointment" an appointment, not a cancel).
Cue weights that tie are settled by a naive Bayes classifier over words and character
n-grams, trained on the phrases of ``bot.understanding.data``; a message with no cue is
"unknown". The language comes from the script, or from the words
(``bot.understanding.language``). Everything is built on
first use, in about 0.1 s, with no I/O; a message then takes well under a millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import Final

from bot.understanding.classifier import NaiveBayes, features
from bot.understanding.cues import Cue, CueIndex, cue_labels, parse_cues
from bot.understanding.data import LANGUAGE_NAMES, MODULES, NEUTRAL_WORDS, SHARED_CUES
from bot.understanding.language import SCRIPT_LANGUAGES, LanguageIdentifier
from bot.understanding.text import Message, fold, prepare
from core.cases.receipt import ReceiptNumber, find_receipt_number
from core.errors import InvalidReceiptNumber

__all__ = ["INTENTS", "Understanding", "account_help_topic", "load_model", "understand"]

INTENTS: Final = (
    "case_status",
    "link_account",
    "appointment",
    "password_reset",
    "language",
    "agent",
    "help",
    "cancel",
    "greeting",
    "unknown",
)
# When cue weights tie, the more specific request wins ("I can't sign in, forgot my password"
# is a password problem; "hi, check my case" is a case).
_PRIORITY: Final = {intent: rank for rank, intent in enumerate(INTENTS)}
_PRIORITY["password_reset"] = -1
TOPICS: Final = ("create_account", "lost_device", "forgot_password")
LANGUAGE_NAME_WEIGHT: Final = 2.0
MIN_CUE_SCORE: Final = 1.0  # a weak hint alone is enough, half of a misspelled one is not
# Vietnamese without its marks is short syllables one letter apart ("troi", "thoi"): a word
# that is no cue is another word, not a misspelling.
NO_FUZZY_LANGUAGES: Final = frozenset({"vi"})
MAX_TEXT: Final = 2000  # longer text is cut: the engine refuses it anyway


@dataclass(frozen=True, slots=True)
class Understanding:
    """What a message asks for.

    Attributes:
        intent: one of ``INTENTS``.
        receipt_number: the canonical receipt number found in the message, if any.
        language: the language the message is written in (a locale code), or None when the
            text does not say (``"ok"``, a bare receipt number).
        requested_language: the language the message asks to speak ("en español"), if any.
    """

    intent: str
    receipt_number: str | None
    language: str | None
    requested_language: str | None = None


@dataclass(frozen=True, slots=True)
class _Model:
    intents: CueIndex
    topics: CueIndex
    names: CueIndex
    classifier: NaiveBayes
    languages: LanguageIdentifier
    known: frozenset[str]  # words of the training text: never "corrected" into a cue


def _folded_words(text: str) -> list[str]:
    return list(prepare(text).words)


def load_model() -> None:
    """Build the model now rather than on the first message (a server calls it at start-up,
    so nobody's first message waits for it)."""
    _model()


@cache
def _model() -> _Model:
    """Build the model from ``bot.understanding.data`` (once; about 0.1 s)."""
    intent_cues: list[Cue] = cue_labels(SHARED_CUES)
    topic_cues: list[Cue] = []
    examples: list[tuple[str, list[str]]] = []
    latin_words: dict[str, list[str]] = {}
    for language, module in MODULES.items():
        intent_cues += cue_labels(module.CUES, language)
        topic_cues += cue_labels(module.TOPICS, language)
        words: list[str] = _folded_words(module.WORDS)
        for intent, phrases in module.PHRASES.items():
            for phrase in phrases:
                phrase_words = _folded_words(phrase)
                examples.append((intent, features(phrase_words)))
                words += phrase_words
        for intent, spec in module.CUES.items():
            for entry in spec.split("|"):
                cue_words = _folded_words(entry.partition(":")[0].replace("*", ""))
                examples.append((intent, features(cue_words)))
                words += cue_words
        if language not in SCRIPT_LANGUAGES:
            latin_words[language] = words
    name_cues = [cue for locale, spec in LANGUAGE_NAMES.items() for cue in parse_cues(locale, spec)]
    intent_cues += [Cue("language", c.words, LANGUAGE_NAME_WEIGHT, c.compact) for c in name_cues]
    # The same cue in two languages ("schedule" in English and Tagalog) counts once.
    unique: dict[tuple[str, tuple[str, ...]], Cue] = {}
    for cue in intent_cues:
        same = unique.get((cue.label, cue.words))
        if same is not None:
            weight = max(same.weight, cue.weight)
            cue = replace(cue, weight=weight, languages=same.languages | cue.languages)
        unique[(cue.label, cue.words)] = cue
    intent_cues = list(unique.values())
    languages = LanguageIdentifier(latin_words, NEUTRAL_WORDS)
    known = frozenset(w for words in latin_words.values() for w in words)
    return _Model(
        intents=CueIndex(intent_cues),
        topics=CueIndex(topic_cues),
        names=CueIndex(name_cues),
        classifier=NaiveBayes(examples),
        languages=languages,
        known=known,
    )


def _intent(model: _Model, message: Message, language: str | None) -> str:
    scores = model.intents.scores(
        message,
        model.known,
        fuzzy=language not in NO_FUZZY_LANGUAGES,
        languages=frozenset({language, "en"}) if language else None,
    )
    top = max(scores.values(), default=0.0)
    if top < MIN_CUE_SCORE:
        # No cue: the classifier is not asked. On the evaluation set it got one such message
        # right (a misspelled Chinese word) and four wrong (chit-chat read as requests): its
        # probabilities are too sure of themselves on text this short.
        return "unknown"
    tied = [intent for intent, score in scores.items() if score == top]
    if len(tied) == 1:
        return tied[0]
    posterior = model.classifier.posterior(features(message.words))
    return max(tied, key=lambda i: (posterior.get(i, 0.0), -_PRIORITY[i]))


def understand(text: str, locale: str | None = None) -> Understanding:
    """What a free-text message asks for. Never raises.

    Args:
        text: what the person typed.
        locale: the conversation's language, if known: a hint for telling languages apart
            (the text may still be in another).
    """
    if not isinstance(text, str):
        return Understanding("unknown", None, None)
    text = text[:MAX_TEXT]
    receipt = find_receipt_number(text)
    if receipt is not None and _only_receipt(text, receipt):
        # The commonest first message: a receipt number alone. Reading it through the model
        # says the same (no word: no language, no cue, so the case's status; a test holds the
        # two equal), at a hundredth of the cost.
        return Understanding(intent="case_status", receipt_number=str(receipt), language=None)
    return _read(text, locale, receipt)


def _read(text: str, locale: str | None, receipt: ReceiptNumber | None) -> Understanding:
    """What the model makes of a message (``receipt``: the one found in it, if any)."""
    model = _model()
    message = prepare(text)
    hint = fold(locale).split("-")[0].split("_")[0] if locale else None
    language = model.languages.identify(text, message, hint)
    intent = _intent(model, message, language)
    if receipt is not None and intent in ("unknown", "greeting", "help"):
        intent = "case_status"
    requested = None
    if intent == "language":
        names = model.names.scores(message, model.known)
        requested = max(names, key=lambda n: names[n]) if names else None
    return Understanding(
        intent=intent,
        receipt_number=str(receipt) if receipt is not None else None,
        language=language,
        requested_language=requested,
    )


def _only_receipt(text: str, receipt: ReceiptNumber) -> bool:
    """Whether ``text`` is nothing but ``receipt`` (as typed: spaces, dashes, ``#``...)."""
    try:
        return ReceiptNumber.parse(text) == receipt
    except InvalidReceiptNumber:
        return False


def account_help_topic(text: str) -> str | None:
    """Which part of the password and sign-in help a message asks for, when it is clear:
    ``forgot_password``, ``lost_device`` or ``create_account``; else None. Never raises."""
    if not isinstance(text, str):
        return None
    model = _model()
    message = prepare(text[:MAX_TEXT])
    language = model.languages.identify(text, message)
    languages = frozenset({language, "en"}) if language else None
    scores = model.topics.scores(message, model.known, languages=languages)
    if not scores:
        return None
    return max(TOPICS, key=lambda t: (scores.get(t, 0.0), -TOPICS.index(t)))

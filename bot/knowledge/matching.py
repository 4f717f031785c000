"""Which topic a question asks about, and whether a message is a question to answer or a
request to carry out.

The asks of every topic, in every language, are the examples. A message is cut into words as
``bot.knowledge.words`` does it, each word found in the asks' vocabulary even misspelled (one
edit in a word of 4-8 letters, two from 9; among the words of the message's language and
English), by its first five letters (an inflection: "deported", "deportation"), or by its
Arabic core ("احتياطي", "الاحتياطي"). Each word weighs by how few topics use it (inverse
document frequency: "my", "what" weigh nothing), and the message is compared with every ask
sharing a word with it (cosine similarity; an inverted index keeps that to a few dozen asks). A
topic scores its best ask, with a share from all its asks together.

Whether it is worded as a question (``bot.knowledge.questions``) and the weights decide the
rest: a clear flow request ("check my case", "I forgot my password") starts the flow, even
when asked as a question ("can you check my case?"), unless a topic fits it better; a long
message barely like any request for the flow tells about the flow's subject and is answered.
A question that asks for nothing the chat does needs a lower score than a statement. Scam
warnings come first: a message that matches one is answered with it, whatever else it asks
for. Everything is built on first use, with no I/O per message.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from typing import Final

from bot.knowledge.base import KnowledgeBase, knowledge_base
from bot.knowledge.questions import is_question, openers, prepared, wants
from bot.knowledge.words import arabic_cores, is_arabic
from bot.knowledge.words import tokens as _tokens
from bot.understanding import Understanding, understand
from bot.understanding.cues import arabic_variants
from bot.understanding.data import MODULES
from bot.understanding.fuzzy import FuzzyIndex
from bot.understanding.text import is_compact_script, prepare

__all__ = ["FLOW_INTENTS", "HELPING", "Reading", "TopicMatcher", "is_question", "matcher", "read"]

# Intents that start a flow asking for personal data: a question never goes there.
FLOW_INTENTS: Final = frozenset({"case_status", "link_account", "appointment", "password_reset"})
MIN_SCORE: Final = 0.34  # a topic below this is no answer, only a "did you mean"
# The same for a question that asks for nothing the chat does: a question names what it asks
# about, so fewer of its words need to be an ask's.
MIN_QUESTION_SCORE: Final = 0.26
QUESTION_SCORE: Final = 0.25  # a question below that, far ahead of the next topic
QUESTION_RATIO: Final = 1.25
LONG_QUESTION_WORDS: Final = 5  # a question this long about a flow's subject...
LONG_QUESTION_FLOW: Final = 0.35  # ...and this little like its requests is answered
FLOW_QUESTION_WORDS: Final = 3  # a question this long that a topic fits this much better
FLOW_QUESTION_LEAD: Final = 0.1  # than a flow's requests (and than other topics) asks it
UNLIKE_FLOW: Final = 0.3  # a question this little like a flow's requests...
UNLIKE_SCORE: Final = 0.15  # ...that a topic fits this much...
UNLIKE_LEAD: Final = 0.03  # ...and this much better asks about the topic
LONG_STORY_WORDS: Final = 8  # "I want..." this long tells a story: it gets the answer
STATEMENT_SCORE: Final = 0.8  # a one-word statement must be nearly an ask
# A scam warning needs a word only warnings use, this score, and this share of the best
# topic's; then it comes before any flow and any other topic.
SAFETY_SCORE: Final = 0.30
SAFETY_SHARE: Final = 0.75
# How much better than any flow's request a topic must fit a message that asks for a flow
# (a question, then a statement) for the message to be answered rather than start the flow.
# A question whose topic nearly ties a request is answered: asked, it is about the subject.
QUESTION_LEAD: Final = -0.05
STATEMENT_LEAD: Final = 0.1
HELPING_LEAD: Final = -0.15
# Requests that are no question either: cancel, a language, a person ("agent").
_OTHER_REQUESTS: Final = frozenset({"cancel", "language", "agent"})
# What the chat does itself ("bom dia", "arrête", "what can you do"): a message of a word or
# two with one of these intents names no topic, unless it is nearly one of its asks.
_CHAT_ACTS: Final = frozenset({"greeting", "cancel", "help"})
CHAT_ACT_WORDS: Final = 2
# A request for a person ("representative") that says more, and fits another topic much
# better than the Contact Center, asks that topic's question: "should i pick applicant or
# representative" is about account types.
AGENT_TOPIC_WORDS: Final = 3
AGENT_TOPIC_SCORE: Final = 0.45
AGENT_TOPIC_LEAD: Final = 0.2
CONTACT_TOPIC: Final = "contact_center"
# The topics' actions that lead to the flow an intent asks for.
HELPING: Final = {
    "case_status": ("case_status",),
    "appointment": ("appointment",),
    "password_reset": ("password_reset", "lost_device", "create_account"),
    "link_account": ("link_account", "add_paper_case", "create_account"),
}
MAX_TEXT: Final = 2000
STEM: Final = 5
FUZZY_SHARE: Final = 0.7
STEM_SHARE: Final = 0.6
UNKNOWN_WEIGHT: Final = 0.6  # a word no ask uses still makes the message less like any ask
COMPACT_UNKNOWN_SHARE: Final = 0.5  # of that, for a Chinese or Korean character pair
FAINT_WEIGHT: Final = 0.3  # a word this light is left out of the comparison with asks
COMMON_SHARE: Final = 0.15  # a common word ("my", "que", "est") tells little about a topic
CLOSEST: Final = 2
LANGUAGE_REQUEST_WORDS: Final = 2  # "can you speak french", "¿puedes hablar en inglés?"
ASK_SHARE: Final = 0.7  # a topic's score: this share from its best ask, the rest from all
FLOW_MARK: Final = "@"  # the scores of flows' requests are keyed "@intent"
NO_FUZZY_LANGUAGES: Final = frozenset({"vi"})
ARABIC_SHARE: Final = 0.8
KNOWN_CACHE: Final = 20_000  # typed words not in the asks, remembered with what they stand for
_AR_CONJUNCTIONS: Final = ("و", "ف")
_ZH_FUNCTION: Final = frozenset(
    "我你他她的了吗呢吧啊嘛呀是不没在有要想怎么什哪里儿能可以会找到查看请帮一下个这那啥咋干去"
    "还就都也该得用做办弄"
)


# Function words the understanding's lexicons leave out.
_FUNCTION_WORDS: Final = (
    "yet still already now then also too very so if after before again ever even only "
    "todavia aun ya ahora luego tambien muy si despues antes otra vez solo "
    "ok okay oki hi hello hey thanks thx lol"
)


@dataclass(frozen=True, slots=True)
class Reading:
    """What a message is: a question (with the topic it asks about, if one fits) or not.

    Attributes:
        understanding: what ``bot.understanding`` makes of it (intent, receipt, language).
        topic: the topic to answer with, or None (a command, or no topic fits).
        question: whether the message is a question to answer rather than a flow to start.
        closest: the topics closest to it, best first (for "did you mean" buttons).
    """

    understanding: Understanding
    topic: str | None
    question: bool
    closest: tuple[str, ...]


class TopicMatcher:
    """The asks of a knowledge base, indexed for comparing messages with them."""

    def __init__(self, base: KnowledgeBase) -> None:
        self.base = base
        self.safety = frozenset(t for t, topic in base.topics.items() if topic.safety)
        langs: list[str] = [
            lang
            for lang, wordings in base.wordings.items()
            for topic_id, wording in wordings.items()
            for ask in wording.asks
        ]
        asks: list[tuple[str, list[str]]] = [
            (topic_id, _tokens(ask, lang))
            for lang, wordings in base.wordings.items()
            for topic_id, wording in wordings.items()
            for ask in wording.asks
        ]
        # The requests that start a flow, as the understanding model learnt them, compete
        # with the asks: "check my case" is nearer to them than to any question.
        langs += [
            lang
            for lang, module in MODULES.items()
            for intent, phrases in module.PHRASES.items()
            if intent in FLOW_INTENTS
            for phrase in phrases
        ]
        asks += [
            (FLOW_MARK + intent, _tokens(phrase, lang))
            for lang, module in MODULES.items()
            for intent, phrases in module.PHRASES.items()
            if intent in FLOW_INTENTS
            for phrase in phrases
        ]
        topics_of: dict[str, set[str]] = defaultdict(set)
        for topic_id, tokens in asks:
            for token in tokens:
                topics_of[token].add(topic_id)
        count = len(base.topics) + len(FLOW_INTENTS)
        # A common word behind "and" ("ووين": "و" + "وين") is as common as the word itself.
        common = _common_words() | {
            t for t in topics_of if t[:1] in _AR_CONJUNCTIONS and t[1:] in _common_words()
        }
        # A Chinese pair of function characters ("在哪", "怎么", "能找") says how something is
        # asked, not what about.
        common |= {t for t in topics_of if len(t) == 2 and all(c in _ZH_FUNCTION for c in t)}
        self._common = common
        self._idf = {
            token: math.log((count + 1) / (len(topics) + 0.5))
            * (COMMON_SHARE if token in common else 1.0)
            for token, topics in topics_of.items()
        }
        # Words compared with no ask: the common ones, and those nearly every topic uses
        # ("uscis", in hundreds of asks, weighs next to nothing in any); they count in the
        # message's length only.
        self._faint = common | {t for t, w in self._idf.items() if w < FAINT_WEIGHT}
        # Words only the scam warnings use ("called", "gift", "deported"): a warning needs one,
        # so "I forgot my password" is not taken for "someone asked for my password".
        self.safety_words = frozenset(
            token for token, topics in topics_of.items() if topics <= self.safety
        )
        self._unknown_idf = UNKNOWN_WEIGHT * math.log((count + 1) / 1.5)
        self._ask_topics: list[str] = []
        self._ask_norms: list[float] = []
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for topic_id, tokens in asks:
            weights = {t: self._idf[t] for t in tokens}
            index = len(self._ask_topics)
            self._ask_topics.append(topic_id)
            self._ask_norms.append(math.sqrt(sum(w * w for w in weights.values())) or 1.0)
            for token, weight in weights.items():
                self._postings[token].append((index, weight))
        # Words of some language's lexicon are that word, not a misspelling ("clave" is no
        # misspelled "clase").
        self._lexicon = _lexicon()
        # Each topic's asks together, each word weighing by the share of the asks that use
        # it: a word one ask happens to hold ("yet") counts less than one most asks hold.
        counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        totals: dict[str, int] = defaultdict(int)
        for (topic_id, tokens), lang in zip(asks, langs, strict=True):
            for key in (topic_id, lang + "|" + topic_id):
                totals[key] += 1
                for token in set(tokens):
                    counts[key][token] += 1
        self._bag_norms: dict[str, float] = {}
        # Per language, each word's weight in the bags a message of that language is compared
        # with: every language's together ("topic") and its own ("language|topic").
        self._bag_postings_for: dict[str, dict[str, list[tuple[str, float]]]] = {
            lang: defaultdict(list) for lang in ("", *set(langs))
        }
        for key, by_token in counts.items():
            weights = {t: self._idf[t] * n / totals[key] for t, n in by_token.items()}
            self._bag_norms[key] = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            lang, _, _ = key.rpartition("|")
            for target in self._bag_postings_for if not lang else (lang,):
                for token, weight in weights.items():
                    self._bag_postings_for[target][token].append((key, weight))
        plain = [t for t in topics_of if " " not in t and not any(map(is_compact_script, t))]
        # An Arabic word of the asks under its cores (without its clitics, a verb's person
        # and a plural's ending), so a typed word finds it by a core they share: "احتياطي"
        # finds "الاحتياطي", "تلفوني" "تلفون", "استعجل" "يستعجلون".
        self._arabic: dict[str, set[str]] = defaultdict(set)
        for token in plain:
            if is_arabic(token):
                for core in arabic_cores(token):
                    self._arabic[core].add(token)
        # The words each language's asks use: a misspelling is looked for among the words of
        # the message's language and English (mixed in everywhere), not every language's
        # ("thing" is no misspelled Vietnamese "thang").
        self._vocabulary: dict[str, frozenset[str]] = {}
        by_language: dict[str, set[str]] = defaultdict(set)
        for (_, tokens), lang in zip(asks, langs, strict=True):
            by_language[lang].update(tokens)
        for lang, words in by_language.items():
            self._vocabulary[lang] = frozenset(words | by_language.get("en", set()))
        self._fuzzy = FuzzyIndex(plain)
        # The words people type come back: a word not in the asks is looked up once.
        self._known_cache: dict[tuple[str, bool, str | None], dict[str, float]] = {}
        self._stems: dict[str, set[str]] = defaultdict(set)
        for token in plain:
            if len(token) >= STEM + 1:
                self._stems[token[:STEM]].add(token)

    def _warning_core(self, token: str) -> bool:
        """Whether an Arabic word has a core that only the scam warnings' words have."""
        return any(
            self._arabic.get(core) and self._arabic[core] <= self.safety_words
            for core in arabic_cores(token)
        )

    def _known(self, token: str, *, fuzzy: bool, language: str | None = None) -> dict[str, float]:
        """The vocabulary's tokens a typed token stands for, each with how sure that is."""
        if token in self._idf:
            return {token: 1.0}
        key = (token, fuzzy, language)
        found = self._known_cache.get(key)
        if found is None:
            if len(self._known_cache) >= KNOWN_CACHE:
                self._known_cache.clear()
            found = self._known_cache[key] = self._lookup(token, fuzzy=fuzzy, language=language)
        return found

    def _lookup(self, token: str, *, fuzzy: bool, language: str | None) -> dict[str, float]:
        found: dict[str, float] = {}
        if is_arabic(token):
            found = {v: 1.0 for v in arabic_variants(token) if v in self._idf}
            if not found:
                for core in arabic_cores(token):
                    for known in self._arabic.get(core, ()):
                        found[known] = ARABIC_SHARE
        if found:
            return found
        if len(token) >= STEM + 1:
            for known in self._stems.get(token[:STEM], ()):
                found[known] = STEM_SHARE
        if fuzzy and token not in self._lexicon and not any(is_compact_script(c) for c in token):
            vocabulary = self._vocabulary.get(language or "")
            for known in self._fuzzy.lookup(token):
                if vocabulary is None or known in vocabulary:
                    found[known] = max(found.get(known, 0.0), FUZZY_SHARE)
        return found

    def scores(self, text: str, language: str | None = None) -> dict[str, float]:
        """The similarity (0 to 1) of the message to each topic that shares a word with it."""
        return self._scores(text, language)[0]

    def _scores(self, text: str, language: str | None) -> tuple[dict[str, float], bool, int]:
        """The scores, whether the message holds a word only the scam warnings use, and how
        many of its words are known words that are not common ones."""
        fuzzy = language not in NO_FUZZY_LANGUAGES
        vector: dict[str, float] = {}
        warned = False
        unknown = 0.0
        content = 0  # the message's words that are known and not common
        for token in dict.fromkeys(_tokens(text, language)):
            if " " in token:  # a pair of words: a known pair adds to its words, no other does
                if token in self._idf:
                    vector[token] = self._idf[token]
                continue
            known = self._known(token, fuzzy=fuzzy, language=language)
            if not known:
                # A Chinese or Korean pair no ask holds is mostly where two words meet ("卡有",
                # "뷰도"): it says less about the message than an unknown word does.
                share = COMPACT_UNKNOWN_SHARE if is_compact_script(token[0]) else 1.0
                unknown += (share * self._unknown_idf) ** 2
                continue
            # A misspelled word that may be two known words counts once, as its best.
            best = max(known, key=lambda k: (known[k] * self._idf[k], k))
            content += best not in self._common
            for candidate, share in known.items():
                weight = share * self._idf[candidate] / (1 if candidate == best else 2)
                vector[candidate] = max(vector.get(candidate, 0.0), weight)
                # A word found by its core is a warning's only when every word of that core is
                # ("يرحلني" as "يرحلوني"): "دخول" (sign-in) is not the warnings' "دخولي".
                warned = warned or (
                    candidate in self.safety_words
                    and (share != ARABIC_SHARE or self._warning_core(token))
                )
        norm = math.sqrt(sum(w * w for w in vector.values()) + unknown)
        if norm == 0.0 or not content:
            return {}, False, 0  # only common words ("ok", "what is it"): no topic is named
        named = [(t, w) for t, w in vector.items() if t not in self._faint]
        dots: dict[int, float] = defaultdict(float)
        postings = self._postings
        for token, weight in named:  # a common word is in hundreds of asks, and weighs nothing
            for index, ask_weight in postings.get(token, ()):
                dots[index] += weight * ask_weight
        best_scores: dict[str, float] = {}
        topics, norms = self._ask_topics, self._ask_norms
        for index, dot in dots.items():
            topic_id = topics[index]
            score = dot / (norm * norms[index])
            if score > best_scores.get(topic_id, 0.0):
                best_scores[topic_id] = score
        bags: dict[str, float] = defaultdict(float)
        bag_postings = self._bag_postings_for.get(language or "", self._bag_postings_for[""])
        for token, weight in named:
            for key, bag_weight in bag_postings.get(token, ()):
                bags[key] += weight * bag_weight
        for topic_id, by_ask in best_scores.items():
            key = f"{language}|{topic_id}"
            if key not in self._bag_norms:
                key = topic_id
            bag = bags[key] / (norm * self._bag_norms[key])
            best_scores[topic_id] = ASK_SHARE * by_ask + (1 - ASK_SHARE) * bag
        return best_scores, warned, content


@cache
def matcher() -> TopicMatcher:
    """The matcher of the shipped knowledge base (built once, on first use)."""
    return TopicMatcher(knowledge_base())


def _lexicon() -> frozenset[str]:
    """Every word of the understanding model's training text, in every language."""
    words: set[str] = set()
    for module in MODULES.values():
        words.update(prepare(module.WORDS).words)
        for phrases in module.PHRASES.values():
            for phrase in phrases:
                words.update(prepare(phrase).words)
    return frozenset(words)


@cache
def _common_words() -> frozenset[str]:
    """The common words of every language (``bot.understanding.data``) and the question words."""
    words = {w for module in MODULES.values() for w in prepare(module.WORDS).words}
    return frozenset(words | openers() | set(_FUNCTION_WORDS.split()))


def read(text: str, locale: str | None = None) -> Reading:
    """Whether a message is a question, and which topic answers it. Never raises.

    Args:
        text: what the person typed.
        locale: the conversation's language, if known (a hint, as for ``understand``).
    """
    understood = understand(text, locale)
    if not isinstance(text, str) or not text.strip():
        return Reading(understood, None, False, ())
    found = matcher()
    scores, warned, content = found._scores(text[:MAX_TEXT], understood.language or locale)
    flow = max((v for k, v in scores.items() if k.startswith(FLOW_MARK)), default=0.0)
    ranked = sorted(
        (t for t in scores if not t.startswith(FLOW_MARK)), key=lambda t: scores[t], reverse=True
    )
    closest = tuple(ranked[:CLOSEST])
    best = ranked[0] if ranked else None
    score = scores[best] if best is not None else 0.0
    question = is_question(text)
    # A long question dilutes its topic's words among its own ("i filed in march and it still
    # says the same thing, is that normal"): a question that asks for nothing the chat does
    # needs less when no other topic is near.
    second = scores[ranked[1]] if len(ranked) > 1 else 0.0
    asks_nothing = question and understood.intent == "unknown"
    enough = score >= (MIN_QUESTION_SCORE if asks_nothing else MIN_SCORE) or (
        asks_nothing and score >= QUESTION_SCORE and score >= QUESTION_RATIO * second
    )
    if understood.intent in _CHAT_ACTS and content <= CHAT_ACT_WORDS and score < STATEMENT_SCORE:
        return Reading(understood, None, False, closest)
    safety = [
        t
        for t in ranked
        if t in found.safety and scores[t] >= max(SAFETY_SCORE, SAFETY_SHARE * score)
    ]
    if safety and warned:
        return Reading(understood, safety[0], True, closest)
    if (
        understood.intent == "agent"
        and best is not None
        and best != CONTACT_TOPIC
        and content >= AGENT_TOPIC_WORDS
        and score >= max(AGENT_TOPIC_SCORE, scores.get(CONTACT_TOPIC, 0.0) + AGENT_TOPIC_LEAD)
    ):
        return Reading(understood, best, True, closest)
    speak = understood.requested_language is not None and content <= LANGUAGE_REQUEST_WORDS
    if understood.intent == "agent" or speak:
        # Asking for a person, or to speak a language ("can you speak french"), is a request
        # the chat carries out itself, not a question about the Contact Center or a scam. (A
        # longer message that only seems to name a language, "me mandaron un texto", where
        # "mandaron" is one letter from "mandarin", is read for its topic.)
        return Reading(understood, None, False, closest)
    if understood.receipt_number is not None and understood.intent == "case_status":
        return Reading(understood, None, False, closest)
    if understood.intent in FLOW_INTENTS or understood.intent in _OTHER_REQUESTS:
        # A request for a flow, unless a topic fits it clearly better than any request does;
        # a question whose answer's button starts that very flow needs less ("how do I sign
        # up" gets the answer, and the flow is one tap away).
        action = found.base.topics[best].action if best is not None else None
        helps = action in HELPING.get(understood.intent, ())
        # (Chinese and Korean words count as their character pairs: about two per word.)
        long = LONG_QUESTION_WORDS * (2 if prepared(text).compact else 1)
        story = LONG_STORY_WORDS * (2 if prepared(text).compact else 1)
        if helps and not question and wants(text) and content < story:
            # "I want to..." asks for the very flow the topic's button starts ("quero criar uma
            # conta", "m vle kreye kont mwen"): it starts, with no answer to tap through first.
            # A longer story ("i mailed my forms, i want to see them online") gets the answer,
            # whose button starts the flow.
            return Reading(understood, None, False, closest)
        lead = (HELPING_LEAD if helps else QUESTION_LEAD) if question else STATEMENT_LEAD
        # A question of one known word ("como esta meu pedido") is a request asked politely
        # unless a topic clearly fits it.
        if question and content < 2:
            lead = max(lead, STATEMENT_LEAD)
        named = question or content >= 2
        # A long message that is not much like any request for the flow tells about the
        # flow's subject ("i filed in march and it still says the same, is that normal", "they
        # said the card was mailed but it never came"): it is answered by a topic that fits it
        # a little, rather than taken into the flow.
        asks_about = content >= long and flow < LONG_QUESTION_FLOW and score >= QUESTION_SCORE
        # A question of a few words that a topic fits clearly better than the flow's requests
        # and than any other topic asks about that topic ("how long until my card comes").
        clear = (
            question
            and content >= FLOW_QUESTION_WORDS * (2 if prepared(text).compact else 1)
            and score >= QUESTION_SCORE
            and score >= flow + FLOW_QUESTION_LEAD
            and score >= QUESTION_RATIO * second
        )
        # A question that is little like any request for the flow, and that a topic fits
        # better than those requests, asks about that topic ("打指纹那次会面试吗", "승인됐다고
        # 떴는데 카드는 따로 오는거에요?"): the intent was read from a word or two.
        unlike = (
            question
            and flow < UNLIKE_FLOW
            and score >= UNLIKE_SCORE
            and score >= flow + UNLIKE_LEAD
        )
        strong = score >= MIN_SCORE
        if (
            best is not None
            and named
            and (strong or asks_about or clear or unlike)
            and score >= flow + lead
        ):
            return Reading(understood, best, True, closest)
        return Reading(understood, None, False, closest)
    # A statement names its topic with two words or more ("get updates" is no question about
    # a case that does not move), or is nearly one of its asks ("infopass").
    named = question or content >= 2 or score >= STATEMENT_SCORE
    if understood.intent != "unknown" and content < 2:
        named = False  # "help?" is the help, not legal help; "hi?" a greeting
    if best is not None and enough and score >= flow and named:
        return Reading(understood, best, True, closest)
    # "help?", "hi?" are the help and the greeting, not questions without an answer.
    return Reading(understood, None, question and understood.intent == "unknown", closest)

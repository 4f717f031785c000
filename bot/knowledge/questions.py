"""Whether a message is worded as a question, and whether it says what the person wants.

A question is told by its words: an interrogative word near the start ("where", "dónde"), a
question word or particle anywhere ("ba", "ли", "ايش", "kiles"), an auxiliary before its
subject ("..., can i move it", "..., is that normal"), a Chinese or Korean question form
("吗", "有没有", "나요"), or a question mark.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from itertools import pairwise
from typing import Final

from bot.understanding.text import fold, prepare

__all__ = ["is_question", "openers", "prepared", "wants"]

# One message is prepared for the tokens and for the question words (a short-lived cache: the
# same text, asked twice in a row).
prepared: Final = lru_cache(maxsize=64)(prepare)


# Words that make a question near the start of a message (folded), per language.
_OPENERS: Final = {
    "en": "what whats wat where wheres how hows why when which who whose is are do does did "
    "can could should will would am was were has have any",
    "es": "que qué donde como cual cuales cuando cuanto cuanta cuantos cuantas quien por "
    "porque puedo puede se es esta hay tengo debo necesito",
    "fr": "que quoi ou comment pourquoi quand quel quelle quels quelles combien qui est "
    "puis peut dois faut estce",
    "pt": "que onde como qual quais quando quanto quanta quantos quantas quem por porque "
    "posso pode e esta tem devo preciso",
    "ht": "kisa ki kote kijan kouman poukisa kile konbyen kiyes eske ske esk",
    "tl": "ano saan paano pano bakit kailan sino alin ilan magkano pwede puwede",
    "vi": "gi dau sao nao bao lam the",
    "ru": "что где как почему когда какой какая какое какие сколько кто можно зачем чем "
    "куда откуда нужно",
    "ar": "ما ماذا اين كيف لماذا متي هل كم اي من ايش شو وين ليش فين",
}
# Question words and particles that make a question anywhere in the message (folded words):
# "my case got approved, what now", "ok ba ito", "можно ли".
_PARTICLE_WORDS: Final = (
    "what whats where how why which donde cuanto cuantos cuantas cuando cual porque "
    "ou comment pourquoi combien quand quel quelle onde quanto quantos quando qual "
    "kisa kote kijan kouman poukisa konbyen eske ano saan paano pano bakit kailan magkano ilang ba "
    "ли где как почему сколько когда что какой какая какое какие каким какую каких каком "
    "куда зачем "
    "kiles kiyes quoi nasan nasaan asan "
    "gi dau sao nao bao may "
    "هل كيف اين ماذا لماذا متي كم ايش شو وين ليش ازاي ايه امتي فين وش"
)
# Folded as the message is ("какой" is "какои" then).
_PARTICLES: Final = frozenset(fold(w) for w in _PARTICLE_WORDS.split())
# Words that ask when the next word is one of these: anywhere, an English auxiliary before
# "i" or "we" ("... because of work can i move it") and Spanish and Portuguese "como" before a
# verb or a pronoun ("... por correo como me registro", "como faco"); at the start of a clause
# only (after a comma, "and", "but"), "is" before "that", "there" ("..., is that normal", not
# "it is there").
_ASKING_PAIRS: Final = {
    **{
        aux: frozenset({"i", "we"})
        for aux in ("can", "could", "should", "do", "does", "did", "am", "will", "would", "have")
    },
    "como": frozenset(
        {
            "me",
            "se",
            "lo",
            "la",
            "le",
            "puedo",
            "hago",
            "faco",
            "posso",
            "fazer",
            "hacer",
            "eu",
            "yo",
            "consigo",
            "entro",
            "saco",
            "cambio",
            "pongo",
            "pido",
            "recupero",
            "agendo",
            "pago",
            "sei",
            "vejo",
            "pego",
        }
    ),
}
# Interrogative words that ask at the start of a clause ("..., q tengo q hacer con la
# direccion", "..., kijan pou m antre"), beyond the first words of the message.
_CLAUSE_OPENERS: Final = frozenset(
    {
        *("q", "que", "como", "donde", "cual", "cuando", "onde", "qual", "quando"),
        *("comment", "quand", "kijan", "kouman", "kote", "kisa", "paano", "saan", "ano"),
    }
)
_CLAUSE_PAIRS: Final = {
    aux: frozenset({"there", "that", "it", "this"}) for aux in ("is", "are", "was", "does")
}
_CLAUSES: Final = re.compile(r"[,;:.!()\n]+|\b(?:and|but|so|or|then|y|pero|e|mas)\b")
# Vietnamese "không", "chưa" ask only at the end ("... được không"); elsewhere they say "not".
_LAST_PARTICLES: Final = frozenset({"khong", "chua"})
_CAN_WORDS: Final = frozenset({"duoc", "dc", "dk"})
_NOT_WORDS: Final = frozenset({"khong", "ko", "k", "hong", "hok", "kg", "khg"})
# Chinese and Korean question marks in words, found inside the text.
_COMPACT_MARKS: Final = (
    "什么", "哪", "怎么", "怎样", "为什么", "多久", "多长", "吗", "呢", "如何", "是否", "几",
    "多少", "谁", "뭐", "무엇", "어디", "어떻게", "왜", "언제", "얼마", "무슨", "나요", "까요",
    "가요", "는지", "인지", "뭔가", "할까", "될까", "을까", "어떡", "어쩌", "인가", "건가",
    "는가", "되나", "되냐", "하냐", "있냐", "없냐", "뭔지", "啥", "咋", "干嘛", "有没有",
    "是不是", "能不能", "可不可以", "要不要", "需不需要", "用不用",
)  # fmt: skip
_QUESTION_MARKS: Final = ("?", "？", "؟", "¿")
_RIEUL_FINAL: Final = 8  # a Hangul syllable's final ㄹ, as its code counts finals
_OPENING_WORDS: Final = 3


@cache
def openers() -> frozenset[str]:
    return frozenset(fold(w) for words in _OPENERS.values() for w in words.split())


# Words that say what the person wants to do (folded), and their Chinese and Korean forms.
_WANT_WORDS: Final = frozenset(
    [
        "want",
        "wanna",
        "need",
        "quiero",
        "necesito",
        "quero",
        "preciso",
        "veux",
        "voudrais",
        "bezwen",
        "gusto",
        "kailangan",
        "хочу",
        "нужно",
        "надо",
        "اريد",
        "ابغي",
        "عايز",
        "بدي",
        "muon",
    ]
)
_WANT_MARKS: Final = ("我要", "我想", "想要", "싶어", "싶습니다", "원해")


def wants(text: str) -> bool:
    message = prepared(text)
    if any(w in _WANT_WORDS for w in message.words):
        return True
    # Haitian "vle" is "want", but "vle di" is "mean" ("sa sa vle di").
    if any(w == "vle" and n != "di" for w, n in pairwise((*message.words, ""))):
        return True
    return any(mark in message.compact for mark in _WANT_MARKS)


def is_question(text: str) -> bool:
    """Whether a message is worded as a question (its words or a question mark)."""
    if any(mark in text for mark in _QUESTION_MARKS):
        return True
    message = prepared(text)
    if any(w in openers() for w in message.words[:_OPENING_WORDS]):
        return True
    words = message.words
    # Spoken Arabic joins "and" to the word after it: "ووين" is "و" + "وين".
    if any(w in _PARTICLES or (w[:1] == "و" and w[1:] in _PARTICLES) for w in words):
        return True
    if any(n in _ASKING_PAIRS.get(w, ()) for w, n in pairwise(words)):
        return True
    for clause in _CLAUSES.split(fold(text)):
        first = clause.split(maxsplit=2)
        if len(first) >= 2 and first[1] in _CLAUSE_PAIRS.get(first[0], ()):
            return True
        if len(first) >= 2 and first[0] in _CLAUSE_OPENERS:
            return True
    if words and words[-1] in _LAST_PARTICLES:
        return True
    # Vietnamese "có ... không" ("có cần ... không, hay dùng chung"): "không" after "có".
    if "co" in words and "khong" in words[words.index("co") + 1 :]:
        return True
    # And "không" as people type it after "được" ("... di duoc ko", "dc k").
    if any(w in _CAN_WORDS and n in _NOT_WORDS for w, n in pairwise(words)):
        return True
    if any(mark in message.compact for mark in _COMPACT_MARKS):
        return True
    # Korean "-ㄹ까" ("만들까", "갈까"): "까" after a syllable that ends in ㄹ.
    compact = message.compact
    return any(
        c == "까" and i > 0 and _ends_in_rieul(compact[i - 1]) for i, c in enumerate(compact)
    )


def _ends_in_rieul(syllable: str) -> bool:
    code = ord(syllable) - 0xAC00
    return 0 <= code < 11172 and code % 28 == _RIEUL_FINAL

"""Cues every language shares: form numbers, names of languages, words that tell no language."""

from __future__ import annotations

from typing import Final

# Matched in every message whatever its language (same syntax as a language's CUES).
SHARED_CUES: Final[dict[str, str]] = {
    "case_status": "uscis case:3 | zzform:2 | green card:2 | greencard:2 | ead:1",
    "appointment": "biometrics:2 | biometric*:2 | infopass:3 | appt:2",
    "password_reset": "2fa:2 | otp:1",
}

# What each language is called, in each language (and as people type it). A message that names
# one asks for the "language" intent (with a word like "speak" or "in" it is sure).
LANGUAGE_NAMES: Final[dict[str, str]] = {
    "en": "english | ingles | inglés | anglais | angle | angle a | ingles | inglês | ingle"
    " | tieng anh | tiếng anh | 英文 | 英语 | 英語 | 영어 | انجليزي | الانجليزية | انكليزي"
    " | انقليزي | английск* | ingles | englis | inggles | ingles na",
    "es": "spanish | español | espanol | espagnol | espanhol | panyòl | panyol | kastila"
    " | tieng tay ban nha | 西班牙语 | 西班牙文 | 西语 | 스페인어 | اسباني | الاسبانية | испанск*",
    "zh": "chinese | mandarin | chino | chinois | chinês | chines | chinwa | intsik"
    " | tieng trung | tieng hoa | 中文 | 汉语 | 漢語 | 华语 | 普通话 | 중국어 | صيني | الصينية"
    " | китайск*",
    "vi": "vietnamese | vietnamita | vietnamien | vyetnamyen | tieng viet | tiếng việt | 越南语"
    " | 越南文 | 베트남어 | فيتنامي | вьетнамск*",
    "tl": "tagalog | filipino | pilipino | tagalo | tagal | 他加禄语 | 菲律宾语 | 타갈로그어"
    " | 필리핀어 | تاغالوغ | тагальск*",
    "ko": "korean | coreano | coréen | coreen | koreyen | tieng han | 韩语 | 韓語 | 韩文"
    " | 한국어 | 한국말 | كوري | الكورية | корейск*",
    "ar": "arabic | árabe | arabe | arab | tieng a rap | 阿拉伯语 | 아랍어 | عربي | العربية"
    " | بالعربي | арабск*",
    "fr": "french | francés | frances | français | francais | francês | franse | pranses"
    " | tieng phap | 法语 | 法文 | 프랑스어 | فرنسي | الفرنسية | французск*",
    "ht": "creole | haitian | criollo | créole | kreyol | kreyòl | kreol | crioulo"
    " | 海地克里奥尔语 | 克里奥尔语 | 아이티어 | كريول | креольск* | гаитянск*",
    "pt": "portuguese | portugués | portugues | portugais | português | pòtigè | potige"
    " | tieng bo dao nha | 葡萄牙语 | 포르투갈어 | برتغالي | البرتغالية | португальск*",
    "ru": "russian | ruso | russe | russo | ris | wikang ruso | tieng nga | 俄语 | 俄文"
    " | 러시아어 | روسي | الروسية | русск* | по-русски | порусски",
}

# Words people of every language type (greetings of the internet, laughter, the English words
# of the domain that other languages borrow): they tell nothing about a message's language.
_NEUTRAL: Final = (
    "ok okay oke okey k hi hii hiii hello helo hallo hey yo lol lmao xd haha hahaha hahahaha"
    " jaja jajaja kkk kkkk kkkkk ha hehe hihi uscis usa us ead status case check app online"
    " email e-mail mail code login log sign password pass appointment biometrics green card"
    " greencard i-765 i-485 i-130 n-400 sms otp 2fa gmail internet web chat bot tps daca"
    " schedule reschedule link account book booking interview fingerprint fingerprints"
    " application petition update cancel phone cellphone authenticator"
)
NEUTRAL_WORDS: Final = frozenset(_NEUTRAL.split())

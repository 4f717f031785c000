"""Tagalog: cues, phrases and common words for the understanding model.

Tagalog speakers mix in English freely ("i-check", "mag-book", "yung appointment ko"): the
English cues match too, and Tagalog affixes before an English word are split off by the
tokenizer's hyphen rule or listed here.
"""

from __future__ import annotations

from typing import Final

CUES: Final[dict[str, str]] = {
    "case_status": "kaso:3 | kaso ko:3 | estado:2 | katayuan:3 | aplikasyon:2 | application:2"
    " | petisyon:2 | petition:2 | resibo:3 | naaprubahan:3 | aprobado:2"
    " | tingnan:1 | malaman:1 | kamusta na:2 | kumusta na:2 | nasaan na:2"
    " | status:2 | tsek:1 | icheck:1 | check:1",
    "appointment": "appointment:3 | schedule:2 | iskedyul:3 | magpa appointment:3"
    " | magpaschedule:3 | mag book:3 | book:2 | ilipat:2 | reschedule:3 | ipareschedule:3"
    " | fingerprint:2 | biometrics:2 | panayam:3 | interview:2 | tipanan:3 | kailan:1",
    "password_reset": "password:3 | nakalimutan:2 | limot:2 | na lock:3"
    " | nalock:3 | naka lock:3 | code:1 | natanggap:1 | nawala:2 | nawala phone:3"
    " | bagong phone:3 | gumawa account:3 | gumawa ng account:3 | bagong account:3"
    " | mag sign up:3 | magrehistro:3 | palitan password:3",
    "link_account": "mag log in:3 | log in:3 | login:3 | mag login:3 | sign in:3"
    " | mag sign in:3 | i link:3 | ilink:3 | link:2 | ikonekta:3 | konekta:2 | account ko:2"
    " | account:1 | pumasok:2",
    "language": "wika:3 | lenggwahe:3 | lengguwahe:3 | salita:1 | magsalita:2 | mag tagalog:3"
    " | na lang:1 | palitan wika:3",
    "agent": "ahente:3 | makausap tao:3 | kausapin tao:3 | kausapin ang tao:3"
    " | makausap ang tao:3 | totoong tao:3 | tunay na tao:3 | kinatawan:3"
    " | live agent:3 | representative:3",
    "help": "tulong:2 | tulungan:2 | tulungan mo ako:3 | pa help:2 | help:2 | kaya mong gawin:3"
    " | paano gamitin:3 | pano gamitin:3 | di ko maintindihan:2 | hindi ko gets:2",
    "cancel": "cancel:1 | i cancel:1 | kanselahin:1 | ikansela:1 | wag na:2 | huwag na:2"
    " | tigil:2 | tama na:2 | ayoko na:2 | labas:1 | exit:2",
    "greeting": "kumusta:2 | kamusta:2 | magandang umaga:3 | magandang hapon:3"
    " | magandang gabi:3 | magandang araw:3 | hello po:2 | hi po:2 | salamat:2"
    " | maraming salamat:3 | musta:2",
}

PHRASES: Final[dict[str, tuple[str, ...]]] = {
    "case_status": (
        "gusto kong malaman ang status ng kaso ko",
        "ano na ang estado ng application ko",
        "pakicheck po ng kaso ko",
        "may resibo ako",
        "naaprubahan na ba ang petisyon ko",
        "kamusta na ang aplikasyon ko",
        "nasaan na ang work permit ko",
        "tingnan ang status ng kaso",
    ),
    "appointment": (
        "gusto ko mag book ng appointment",
        "magpa schedule ng biometrics",
        "ilipat ang appointment ko sa ibang araw",
        "i-cancel ang appointment ko",
        "kailan ang appointment ko",
        "mag-reschedule ng interview",
        "kailangan ko ng appointment",
        "schedule para sa fingerprint",
    ),
    "password_reset": (
        "nakalimutan ko ang password ko",
        "naka lock ang account ko",
        "nawala ang cellphone ko walang code",
        "hindi dumating ang code",
        "gusto ko gumawa ng bagong account",
        "paano mag sign up",
        "palitan ang password",
        "bagong phone ko wala na authenticator",
    ),
    "link_account": (
        "gusto kong mag log in",
        "i-link ang account ko sa uscis",
        "ikonekta ang account",
        "paano mag sign in",
        "pumasok sa account ko",
        "mag login po",
    ),
    "language": (
        "palitan ang lengguwahe",
        "pwede bang tagalog",
        "ingles po",
        "magsalita ka ng tagalog",
        "ibang wika po",
    ),
    "agent": (
        "gusto kong makausap ang isang tao",
        "pwede ba akong makausap ng ahente",
        "kailangan ko ng totoong tao",
        "kausapin ko ang kinatawan",
    ),
    "help": (
        "tulungan mo ako",
        "kailangan ko ng tulong",
        "ano ang kaya mo",
        "paano ito gamitin",
        "hindi ko maintindihan",
    ),
    "cancel": (
        "huwag na lang",
        "tama na po",
        "ayoko na",
        "itigil mo",
        "cancel na po",
    ),
    "greeting": (
        "kamusta",
        "magandang gabi po",
        "hi po",
        "salamat po",
        "magandang araw",
    ),
    "unknown": (
        "anong oras na",
        "kwentuhan mo ako ng biro",
        "gusto ko ng adobo",
        "uulan ba bukas",
        "may sakit ang aso ko",
    ),
}

TOPICS: Final[dict[str, str]] = {
    "create_account": "gumawa account | gumawa ng account | bagong account | mag sign up"
    " | magrehistro | create account | gawa ng account",
    "lost_device": "nawala phone | nawala cellphone | nawala ang phone | nawala ang cellphone"
    " | bagong phone | bagong cellphone | ninakaw phone | sira phone | authenticator"
    " | nawala selpon",
    "forgot_password": "nakalimutan password | limot password"
    " | palitan password | reset password | bagong password | forgot password",
}

WORDS: Final = (
    "ako ko ka mo siya kami tayo kayo sila ang ng nang sa na pa po opo ba yung iyong ito"
    " iyan yan dito diyan doon ano anong paano pano bakit saan nasaan kailan gusto kong"
    " gustong kailangan pwede puwede hindi di wala may mga at o pero lang naman talaga"
    " akin aking iyo nila namin natin mag magpa nag pag ka-"
)

"""Haitian Creole: cues, phrases and common words for the understanding model.

Spelling varies a lot (mwen / m, kòman / koman, randevou / randevu, modpas / mo de pas):
the common variants are listed and the rest is left to the fuzzy match.
"""

from __future__ import annotations

from typing import Final

CUES: Final[dict[str, str]] = {
    "case_status": "dosye:3 | dosye mwen:3 | ka mwen:3 | ka m:2 | estati:3 | eta:2"
    " | aplikasyon:2 | demann:2 | petisyon:2 | resi:3 | nimewo resi:3 | apwouve:2"
    " | refize:2 | tcheke:1 | gade:1 | kat vet:3 | kat rezidans:3"
    " | kijan li ye:2 | koman li ye:2 | pemi travay:2",
    "appointment": "randevou:3 | rande vou:3 | pran randevou:3 | anprent:3"
    " | anprent dwet:3 | biyometrik:3 | biometrik:3 | entevyou:3 | repwograme:3"
    " | chanje randevou:3 | anile randevou:3 | biwo:1 | dat:1",
    "password_reset": "modpas:3 | mod pas:3 | mo de pas:3 | modepas:3 | bliye:2 | bloke:3"
    " | kod:1 | pa resevwa:2 | pedi telefon:3 | telefon nef:3 | nouvo telefon:3"
    " | otantifikate:3 | kreye kont:3 | kreye yon kont:3 | nouvo kont:3 | enskri:3"
    " | chanje modpas:3 | reyinisyalize:3",
    "link_account": "konekte:2 | konekte nan kont:3 | lye:2 | lye kont:3 | antre nan kont:3"
    " | kont mwen:2 | kont:1 | login:3 | log in:3 | sign in:3",
    "language": "lang:3 | langaj:3 | pale:2 | chanje lang:3 | tradui:2 | lot lang:3",
    "agent": "ajan:3 | reprezantan:3 | pale ak moun:3 | moun tout bon:3"
    " | moun reyel:3 | vre moun:3 | operate:3 | sevis kliyan:3",
    "help": "ed:2 | ede:2 | ede m:3 | ede mwen:3 | edem:3 | kisa ou ka fe:3 | kijan sa mache:3"
    " | koman sa mache:3 | m pa konprann:2 | sekou:1",
    "cancel": "non mesi:3 | anile:1 | kite sa:3 | sispann:2 | rete:1 | soti:2 | fini:1"
    " | pa bezwen ankò:2"
    " | pa bezwen anko:2 | bliye sa:2",
    "greeting": "bonjou:2 | bonswa:2 | sak pase:3 | sa k pase:3 | kijan ou ye:2 | alo:2"
    " | mesi:2 | mesi anpil:3 | bonjou tout moun:3 | kouman ou ye:2",
}

PHRASES: Final[dict[str, tuple[str, ...]]] = {
    "case_status": (
        "mwen vle konnen estati dosye mwen",
        "kote dosye mwen ye",
        "eske yo apwouve aplikasyon mwen",
        "mwen gen yon nimewo resi",
        "tcheke ka mwen souple",
        "kat vèt mwen an kote li ye",
        "gade eta demann mwen",
        "ki nouvèl dosye m",
    ),
    "appointment": (
        "mwen vle pran yon randevou",
        "randevou pou anprent dwèt",
        "chanje dat randevou mwen",
        "mwen vle anile randevou a",
        "repwograme entèvyou mwen",
        "ki lè randevou mwen",
        "fè yon randevou nan biwo a",
        "mwen bezwen randevou biyometrik",
    ),
    "password_reset": (
        "mwen bliye modpas mwen an",
        "kont mwen bloke kounye a",
        "mwen pèdi telefòn mwen pa gen kòd",
        "mwen pa resevwa kòd la",
        "mwen vle kreye yon nouvo kont",
        "chanje mo de pas mwen",
        "m gen yon telefòn nèf",
        "kijan pou m enskri",
    ),
    "link_account": (
        "mwen vle konekte",
        "konekte nan kont uscis mwen",
        "lye kont mwen an",
        "antre nan kont mwen",
        "kijan pou m konekte",
    ),
    "language": (
        "chanje lang lan",
        "pale kreyòl avè m",
        "an angle souple",
        "mwen pa pale angle",
        "yon lòt lang",
    ),
    "agent": (
        "mwen vle pale ak yon moun",
        "ban m yon ajan",
        "mwen bezwen yon reprezantan",
        "konekte m ak yon moun tout bon",
    ),
    "help": (
        "ede mwen souple",
        "mwen bezwen yon ti ed",
        "kisa ou kapab fè",
        "kijan sa mache",
        "m pa konprann",
    ),
    "cancel": (
        "anile",
        "kite sa la",
        "sispann sa",
        "mwen pa bezwen ankò",
        "m ap soti",
    ),
    "greeting": (
        "bonjou tout moun",
        "bonswa zanmi",
        "sa k pase",
        "mèsi anpil",
        "kijan ou ye",
    ),
    "unknown": (
        "ki lè li ye",
        "rakonte m yon blag",
        "mwen renmen diri ak pwa",
        "eske lapli ap tonbe demen",
        "chen mwen malad",
    ),
}

TOPICS: Final[dict[str, str]] = {
    "create_account": "kreye kont | kreye yon kont | nouvo kont | enskri | louvri kont",
    "lost_device": "pedi telefon | telefon nef | nouvo telefon | yo vole telefon"
    " | telefon kase | pedi selile | otantifikate | chanje telefon",
    "forgot_password": "bliye modpas | bliye mod pas | bliye mo de pas | bliye modepas"
    " | chanje modpas | chanje mo de pas | nouvo modpas | reyinisyalize",
}

WORDS: Final = (
    "mwen m ou w li l nou yo mwen an la a nan pou pa ki kisa kijan koman kòman kote kilè"
    " ki le se ye gen genyen vle bezwen konnen ka kapab fè fe ak avè avek sou eske èske"
    " souple silvouple tanpri wi non mèsi mesi yon youn sa sila kounye kounya ankò anko"
    " te ap pral deja tou"
)

"""Questions told apart from commands, and matched to the knowledge base's topics."""

from __future__ import annotations

import pytest

from bot.knowledge.base import build_knowledge, knowledge_base
from bot.knowledge.matching import FLOW_INTENTS, TopicMatcher, is_question, matcher, read


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("where do I find my USCIS online account number", "account_number"),
        ("is the account number the same as my A-number", "account_number"),
        ("what is my infopass number", "infopass"),
        ("someone called asking for my password, is that USCIS?", "scam_call"),
        ("how long does an I-765 take", "processing_times"),
        ("where do i find my receipt number", "receipt_number"),
        ("¿dónde encuentro mi número de recibo?", "receipt_number"),
        ("me llamaron y dicen que me deportan si no pago", "deportation_threat"),
    ],
)
def test_the_questions_of_the_issue_get_their_topic(text: str, topic: str) -> None:
    assert read(text).topic == topic


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("check my case", "case_status"),
        ("I forgot my password", "password_reset"),
        ("book an appointment", "appointment"),
        ("ver mi caso", "case_status"),
        ("olvidé mi contraseña", "password_reset"),
        ("IOE0912345678", "case_status"),
        ("can you check my case IOE0912345678?", "case_status"),
        ("password", "password_reset"),
        ("biometrics", "appointment"),
    ],
)
def test_commands_start_their_flow_and_get_no_topic(text: str, intent: str) -> None:
    reading = read(text)
    assert reading.topic is None
    assert not reading.question
    assert reading.understanding.intent == intent


def test_a_scam_warning_wins_over_the_flow_its_words_name() -> None:
    reading = read("some guy on the phone wants my password and code, says hes uscis")
    assert reading.understanding.intent == "password_reset"
    assert reading.topic == "scam_call"


def test_help_and_greetings_with_a_question_mark_are_no_unanswered_questions() -> None:
    for text in ("help?", "hello?", "ayuda?"):
        assert not read(text).question, text


def test_asking_for_a_person_is_no_scam() -> None:
    assert read("talk to a person").topic not in {"scam_call", "scam_payment", "deportation_threat"}
    assert read("scam").topic == "scam_call"


def test_a_question_no_topic_fits_is_a_question_with_the_closest_topics() -> None:
    nothing = read("what is the capital of mongolia?")
    assert nothing.topic is None
    assert nothing.question


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("where is it", True),
        ("my card, it came?", True),
        ("ok ba ito", True),
        ("多久能批下来", True),
        ("언제 나와요", True),
        ("هل هذا احتيال", True),
        ("check my case", False),
        ("I forgot my password", False),
        ("hola", False),
    ],
)
def test_questions_are_told_by_their_words_or_their_mark(text: str, question: bool) -> None:
    assert is_question(text) is question


def test_the_matcher_is_built_once_and_never_raises_on_odd_text() -> None:
    assert matcher() is matcher()
    for text in ("", "   ", "?", "x" * 5000, "🙂🙂", "\x00", "a " * 3000):
        reading = read(text)
        assert reading.topic is None or reading.topic in knowledge_base().topics


def test_a_topic_an_editor_adds_is_matched_without_code() -> None:
    english = {
        "t": {"title": "Parking", "answer": "Park on the street.", "asks": [
            "where do i park", "is there parking", "parking at the office", "can i park",
            "where is the car park", "parking lot"]},
    }  # fmt: skip
    base = build_knowledge(
        {"t": {"area": "help", "source": "https://www.uscis.gov/"}}, {"en": english}
    )
    assert TopicMatcher(base).scores("where can i park my car").get("t", 0.0) > 0.5


def test_question_words_people_type_and_statements_that_only_look_like_questions() -> None:
    # Colloquial question words: Taglish "pano", Creole "kijan", spoken Arabic "وين", "شو".
    for text in ("pano ko malalaman ang receipt ko", "kijan m ka jwenn nimewo a", "وين الرقم"):
        assert is_question(text), text
    # Vietnamese "không" asks only at the end; a polite Korean statement ends in 어요 too.
    assert is_question("đổi lịch hẹn được không")
    for text in ("không nhận được mã", "비밀번호 까먹었어요"):
        assert not is_question(text), text


def test_asking_to_speak_a_language_is_no_question_to_answer() -> None:
    for text, language in (("can you speak french", "en"), ("¿puedes hablar en inglés?", "es")):
        reading = read(text, language)
        assert reading.understanding.requested_language is not None, text
        assert reading.topic is None, text


def test_a_question_that_only_seems_to_name_a_language_keeps_its_topic() -> None:
    # "mandaron" is one letter from "mandarin": the question is about a text message.
    text = "me mandaron un texto pidiendo mi codigo de verificacion es uscis?"
    assert read(text, "es").topic == "scam_call"


@pytest.mark.parametrize(
    "text",
    [
        "запуталась, какой номер мне нужен",  # "какой" folds to "какои" as the message does
        "my appointment is on friday but i work, can i move it",  # a subject after its verb
        "i sent everything in may and nothing moved, is that normal",
        "mande mis papeles por correo como me registro en linea",  # "como" before a pronoun
        "الموافقة وصلت طيب وبعدين ايش اسوي",  # a spoken Arabic question word, not at the start
        "عندي رقم ووين القاه",  # "و" + "وين"
        "le m ap kreye kont lan kiles pou m chwazi",
        "这个码是干嘛用的",
        "con toi co can tai khoan rieng khong hay dung chung",  # "có ... không"
    ],
)
def test_question_words_anywhere_in_a_message_make_it_a_question(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "she said my daughter can do it for me",
        "nosotros lo hacemos como siempre",
        "check my case",
        "ok thanks it is there now",
    ],
)
def test_statements_with_those_words_elsewhere_are_no_questions(text: str) -> None:
    assert not is_question(text)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("when signing up do i choose applicant or representative for myself", "en"),
        ("al registrarme elijo solicitante o representante legal", "es"),
        ("при регистрации кем выбрать себя заявителем или представителем", "ru"),
    ],
)
def test_a_question_that_names_a_representative_among_account_types_is_answered(
    text: str, language: str
) -> None:
    assert read(text, language).topic == "account_types"


@pytest.mark.parametrize(
    ("text", "language"),
    [("i need to speak to a representative", "en"), ("ban m yon reprezantan tanpri", "ht")],
)
def test_asking_for_a_representative_is_still_asking_for_a_person(text: str, language: str) -> None:
    reading = read(text, language)
    assert reading.understanding.intent == "agent"
    assert reading.topic is None


@pytest.mark.parametrize(
    ("text", "language"), [("bom dia", "pt"), ("arrête", "fr"), ("annule ça", "fr")]
)
def test_a_greeting_or_a_cancel_is_no_question_about_a_topic(text: str, language: str) -> None:
    # "arrête" (stop) is also "arrested": a cancel is no scam warning.
    assert read(text, language).topic is None


def test_an_arabic_word_finds_the_asks_words_it_shares_a_core_with() -> None:
    # "احتياطي" without the article, "استعجل" as a verb of another person than the asks'.
    assert read("اعطوني كود احتياطي هل احتفظ فيه؟", "ar").topic == "backup_code"
    assert read("كيف استعجل ملفي عندي ظرف صحي؟", "ar").topic == "expedite"


def test_a_word_sharing_a_core_with_a_warnings_word_is_no_scam() -> None:
    # "دخول" (sign in) shares a core with the warnings' "دخولي" (my sign-in), nothing more.
    reading = read("تسجيل دخول", "ar")
    assert reading.topic is None
    assert reading.understanding.intent == "link_account"


def test_a_misspelling_is_looked_for_in_the_messages_language_and_english() -> None:
    # "thing" is one letter from Vietnamese "tháng" (month), which is no English word.
    assert read("how does this thing work", "en").topic is None


@pytest.mark.parametrize(
    "text",
    [
        "i sent my i-130 in january and the site still shows the same words, is that normal",
        "my husband has his own case, can i make another login for it or share mine",
    ],
)
def test_a_long_question_about_a_flows_subject_is_answered_not_taken_into_it(text: str) -> None:
    reading = read(text, "en")
    assert reading.understanding.intent in FLOW_INTENTS
    assert reading.topic is not None


def test_a_long_story_that_wants_a_flow_gets_the_answer_whose_button_starts_it() -> None:
    text = "toi gui ho so giay qua buu dien roi, muon them ho so do vao tai khoan online cua toi"
    reading = read(text, "vi")
    assert reading.understanding.intent == "link_account"
    assert reading.topic == "add_paper_case"
    # A short one starts the flow.
    assert read("m vle kreye kont mwen", "ht").topic is None


def test_vietnamese_syllables_are_matched_two_by_two() -> None:
    # "chỗ ở" (where one lives) is no "lịch hẹn" (appointment), though "đổi" (change) is both.
    assert read("toi doi cho o roi co phai bao cho uscis khong", "vi").topic == "change_address"


@pytest.mark.parametrize(
    "text",
    [
        "the receipt number vs the A-number which is which",
        "mi numero A y el numero de recibo son lo mismo?",
        "номер А и номер квитанции это одно и то же?",
    ],
)
def test_the_a_number_however_it_is_written_is_one_word(text: str) -> None:
    assert read(text).topic == "uscis_number_vs"


def test_an_arabic_scam_word_in_another_form_still_warns() -> None:
    # "يرحلني" (deports me) is the warnings' "يرحلوني" (deport me) for another person.
    assert read("واحد على التلفون يقول بيرحلني اذا ما دفعت", "ar").topic == "deportation_threat"


def test_a_long_story_about_a_flows_subject_is_answered_not_taken_into_it() -> None:
    text = "قالوا ان الكرت انرسل بالبريد من اسبوعين بس لسه ما وصلني"
    reading = read(text, "ar")
    assert reading.topic == "card_mailed"


def test_an_english_contraction_weighs_as_the_word_people_type_without_its_apostrophe() -> None:
    found = matcher()
    for typed, plain in (
        ("what's the online access code", "whats the online access code"),
        ("where’s my receipt number", "wheres my receipt number"),
        ("i've been waiting, what's going on", "ive been waiting, whats going on"),
    ):
        assert found.scores(typed, "en") == found.scores(plain, "en"), typed


def test_arabic_hamza_diacritics_and_tatweel_are_folded_away() -> None:
    found = matcher()
    plain = found.scores("اين رقم الايصال", "ar")
    for typed in ("أين رقم الإيصال", "أَيْنَ رَقْمُ الإِيصَالِ", "ايـــن رقـم الايصال"):
        assert found.scores(typed, "ar") == plain, typed


def test_a_word_that_mixes_chinese_and_latin_letters_is_cut_into_its_runs() -> None:
    from bot.knowledge.words import tokens

    found = tokens("信里有个access code是干嘛的", "zh")
    assert "access" in found
    assert "code" in found
    assert "个a" not in found


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("入籍申请在纽约大概几个月能批", "zh"),
        ("绿卡快过期了能不能申请加快", "zh"),
    ],
)
def test_a_question_little_like_any_request_for_the_flow_is_no_request(
    text: str, language: str
) -> None:
    reading = read(text, language)
    assert reading.understanding.intent in FLOW_INTENTS
    assert reading.topic is not None
    assert reading.question


@pytest.mark.parametrize(
    "text",
    [
        "me mudo el mes que viene, q hago con la direccion",
        "nhan ma hoai, tat di duoc ko",
        "три номера, каким проверять статус",
    ],
)
def test_question_words_people_type_mid_message_make_it_a_question(text: str) -> None:
    assert is_question(text)


def test_chinese_pairs_of_function_characters_name_no_topic() -> None:
    # "在哪里能找到" (where can I find it) is how it is asked; "access code" what about.
    assert read("online access code在哪里能找到呢", "zh").topic == "online_access_code"


def test_haitian_vle_is_wanting_but_vle_di_is_meaning() -> None:
    from bot.knowledge.questions import wants

    assert wants("m vle chanje adres mwen")
    assert not wants("sa sa vle di")


def test_a_question_of_one_known_word_that_asks_for_a_flow_starts_it() -> None:
    # "how is my request": a request asked politely, not a question about refusals.
    reading = read("como esta meu pedido", "pt")
    assert reading.understanding.intent == "case_status"
    assert reading.topic is None


@pytest.mark.parametrize("text", ["예약 날짜를 놓쳤는데 어떡해", "계정 하나 더 만들까", "사기인가"])
def test_korean_endings_that_ask_make_a_question(text: str) -> None:
    assert is_question(text)

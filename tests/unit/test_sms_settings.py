"""The CASEBOT_SMS_* settings: all four or none, each checked at start-up by name; the auth
token never shows."""

from __future__ import annotations

import pytest

from bot.settings import ConfigError, Settings

SMS = {
    "CASEBOT_SMS_URL": "https://api.twilio.com",
    "CASEBOT_SMS_ACCOUNT": "AC" + "0123456789abcdef" * 2,
    "CASEBOT_SMS_TOKEN": "tw-token-0d1e2f",
    "CASEBOT_SMS_FROM": "+12025550100",
}


def test_no_sms_settings_means_no_texts() -> None:
    settings = Settings.from_env({})
    assert settings.sms is None


def test_the_four_are_read_and_the_token_is_not_shown() -> None:
    settings = Settings.from_env({**SMS, "CASEBOT_PUBLIC_URL": "https://bot.example.org/"})
    assert settings.sms is not None
    assert (settings.sms.url, settings.sms.account, settings.sms.sender) == (
        "https://api.twilio.com",
        SMS["CASEBOT_SMS_ACCOUNT"],
        "+12025550100",
    )
    assert settings.sms.callback_url == "https://bot.example.org"
    assert "tw-token-0d1e2f" not in repr(settings)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"CASEBOT_SMS_TOKEN": ""}, "need CASEBOT_SMS_TOKEN too"),
        (
            {"CASEBOT_SMS_URL": "", "CASEBOT_SMS_FROM": ""},
            "need CASEBOT_SMS_URL, CASEBOT_SMS_FROM too",
        ),
        ({"CASEBOT_SMS_URL": "ftp://twilio"}, "CASEBOT_SMS_URL must be an http(s):// URL"),
        ({"CASEBOT_SMS_ACCOUNT": "12345"}, "CASEBOT_SMS_ACCOUNT must be"),
        ({"CASEBOT_SMS_FROM": "202-555-0100"}, "CASEBOT_SMS_FROM must be"),
        ({"CASEBOT_PUBLIC_URL": "bot.example.org"}, "CASEBOT_PUBLIC_URL must be"),
    ],
)
def test_a_bad_or_missing_one_fails_by_name(changes: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace("(", r"\(").replace(")", r"\)")):
        Settings.from_env({**SMS, **changes})


def test_one_alone_is_not_enough() -> None:
    with pytest.raises(ConfigError, match="CASEBOT_SMS_ACCOUNT, CASEBOT_SMS_TOKEN"):
        Settings.from_env({"CASEBOT_SMS_URL": "https://api.twilio.com",
                           "CASEBOT_SMS_FROM": "+12025550100"})  # fmt: skip

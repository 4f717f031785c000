"""CASEBOT_CASE_SOURCE and the USCIS Case Status API settings: bad ones fail at start-up with
the variable's name, and the client secret never shows."""

from __future__ import annotations

import pytest

from bot.settings import ConfigError, Settings

USCIS = {
    "CASEBOT_CASE_SOURCE": "both",
    "CASEBOT_USCIS_API_URL": "https://api-int.uscis.gov",
    "CASEBOT_USCIS_CLIENT_ID": "client",
    "CASEBOT_USCIS_CLIENT_SECRET": "s3cret-value",
}


def test_the_source_is_local_by_default_with_the_sandbox_limits() -> None:
    settings = Settings.from_env({})
    assert (settings.case_source, settings.uscis_rate, settings.uscis_daily_quota) == (
        "local",
        5.0,
        1000,
    )


def test_uscis_settings_are_read_and_the_secret_is_not_shown() -> None:
    settings = Settings.from_env(
        {**USCIS, "CASEBOT_USCIS_RATE": "10", "CASEBOT_USCIS_DAILY_QUOTA": "5000"}
    )
    assert settings.case_source == "both"
    assert (settings.uscis_rate, settings.uscis_daily_quota) == (10.0, 5000)
    assert "s3cret-value" not in repr(settings)


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"CASEBOT_CASE_SOURCE": "remote"}, "CASEBOT_CASE_SOURCE must be local, uscis or both"),
        ({"CASEBOT_USCIS_CLIENT_SECRET": ""}, "needs CASEBOT_USCIS_CLIENT_SECRET"),
        ({"CASEBOT_USCIS_API_URL": "api-int.uscis.gov"}, "CASEBOT_USCIS_API_URL must be"),
        ({"CASEBOT_USCIS_RATE": "0"}, "CASEBOT_USCIS_RATE must be"),
        ({"CASEBOT_USCIS_DAILY_QUOTA": "lots"}, "CASEBOT_USCIS_DAILY_QUOTA must be"),
    ],
)
def test_unusable_uscis_settings_fail_naming_the_variable(
    changes: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env({**USCIS, **changes})

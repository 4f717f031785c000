from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import build_app
from bot.settings import ConfigError, Settings
from core.accounts.password_budget import DEFAULT_CHECKS_PER_SECOND
from core.db import DEFAULT_DATABASE_URL


def test_defaults_to_a_sqlite_file_under_var() -> None:
    settings = Settings.from_env({})
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.uses_default_database
    assert settings.telegram_token is None


def test_a_plain_postgresql_url_gets_the_async_driver() -> None:
    settings = Settings.from_env({"CASEBOT_DATABASE_URL": "postgresql://u@h:5432/d"})
    assert settings.database_url == "postgresql+asyncpg://u@h:5432/d"
    assert not settings.uses_default_database


def test_the_data_folder_holds_the_default_sqlite_file() -> None:
    settings = Settings.from_env({"CASEBOT_DATA_DIR": "/srv/casebot"})
    assert settings.var_dir == Path("/srv/casebot")
    assert settings.database_url == "sqlite+aiosqlite:////srv/casebot/casebot.sqlite3"
    assert settings.uses_default_database


def test_log_format_and_level_are_read_in_any_case() -> None:
    settings = Settings.from_env({"CASEBOT_LOG_FORMAT": "JSON", "CASEBOT_LOG_LEVEL": "warning"})
    assert (settings.log_format, settings.log_level) == ("json", "WARNING")
    assert (Settings.from_env({}).log_format, Settings.from_env({}).log_level) == ("text", None)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CASEBOT_LOG_FORMAT", "xml"),
        ("CASEBOT_LOG_LEVEL", "loud"),
        ("CASEBOT_DATABASE_URL", "mysql://root@localhost/x"),
        ("CASEBOT_WEBHOOK_URL", "http://example.com/hook"),
        ("CASEBOT_TELEGRAM_API_URL", "localhost:8081"),
        ("CASEBOT_SMTP_URL", "mail.example.com"),
        ("CASEBOT_PUBLIC_URL", "help.example.org"),
        ("CASEBOT_SECRET_KEY", "short"),
        ("CASEBOT_ADMIN_TOKEN", "abc"),
        ("CASEBOT_DB_POOL_SIZE", "0"),
        ("CASEBOT_DB_POOL_SIZE", "ten"),
        ("CASEBOT_DB_MAX_OVERFLOW", "-1"),
        ("CASEBOT_DB_MAX_OVERFLOW", "5000"),
        ("CASEBOT_TRUSTED_PROXIES", "proxy.example.org"),
        ("CASEBOT_TRUSTED_PROXIES", "10.0.0.0/33"),
        ("CASEBOT_AGENT_HOURS", "Mon-Fri 08:00-20:00"),
        ("CASEBOT_AGENT_QUEUE_LIMIT", "0"),
        ("CASEBOT_AGENT_QUEUE_LIMIT", "many"),
        ("CASEBOT_AGENT_HOURS", "America/New_York Mon-Fri 20:00-08:00"),
    ],
)
def test_a_bad_value_fails_at_start_up_naming_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        Settings.from_env({variable: value})


def test_the_public_url_is_read_without_its_trailing_slash() -> None:
    assert Settings.from_env({}).public_url is None
    read = Settings.from_env({"CASEBOT_PUBLIC_URL": "https://help.example.org/"})
    assert read.public_url == "https://help.example.org"


def test_links_point_at_the_public_url_else_at_this_machine() -> None:
    # One address for the emails' links, the console's set-up links and Twilio's callbacks.
    unset = Settings.from_env({})
    assert unset.link_base == "http://127.0.0.1:8080"
    read = Settings.from_env({"CASEBOT_PUBLIC_URL": "https://help.example.org/"})
    assert read.link_base == "https://help.example.org"


def test_the_environment_wins_over_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("CASEBOT_ADMIN_TOKEN=from-the-file-0123456789\nTELEGRAM_BOT_TOKEN=file\n")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "environment")
    monkeypatch.delenv("CASEBOT_ADMIN_TOKEN", raising=False)
    settings = Settings.from_env(env_file=env_file)
    assert settings.admin_token == "from-the-file-0123456789"
    assert settings.telegram_token == "environment"


def test_pool_sizes_reach_the_postgresql_engine() -> None:
    from bot.app import build_app

    settings = Settings.from_env(
        {
            "CASEBOT_DATABASE_URL": "postgresql://u@h:5432/d",
            "CASEBOT_DB_POOL_SIZE": "4",
            "CASEBOT_DB_MAX_OVERFLOW": "0",
        }
    )
    assert (settings.db_pool_size, settings.db_max_overflow) == (4, 0)
    pool = build_app(settings).db.engine.pool
    assert (pool.size(), pool._max_overflow) == (4, 0)  # type: ignore[attr-defined]


def test_old_secret_keys_are_read_beside_the_new_one() -> None:
    new, old1, old2 = ("n" * 32, "o" * 32, "p" * 40)
    settings = Settings.from_env(
        {"CASEBOT_SECRET_KEY": new, "CASEBOT_OLD_SECRET_KEYS": f" {old1}, {old2} ,"}
    )
    assert settings.old_secret_keys == (old1, old2)


@pytest.mark.parametrize(
    "environ",
    [
        {"CASEBOT_OLD_SECRET_KEYS": "o" * 32},  # old keys but no current key
        {"CASEBOT_SECRET_KEY": "n" * 32, "CASEBOT_OLD_SECRET_KEYS": "short"},
    ],
)
def test_old_secret_keys_need_a_current_key_and_a_real_length(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="CASEBOT_OLD_SECRET_KEYS"):
        Settings.from_env(environ)


def test_webhook_mode_needs_a_secret_key() -> None:
    webhook = {"CASEBOT_WEBHOOK_URL": "https://bot.example.org/telegram/webhook"}
    with pytest.raises(ConfigError, match="CASEBOT_SECRET_KEY"):
        Settings.from_env(webhook)
    settings = Settings.from_env({**webhook, "CASEBOT_SECRET_KEY": "k" * 32})
    assert settings.webhook_url is not None


def test_trusted_proxies_are_addresses_and_networks() -> None:
    settings = Settings.from_env({"CASEBOT_TRUSTED_PROXIES": " 127.0.0.1, 10.0.0.0/8,,::1 "})
    assert [str(n) for n in settings.trusted_proxies] == ["127.0.0.1/32", "10.0.0.0/8", "::1/128"]
    assert Settings.from_env({}).trusted_proxies == ()


def test_the_password_checks_a_second_are_read_and_reach_the_dialogs() -> None:
    assert Settings.from_env({}).password_checks_per_second == DEFAULT_CHECKS_PER_SECOND
    settings = Settings.from_env({"CASEBOT_PASSWORD_CHECKS_PER_SECOND": "12"})
    assert settings.password_checks_per_second == 12
    engine = build_app(settings).build_engine()
    assert engine.services.password_checks_per_second == 12
    for bad in ("0", "-1", "many", "10001"):
        with pytest.raises(ConfigError, match="CASEBOT_PASSWORD_CHECKS_PER_SECOND"):
            Settings.from_env({"CASEBOT_PASSWORD_CHECKS_PER_SECOND": bad})


def test_agent_hours_and_the_public_url_are_read() -> None:
    settings = Settings.from_env(
        {
            "CASEBOT_AGENT_HOURS": "America/Chicago Mon-Sat 09:00-17:00; closed 2026-12-24",
            "CASEBOT_PUBLIC_URL": "https://help.example.org/",
        }
    )
    assert settings.agent_hours.zone == "America/Chicago"
    assert len(settings.agent_hours.windows) == 6
    assert settings.public_url == "https://help.example.org"
    assert Settings.from_env({}).agent_hours.zone == "America/New_York"


def test_the_agent_queue_limit_is_read() -> None:
    assert Settings.from_env({}).agent_queue_limit == 20
    assert Settings.from_env({"CASEBOT_AGENT_QUEUE_LIMIT": "5"}).agent_queue_limit == 5

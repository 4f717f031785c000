"""Configuration from the environment (and a ``.env`` file), checked when it is read."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any, Final

from dotenv import dotenv_values

from core.accounts.password_budget import DEFAULT_CHECKS_PER_SECOND
from core.db import DEFAULT_DATABASE_URL, normalize_url
from core.staff.desk import DEFAULT_QUEUE_LIMIT
from core.staff.hours import DEFAULT_AGENT_HOURS, AgentHours, parse_hours

__all__ = ["ConfigError", "Settings", "default_database_url"]

DEFAULT_HOST: Final = "127.0.0.1"
DEFAULT_PORT: Final = 8080
DEFAULT_DATA_DIR: Final = Path("var")
LOG_FORMATS: Final = ("text", "json")
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR")


def default_database_url(data_dir: Path) -> str:
    """The SQLite file casebot uses when ``CASEBOT_DATABASE_URL`` is not set."""
    if data_dir == DEFAULT_DATA_DIR:
        return DEFAULT_DATABASE_URL
    return f"sqlite+aiosqlite:///{data_dir / 'casebot.sqlite3'}"


class ConfigError(Exception):
    """The configuration cannot work; the message names the variable and the fix."""


@dataclass(frozen=True, slots=True)
class SmsSettings:
    """Twilio's Messages API, for text messages (``bot.sms.twilio``).

    Attributes:
        url: ``CASEBOT_SMS_URL`` (``https://api.twilio.com``).
        account: ``CASEBOT_SMS_ACCOUNT``, the account SID (``AC`` and 32 hex digits).
        token: ``CASEBOT_SMS_TOKEN``, its auth token (never logged): it also signs Twilio's
            requests to us.
        sender: ``CASEBOT_SMS_FROM``, the number texts come from (E.164).
        callback_url: ``CASEBOT_PUBLIC_URL``, this server's public base URL as Twilio
            reaches it (``https://bot.example.org``): delivery statuses are asked for at
            ``{callback_url}/api/sms/status`` and Twilio's signatures are checked against it;
            None: no status callbacks, and signatures are checked against the URL as
            requested.
    """

    url: str
    account: str
    token: str = field(repr=False)
    sender: str
    callback_url: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything casebot reads from its environment.

    Attributes:
        database_url: ``CASEBOT_DATABASE_URL``; a SQLite file under ``./var/`` by default.
        secret_key: ``CASEBOT_SECRET_KEY``; None means a development key (refused in webhook mode).
        old_secret_keys: ``CASEBOT_OLD_SECRET_KEYS``, comma-separated keys used before: secrets
            stored under them are still read, and sealed again under ``secret_key``.
        telegram_token: ``TELEGRAM_BOT_TOKEN``; None means no Telegram.
        telegram_api_url: ``CASEBOT_TELEGRAM_API_URL``, for a local Bot API server.
        webhook_url: ``CASEBOT_WEBHOOK_URL``; webhook mode instead of polling.
        smtp_url: ``CASEBOT_SMTP_URL``; None means mail goes to ``./var/mail/``.
        public_url: ``CASEBOT_PUBLIC_URL``, the address people, staff and Twilio reach this
            server at (``https://help.example.org``): the links in emails (unsubscribe), the
            console's set-up links, text messages' status callbacks and the URL Twilio signs.
            None: links use ``http://127.0.0.1:8080`` (``link_base``), right only on the
            machine itself, and texts ask for no status callbacks.
        admin_token: ``CASEBOT_ADMIN_TOKEN``; None disables the admin HTTP API.
        metrics_token: ``CASEBOT_METRICS_TOKEN``, the bearer token ``/metrics`` asks for;
            None disables ``/metrics``.
        web_origins: ``CASEBOT_WEB_ORIGINS``, the origins (``https://host[:port]``) of pages
            allowed to embed the web chat, besides the server's own; None means the default
            (any port of ``http://localhost`` and ``http://127.0.0.1``); ``*`` allows any.
        var_dir: ``CASEBOT_DATA_DIR`` (default ``./var``): where the default SQLite file, the
            mail folder and the terminal's attachments live; the one volume of a container.
        log_format: ``CASEBOT_LOG_FORMAT``, ``text`` (default) or ``json`` (one object a line).
        log_level: ``CASEBOT_LOG_LEVEL``, ``DEBUG``, ``INFO`` (default), ``WARNING`` or
            ``ERROR``; None when unset (the command's own default applies).
        db_pool_size: ``CASEBOT_DB_POOL_SIZE``, PostgreSQL connections each worker keeps open.
        db_max_overflow: ``CASEBOT_DB_MAX_OVERFLOW``, connections a worker may open beyond
            them at busy times.
        trusted_proxies: ``CASEBOT_TRUSTED_PROXIES``, the addresses or networks of reverse
            proxies whose ``X-Forwarded-For`` names the client
            (``bot.channels.web.client_address``).
        case_source: ``CASEBOT_CASE_SOURCE``: ``local`` (default), ``uscis`` or ``both``.
        uscis_api_url, uscis_client_id, uscis_client_secret: ``CASEBOT_USCIS_API_URL``,
            ``CASEBOT_USCIS_CLIENT_ID``, ``CASEBOT_USCIS_CLIENT_SECRET`` (never logged): the
            Case Status API and its OAuth client; needed unless the source is ``local``.
        uscis_rate: ``CASEBOT_USCIS_RATE``, requests per second all workers together may send.
        uscis_daily_quota: ``CASEBOT_USCIS_DAILY_QUOTA``, requests per day.
        password_checks_per_second: ``CASEBOT_PASSWORD_CHECKS_PER_SECOND``, the password
            checks (Argon2id) all workers together run a second for sign-in attempts
            (``core.accounts.password_budget``); default 4 per CPU.
        agent_hours: ``CASEBOT_AGENT_HOURS``, when live agents answer (format in
            ``core.staff.hours``); default weekdays 08:00-20:00 in New York.
        agent_queue_limit: ``CASEBOT_AGENT_QUEUE_LIMIT``, most people waiting for an agent
            per language before new ones are offered a secure message (default 20).
        sms: the ``CASEBOT_SMS_*`` settings (``SmsSettings``); None: no text messages.
    """

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str | None = None
    old_secret_keys: tuple[str, ...] = ()
    telegram_token: str | None = None
    telegram_api_url: str | None = None
    webhook_url: str | None = None
    smtp_url: str | None = None
    public_url: str | None = None
    admin_token: str | None = None
    metrics_token: str | None = None
    web_origins: tuple[str, ...] | None = None
    var_dir: Path = DEFAULT_DATA_DIR
    log_format: str = "text"
    log_level: str | None = None
    db_pool_size: int = 10
    db_max_overflow: int = 10
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    case_source: str = "local"
    uscis_api_url: str | None = None
    uscis_client_id: str | None = None
    uscis_client_secret: str | None = field(default=None, repr=False)
    uscis_rate: float = 5.0
    uscis_daily_quota: int = 1000
    password_checks_per_second: int = DEFAULT_CHECKS_PER_SECOND
    agent_hours: AgentHours = field(default_factory=lambda: parse_hours(DEFAULT_AGENT_HOURS))
    agent_queue_limit: int = DEFAULT_QUEUE_LIMIT
    sms: SmsSettings | None = None

    @property
    def link_base(self) -> str:
        """Where the links casebot writes point: ``public_url``, or this machine's default
        address when it is not set."""
        return self.public_url or f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"

    @property
    def uses_default_database(self) -> bool:
        return self.database_url == default_database_url(self.var_dir)

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, env_file: str | Path = ".env"
    ) -> Settings:
        """Read the settings; the process environment wins over the ``.env`` file.

        Raises:
            ConfigError: a variable holds a value casebot cannot use.
        """
        values: dict[str, str] = {}
        if environ is None:
            path = Path(env_file)
            if path.is_file():
                values.update({k: v for k, v in dotenv_values(path).items() if v is not None})
            environ = os.environ
        values.update(environ)

        def get(name: str) -> str | None:
            value = values.get(name, "").strip()
            return value or None

        var_dir = Path(get("CASEBOT_DATA_DIR") or DEFAULT_DATA_DIR)
        database_url = get("CASEBOT_DATABASE_URL") or default_database_url(var_dir)
        try:
            database_url = normalize_url(database_url)
        except ValueError as exc:
            raise ConfigError(
                f"{exc}. Fix CASEBOT_DATABASE_URL, e.g. "
                "sqlite:///var/casebot.sqlite3 or postgresql://user@host:5432/casebot"
            ) from None
        for name in ("CASEBOT_TELEGRAM_API_URL", "CASEBOT_WEBHOOK_URL", "CASEBOT_PUBLIC_URL"):
            url = get(name)
            if url is not None and not url.startswith(("http://", "https://")):
                raise ConfigError(f"{name} must be an http(s):// URL, got {url!r}")
        webhook_url = get("CASEBOT_WEBHOOK_URL")
        if webhook_url is not None and not webhook_url.startswith("https://"):
            raise ConfigError("CASEBOT_WEBHOOK_URL must be https:// (Telegram refuses plain http)")
        smtp_url = get("CASEBOT_SMTP_URL")
        if smtp_url is not None and not smtp_url.startswith(("smtp://", "smtps://")):
            raise ConfigError(
                "CASEBOT_SMTP_URL must look like smtp://user:password@host:587 or smtps://host:465"
            )
        secret_key = get("CASEBOT_SECRET_KEY")
        if secret_key is not None and len(secret_key) < 32:
            raise ConfigError(
                "CASEBOT_SECRET_KEY must be at least 32 characters; make one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        if webhook_url is not None and secret_key is None:
            # Webhook mode is a deployment: the webhook's secret token is derived from the key
            # (every worker must agree on it), and secrets at rest need a key that is not public.
            raise ConfigError(
                "CASEBOT_WEBHOOK_URL needs CASEBOT_SECRET_KEY (32+ characters, the same on every "
                "worker); make one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        old_secret_keys = tuple(
            key.strip() for key in (get("CASEBOT_OLD_SECRET_KEYS") or "").split(",") if key.strip()
        )
        if old_secret_keys and secret_key is None:
            raise ConfigError(
                "CASEBOT_OLD_SECRET_KEYS is set but CASEBOT_SECRET_KEY is not: set the new key "
                "in CASEBOT_SECRET_KEY (the old ones are only read)"
            )
        if any(len(key) < 32 for key in old_secret_keys):
            raise ConfigError(
                "CASEBOT_OLD_SECRET_KEYS must list keys of at least 32 characters, separated "
                "by commas"
            )
        admin_token = get("CASEBOT_ADMIN_TOKEN")
        if admin_token is not None and len(admin_token) < 16:
            raise ConfigError("CASEBOT_ADMIN_TOKEN must be at least 16 characters")
        metrics_token = get("CASEBOT_METRICS_TOKEN")
        if metrics_token is not None and len(metrics_token) < 16:
            raise ConfigError(
                "CASEBOT_METRICS_TOKEN must be at least 16 characters (or unset, which turns "
                "/metrics off)"
            )
        web_origins = _origins(get("CASEBOT_WEB_ORIGINS"))
        pool_size = _count(get("CASEBOT_DB_POOL_SIZE"), "CASEBOT_DB_POOL_SIZE", 10, low=1)
        max_overflow = _count(get("CASEBOT_DB_MAX_OVERFLOW"), "CASEBOT_DB_MAX_OVERFLOW", 10, low=0)
        trusted_proxies = _networks(get("CASEBOT_TRUSTED_PROXIES"))
        password_checks = _count(
            get("CASEBOT_PASSWORD_CHECKS_PER_SECOND"),
            "CASEBOT_PASSWORD_CHECKS_PER_SECOND",
            DEFAULT_CHECKS_PER_SECOND,
            low=1,
            high=10_000,
        )
        uscis = _uscis(get)
        agent_queue_limit = _count(
            get("CASEBOT_AGENT_QUEUE_LIMIT"),
            "CASEBOT_AGENT_QUEUE_LIMIT",
            DEFAULT_QUEUE_LIMIT,
            low=1,
            high=100_000,
        )
        try:
            agent_hours = parse_hours(get("CASEBOT_AGENT_HOURS") or DEFAULT_AGENT_HOURS)
        except ValueError as exc:
            raise ConfigError(
                f"CASEBOT_AGENT_HOURS: {exc}; write it like "
                "'America/New_York Mon-Fri 08:00-20:00; closed 2026-12-24' (see the README)"
            ) from None
        sms = _sms(get)
        log_format = (get("CASEBOT_LOG_FORMAT") or "text").lower()
        if log_format not in LOG_FORMATS:
            raise ConfigError(f"CASEBOT_LOG_FORMAT must be text or json, got {log_format!r}")
        log_level = get("CASEBOT_LOG_LEVEL")
        if log_level is not None:
            log_level = log_level.upper()
            if log_level not in LOG_LEVELS:
                raise ConfigError(
                    f"CASEBOT_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}"
                )
        return cls(
            database_url=database_url,
            secret_key=secret_key,
            old_secret_keys=old_secret_keys,
            telegram_token=get("TELEGRAM_BOT_TOKEN"),
            telegram_api_url=get("CASEBOT_TELEGRAM_API_URL"),
            webhook_url=webhook_url,
            smtp_url=smtp_url,
            public_url=(get("CASEBOT_PUBLIC_URL") or "").rstrip("/") or None,
            admin_token=admin_token,
            metrics_token=metrics_token,
            web_origins=web_origins,
            db_pool_size=pool_size,
            db_max_overflow=max_overflow,
            trusted_proxies=trusted_proxies,
            password_checks_per_second=password_checks,
            var_dir=var_dir,
            log_format=log_format,
            log_level=log_level,
            agent_hours=agent_hours,
            agent_queue_limit=agent_queue_limit,
            sms=sms,
            **uscis,
        )


SMS_VARIABLES: Final = (
    "CASEBOT_SMS_URL",
    "CASEBOT_SMS_ACCOUNT",
    "CASEBOT_SMS_TOKEN",
    "CASEBOT_SMS_FROM",
)


def _sms(get: Callable[[str], str | None]) -> SmsSettings | None:
    """The text message provider's settings: all four ``CASEBOT_SMS_*`` variables, or none.

    Raises:
        ConfigError: some but not all are set, or one holds a value that cannot work.
    """
    values = {name: get(name) for name in SMS_VARIABLES}
    if all(value is None for value in values.values()):
        return None
    missing = [name for name, value in values.items() if value is None]
    if missing:
        raise ConfigError(
            f"text messages need {', '.join(missing)} too: set all four of "
            f"{', '.join(SMS_VARIABLES)} (Twilio's API URL, account SID, auth token and "
            "sending number), or none"
        )
    url, account, token, sender = (values[name] or "" for name in SMS_VARIABLES)
    if not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"CASEBOT_SMS_URL must be an http(s):// URL such as https://api.twilio.com, got {url!r}"
        )
    if not re.fullmatch(r"AC[0-9a-fA-F]{32}", account):
        raise ConfigError(
            "CASEBOT_SMS_ACCOUNT must be a Twilio account SID: AC and 32 hexadecimal digits"
        )
    if not re.fullmatch(r"\+[1-9]\d{6,14}", sender):
        raise ConfigError(
            f"CASEBOT_SMS_FROM must be a phone number in E.164 form such as +12025550100, "
            f"got {sender!r}"
        )
    # Checked with the other URLs in Settings.from_env.
    callback = get("CASEBOT_PUBLIC_URL") or None
    return SmsSettings(
        url=url.rstrip("/"),
        account=account,
        token=token,
        sender=sender,
        callback_url=callback.rstrip("/") if callback is not None else None,
    )


def _uscis(get: Callable[[str], str | None]) -> dict[str, Any]:
    """The case source and the USCIS Case Status API settings.

    Raises:
        ConfigError: an unknown source, a missing URL or credential for ``uscis``/``both``,
            a rate or quota that is not a positive number.
    """
    source = (get("CASEBOT_CASE_SOURCE") or "local").lower()
    if source not in ("local", "uscis", "both"):
        raise ConfigError(f"CASEBOT_CASE_SOURCE must be local, uscis or both, got {source!r}")
    url = get("CASEBOT_USCIS_API_URL")
    if url is not None and not url.startswith(("http://", "https://")):
        raise ConfigError(
            f"CASEBOT_USCIS_API_URL must be an http(s):// URL such as "
            f"https://api-int.uscis.gov (the sandbox), got {url!r}"
        )
    client_id, secret = get("CASEBOT_USCIS_CLIENT_ID"), get("CASEBOT_USCIS_CLIENT_SECRET")
    if source != "local":
        missing = [
            name
            for name, value in (
                ("CASEBOT_USCIS_API_URL", url),
                ("CASEBOT_USCIS_CLIENT_ID", client_id),
                ("CASEBOT_USCIS_CLIENT_SECRET", secret),
            )
            if value is None
        ]
        if missing:
            raise ConfigError(
                f"CASEBOT_CASE_SOURCE={source} needs {', '.join(missing)}: the Case Status API "
                "URL and the OAuth client of your app at developer.uscis.gov (or set "
                "CASEBOT_CASE_SOURCE=local)"
            )
    raw_rate = get("CASEBOT_USCIS_RATE") or "5"
    try:
        rate = float(raw_rate)
    except ValueError:
        rate = -1.0
    if not 0 < rate <= 1000:
        raise ConfigError(
            f"CASEBOT_USCIS_RATE must be requests per second, more than 0 (the sandbox allows "
            f"5), got {raw_rate!r}"
        )
    quota = _count(get("CASEBOT_USCIS_DAILY_QUOTA"), "CASEBOT_USCIS_DAILY_QUOTA", 1000, low=1,
                   high=10_000_000)  # fmt: skip
    return {
        "case_source": source,
        "uscis_api_url": url,
        "uscis_client_id": client_id,
        "uscis_client_secret": secret,
        "uscis_rate": rate,
        "uscis_daily_quota": quota,
    }


def _count(value: str | None, name: str, default: int, *, low: int, high: int = 1000) -> int:
    """A whole number setting between ``low`` and ``high``.

    Raises:
        ConfigError: anything else.
    """
    if value is None:
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


def _origins(value: str | None) -> tuple[str, ...] | None:
    """``CASEBOT_WEB_ORIGINS`` as a tuple of origins (lower case, no trailing slash).

    Raises:
        ConfigError: an entry is not ``*`` nor an ``http(s)://host[:port]`` origin.
    """
    if value is None:
        return None
    origins: list[str] = []
    for raw in value.split(","):
        entry = raw.strip().rstrip("/").lower()
        if not entry:
            continue
        scheme, sep, rest = entry.partition("://")
        if entry != "*" and (
            not sep or scheme not in ("http", "https") or not rest or "/" in rest or "@" in rest
        ):
            raise ConfigError(
                "CASEBOT_WEB_ORIGINS must be a comma-separated list of origins such as "
                f"https://example.org,http://localhost:3000 (or *), got {raw.strip()!r}"
            )
        origins.append(entry)
    return tuple(origins)


def _networks(value: str | None) -> tuple[IPv4Network | IPv6Network, ...]:
    """``CASEBOT_TRUSTED_PROXIES``: comma-separated addresses or networks.

    Raises:
        ConfigError: an entry is neither.
    """
    networks = []
    for raw in (value or "").split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            networks.append(ip_network(entry, strict=False))
        except ValueError:
            raise ConfigError(
                "CASEBOT_TRUSTED_PROXIES must be a comma-separated list of IP addresses or "
                f"networks such as 127.0.0.1,10.0.0.0/8, got {entry!r}"
            ) from None
    return tuple(networks)

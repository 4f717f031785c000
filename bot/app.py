"""The composition root: settings -> database -> services -> channels. Nothing runs at import."""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.dialogs.base import Dialog
from bot.dialogs.context import Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine, EngineConfig, TurnObserver
from bot.notify.mail import mailer_from_settings
from bot.settings import Settings
from bot.uscis.wiring import build_uscis, close_uscis
from core.accounts.totp_store import reseal_totp_secrets
from core.cases.uscis.service import CaseSourceMode, Uscis
from core.clock import Clock, SystemClock
from core.db import Database
from core.demo import holds_no_records, load_demo
from core.outage import unusable_at_start
from core.schema import upgrade
from core.secret_box import SecretBox
from core.staff.desk import StaffDesk
from core.uow import UnitOfWorkFactory

__all__ = ["App", "Prepared", "build_app"]

logger = logging.getLogger(__name__)


class Prepared(enum.Enum):
    """What :meth:`App.prepare_database` found, and did."""

    EMPTY = "empty"
    """It holds no account, case or office (the schema only): it was not asked for the demo."""
    DEMO = "demo"
    """It held no account, case or office: the demo data is in it now."""
    IN_USE = "in use"
    """It holds records: nothing was loaded."""


@dataclass
class App:
    """What every channel and command shares."""

    settings: Settings
    db: Database
    uow_factory: UnitOfWorkFactory
    clock: Clock = field(default_factory=SystemClock)
    uscis: Uscis | None = None

    async def prepare_database(self, *, demo_if_empty: bool) -> Prepared:
        """Bring the database to the latest schema; load the demo data into an empty one, when
        asked (``--demo``): the demo account's credentials are public, so a database never
        gets it unasked.

        "Empty" means holding no account, case or office, so that a first run without
        ``--demo`` (which creates the schema) does not stop a later one with it from working.

        Returns:
            What it found and did.

        Raises:
            DatabaseUnusable: the database is out of reach or its file is damaged (the message
                says what to do).
        """
        try:
            return await self._prepare_database(demo_if_empty=demo_if_empty)
        except Exception as error:
            unusable = unusable_at_start(error, self.db.url)
            if unusable is None:
                raise
            raise unusable from error

    async def _prepare_database(self, *, demo_if_empty: bool) -> Prepared:
        await upgrade(self.db)
        empty = await holds_no_records(self.uow_factory)
        if empty and demo_if_empty:
            await load_demo(self.uow_factory)
            logger.info("empty database: demo data loaded")
            return Prepared.DEMO
        # Authenticator secrets stored plain (before encryption) or under an old key are
        # sealed under the current one; secrets no configured key opens are reported.
        await reseal_totp_secrets(self.uow_factory)
        if self.settings.secret_key is None and not self.settings.uses_default_database:
            logger.warning(
                "CASEBOT_SECRET_KEY is not set: secrets at rest are sealed under the public "
                "development key; set it in production"
            )
        return Prepared.EMPTY if empty else Prepared.IN_USE

    def build_engine(
        self,
        config: EngineConfig | None = None,
        *,
        dialogs: Mapping[str, Dialog[Any]] | None = None,
        observer: TurnObserver | None = None,
    ) -> Engine:
        """The dialog engine on this app's database, mailer and clock.

        Args:
            config: idle timeouts (default: ``EngineConfig()``).
            dialogs: the dialogs (default: every registered one, ``all_dialogs()``).
            observer: told about every committed turn (metrics).
        """
        services = Services(
            uow_factory=self.uow_factory,
            mailer=mailer_from_settings(self.settings.smtp_url, self.settings.var_dir),
            clock=self.clock,
            secret_key=self.settings.secret_key,
            case_source=CaseSourceMode(self.settings.case_source),
            uscis=self.uscis,
            password_checks_per_second=self.settings.password_checks_per_second,
            # A chat is put through when an agent of its language is signed in and available
            # within the agents' hours; otherwise "Talk to a person" says when agents are
            # available and offers a secure message.
            agent_desk=StaffDesk(
                self.uow_factory,
                self.settings.agent_hours,
                queue_limit=self.settings.agent_queue_limit,
            ),
        )
        return Engine(
            services, all_dialogs() if dialogs is None else dialogs, config, observer=observer
        )

    async def close(self) -> None:
        await close_uscis(self.uscis)
        await self.db.dispose()


def build_app(settings: Settings, *, clock: Clock | None = None) -> App:
    """Wire the application for these settings (no I/O happens until it is used)."""
    clock = clock or SystemClock()
    db = Database(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    box = SecretBox(settings.secret_key, settings.old_secret_keys)
    return App(
        settings=settings,
        db=db,
        uow_factory=UnitOfWorkFactory(db, clock, box),
        clock=clock,
        uscis=build_uscis(settings, db, clock),
    )

"""An account's authenticator secret, kept sealed at rest (``core.secret_box``).

Code reads and writes the secret through these functions only: the column
(``Account.sealed_totp_secret``) holds ``enc1:<key id>:<token>``, or, in rows written before
encryption, the plain Base32 secret. A plain or old-key value is sealed under the current key
the next time it is used (:func:`reseal_if_needed`, after a code was checked with it) and by
:func:`reseal_totp_secrets`, which ``casebot serve`` and ``casebot demo`` run at start-up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update

from core.accounts.models import Account
from core.errors import SecretUnreadable
from core.uow import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "ResealReport",
    "reseal_if_needed",
    "reseal_totp_secrets",
    "store_totp_secret",
    "totp_secret_of",
]

logger = logging.getLogger(__name__)


def totp_secret_of(uow: UnitOfWork, account: Account) -> str | None:
    """The account's authenticator secret in clear, or None (it receives codes by email).

    Raises:
        SecretUnreadable: the secret was sealed under a key that is not configured.
    """
    stored = account.sealed_totp_secret
    return None if stored is None else uow.secret_box.open(stored)


def store_totp_secret(uow: UnitOfWork, account: Account, secret: str | None) -> None:
    """Keep a new authenticator secret, sealed (None drops it)."""
    account.sealed_totp_secret = None if secret is None else uow.secret_box.seal(secret)


def reseal_if_needed(uow: UnitOfWork, account: Account, secret: str) -> bool:
    """Seal the account's secret (just opened: ``secret``) under the current key when it is
    stored plain or under an old key. Returns whether it was sealed again."""
    stored = account.sealed_totp_secret
    if stored is None or uow.secret_box.is_current(stored):
        return False
    account.sealed_totp_secret = uow.secret_box.seal(secret)
    return True


@dataclass(frozen=True, slots=True)
class ResealReport:
    """What :func:`reseal_totp_secrets` did: secrets sealed anew, and the ones no configured
    key opens, with the ids of the keys they need."""

    resealed: int
    unreadable: int
    missing_keys: tuple[str, ...] = ()


async def reseal_totp_secrets(uow_factory: UnitOfWorkFactory) -> ResealReport:
    """Seal under the current key every stored secret that is not: legacy plain values (a
    database made before encryption) and values sealed under an old key (key rotation).

    Only those rows are read (a prefix match, no decryption of the rest), so a start-up with
    nothing to do costs one indexed-free but cheap query. Each row is written only if it still
    holds what was read, so a secret changed meanwhile (by a sign-up, a new method) is left
    alone. A value no configured key opens is counted and left as it is: its owner signs in
    with the backup code until the key is configured again; it is never a reason not to start.
    """
    box = uow_factory.secret_box
    resealed = unreadable = 0
    missing: set[str] = set()
    async with uow_factory() as uow:
        rows = (
            await uow.session.execute(
                select(Account.id, Account.sealed_totp_secret).where(
                    Account.sealed_totp_secret.is_not(None),
                    Account.sealed_totp_secret.not_like(f"{box.current_prefix}%"),
                )
            )
        ).all()
        for account_id, stored in rows:
            if stored is None:  # never, by the query; for the type checker
                continue
            try:
                secret = box.open(stored)
            except SecretUnreadable as error:
                unreadable += 1
                missing.add(error.key_id or "?")
                continue
            result = await uow.session.execute(
                update(Account)
                .where(Account.id == account_id, Account.sealed_totp_secret == stored)
                .values(sealed_totp_secret=box.seal(secret))
                .execution_options(synchronize_session=False)
            )
            resealed += getattr(result, "rowcount", 0) or 0
        await uow.commit()
    report = ResealReport(resealed, unreadable, tuple(sorted(missing)))
    if resealed:
        logger.info("sealed %d authenticator secrets under the current key", resealed)
    if unreadable:
        logger.error(
            "%d authenticator secrets were sealed under keys that are not configured (key ids "
            "%s): set CASEBOT_SECRET_KEY, or list the old key in CASEBOT_OLD_SECRET_KEYS; "
            "until then those accounts sign in with their backup code",
            unreadable,
            ", ".join(report.missing_keys),
        )
    return report

"""An agent set up and signed in through the console API (for the console's tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient

from core.accounts.otp import totp
from core.staff import StaffRole, add_staff
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock

PASSWORD = "console-lantern-harbor-7"


@dataclass
class Agent:
    email: str
    secret: str
    token: str = ""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def add_agent(
    uow_factory: UnitOfWorkFactory,
    email: str = "maria@agency.example",
    name: str = "Maria",
    languages: tuple[str, ...] = ("en", "es"),
    role: StaffRole = StaffRole.AGENT,
) -> str:
    """A new staff member; returns the set-up code."""
    async with uow_factory() as uow:
        added = await add_staff(uow, email, name, languages, role)
        await uow.commit()
    return added.setup_code


async def set_up(
    client: TestClient[Any, Any], clock: FakeClock, code: str, headers: dict[str, str] | None = None
) -> Agent:
    response = await client.post(
        "/api/console/setup", json={"code": code, "password": PASSWORD}, headers=headers
    )
    assert response.status == 200, await response.text()
    started = await response.json()
    response = await client.post(
        "/api/console/setup/confirm",
        json={"code": code, "totp": totp(started["secret"], clock.now())},
        headers=headers,
    )
    assert response.status == 200, await response.text()
    clock.advance(seconds=30)  # the next code is another one
    return Agent(started["email"], started["secret"])


async def sign_in(
    client: TestClient[Any, Any],
    clock: FakeClock,
    agent: Agent,
    headers: dict[str, str] | None = None,
) -> Agent:
    response = await client.post(
        "/api/console/sessions",
        json={"email": agent.email, "password": PASSWORD, "code": totp(agent.secret, clock.now())},
        headers=headers,
    )
    assert response.status == 201, await response.text()
    agent.token = (await response.json())["token"]
    clock.advance(seconds=30)
    return agent


async def signed_in_agent(
    client: TestClient[Any, Any], uow_factory: UnitOfWorkFactory, clock: FakeClock, **kwargs: Any
) -> Agent:
    code = await add_agent(uow_factory, **kwargs)
    return await sign_in(client, clock, await set_up(client, clock, code))


async def ready_agents(
    uow_factory: UnitOfWorkFactory,
    count: int,
    languages: tuple[str, ...] = ("en",),
    prefix: str = "agent",
    role: StaffRole = StaffRole.AGENT,
) -> list[Agent]:
    """``count`` agents set up and signed in, written straight into the tables (no Argon2
    per agent: for tests of many agents at once, not of signing in)."""
    import secrets

    from core.staff.models import StaffMember, StaffSession
    from core.staff.sessions import _digest

    agents = []
    async with uow_factory() as uow:
        now = uow.clock.now()
        for n in range(count):
            member = StaffMember(
                email=f"{prefix}{n}@agency.example",
                display_name=f"Agent {n}",
                languages=list(languages),
                role=role,
                password_hash="unused",
                sealed_totp_secret="unused",
                totp_confirmed=True,
                available=True,
                created_at=now,
            )
            uow.session.add(member)
            await uow.flush()
            token = secrets.token_urlsafe(32)
            uow.session.add(
                StaffSession(
                    staff_id=member.id, token_hash=_digest(token), created_at=now, last_seen_at=now
                )
            )
            agents.append(Agent(member.email, "", token))
        await uow.commit()
    return agents

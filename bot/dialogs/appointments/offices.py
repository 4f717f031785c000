"""Finding the office a person means from what they type: its city or code, a US state, or a
ZIP code; and the nearest offices when their state has none."""

from __future__ import annotations

from dataclasses import dataclass

from core.appointments import find_offices, list_offices
from core.appointments.geography import (
    STATE_NAMES,
    ZIP3_RANGES,
    normalize_state,
    normalize_zip,
    state_for_zip,
)
from core.appointments.views import OfficeView
from core.uow import UnitOfWork

__all__ = ["NEAREST_SHOWN", "OfficeSearch", "office_line", "search_offices"]

NEAREST_SHOWN = 3


@dataclass(frozen=True, slots=True)
class OfficeSearch:
    """The offices found for what was typed, nearest first.

    Attributes:
        office_ids: the offices' ids.
        place: the place as the person should read it back ("Texas", "ZIP code 85004").
        exact: the offices are in that place; False when it has none and these are the
            nearest ones instead.
    """

    office_ids: tuple[int, ...]
    place: str
    exact: bool


def office_line(office: OfficeView, *, name: bool = True) -> str:
    """An office on one line: ``Phoenix Field Office, 2035 N Central Ave, Phoenix, AZ 85004``."""
    address = f"{office.address}, {office.city}, {office.state} {office.zip_code}"
    return f"{office.name}, {address}" if name else address


def _state_zip(state: str) -> str | None:
    """A ZIP code in the middle of the state's widest ZIP range, as a stand-in for where the
    state lies (the core orders offices by ZIP distance); None for a state without ZIP codes."""
    ranges = [(last - first, first, last) for first, last, code in ZIP3_RANGES if code == state]
    if not ranges:
        return None
    _width, first, last = max(ranges)
    return f"{(first + last) // 2:03d}00"


async def search_offices(uow: UnitOfWork, text: str, kind: str) -> OfficeSearch:
    """The offices offering ``kind`` that ``text`` points at.

    An office's code or city (``PHX``, ``phoenix``) finds that office; a ZIP code finds the
    offices of its state (or the nearest ones); a state's name or code finds its offices or,
    when it has none, the :data:`NEAREST_SHOWN` nearest ones.

    Raises:
        InvalidZipCode: digits that are no ZIP code of a state.
        UnknownState: neither an office, a ZIP code nor a US state.
    """
    wanted = text.strip()
    if wanted[:1].isdigit():
        zip_code = normalize_zip(wanted)
        found = await find_offices(uow, zip_code=zip_code, service=kind)
        home = state_for_zip(zip_code)
        if any(o.state == home for o in found):
            return OfficeSearch(tuple(o.id for o in found), zip_code, exact=True)
        return OfficeSearch(tuple(o.id for o in found[:NEAREST_SHOWN]), zip_code, exact=False)
    key = wanted.casefold()
    offices = await list_offices(uow, kind)
    named = [o for o in offices if key in (o.code.casefold(), o.city.casefold())]
    if named:
        return OfficeSearch(tuple(o.id for o in named), named[0].city, exact=True)
    state = normalize_state(wanted)
    place = STATE_NAMES.get(state, state)
    found = await find_offices(uow, state=state, service=kind)
    if found:
        return OfficeSearch(tuple(o.id for o in found), place, exact=True)
    center = _state_zip(state)
    nearest = await find_offices(uow, zip_code=center, service=kind) if center else offices
    return OfficeSearch(tuple(o.id for o in nearest[:NEAREST_SHOWN]), place, exact=False)

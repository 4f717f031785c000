"""US states, their neighbours, and which state a ZIP code's first three digits belong to.

Public knowledge written as data, for finding the offices near a person. ZIP codes are assigned
roughly from the north-east (0) to the west (9), so the numeric distance between two ZIP codes
is a fair, dependency-free stand-in for geographic distance *within* a region; across regions
the neighbour table decides which states are "near".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Final

from core.errors import InvalidZipCode, UnknownState

__all__ = [
    "NEIGHBORS",
    "STATE_NAMES",
    "ZIP3_RANGES",
    "normalize_state",
    "normalize_zip",
    "state_for_zip",
    "zip_distance",
]

STATE_NAMES: Final[Mapping[str, str]] = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan",
    "MN": "Minnesota", "MS": "Mississippi", "MO": "Missouri", "MT": "Montana",
    "NE": "Nebraska", "NV": "Nevada", "NH": "New Hampshire", "NJ": "New Jersey",
    "NM": "New Mexico", "NY": "New York", "NC": "North Carolina", "ND": "North Dakota",
    "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon", "PA": "Pennsylvania",
    "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota", "TN": "Tennessee",
    "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia", "WA": "Washington",
    "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "PR": "Puerto Rico", "VI": "U.S. Virgin Islands", "GU": "Guam",
}  # fmt: skip

# Inclusive ranges of ZIP3 prefixes. Unassigned prefixes inside a range count for that state;
# military mail (APO/FPO) and prefixes outside every range are not a state.
ZIP3_RANGES: Final[tuple[tuple[int, int, str], ...]] = (
    (5, 5, "NY"), (6, 7, "PR"), (8, 8, "VI"), (9, 9, "PR"),
    (10, 27, "MA"), (28, 29, "RI"), (30, 38, "NH"), (39, 49, "ME"), (50, 54, "VT"),
    (55, 55, "MA"), (56, 59, "VT"), (60, 69, "CT"), (70, 89, "NJ"),
    (100, 149, "NY"), (150, 196, "PA"), (197, 199, "DE"), (200, 200, "DC"), (201, 201, "VA"),
    (202, 205, "DC"), (206, 219, "MD"), (220, 246, "VA"), (247, 268, "WV"),
    (270, 289, "NC"), (290, 299, "SC"), (300, 319, "GA"), (320, 339, "FL"), (341, 349, "FL"),
    (350, 369, "AL"), (370, 385, "TN"), (386, 397, "MS"), (398, 399, "GA"),
    (400, 427, "KY"), (430, 459, "OH"), (460, 479, "IN"), (480, 499, "MI"),
    (500, 528, "IA"), (530, 549, "WI"), (550, 567, "MN"), (569, 569, "DC"),
    (570, 577, "SD"), (580, 588, "ND"), (590, 599, "MT"), (600, 629, "IL"),
    (630, 658, "MO"), (660, 679, "KS"), (680, 693, "NE"), (700, 714, "LA"),
    (716, 729, "AR"), (730, 731, "OK"), (733, 733, "TX"), (734, 749, "OK"),
    (750, 799, "TX"), (800, 816, "CO"), (820, 831, "WY"), (832, 838, "ID"),
    (840, 847, "UT"), (850, 865, "AZ"), (870, 884, "NM"), (885, 885, "TX"),
    (889, 898, "NV"), (900, 961, "CA"), (967, 968, "HI"), (969, 969, "GU"),
    (970, 979, "OR"), (980, 994, "WA"), (995, 999, "AK"),
)  # fmt: skip

_BORDERS: Final[Mapping[str, str]] = {
    "AL": "FL GA MS TN", "AZ": "CA CO NM NV UT", "AR": "LA MO MS OK TN TX", "CA": "AZ NV OR",
    "CO": "AZ KS NE NM OK UT WY", "CT": "MA NY RI", "DE": "MD NJ PA", "DC": "MD VA",
    "FL": "AL GA", "GA": "AL FL NC SC TN", "ID": "MT NV OR UT WA WY", "IL": "IA IN KY MO WI",
    "IN": "IL KY MI OH", "IA": "IL MN MO NE SD WI", "KS": "CO MO NE OK",
    "KY": "IL IN MO OH TN VA WV", "LA": "AR MS TX", "ME": "NH", "MD": "DC DE PA VA WV",
    "MA": "CT NH NY RI VT", "MI": "IN OH WI", "MN": "IA ND SD WI", "MS": "AL AR LA TN",
    "MO": "AR IA IL KS KY NE OK TN", "MT": "ID ND SD WY", "NE": "CO IA KS MO SD WY",
    "NV": "AZ CA ID OR UT", "NH": "MA ME VT", "NJ": "DE NY PA", "NM": "AZ CO OK TX",
    "NY": "CT MA NJ PA VT", "NC": "GA SC TN VA", "ND": "MN MT SD", "OH": "IN KY MI PA WV",
    "OK": "AR CO KS MO NM TX", "OR": "CA ID NV WA", "PA": "DE MD NJ NY OH WV", "RI": "CT MA",
    "SC": "GA NC", "SD": "IA MN MT ND NE WY", "TN": "AL AR GA KY MO MS NC VA",
    "TX": "AR LA NM OK", "UT": "AZ CO ID NV WY", "VT": "MA NH NY",
    "VA": "DC KY MD NC TN WV", "WA": "ID OR", "WV": "KY MD OH PA VA", "WI": "IA IL MI MN",
    "WY": "CO ID MT NE SD UT", "PR": "VI", "VI": "PR",
}  # fmt: skip

# States (and territories) that share a land border; Alaska, Hawaii and Guam have none.
NEIGHBORS: Final[Mapping[str, frozenset[str]]] = {
    state: frozenset(_BORDERS.get(state, "").split()) for state in STATE_NAMES
}

_ZIP_RE: Final = re.compile(r"(\d{5})(?:-?\d{4})?")


def _name_key(text: str) -> str:
    return re.sub(r"[^a-z]+", " ", text.casefold()).strip()


_BY_NAME: Final[Mapping[str, str]] = {_name_key(name): code for code, name in STATE_NAMES.items()}


def normalize_state(text: str) -> str:
    """The two-letter code of a state given by code or name, in any case ("new york" -> "NY").

    Raises:
        UnknownState: neither a known code nor a known name.
    """
    code = text.strip().upper()
    if code in STATE_NAMES:
        return code
    found = _BY_NAME.get(_name_key(text))
    if found is None:
        raise UnknownState(state=text)
    return found


def normalize_zip(text: str) -> str:
    """The five-digit ZIP code of ``12345``, ``12345-6789`` or ``123456789``.

    Raises:
        InvalidZipCode: not a ZIP code.
    """
    # Any script's digits (an Arabic or Persian keyboard types ١٢٣) are read as ASCII.
    digits = "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text.strip())
    match = _ZIP_RE.fullmatch(digits)
    if match is None:
        raise InvalidZipCode(zip_code=text)
    return match.group(1)


def state_for_zip(zip_code: str) -> str:
    """The state (or territory) whose ZIP3 range holds this ZIP code.

    Raises:
        InvalidZipCode: not a ZIP code, or a prefix that belongs to no state (military mail,
            unassigned prefixes).
    """
    prefix = int(normalize_zip(zip_code)[:3])
    for low, high, state in ZIP3_RANGES:
        if low <= prefix <= high:
            return state
    raise InvalidZipCode(zip_code=zip_code)


def zip_distance(a: str, b: str) -> int:
    """How far apart two five-digit ZIP codes are, as a number (smaller is nearer)."""
    return abs(int(a) - int(b))

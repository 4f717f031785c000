"""How long the fuzz targets run: briefly in ``make test``, long in ``make fuzz``.

``make fuzz`` sets ``HYPOTHESIS_PROFILE=fuzz`` (registered in ``tests/conftest.py``): every
property test draws the profile's many examples, and the targets that go through a server or a
whole turn, which name their brief count with ``examples(n)``, draw ``FUZZ_SCALE`` times more.
"""

from __future__ import annotations

import os
from typing import Final

from hypothesis import strategies as st

FUZZ: Final = os.environ.get("HYPOTHESIS_PROFILE") == "fuzz"
FUZZ_SCALE: Final = int(os.environ.get("CASEBOT_FUZZ_SCALE", "20"))


def examples(brief: int) -> int:
    """``brief`` examples in ``make test``; ``FUZZ_SCALE`` times as many in ``make fuzz``."""
    return brief * FUZZ_SCALE if FUZZ else brief


# Any JSON value, small: what a forged body may hold wherever a field is expected.
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(2**80), 2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def or_anything(strategy: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """Mostly the expected shape, sometimes any JSON value in its place."""
    return st.one_of(strategy, strategy, json_values)

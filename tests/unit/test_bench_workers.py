"""The arithmetic of the 16-core model in ``benchmarks.bench_workers`` (no timing here)."""

from __future__ import annotations

import pytest

from benchmarks.bench_workers import estimate


def test_sixteen_cores_from_the_cpu_a_turn_costs() -> None:
    guess = estimate(sqlite_ms=0.8, server_ms=4.0, db_ms=1.0, cores=16, max_connections=100)
    assert guess.sqlite == pytest.approx(1_250)  # one writer: 1 / 0.8 ms, whatever the cores
    assert guess.colocated == pytest.approx(3_200)  # 16 cores / (4 + 1) ms
    assert guess.app_host == pytest.approx(4_000)  # 16 cores / 4 ms, the database elsewhere
    assert guess.db_cores == pytest.approx(4.0)  # 4,000 turns/s × 1 ms
    # 16 × (4 + 2) = 96 connections: under 100, where 10 + 10 + 2 each would be 352.
    assert (guess.pool_size, guess.connections) == (4, 96)


def test_the_pool_never_drops_below_one_connection() -> None:
    guess = estimate(sqlite_ms=1.0, server_ms=2.0, db_ms=0.5, cores=64, max_connections=100)
    assert guess.pool_size == 1
    assert guess.connections == 192  # above 100: this host needs a larger max_connections

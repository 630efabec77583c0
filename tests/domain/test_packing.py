"""The packing plan: whole households, every piece exactly once, capacities respected."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shikaku.domain.errors import DomainError
from shikaku.domain.packing import PlannedContainer, pack_households


def test_small_parcel_is_one_envelope() -> None:
    assert pack_households([1, 3, 2], 30, 500) == (PlannedContainer("envelope", 1, 6),)


def test_large_parcel_fills_boxes_and_puts_a_small_remainder_in_an_envelope() -> None:
    plan = pack_households([4] * 130, 30, 500)  # 520 pieces
    assert plan == (PlannedContainer("box", 1, 500), PlannedContainer("envelope", 501, 520))


def test_a_large_remainder_gets_a_box_of_its_own() -> None:
    plan = pack_households([5] * 110, 30, 500)  # 550 pieces
    assert [c.kind for c in plan] == ["box", "box"]
    assert [c.pieces for c in plan] == [500, 50]


def test_households_are_never_split() -> None:
    plan = pack_households([3] * 10 + [4], 30, 32)  # 34 pieces, boxes of 32
    assert plan[0] == PlannedContainer("box", 1, 30)  # the 4-piece household would not fit


@pytest.mark.parametrize(
    ("sizes", "env", "box"), [([1], 0, 5), ([1], 5, 4), ([6], 2, 5), ([0], 2, 5)]
)
def test_impossible_plans_are_refused(sizes: list[int], env: int, box: int) -> None:
    with pytest.raises(DomainError):
        pack_households(sizes, env, box)


@given(
    st.lists(st.integers(1, 8), max_size=300),
    st.integers(1, 40),
    st.integers(8, 600),
)
def test_every_piece_exactly_once_within_capacity(sizes: list[int], env: int, extra: int) -> None:
    box = max(env, extra)
    plan = pack_households(sizes, env, box)
    pieces = [p for c in plan for p in range(c.first_piece, c.last_piece + 1)]
    assert pieces == list(range(1, sum(sizes) + 1))
    bounds = {0}
    for size in sizes:
        bounds.add(max(bounds) + size)
    for c in plan:
        assert c.first_piece - 1 in bounds and c.last_piece in bounds  # whole households
        assert c.pieces <= (env if c.kind == "envelope" else box)

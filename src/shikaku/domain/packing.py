"""How an employer's individual envelopes go into outer envelopes and boxes (DOMAIN.md §2).

A household (an insured person's envelope and their dependents') is never split across
containers: the employer hands them out together. Small parcels fit one outer envelope;
larger ones fill boxes, and a remainder small enough for an envelope goes in one.
Capacities are settings (pieces per container), so the plan is data in, data out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from shikaku.domain.errors import DomainError

ContainerKind = Literal["envelope", "box"]


@dataclass(frozen=True, slots=True)
class PlannedContainer:
    kind: ContainerKind
    first_piece: int  # 1-based, inclusive
    last_piece: int

    @property
    def pieces(self) -> int:
        return self.last_piece - self.first_piece + 1


def pack_households(
    household_sizes: Sequence[int], envelope_capacity: int, box_capacity: int
) -> tuple[PlannedContainer, ...]:
    """Containers in order, each holding whole households, pieces numbered in print order."""
    if envelope_capacity < 1 or box_capacity < envelope_capacity:
        raise DomainError(
            "容量の設定が不正です (外封筒 ≥ 1, 箱 ≥ 外封筒)",
            "capacities must satisfy 1 <= envelope <= box",
        )
    if any(size < 1 for size in household_sizes):
        raise DomainError("空の世帯があります", "a household without pieces")
    if max(household_sizes, default=0) > box_capacity:
        raise DomainError(
            "1世帯の通数が箱の容量を超えています", "a household exceeds the box capacity"
        )
    if not household_sizes:
        return ()
    containers: list[PlannedContainer] = []
    first = 1
    filled = 0
    for size in household_sizes:
        if filled + size > box_capacity:
            containers.append(PlannedContainer("box", first, first + filled - 1))
            first += filled
            filled = 0
        filled += size
    # The remainder (a whole small parcel too): an envelope when it fits one.
    kind: ContainerKind = "envelope" if filled <= envelope_capacity else "box"
    containers.append(PlannedContainer(kind, first, first + filled - 1))
    return tuple(containers)

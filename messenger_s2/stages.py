"""What differs between the stages S1, S2 and S3: start cells, movement variants, step limits.

A stage is plain data (:class:`Stage`); the rules that act on it live in ``episode.py`` (setting
up an episode), ``game.py`` and ``batch.py`` (playing it).  Numbers are the reference's
(messenger-emma), see the module constants below.
"""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass

from messenger_s2.entities import MOVEMENTS

CH, FL, IM = MOVEMENTS  # chaser, fleeing, immovable

#: roles of the NPC slots, in the order the reference updates them
SLOT_ROLES: tuple[str, ...] = ("enemy", "message", "goal", "decoy_message", "decoy_goal")

_PERMUTATIONS: tuple[tuple[str, str, str], ...] = tuple(
    itertools.permutations((CH, FL, IM)))  # type: ignore[arg-type]

# S3: for each (enemy, message, goal) movement permutation, the three (decoy message, decoy goal)
# settings that follow the reference's rule: the decoy message never moves like the message,
# the decoy goal never like the goal, and the two decoys never both move like the enemy.
_S3_DECOYS: dict[tuple[str, str, str], tuple[tuple[str, str], ...]] = {
    (CH, FL, IM): ((CH, FL), (IM, FL), (IM, CH)),
    (CH, IM, FL): ((CH, IM), (FL, CH), (FL, IM)),
    (FL, CH, IM): ((FL, CH), (IM, CH), (IM, FL)),
    (FL, IM, CH): ((CH, FL), (CH, IM), (FL, IM)),
    (IM, CH, FL): ((FL, IM), (FL, CH), (IM, CH)),
    (IM, FL, CH): ((CH, FL), (CH, IM), (IM, FL)),
}


@dataclass(frozen=True)
class Stage:
    """One stage of Messenger.

    ``variants`` are the movement types of the NPC slots (enemy, message, goal[, decoy message,
    decoy goal]) that a training, val or test-se episode draws from; ``test_variants`` those of
    the test split (only S2 differs: its test split has unseen dynamics).
    """

    name: str
    max_steps: int
    #: (row, col) cells shared by the avatar and the NPCs, assigned by a random permutation
    start_cells: tuple[tuple[int, int], ...]
    #: the avatar's fixed start cell (S1), or None when it takes a cell of ``start_cells``
    avatar_cell: tuple[int, int] | None
    variants: tuple[tuple[str, ...], ...]
    test_variants: tuple[tuple[str, ...], ...]
    #: chance that the avatar starts with the message (S1 only)
    p_start_carrying: float = 0.0
    #: S1 is one-hop: touching the message wins at once
    pickup_wins: bool = False
    splits: tuple[str, ...] = ("train", "train-mc", "train-sc", "val", "test")

    @property
    def n_slots(self) -> int:
        return len(self.variants[0])

    @functools.cached_property
    def moves(self) -> bool:
        """Whether any NPC can move, so that play steps draw random numbers."""
        return any(m != IM for v in self.variants + self.test_variants for m in v)


S1 = Stage("S1", max_steps=4, start_cells=((3, 5), (5, 3), (5, 7), (7, 5)), avatar_cell=(5, 5),
           variants=((IM, IM, IM),), test_variants=((IM, IM, IM),), p_start_carrying=0.2,
           pickup_wins=True)
S2 = Stage("S2", max_steps=64, start_cells=((2, 2), (2, 7), (7, 2), (7, 7)), avatar_cell=None,
           variants=_PERMUTATIONS, test_variants=tuple(itertools.product((CH, FL, IM), repeat=3)),
           splits=("train", "train-mc", "train-sc", "val", "test", "test-se"))
S3 = Stage("S3", max_steps=128,
           start_cells=((1, 2), (1, 8), (4, 5), (6, 1), (6, 9), (9, 5)), avatar_cell=None,
           variants=tuple((*base, *decoys) for base in _PERMUTATIONS
                          for decoys in _S3_DECOYS[base]),
           test_variants=tuple((*base, *decoys) for base in _PERMUTATIONS
                               for decoys in _S3_DECOYS[base]))

STAGES: dict[str, Stage] = {"S1": S1, "S2": S2, "S3": S3}


def get_stage(stage: str | int) -> Stage:
    """``"S2"``, ``"s2"`` or ``2``: the stage, or a ValueError naming the valid ones."""
    key = f"S{stage}" if isinstance(stage, int) and not isinstance(stage, bool) else stage
    if isinstance(key, str) and key.upper() in STAGES:
        return STAGES[key.upper()]
    raise ValueError(f"unknown stage {stage!r}; valid stages: {list(STAGES)} (or 1, 2, 3)")


def check_split(stage: Stage, split: str) -> str:
    """The split if the stage has it, else a ValueError naming the stage's splits."""
    if split not in stage.splits:
        raise ValueError(f"unknown split {split!r} for Messenger {stage.name}; valid splits: "
                         f"{list(stage.splits)}")
    return split


def text_split(split: str) -> str:
    """Which text file a game split reads its sentences from."""
    return {"val": "val", "test": "test", "test-se": "test"}.get(split, "train")

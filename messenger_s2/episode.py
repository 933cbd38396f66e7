"""Setting up one Messenger episode: the game, the movement variant, start cells and the manual.

:func:`new_episode` is the only place an episode's start is drawn.  The single env
(``game.py``) and the batched env (``batch.py``) both call it with the env's seeded stream, so
they start identical episodes from identical seeds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from langstream.sampling import Uniform, UniformStream, choice, sample, shuffle
from messenger_s2.entities import ENTITY_ID, MOVEMENTS, UNITS_PER_CELL, UNKNOWN
from messenger_s2.stages import SLOT_ROLES, Stage, text_split
from messenger_s2.texts import Sentence, TextSource, Triple

#: chance that an S2 manual sentence says nothing about movement (the reference's 0.15)
P_UNKNOWN_MOVEMENT = 0.15
EPISODE_BLOCK = 32  # draws fetched from the generator at once (an episode start needs 10-30)


@dataclass
class Episode:
    """The start of an episode, as plain data.

    NPC slots are in the reference's update order: enemy, message, goal and, in S3, decoy
    message and decoy goal.  Positions are in half-cell units (row, col).
    """

    game: Triple
    symbols: tuple[int, ...]
    movements: tuple[str, ...]
    positions: tuple[tuple[int, int], ...]
    avatar: tuple[int, int]
    carrying: bool
    manual: tuple[str, ...]
    #: the manual's token ids, sentence after sentence
    tokens: tuple[int, ...]
    #: for each token, the index of its sentence in ``manual``
    token_sentence: tuple[int, ...]

    @property
    def roles(self) -> dict[str, str]:
        """Ground truth for analysis: slot role -> entity name (a new dict each call)."""
        return dict(zip(SLOT_ROLES, (*self.game, self.game[1], self.game[2])[:len(self.symbols)]))

    @property
    def movement_of(self) -> dict[str, str]:
        """Ground truth for analysis: slot role -> movement type (a new dict each call)."""
        return dict(zip(SLOT_ROLES, self.movements))


def draw_game(rng: Uniform, games: dict[str, tuple[Triple, ...]], split: str,
              p_multi: float) -> Triple:
    """One (enemy, message, goal) triple; ``train`` mixes train_mc (``p_multi``) and train_sc."""
    if split == "train":
        split = "train-mc" if rng.random() < p_multi else "train-sc"
    key = {"train-mc": "train_mc", "train-sc": "train_sc", "test-se": "test"}.get(split, split)
    return choice(rng, games[key])


def draw_manual(rng: Uniform, stage: Stage, texts: TextSource, split: str, game: Triple,
                movements: tuple[str, ...]) -> list[Sentence]:
    """The manual's sentences (text, token ids) in reading order, by the reference's
    construction rules."""
    tsplit = text_split(split)
    enemy, message, goal = game
    if stage.name == "S1":
        # Static entities: each role's sentence comes from its immovable and unknown pools.
        lines = [texts.sample(rng, tsplit, entity, role, ("immovable", UNKNOWN))
                 for entity, role in zip(game, ("enemy", "message", "goal"))]
    elif stage.name == "S2":
        lines = []
        for entity, role, movement in zip(game, ("enemy", "message", "goal"), movements):
            if rng.random() < P_UNKNOWN_MOVEMENT:
                movement = UNKNOWN
            lines.append(texts.sample(rng, tsplit, entity, role, (movement,)))
    else:
        lines = [texts.sample(rng, tsplit, entity, role, (movement,)) for entity, role, movement
                 in zip(game, ("enemy", "message", "goal"), movements)]
        # The decoys are described as enemies that move like the decoys do.
        lines.append(texts.sample(rng, tsplit, message, "enemy", (movements[3],)))
        lines.append(texts.sample(rng, tsplit, goal, "enemy", (movements[4],)))
        # A distractor: the enemy entity in another role, moving some other way.
        fake_movement = choice(rng, [m for m in MOVEMENTS if m != movements[0]])
        for role in shuffle(rng, ("message", "goal")):
            if texts.has(tsplit, enemy, role, fake_movement):
                lines.append(texts.sample(rng, tsplit, enemy, role, (fake_movement,)))
                break
        else:
            raise ValueError(f"texts {texts.name!r} have no {fake_movement} message or goal "
                             f"sentence for {enemy}, which an S3 distractor needs")
    return shuffle(rng, lines)


def new_episode(rng: Uniform, stage: Stage, texts: TextSource, split: str,
                p_multi: float) -> Episode:
    """Draw the start of an episode (every draw from ``rng``, in a fixed order)."""
    game = draw_game(rng, texts.games, split, p_multi)
    variants = stage.test_variants if split == "test" else stage.variants
    movements = choice(rng, variants)
    symbols = tuple(ENTITY_ID[name] for name in (*game, game[1], game[2])[:stage.n_slots])
    n = stage.n_slots
    if stage.avatar_cell is None:
        cells = shuffle(rng, stage.start_cells)
        avatar_cell, npc_cells = cells[0], cells[1:n + 1]
    else:
        avatar_cell, npc_cells = stage.avatar_cell, sample(rng, stage.start_cells, n)
    carrying = stage.p_start_carrying > 0 and rng.random() < stage.p_start_carrying
    manual = draw_manual(rng, stage, texts, split, game, movements)
    tokens: list[int] = []
    token_sentence: list[int] = []
    for i, (_, ids) in enumerate(manual):
        tokens.extend(ids)
        token_sentence.extend([i] * len(ids))
    u = UNITS_PER_CELL
    return Episode(game=game, symbols=symbols, movements=movements,
                   positions=tuple((r * u, c * u) for r, c in npc_cells),
                   avatar=(avatar_cell[0] * u, avatar_cell[1] * u), carrying=carrying,
                   manual=tuple(text for text, _ in manual), tokens=tuple(tokens),
                   token_sentence=tuple(token_sentence))


def start_episode(rng: np.random.Generator, stage: Stage, texts: TextSource, split: str,
                  p_multi: float) -> Episode:
    """:func:`new_episode` drawn from the env's generator (what both engines call)."""
    return new_episode(UniformStream(rng, EPISODE_BLOCK), stage, texts, split, p_multi)

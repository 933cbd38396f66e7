"""What Messenger's JAX twin looks up, built once per env as numpy arrays (no JAX needed here).

The numpy engine draws a manual sentence by walking Python tuples (``grammar.py``'s frames and
fillings, or the human texts' pools); the JAX twin (``jax_engine.py``) makes the same draws by
indexing arrays.  This module lays those tuples out flat, in the very order the numpy engine
draws from, together with the game splits, the movement variants, the start cells and the
sprites at the observation's cell size.

Indices used throughout: entities 0-11 in the order of ``entities.ENTITIES`` (symbol - 2), roles
0-2 (enemy, message, goal), movements 0-3 (chaser, fleeing, immovable, unknown).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from messenger_s2 import grammar
from messenger_s2.entities import (
    DRAWN_SYMBOLS,
    ENTITIES,
    MOVEMENTS,
    N_SYMBOLS,
    ROLES,
    TEXT_MOVEMENTS,
)
from messenger_s2.render import Board
from messenger_s2.rules import MOVE_CODE
from messenger_s2.sprites import BACKGROUND, symbol_sprite
from messenger_s2.stages import Stage, text_split
from messenger_s2.texts import GeneratedTexts, TextsError, TextSource

#: the movement sets a stage's manual draws a sentence from: one movement, or S1's union
MOVEMENT_SETS: tuple[tuple[str, ...], ...] = (*((m,) for m in TEXT_MOVEMENTS),
                                              ("immovable", "unknown"))
S1_MOVEMENTS = len(TEXT_MOVEMENTS)  # index of S1's set in MOVEMENT_SETS


def _padded(rows: Sequence[Sequence[int]], width: int | None = None) -> tuple[np.ndarray,
                                                                               np.ndarray]:
    """Rows of token ids as a zero-padded int32 array and their lengths."""
    width = max([len(r) for r in rows] + [1]) if width is None else width
    out = np.zeros((len(rows), width), np.int32)
    for i, r in enumerate(rows):
        out[i, :len(r)] = r
    return out, np.array([len(r) for r in rows], np.int32)


@dataclass(frozen=True, eq=False)
class GrammarTables:
    """The project grammar's sentences of one text split, flat.

    A sentence is drawn as frame -> filling -> synonym (``grammar.sample_parts``): the frames
    that can say (role r, movement m) are ``frame_start[r, m] + range(n_frames[r, m])``; frame
    f's fillings ``fill_start[f] + range(n_fills[f])``; a filling's tokens before and after the
    name are ``before``/``after`` (lengths ``*_len``); entity e's synonyms
    ``names[e, :n_names[e]]``.
    ``pool_size[e, r, m]`` weighs a pool in S1's draw over two of them.
    """

    frame_start: np.ndarray
    n_frames: np.ndarray
    fill_start: np.ndarray
    n_fills: np.ndarray
    before: np.ndarray
    before_len: np.ndarray
    after: np.ndarray
    after_len: np.ndarray
    names: np.ndarray
    name_len: np.ndarray
    n_names: np.ndarray
    pool_size: np.ndarray

    @property
    def sentence_width(self) -> int:
        return self.before.shape[1] + self.names.shape[2] + self.after.shape[1]

    @classmethod
    def build(cls, texts: GeneratedTexts, split: str) -> GrammarTables:
        frame_start = np.zeros((len(ROLES), len(TEXT_MOVEMENTS)), np.int32)
        n_frames = np.zeros_like(frame_start)
        fill_start: list[int] = []
        fillings: list[str] = []
        for r, role in enumerate(ROLES):
            for m, movement in enumerate(TEXT_MOVEMENTS):
                frames = grammar.frame_fillings(split, role, movement)
                frame_start[r, m], n_frames[r, m] = len(fill_start), len(frames)
                for frame in frames:
                    fill_start.append(len(fillings))
                    fillings.extend(frame)
        parts = [texts.filling_ids(f) for f in fillings]
        before, before_len = _padded([p[0] for p in parts])
        after, after_len = _padded([p[1] for p in parts])
        synonyms = [grammar.SYNONYMS[e] for e in ENTITIES]
        width = max(len(texts.name_ids(n)) for names in synonyms for n in names)
        most = max(map(len, synonyms))
        names = np.zeros((len(ENTITIES), most, width), np.int32)
        name_len = np.zeros((len(ENTITIES), most), np.int32)
        for e, entity_names in enumerate(synonyms):
            rows, lens = _padded([texts.name_ids(n) for n in entity_names], width)
            names[e, :len(rows)], name_len[e, :len(rows)] = rows, lens
        pool_size = np.array([[[texts.pool_size(split, e, r, m) for m in TEXT_MOVEMENTS]
                               for r in ROLES] for e in ENTITIES], np.int32)
        n_fills = np.diff(np.array([*fill_start, len(fillings)], np.int32))
        return cls(frame_start, n_frames, np.array(fill_start, np.int32), n_fills, before,
                   before_len, after, after_len, names, name_len,
                   np.array(list(map(len, synonyms)), np.int32), pool_size)


@dataclass(frozen=True, eq=False)
class BankTables:
    """Human-written sentences of one text split, encoded: the sentences about entity e as role
    r from movement set k (:data:`MOVEMENT_SETS`) are rows ``start[e, r, k] + range(count[e, r,
    k])`` of ``tokens`` (lengths ``length``), in the order ``HumanTexts.sample`` chooses from."""

    tokens: np.ndarray
    length: np.ndarray
    start: np.ndarray
    count: np.ndarray

    @property
    def sentence_width(self) -> int:
        return self.tokens.shape[1]

    @classmethod
    def build(cls, texts: TextSource, split: str) -> BankTables:
        shape = (len(ENTITIES), len(ROLES), len(MOVEMENT_SETS))
        start, count = np.zeros(shape, np.int32), np.zeros(shape, np.int32)
        rows: list[tuple[int, ...]] = []
        for e, entity in enumerate(ENTITIES):
            for r, role in enumerate(ROLES):
                for k, movements in enumerate(MOVEMENT_SETS):
                    pool = [texts.encode(s) for m in movements
                            for s in texts.pool(split, entity, role, m)]  # type: ignore[attr-defined]
                    start[e, r, k], count[e, r, k] = len(rows), len(pool)
                    rows.extend(pool)
        tokens, length = _padded(rows)
        return cls(tokens, length, start, count)


@dataclass(frozen=True, eq=False)
class Tables:
    """Everything one Messenger env's JAX twin looks up (see the module docstring)."""

    stage: Stage
    split: str
    p_multi: float
    #: entity indices (enemy, message, goal) of the split's games: one table, or for "train"
    #: (train_mc, train_sc)
    games: tuple[np.ndarray, ...]
    variants: np.ndarray  # (variant, slot) movement codes
    start_cells: np.ndarray  # (cell, 2)
    grammar: GrammarTables | None
    bank: BankTables | None
    n_sentences: int
    max_tokens: int  # an upper bound on a manual's tokens
    sprites: np.ndarray  # (symbol, cell, cell, 4) RGBA, zero for symbols never drawn
    empty_image: np.ndarray
    cell: int
    margin: int

    @classmethod
    def build(cls, stage: Stage, texts: TextSource, split: str, p_multi: float,
              board: Board) -> Tables:
        keys = {"train": ("train_mc", "train_sc"), "train-mc": ("train_mc",),
                "train-sc": ("train_sc",), "test-se": ("test",)}.get(split, (split,))
        games = tuple(np.array([[ENTITIES.index(name) for name in game]
                                for game in texts.games[key]], np.int32) for key in keys)
        variants = stage.test_variants if split == "test" else stage.variants
        tsplit = text_split(split)
        if isinstance(texts, GeneratedTexts):
            grammar_tables, bank = GrammarTables.build(texts, tsplit), None
            width = grammar_tables.sentence_width
        else:
            grammar_tables, bank = None, BankTables.build(texts, tsplit)
            width = bank.sentence_width
            _check_pools(bank, stage, games, variants)
        n_sentences = {"S1": 3, "S2": 3, "S3": 6}[stage.name]
        sprites = np.zeros((N_SYMBOLS, board.cell, board.cell, 4), np.uint8)
        for symbol in DRAWN_SYMBOLS:
            sprites[symbol] = symbol_sprite(symbol, board.cell)
        assert (board.tiles[0] == BACKGROUND).all()
        return cls(stage, split, p_multi, games,
                   np.array([[MOVE_CODE[m] for m in v] for v in variants], np.int32),
                   np.array(stage.start_cells, np.int32), grammar_tables, bank, n_sentences,
                   n_sentences * width, sprites, board.empty_image.copy(), board.cell,
                   board.margin)


def _check_pools(bank: BankTables, stage: Stage, games: tuple[np.ndarray, ...],
                 variants: tuple[tuple[str, ...], ...]) -> None:
    """Raise a TextsError naming the first pool an episode could draw from that holds no
    sentence.  The numpy engine finds such a gap only when an episode draws it; the twin, which
    cannot raise inside ``jit``, checks every reachable pool when it is built."""
    needed: set[tuple[int, int, int]] = set()  # (entity, role, movement set)
    for table in games:
        for enemy, message, goal in table.tolist():
            game = (enemy, message, goal)
            if stage.name == "S1":
                needed.update((game[r], r, S1_MOVEMENTS) for r in range(3))
                continue
            for variant in variants:
                moves = [TEXT_MOVEMENTS.index(m) for m in variant]
                needed.update((game[r], r, moves[r]) for r in range(3))
                if stage.name == "S2":  # a sentence may leave the movement unsaid
                    needed.update((game[r], r, TEXT_MOVEMENTS.index("unknown")) for r in range(3))
                else:  # the decoys, described as enemies, and the distractor
                    needed.update({(message, 0, moves[3]), (goal, 0, moves[4])})
                    for m in range(len(MOVEMENTS)):
                        if m != moves[0] and not bank.count[enemy, 1:3, m].any():
                            raise TextsError(
                                f"the texts have no {MOVEMENTS[m]} message or goal sentence for "
                                f"{ENTITIES[enemy]}, which an S3 distractor needs")
    for entity, role, k in sorted(needed):
        if not bank.count[entity, role, k]:
            raise TextsError(f"the texts have no sentence for {ENTITIES[entity]} as "
                             f"{ROLES[role]} with movement {' or '.join(MOVEMENT_SETS[k])}, "
                             f"which this game needs")

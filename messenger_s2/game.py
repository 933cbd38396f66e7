"""One Messenger episode, step by step, in plain Python (the single environment's engine).

A play step runs the reference's tick order, each rule from ``rules.py``: the NPCs move
(:func:`npc_move`, against the avatar's position from before its move), the avatar moves, the
contacts give one outcome (:func:`resolve_contact`), and the time limit may turn it into a loss
(:func:`apply_time_limit`).  Read steps only advance the manual (:func:`still_reading`).

Random draws: the episode's start comes from a :class:`UniformStream` on the env's generator;
movement uses one draw per NPC slot per play step, read from blocks of :data:`MOTION_BLOCK`
draws of the same generator, each block fetched as soon as the previous one is spent.
``batch.py`` follows exactly this schedule, so the batched env replays the single env.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from langstream import PAD_ID
from messenger_s2.entities import (
    ACTION_DELTAS,
    AVATAR,
    AVATAR_WITH_MESSAGE,
    GRID_SIZE,
    MAX_UNIT,
    N_SYMBOLS,
    UNITS_PER_CELL,
)
from messenger_s2.episode import Episode, start_episode
from messenger_s2.render import Board, captioned_frame, status_line
from messenger_s2.rules import (
    IMMOVABLE,
    MOTION_BLOCK,
    MOVE_CODE,
    PICKUP,
    Outcome,
    apply_time_limit,
    is_read_step,
    motion_block,
    npc_move,
    resolve_contact,
    still_reading,
    touching,
)
from messenger_s2.stages import Stage
from messenger_s2.texts import TextSource


class Game:
    """The rules of one environment instance; owns the image and grid it updates in place."""

    def __init__(self, stage: Stage, texts: TextSource, split: str, p_multi: float,
                 board: Board):
        self.stage, self.texts, self.split, self.p_multi = stage, texts, split, p_multi
        self.board = board
        self.image = np.empty(board.shape, np.uint8)
        self.grid = np.empty((GRID_SIZE, GRID_SIZE, N_SYMBOLS), np.uint8)
        self.ep: Episode | None = None  # None until the first reset
        self._motion: list[int] = []  # empty: fetch a block at the next reset
        self._motion_next = 0

    def seed(self) -> None:
        """Forget buffered movement draws (the env was re-seeded)."""
        self._motion = []

    def _refill_motion(self) -> None:
        # Refilled as soon as a block is spent (and on seeding), so the generator is called at
        # the same points in every engine.
        if self.stage.moves:
            self._motion, self._motion_next = motion_block(self.rng).tolist(), 0

    # ------------------------------------------------------------------ episode start
    def reset(self, rng: np.random.Generator) -> tuple[int, int, dict[str, Any]]:
        """Start an episode; returns (token, is_read_step, info) of the first observation."""
        self.rng = rng
        if not self._motion:
            self._refill_motion()
        ep = self.ep = start_episode(rng, self.stage, self.texts, self.split, self.p_multi)
        self.pos = [list(p) for p in ep.positions]
        self.alive = [True] * len(ep.symbols)
        self.moves = [MOVE_CODE[m] for m in ep.movements]
        self.avatar = list(ep.avatar)
        self.carrying = ep.carrying
        self.t = 0  # play steps taken (read steps do not count)
        self.shown = 0  # index of the manual token in the current observation
        self.done = False
        self.board.draw(self.image, self.grid, self._occupied())
        token, text = self._token()
        return token, self._is_read_step(), self._info(text, "", False, False)

    def arrange(self, positions: Sequence[tuple[int, int]], avatar: tuple[int, int], *,
                movements: Sequence[str] | None = None, carrying: bool = False,
                skip_reading: bool = True) -> None:
        """Set up a board by hand (for tests and demonstrations), in half-cell units.

        ``positions`` are the NPC slots' (row, col) in the reference's slot order (enemy,
        message, goal[, decoy message, decoy goal]); ``movements`` optionally overrides their
        movement types.  With ``skip_reading`` the manual counts as read.
        """
        if self.ep is None:
            raise RuntimeError("call reset() before arrange()")
        ep = self.ep
        if len(positions) != len(ep.symbols):
            raise ValueError(f"{self.stage.name} has {len(ep.symbols)} NPC slots, "
                             f"got {len(positions)} positions")
        for r, c in (*positions, avatar):
            if not (0 <= r <= MAX_UNIT and 0 <= c <= MAX_UNIT):
                raise ValueError(f"position {(r, c)} is off the board (units 0..{MAX_UNIT})")
        self.pos = [list(p) for p in positions]
        self.avatar = list(avatar)
        self.alive = [True] * len(positions)
        if movements is not None:
            self.moves = [MOVE_CODE[m] for m in movements]
        self.carrying = carrying
        if skip_reading:
            self.shown = len(ep.tokens)
        self.board.draw(self.image, self.grid, self._occupied())

    @property
    def reading(self) -> bool:
        """True while the next action is ignored: more of the manual is still to come.

        The observation that shows the manual's last token is still a read step (flag 1, the
        board frozen), but the action taken on it counts, as in Dynalang's reading phase.
        """
        return bool(still_reading(self.shown, len(self.episode.tokens)))

    @property
    def episode(self) -> Episode:
        """The episode being played (a RuntimeError before the first reset)."""
        if self.ep is None:
            raise RuntimeError("call reset() first")
        return self.ep

    def _is_read_step(self) -> int:
        return int(is_read_step(self.shown, len(self.episode.tokens)))

    def _token(self) -> tuple[int, str]:
        ep = self.episode
        if self.shown < len(ep.tokens):
            return ep.tokens[self.shown], ep.manual[ep.token_sentence[self.shown]]
        return PAD_ID, ""

    def _occupied(self) -> dict[tuple[int, int], int]:
        """Cell -> bitmask of the symbols standing there."""
        cells: dict[tuple[int, int], int] = {}
        for (r, c), symbol, alive in zip(self.pos, self.episode.symbols, self.alive):
            if alive:
                key = (r // UNITS_PER_CELL, c // UNITS_PER_CELL)
                cells[key] = cells.get(key, 0) | 1 << symbol
        key = (self.avatar[0] // UNITS_PER_CELL, self.avatar[1] // UNITS_PER_CELL)
        cells[key] = cells.get(key, 0) | 1 << self.avatar_symbol
        return cells

    @property
    def avatar_symbol(self) -> int:
        return AVATAR_WITH_MESSAGE if self.carrying else AVATAR

    # ------------------------------------------------------------------ play
    def step(self, action: int) -> tuple[int, int, float, bool, bool, dict[str, Any]]:
        """(token, is_read_step, reward, terminated, truncated, info) after ``action``."""
        if self.reading:
            self.shown += 1
            token, text = self._token()
            return (token, self._is_read_step(), 0.0, False, False,
                    self._info(text, "", False, False))
        self.shown = len(self.episode.tokens)  # from now on: pad

        before = self._cells()
        self._move_npcs()
        dr, dc = ACTION_DELTAS[action]
        a = self.avatar
        a[0] = min(max(a[0] + dr * UNITS_PER_CELL, 0), MAX_UNIT)
        a[1] = min(max(a[1] + dc * UNITS_PER_CELL, 0), MAX_UNIT)
        outcome = self._contact()
        self.t += 1
        reward, terminated, truncated, success, event = apply_time_limit(
            outcome, self.t, self.stage.max_steps)
        self.done = terminated or truncated
        self._redraw(before, picked_up=outcome is PICKUP)
        # A truncation here is always the step limit, which the game scores as a loss.
        return (PAD_ID, 0, reward, terminated, truncated,
                self._info("", event, success, truncated))

    def _motion_draws(self, k: int) -> list[int]:
        i = self._motion_next
        draws = self._motion[i:i + k]
        self._motion_next = i + k
        if i + k == MOTION_BLOCK:
            self._refill_motion()
        return draws

    def _move_npcs(self) -> None:
        if not self.stage.moves:
            return
        ar, ac = self.avatar
        draws = self._motion_draws(len(self.pos))
        for p, movement, alive, draw in zip(self.pos, self.moves, self.alive, draws):
            if movement == IMMOVABLE or not alive:
                continue
            mr, mc = npc_move(p[0] - ar, p[1] - ac, movement, draw)
            p[0] = min(max(p[0] + mr, 0), MAX_UNIT)
            p[1] = min(max(p[1] + mc, 0), MAX_UNIT)

    def _contact(self) -> Outcome:
        pos, alive, a = self.pos, self.alive, self.avatar
        touch = [live and touching(p, a) for p, live in zip(pos, alive)]
        outcome = resolve_contact(touch, self.carrying, self.stage.pickup_wins)
        if outcome is PICKUP:
            self.carrying = True
            alive[1] = False
        return outcome

    def _cells(self) -> list[tuple[int, int]]:
        u = UNITS_PER_CELL
        return [(p[0] // u, p[1] // u) for p in (*self.pos, self.avatar)]

    def _redraw(self, before: list[tuple[int, int]], picked_up: bool) -> None:
        after = self._cells()
        dirty = {cell for old, new in zip(before, after) if old != new for cell in (old, new)}
        if picked_up:  # the message vanished and the avatar's symbol changed
            dirty.update((after[1], after[-1]))
        if not dirty:
            return
        occupied = self._occupied()
        for r, c in dirty:
            self.board.paint(self.image, self.grid, r, c, occupied.get((r, c), 0))

    # ------------------------------------------------------------------ reporting
    def _info(self, text: str, event: str, success: bool, timeout_loss: bool
              ) -> dict[str, Any]:
        ep = self.episode
        return {"text": text, "events": (event,) if event else (), "success": success,
                "timeout_loss": timeout_loss, "manual": ep.manual, "roles": ep.roles,
                "movements": ep.movement_of}

    def frame(self, board: Board) -> np.ndarray:
        """The whole board drawn with ``board`` (a larger cell size), captioned."""
        token, text = self._token()
        word = self.texts.vocab.decode([token]) if token != PAD_ID else ""
        return captioned_frame(board, self._occupied(), sentence=text, word=word,
                               status=status_line(self.stage.name, self.split, self.t,
                                                  self.stage.max_steps, self.carrying))

"""N Messenger episodes stepped together with array operations (the batched env's engine).

The rules are those of ``rules.py`` (read that and ``game.py`` first): this is the same tick
written over a batch axis.  Positions are packed into one int each, so NPC moves, contacts,
off-board checks and board cells are each one lookup in a table precomputed from the rules'
own functions (:func:`~messenger_s2.rules.npc_move` for the moves,
:func:`~messenger_s2.rules.touching` for contacts).  Contacts are rare (they end an episode or
pick up the message), so the few rows with a touch or a time-out go through
:func:`~messenger_s2.rules.resolve_contact` and :func:`~messenger_s2.rules.apply_time_limit`.
Episode starts come from :func:`start_episode` with each env's own generator and movement draws
follow ``Game``'s block schedule, so row ``i`` replays a single env with the same seed step for
step (tested).

Each step recomputes every cell's content bitmask and repaints only the cells whose bitmask
changed, with one fancy-indexed assignment.
"""

from __future__ import annotations

import numpy as np

from langstream import PAD_ID
from messenger_s2 import rules
from messenger_s2.entities import (
    ACTION_DELTAS,
    AVATAR,
    AVATAR_WITH_MESSAGE,
    GRID_SIZE,
    MAX_UNIT,
    MOVEMENTS,
    N_SYMBOLS,
    UNITS_PER_CELL,
)
from messenger_s2.episode import Episode, start_episode
from messenger_s2.render import Board, captioned_frame, status_line
from messenger_s2.stages import Stage
from messenger_s2.texts import TextSource

MAX_SENTENCES = 6  # S3's manual
# Positions are single ints, row * SPAN + col in half-cell units, so that an offset between two
# entities is one int too and every per-entity rule below is one table lookup.  With SPAN = 37,
# offsets (rows and cols in [-18, 18]) and positions one move off the board stay unambiguous.
SPAN = 2 * MAX_UNIT + 1
_CENTER = MAX_UNIT * SPAN + MAX_UNIT  # index of the zero offset
_AVATAR_STEPS = np.array([dr * UNITS_PER_CELL * SPAN + dc * UNITS_PER_CELL
                          for dr, dc in ACTION_DELTAS], np.int64)
_NO_EVENTS: tuple[str, ...] = ()


def packed(row: int, col: int) -> int:
    """A (row, col) position in units as one int."""
    return row * SPAN + col


def _move_table() -> np.ndarray:
    """The packed step ``rules.npc_move`` picks, for every movement, offset from the avatar
    and draw."""
    span = np.arange(-MAX_UNIT, MAX_UNIT + 1)
    table = np.zeros((len(MOVEMENTS), SPAN * SPAN, rules.DRAW_LEVELS), np.int64)
    for movement in range(len(MOVEMENTS)):
        for dr in span:
            for sc in (-1, 0, 1):  # the rule only sees signs: fill each column block at once
                steps = [packed(*rules.npc_move(int(dr), sc, movement, d))
                         for d in range(rules.DRAW_LEVELS)]
                cols = span[np.sign(span) == sc]
                table[movement, packed(int(dr), cols) + _CENTER] = steps
    return table


def _touch_table() -> np.ndarray:
    """Whether two entities touch, for every packed offset between them (+ _CENTER)."""
    span = range(-MAX_UNIT, MAX_UNIT + 1)
    return np.array([rules.touching((dr, dc), (0, 0)) for dr in span for dc in span])


_MOVES = _move_table()
_TOUCH = _touch_table()


def _board_tables() -> tuple[np.ndarray, np.ndarray]:
    """Whether a packed position (+ _OFF) is on the board, for positions up to one avatar move
    off it; and the board cell of every on-board packed position."""
    rows = np.arange(-UNITS_PER_CELL, MAX_UNIT + UNITS_PER_CELL + 1)
    on_board = np.zeros(packed(rows[-1], rows[-1]) + _OFF + 1, bool)
    cell_of = np.zeros(packed(MAX_UNIT, MAX_UNIT) + 1, np.int64)
    for r in rows.tolist():
        for c in rows.tolist():
            if 0 <= r <= MAX_UNIT and 0 <= c <= MAX_UNIT:
                on_board[packed(r, c) + _OFF] = True
                cell_of[packed(r, c)] = r // UNITS_PER_CELL * GRID_SIZE + c // UNITS_PER_CELL
    return on_board, cell_of


_OFF = UNITS_PER_CELL * SPAN + UNITS_PER_CELL
_ON_BOARD, _CELL_OF = _board_tables()


class BatchGame:
    """State of ``n`` episodes as arrays; images and grids are updated in place."""

    def __init__(self, n: int, stage: Stage, texts: TextSource, split: str, p_multi: float,
                 board: Board):
        self.n, self.stage, self.texts, self.split, self.p_multi = n, stage, texts, split, p_multi
        self.board = board
        s = self.slots = stage.n_slots
        # Packed entity positions (see SPAN); the last entity is the avatar.
        self.pos = np.zeros((n, s + 1), np.int64)
        self.alive = np.zeros((n, s), bool)
        self.moves = np.zeros((n, s), np.int64)  # movement code of each NPC slot
        self.bits = np.zeros((n, s + 1), np.int32)  # 1 << symbol of each entity, 0 once gone
        # Bitmask of the symbols on each cell, all boards end to end.
        self.codes = np.zeros(n * GRID_SIZE * GRID_SIZE, np.int32)
        self.carrying = np.zeros(n, bool)
        self.t = np.zeros(n, np.int32)
        self.shown = np.zeros(n, np.int32)  # index of the manual token being shown
        self.n_tokens = np.zeros(n, np.int32)
        self._alloc_manuals(128)
        self.manuals = np.full((n, MAX_SENTENCES + 1), "", object)
        self.images = np.empty((n, *board.shape), np.uint8)
        self.grids = np.zeros((n, GRID_SIZE, GRID_SIZE, N_SYMBOLS), np.uint8)
        self.images[:] = board.empty_image
        self._lines = board.cell_lines(self.images)
        self._grid_cells = self.grids.view(np.dtype((np.void, N_SYMBOLS)))[..., 0]
        # Movement draws, a block per row, as (play step, slot); motion_next counts play steps.
        self.motion = np.zeros((n, rules.MOTION_BLOCK // s, s), np.int8)
        self.motion_next = np.zeros(n, np.int64)
        self.episodes: list[Episode | None] = [None] * n
        self.rows = np.arange(n)
        self._board_offset = (self.rows * GRID_SIZE * GRID_SIZE)[:, None]
        self._steps = np.zeros((n, s + 1), np.int64)
        self._no_events = np.empty(n, object)
        self._no_events.fill(_NO_EVENTS)
        self._tile_lines = board.tile_lines()
        self._bit_rows = board.bits.view(self._grid_cells.dtype)[:, 0]

    def _alloc_manuals(self, length: int) -> None:
        # One column more than the longest manual: the pad token shown after reading, whose
        # sentence is the empty one in the last column of ``manuals``.
        self.tokens = np.zeros((self.n, length + 1), np.int64)
        self.token_sentence = np.full((self.n, length + 1), MAX_SENTENCES, np.int64)

    # ------------------------------------------------------------------ episode start
    def reset_one(self, i: int, rng: np.random.Generator) -> Episode:
        """Start a new episode in row ``i`` (drawn by the next :meth:`repaint`)."""
        ep = start_episode(rng, self.stage, self.texts, self.split, self.p_multi)
        self.episodes[i] = ep
        self.pos[i] = [r * SPAN + c for r, c in (*ep.positions, ep.avatar)]
        self.alive[i] = True
        self.moves[i] = [rules.MOVE_CODE[m] for m in ep.movements]
        avatar = AVATAR_WITH_MESSAGE if ep.carrying else AVATAR
        self.bits[i] = [1 << s for s in (*ep.symbols, avatar)]
        self.carrying[i] = ep.carrying
        self.t[i] = self.shown[i] = 0
        length = self.n_tokens[i] = len(ep.tokens)
        if length >= self.tokens.shape[1]:
            old_tokens, old_sentences = self.tokens, self.token_sentence
            self._alloc_manuals(2 * length)
            self.tokens[:, :old_tokens.shape[1]] = old_tokens
            self.token_sentence[:, :old_sentences.shape[1]] = old_sentences
        # Only column ``length`` needs the pad: ``shown`` never goes past it.
        self.tokens[i, :length + 1] = (*ep.tokens, 0)
        self.token_sentence[i, :length + 1] = (*ep.token_sentence, MAX_SENTENCES)
        self.manuals[i, :len(ep.manual)] = ep.manual
        # An empty board; repaint() draws the entities, whose cells now differ from ``codes``.
        self.images[i] = self.board.empty_image
        self.grids[i] = 0
        self.codes[i * GRID_SIZE * GRID_SIZE:(i + 1) * GRID_SIZE * GRID_SIZE] = 0
        return ep

    def refill_motion(self, i: int, rng: np.random.Generator) -> None:
        """Fetch row ``i``'s next block of movement draws (when seeded, or once spent)."""
        if self.stage.moves:
            self.motion[i] = rules.motion_block(rng).reshape(self.motion.shape[1:])
            self.motion_next[i] = 0

    # ------------------------------------------------------------------ stepping
    def step(self, actions: np.ndarray, rngs: list[np.random.Generator], skip: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Advance every row not in ``skip``; returns (reward, terminated, truncated, success,
        events), events an object array of tuples of strings."""
        n, s = self.n, self.slots
        reward = np.zeros(n)
        terminated, truncated, success = np.zeros((3, n), bool)  # one allocation, three rows
        events = self._no_events.copy()
        # Rows with more manual to come only read; a row showing its last token plays, and
        # like every row past that shows pad from then on.  (Skipped rows are about to be reset,
        # so advancing them too does no harm.)
        reading = rules.still_reading(self.shown, self.n_tokens)
        self.shown += rules.is_read_step(self.shown, self.n_tokens)
        play = ~(reading | skip)
        if not play.any():
            return reward, terminated, truncated, success, events

        pos, steps = self.pos, self._steps
        if self.stage.moves:
            draws = self._draws(play, rngs)
            offset = pos[:, :s] - pos[:, s:]  # from the avatar's previous position
            offset += _CENTER
            steps[:, :s] = _MOVES[self.moves, offset, draws]
        steps[:, s] = _AVATAR_STEPS[actions]
        moved = pos + steps
        keep = _ON_BOARD[moved + _OFF]  # moves off the board are undone
        keep &= play[:, None]
        np.copyto(pos, moved, where=keep)
        self.t += play

        offset = pos[:, :s] - pos[:, s:]
        offset += _CENTER
        touch = _TOUCH[offset] & self.alive
        for i in np.flatnonzero(touch.any(1) | (self.t >= self.stage.max_steps)):
            if skip[i]:  # an ended episode waiting for its reset
                continue
            outcome = rules.resolve_contact(touch[i].tolist(), bool(self.carrying[i]),
                                      self.stage.pickup_wins)
            if outcome is rules.PICKUP:
                self.carrying[i] = True
                self.alive[i, 1] = False
                self.moves[i, 1] = rules.IMMOVABLE
                self.bits[i, 1] = 0
                self.bits[i, s] = 1 << AVATAR_WITH_MESSAGE
            r, term, trunc, won, event = rules.apply_time_limit(outcome, int(self.t[i]),
                                                          self.stage.max_steps)
            reward[i], terminated[i], truncated[i], success[i] = r, term, trunc, won
            if event:
                events[i] = (event,)
        return reward, terminated, truncated, success, events

    def episode(self, i: int) -> Episode:
        """Row ``i``'s episode (a RuntimeError before its first reset)."""
        ep = self.episodes[i]
        if ep is None:
            raise RuntimeError("call reset() first")
        return ep

    def positions(self, i: int) -> list[list[int]]:
        """Row ``i``'s (row, col) unit positions, NPC slots then the avatar."""
        return [list(divmod(p, SPAN)) for p in self.pos[i].tolist()]

    def frame(self, i: int, board: Board) -> np.ndarray:
        """Row ``i``'s whole board drawn with ``board`` (a larger cell size), captioned, from
        the cell contents of its last :meth:`repaint`."""
        cells = self.codes[i * GRID_SIZE * GRID_SIZE:(i + 1) * GRID_SIZE * GRID_SIZE]
        occupied = {divmod(int(cell), GRID_SIZE): int(cells[cell])
                    for cell in np.flatnonzero(cells)}
        token = int(self.tokens[i, self.shown[i]])
        word = self.texts.vocab.decode([token]) if token != PAD_ID else ""
        return captioned_frame(board, occupied, sentence=self.texts_shown()[i], word=word,
                               status=status_line(self.stage.name, self.split, int(self.t[i]),
                                                  self.stage.max_steps,
                                                  bool(self.carrying[i])))

    def texts_shown(self) -> np.ndarray:
        """The sentence each row is streaming now ("" once read)."""
        return self.manuals[self.rows, self.token_sentence[self.rows, self.shown]]

    def _draws(self, play: np.ndarray, rngs: list[np.random.Generator]) -> np.ndarray:
        """This step's movement draws (one per NPC slot) of every row; only playing rows
        consume them."""
        draws = self.motion[self.rows, self.motion_next]
        self.motion_next += play
        if self.motion_next.max() == self.motion.shape[1]:
            for i in np.flatnonzero(self.motion_next == self.motion.shape[1]).tolist():
                self.refill_motion(i, rngs[i])
        return draws

    def repaint(self) -> None:
        """Bring images and grids up to date: redraw the cells whose content changed."""
        flat = _CELL_OF[self.pos] + self._board_offset
        codes = np.zeros_like(self.codes)
        np.bitwise_or.at(codes, flat, self.bits)  # or, not add: S3 decoys share symbols
        # (Flat indices throughout: np.nonzero on a 2-D array costs ten times more.)
        changed = np.flatnonzero(codes != self.codes)
        if not changed.size:
            return
        self.codes = codes
        board = self.board
        tile = board.indices(codes[changed])
        if len(board.tiles) != len(self._tile_lines):  # new tiles were drawn
            self._tile_lines = board.tile_lines()
            self._bit_rows = board.bits.view(self._grid_cells.dtype)[:, 0]
        env, cell = np.divmod(changed, GRID_SIZE * GRID_SIZE)
        r, c = np.divmod(cell, GRID_SIZE)
        self._lines[env, r, :, c] = self._tile_lines[tile]
        self._grid_cells[env, r, c] = self._bit_rows[tile]

"""Messenger's rules in JAX: pure functions of a state, usable inside ``jit``, ``vmap``, ``scan``.

The same game as the numpy engines (read ``rules.py``, ``episode.py`` and ``game.py`` first),
written over arrays of fixed shape so that it compiles:

* :func:`start` draws an episode from a vector of uniforms exactly as ``episode.new_episode``
  draws it from a stream of ``random()`` calls: game, movement variant, start cells, whether
  the avatar carries the message (S1), the manual's sentences and their order.  Each choice
  reads the next uniform and maps it by ``floor(u * n)``, as ``langstream.sampling`` does, over
  the tables of ``jax_tables.py``, which lay the text pools out in the order the numpy engine
  walks them.  Fed the same uniforms, both engines start the same episode (tested).
* :func:`play` is one step, read or play, with one movement draw in [0, 12) per NPC slot, as
  ``rules.npc_move`` takes it: the same tick order, contacts, outcomes and time limit.
* :func:`observe` is the observation: the token on show, the read flag, the multi-hot grid and
  the pixels, composited from the same sprites with the same integer blending.

:class:`MessengerFuncEnv` wraps them as Gymnasium's ``FuncEnv``, drawing the uniforms from JAX
keys.  What the twin does not carry is text: ``info`` has no sentences, roles or event strings.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from gymnasium import spaces

from langstream.jax_canvas import over
from langstream.jax_env import TwinFuncEnv, twin_observation_space
from langstream.jax_sampling import Draws, choice_index, sample_indices
from messenger_s2 import rules
from messenger_s2.entities import (
    ACTION_DELTAS,
    ACTIONS,
    AVATAR,
    AVATAR_WITH_MESSAGE,
    GRID_SIZE,
    MAX_UNIT,
    N_SYMBOLS,
    TEXT_MOVEMENTS,
    UNITS_PER_CELL,
)
from messenger_s2.episode import P_UNKNOWN_MOVEMENT
from messenger_s2.jax_tables import S1_MOVEMENTS, Tables

UNKNOWN_MOVEMENT = TEXT_MOVEMENTS.index("unknown")
#: the outcomes of a play step, by code
OUTCOMES: tuple[rules.Outcome, ...] = (
    rules.NOTHING, rules.DEATH_ENEMY, rules.DEATH_DECOY, rules.DEATH_GOAL, rules.DEATH_REPICK,
    rules.PICKUP, rules.PICKUP_WIN, rules.WIN)
NOTHING, ENEMY, DECOY, GOAL_EARLY, REPICK, PICKUP, PICKUP_WIN, WIN = range(len(OUTCOMES))
_REWARD = np.array([o[0] for o in OUTCOMES], np.float32)
_TERMINATES = np.array([o[1] for o in OUTCOMES])
_WINS = np.array([o[2] for o in OUTCOMES])
_UNIT_STEPS = np.array(rules.UNIT_STEPS, np.int32)
_AVATAR_STEPS = np.array(ACTION_DELTAS, np.int32) * UNITS_PER_CELL
MAX_UNIFORMS = 64  # more than any episode start takes (S3 with the grammar: 36)


class State(NamedTuple):
    """One episode's state.  NPC slots are in the reference's order (enemy, message, goal[,
    decoy message, decoy goal]); positions are in half-cell units, the avatar's last."""

    pos: jax.Array  # (slots + 1, 2) int32
    symbols: jax.Array  # (slots,) int32
    moves: jax.Array  # (slots,) int32 movement codes (rules.CHASER, ...)
    alive: jax.Array  # (slots,) bool
    carrying: jax.Array  # () bool
    t: jax.Array  # () int32: play steps taken
    shown: jax.Array  # () int32: index of the manual token on show
    n_tokens: jax.Array  # () int32
    tokens: jax.Array  # (max_tokens + 1,) int32: the manual, then pad
    reward: jax.Array  # () float32: of the step that led here
    terminated: jax.Array  # () bool
    truncated: jax.Array  # () bool: the step limit (a loss: info's timeout_loss)
    success: jax.Array  # () bool


# ----------------------------------------------------------------------------- episode start
def _grammar_sentence(T: Tables, d: Draws, entity: jax.Array, role: jax.Array | int,
                      movement: jax.Array | int, union: bool) -> tuple[jax.Array, jax.Array]:
    """``GeneratedTexts.sample``: (tokens padded to the sentence width, length)."""
    g = T.grammar
    assert g is not None
    if union:  # S1: uniform over the immovable and unknown pools together
        sizes = jnp.asarray(g.pool_size)[entity, role, 2:]
        movement = jnp.where(d.random() * sizes.sum() < sizes[0], 2, UNKNOWN_MOVEMENT)
    frame = jnp.asarray(g.frame_start)[role, movement] + choice_index(
        d.random(), jnp.asarray(g.n_frames)[role, movement])
    fill = jnp.asarray(g.fill_start)[frame] + choice_index(d.random(),
                                                          jnp.asarray(g.n_fills)[frame])
    name = choice_index(d.random(), jnp.asarray(g.n_names)[entity])
    lb, la = jnp.asarray(g.before_len)[fill], jnp.asarray(g.after_len)[fill]
    ln = jnp.asarray(g.name_len)[entity, name]
    p = jnp.arange(g.sentence_width)
    before = jnp.asarray(g.before)[fill, jnp.clip(p, 0, g.before.shape[1] - 1)]
    word = jnp.asarray(g.names)[entity, name, jnp.clip(p - lb, 0, g.names.shape[2] - 1)]
    after = jnp.asarray(g.after)[fill, jnp.clip(p - lb - ln, 0, g.after.shape[1] - 1)]
    tokens = jnp.where(p < lb, before, jnp.where(p < lb + ln, word,
                                                 jnp.where(p < lb + ln + la, after, 0)))
    return tokens, lb + ln + la


def _bank_sentence(T: Tables, d: Draws, entity: jax.Array, role: jax.Array | int,
                   movement_set: jax.Array | int) -> tuple[jax.Array, jax.Array]:
    """``HumanTexts.sample``: one sentence of the pool, uniformly."""
    b = T.bank
    assert b is not None
    row = jnp.asarray(b.start)[entity, role, movement_set] + choice_index(
        d.random(), jnp.asarray(b.count)[entity, role, movement_set])
    return jnp.asarray(b.tokens)[row], jnp.asarray(b.length)[row]


def _sentence(T: Tables, d: Draws, entity: jax.Array, role: jax.Array | int,
              movement: jax.Array | int, union: bool = False) -> tuple[jax.Array, jax.Array]:
    """A sentence about ``entity`` as ``role`` moving like ``movement`` (S1: ``union`` of the
    immovable and unknown pools), padded to the widest sentence."""
    if T.grammar is not None:
        return _grammar_sentence(T, d, entity, role, movement, union)
    return _bank_sentence(T, d, entity, role, S1_MOVEMENTS if union else movement)


def _manual(T: Tables, d: Draws, game: jax.Array, movements: jax.Array
            ) -> tuple[jax.Array, jax.Array]:
    """``episode.draw_manual``: the sentences as (tokens, lengths), in reading order."""
    stage = T.stage.name
    lines = []
    if stage == "S1":
        lines = [_sentence(T, d, game[r], r, 2, union=True) for r in range(3)]
    elif stage == "S2":
        for r in range(3):
            movement = jnp.where(d.random() < P_UNKNOWN_MOVEMENT, UNKNOWN_MOVEMENT,
                                 movements[r])
            lines.append(_sentence(T, d, game[r], r, movement))
    else:
        lines = [_sentence(T, d, game[r], r, movements[r]) for r in range(3)]
        lines.append(_sentence(T, d, game[1], 0, movements[3]))  # decoys: enemies
        lines.append(_sentence(T, d, game[2], 0, movements[4]))
        # The distractor: the enemy as message or goal, moving one of the other two ways.
        other = jnp.array([[1, 2], [0, 2], [0, 1]], jnp.int32)[movements[0]]
        fake = other[choice_index(d.random(), 2)]
        roles = 1 + sample_indices(d, 2, 2)
        if T.grammar is not None:  # every grammar pool has sentences: the first role
            role = roles[0]
        else:
            assert T.bank is not None
            role = jnp.where(jnp.asarray(T.bank.count)[game[0], roles[0], fake] > 0, roles[0],
                             roles[1])
        lines.append(_sentence(T, d, game[0], role, fake))
    order = sample_indices(d, len(lines), len(lines))
    tokens = jnp.stack([t for t, _ in lines])[order]
    lengths = jnp.stack([n for _, n in lines])[order]
    return tokens, lengths


def _concatenate(T: Tables, tokens: jax.Array, lengths: jax.Array) -> jax.Array:
    """Sentences end to end, padded to ``max_tokens + 1`` (at least one pad at the end)."""
    ends = jnp.cumsum(lengths)
    p = jnp.arange(T.max_tokens + 1)
    k = jnp.searchsorted(ends, p, side="right")
    inside = k < len(lengths)
    k = jnp.minimum(k, len(lengths) - 1)
    offset = jnp.clip(p - (ends[k] - lengths[k]), 0, tokens.shape[1] - 1)
    return jnp.where(inside, tokens[k, offset], 0)


def start(T: Tables, u: jax.Array) -> State:
    """``episode.new_episode`` from the uniforms ``u`` (in [0, 1), at least as many as the
    start takes: :func:`uniforms_needed`, never more than :data:`MAX_UNIFORMS`)."""
    return _start(T, Draws(u))


def _start(T: Tables, d: Draws) -> State:
    stage = T.stage
    if len(T.games) == 2:  # "train": train-mc with probability p_multi, else train-sc
        mc = d.random() < T.p_multi
        i = d.random()
        game = jnp.where(mc, jnp.asarray(T.games[0])[choice_index(i, len(T.games[0]))],
                         jnp.asarray(T.games[1])[choice_index(i, len(T.games[1]))])
    else:
        game = jnp.asarray(T.games[0])[choice_index(d.random(), len(T.games[0]))]
    movements = jnp.asarray(T.variants)[choice_index(d.random(), len(T.variants))]
    n = stage.n_slots
    cells = jnp.asarray(T.start_cells)
    if stage.avatar_cell is None:
        order = sample_indices(d, len(cells), len(cells))
        avatar, npcs = cells[order[0]], cells[order[1:n + 1]]
    else:
        avatar, npcs = jnp.asarray(stage.avatar_cell), cells[sample_indices(d, len(cells), n)]
    carrying = (d.random() < stage.p_start_carrying if stage.p_start_carrying > 0
                else jnp.asarray(False))
    tokens, lengths = _manual(T, d, game, movements)
    # S3 decoys wear the message's and the goal's symbols; + 2: entity index -> symbol id
    symbols = (jnp.concatenate([game, game[1:3]]) if n == 5 else game) + 2
    return State(
        pos=jnp.concatenate([npcs, avatar[None]]).astype(jnp.int32) * UNITS_PER_CELL,
        symbols=symbols.astype(jnp.int32), moves=movements[:n], alive=jnp.ones(n, bool),
        carrying=jnp.asarray(carrying), t=jnp.int32(0), shown=jnp.int32(0),
        n_tokens=lengths.sum().astype(jnp.int32), tokens=_concatenate(T, tokens, lengths),
        reward=jnp.float32(0), terminated=jnp.asarray(False), truncated=jnp.asarray(False),
        success=jnp.asarray(False))


def uniforms_needed(T: Tables) -> int:
    """How many uniforms :func:`start` reads for these tables (fixed by the env's arguments)."""
    used: list[int] = []

    def traced(u: jax.Array) -> State:
        d = Draws(u)
        state = _start(T, d)
        used.append(d.used)
        return state

    jax.eval_shape(traced, jax.ShapeDtypeStruct((MAX_UNIFORMS,), jnp.float32))
    return used[0]


# ----------------------------------------------------------------------------- play
def _npc_step(offset: jax.Array, movement: jax.Array, draw: jax.Array) -> jax.Array:
    """``rules.npc_move``: the unit move an NPC ``offset`` units from the avatar makes."""
    dr, dc = offset[0], offset[1]
    chase = jnp.stack([dr > 0, dr < 0, dc > 0, dc < 0])
    flee = jnp.stack([dr <= 0, dr >= 0, dc <= 0, dc >= 0])
    ok = jnp.where(movement == rules.CHASER, chase, flee)
    ok = jnp.where(ok.any(), ok, True)
    pick = draw * ok.sum() // rules.DRAW_LEVELS
    chosen = ok & (jnp.cumsum(ok) == pick + 1)
    step = jnp.asarray(_UNIT_STEPS)[jnp.argmax(chosen)]
    return jnp.where(movement == rules.IMMOVABLE, 0, step)


def _outcome(touch: jax.Array, carrying: jax.Array, pickup_wins: bool) -> jax.Array:
    """``rules.resolve_contact`` as an outcome code."""
    message = jnp.where(carrying, REPICK, PICKUP_WIN if pickup_wins else PICKUP)
    cases: list[tuple[jax.Array, jax.Array | int]] = [
        (touch[0], ENEMY), (touch[3:].any(), DECOY), (touch[2] & ~carrying, GOAL_EARLY),
        (touch[1], message), (touch[2], WIN)]
    code = jnp.int32(NOTHING)
    for hit, value in reversed(cases):  # the first case that holds wins
        code = jnp.where(hit, value, code)
    return code


def play(T: Tables, s: State, action: jax.Array, draws: jax.Array) -> State:
    """One step after ``action``: a read step shows the next token; a play step moves the
    NPCs (one draw in [0, rules.DRAW_LEVELS) per slot), then the avatar, then scores contact
    and the time limit (``game.Game.step``)."""
    stage = T.stage
    reading = rules.still_reading(s.shown, s.n_tokens)
    shown = s.shown + rules.is_read_step(s.shown, s.n_tokens).astype(jnp.int32)
    npcs, avatar = s.pos[:-1], s.pos[-1]
    if stage.moves:
        steps = jax.vmap(_npc_step)(npcs - avatar, s.moves, draws)
        npcs = jnp.clip(npcs + jnp.where(s.alive[:, None], steps, 0), 0, MAX_UNIT)
    avatar = jnp.clip(avatar + jnp.asarray(_AVATAR_STEPS)[action], 0, MAX_UNIT)
    touch = (jnp.abs(npcs - avatar) < UNITS_PER_CELL).all(1) & s.alive
    code = _outcome(touch, s.carrying, stage.pickup_wins)
    picked = code == PICKUP
    t = s.t + 1
    success = jnp.asarray(_WINS)[code]
    terminated = jnp.asarray(_TERMINATES)[code]
    late = (t >= stage.max_steps) & ~success
    played = State(
        pos=jnp.concatenate([npcs, avatar[None]]), symbols=s.symbols, moves=s.moves,
        alive=s.alive.at[1].set(s.alive[1] & ~picked), carrying=s.carrying | picked, t=t,
        shown=shown, n_tokens=s.n_tokens, tokens=s.tokens,
        reward=jnp.where(late, -1.0, jnp.asarray(_REWARD)[code]).astype(jnp.float32),
        terminated=terminated, truncated=late & ~terminated, success=success)
    read = s._replace(shown=shown, reward=jnp.float32(0), terminated=jnp.asarray(False),
                      truncated=jnp.asarray(False), success=jnp.asarray(False))
    return jax.tree.map(lambda a, b: jnp.where(reading, a, b), read, played)


# ----------------------------------------------------------------------------- observation
def _tiles(T: Tables, grid: jax.Array, cells: jax.Array, symbols: jax.Array) -> jax.Array:
    """The pixels of each entity's cell: the sprites of the symbols standing there composited
    in symbol order over the floor (a symbol twice on a cell, as S3's decoys can be, drawn
    once, as the numpy board does)."""
    floor = jnp.asarray(T.empty_image[T.margin:T.margin + T.cell, T.margin:T.margin + T.cell],
                        jnp.int32)
    ordered = jnp.sort(symbols)
    repeat = jnp.concatenate([jnp.zeros(1, bool), ordered[1:] == ordered[:-1]])
    sprites = jnp.asarray(T.sprites)[ordered]
    tiles = []
    for r, c in cells:
        bits = grid[r, c]
        tile = floor
        for i in range(len(ordered)):
            tile = jnp.where((bits[ordered[i]] > 0) & ~repeat[i], over(tile, sprites[i]), tile)
        tiles.append(tile)
    return jnp.stack(tiles).astype(jnp.uint8)


def observe(T: Tables, s: State, pixels: bool = True) -> dict[str, Any]:
    """The observation of the contract: ``image`` (unless not ``pixels``), ``grid``,
    ``token``, ``is_read_step``."""
    cells = s.pos // UNITS_PER_CELL
    symbols = jnp.concatenate([s.symbols, jnp.where(s.carrying, AVATAR_WITH_MESSAGE,
                                                    AVATAR)[None]])
    present = jnp.concatenate([s.alive, jnp.ones(1, bool)]).astype(jnp.uint8)
    grid = jnp.zeros((GRID_SIZE, GRID_SIZE, N_SYMBOLS), jnp.uint8)
    grid = grid.at[cells[:, 0], cells[:, 1], symbols].max(present)
    obs = {"grid": grid, "token": s.tokens[s.shown],
           "is_read_step": rules.is_read_step(s.shown, s.n_tokens).astype(jnp.int32)}
    if not pixels:
        return obs
    image = jnp.asarray(T.empty_image)
    # Only the entities' cells differ from the empty board: paste each one's pixels.
    for (r, c), tile in zip(cells, _tiles(T, grid, cells, symbols)):
        image = jax.lax.dynamic_update_slice(
            image, tile, (T.margin + r * T.cell, T.margin + c * T.cell, 0))
    return {"image": image, **obs}


# ----------------------------------------------------------------------------- FuncEnv
class MessengerFuncEnv(TwinFuncEnv):
    """Messenger as Gymnasium's functional env (``gymnasium.experimental.functional``): every
    method a pure function of its arguments, to be jitted, vmapped or scanned.

    ``initial`` draws :attr:`n_uniforms` uniforms from its key; ``transition`` one movement
    draw per NPC slot.  With ``pixels=False`` observations leave out ``image`` (drawing it is
    most of a step's cost; agents that read ``grid``, as the paper's do, need none).
    ``terminal`` is true once an episode has ended, by a win, a death or the step limit
    (``transition_info``'s ``timeout_loss`` tells the last apart).
    """

    def __init__(self, tables: Tables, vocab_size: int, pixels: bool = True):
        super().__init__()
        self.tables, self.pixels = tables, pixels
        self.observation_space = twin_observation_space(
            tables.empty_image.shape, vocab_size,
            spaces.Box(0, 1, (GRID_SIZE, GRID_SIZE, N_SYMBOLS), np.uint8), pixels)
        self.action_space = spaces.Discrete(len(ACTIONS))
        self.n_uniforms = uniforms_needed(tables)

    def initial(self, rng: Any, params: Any = None) -> State:
        return start(self.tables, jax.random.uniform(rng, (self.n_uniforms,)))

    def transition(self, state: State, action: Any, rng: Any, params: Any = None) -> State:
        draws = jax.random.randint(rng, (self.tables.stage.n_slots,), 0, rules.DRAW_LEVELS)
        return play(self.tables, state, jnp.asarray(action, jnp.int32), draws)

    def observation(self, state: State, rng: Any = None, params: Any = None
                    ) -> dict[str, Any]:
        return observe(self.tables, state, self.pixels)

    def transition_info(self, state: State, action: Any, next_state: State,
                        params: Any = None) -> dict[str, Any]:
        return {"success": next_state.success, "timeout_loss": next_state.truncated}

    def render_image(self, state: State, render_state: Any = None, params: Any = None
                     ) -> tuple[Any, np.ndarray]:
        return render_state, np.asarray(observe(self.tables, state)["image"])

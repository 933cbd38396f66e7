"""HomeGrid's rules in JAX: the house, the tasks, the narrator and the ``grid`` view as pure
functions of a state (read ``world.py``, ``tasks.py``, ``language.py`` and ``game.py`` first).

A state holds six thing slots: the two bins (slots 0 and 1, in the order the numpy world lists
them) and up to four trash objects (slots 2-5, in the order they entered the house), so that
every "choose among the things present" of the numpy engine is "the k-th present slot" here.
Random draws come from a :class:`langstream.jax_sampling.Stream`: :func:`start` and :func:`play`
return how many uniforms they read, and fed the numpy engine's stream they make its choices
(tested).  :func:`observe` draws ``image`` from the same sprites with the same integer
blending and nearest-neighbour resize as ``render.py``, and the ``grid`` of ``symbols.py``.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from gymnasium import spaces

from homegrid import layout
from homegrid.language import CORRECTION, dynamics_text, load_vocab, location_text
from homegrid.layout import BIN_ACTIONS, BINS, HEIGHT, ROOMS, TRASH, WIDTH
from homegrid.render import VIEW_CELLS, ViewRenderer, cell_tile
from homegrid.sprites import TILE, sprite
from homegrid.symbols import (
    BIN_STATES,
    CARRY_CHANNEL,
    GRID_SHAPE,
    HEADING,
    STATE_CHANNEL,
    THING_CHANNEL,
    static_map,
)
from homegrid.tasks import FAMILIES, PARTIAL_REWARD, task_text
from homegrid.world import (
    ACTIONS,
    BIN_RECOVERY,
    DIR_VEC,
    DROP,
    GET,
    HIDDEN_STEPS,
    MOVE_DIR,
    PICKUP,
    SPAWN_RATE,
)
from langstream.jax_canvas import over
from langstream.jax_env import TwinFuncEnv, twin_observation_space
from langstream.jax_sampling import Stream, kth, sample_indices

N_BINS, N_TRASH = 2, 2  # placed at reset; spawns add missing trash kinds up to len(TRASH)
SLOTS = N_BINS + len(TRASH)
OPEN, CLOSED, BROKEN = range(3)  # the order of symbols.BIN_STATES
FIND, GET_T, PUT, MOVE, OPEN_T = range(len(FAMILIES))
START_UNIFORMS = 32  # more than a start takes (14 for the house, 3 for the task, 6 to shuffle)
STEP_UNIFORMS = 16  # more than a step takes (3 teleport, 3 spawn, 3 task, 2 narrator)
VIEW = VIEW_CELLS  # the agent sees the 3 x 3 cells around it

# ----------------------------------------------------------------------------- static tables
# Device constants: the rules index them with traced values.
_B = jnp.asarray
WALKABLE = _B(layout.WALKABLE)
DROPPABLE = _B(layout.DROPPABLE)
ROOM_OF = _B([[-1 if r is None else r for r in row] for row in layout.ROOM_OF], np.int32)
ROOM_DISTANCE = _B(layout.ROOM_DISTANCE, np.int32)
OBJECT_CELLS = _B(layout.OBJECT_CELLS, np.int32)
BIN_CELLS = _B(layout.BIN_CELLS, np.int32)
AGENT_STARTS = _B(layout.AGENT_START_CELLS, np.int32)
DIRS = _B(DIR_VEC, np.int32)
MOVE_TO_DIR = _B([MOVE_DIR[a] for a in range(4)], np.int32)
STATIC_MAP = _B(static_map())  # (H + 2, W + 2, C): the view of (x, y) is [y:y + 3, x:x + 3]
# Channels of a slot's thing: slots 0-1 are bins (by kind), 2-5 trash (by kind).
BIN_CHANNEL = _B([THING_CHANNEL[b] for b in BINS], np.int32)
TRASH_CHANNEL = _B([THING_CHANNEL[t] for t in TRASH], np.int32)
BIN_STATE_CHANNEL = _B([STATE_CHANNEL[s] for s in ("open", "closed", "broken")], np.int32)
CARRYING_CHANNEL = _B([CARRY_CHANNEL[t] for t in TRASH], np.int32)


class Sentences(NamedTuple):
    """Every sentence's token ids (rows padded with 0) and the row of each sentence kind."""

    tokens: jax.Array  # (rows, width)
    length: jax.Array  # (rows,)
    task: jax.Array  # (family, name, target): name 0-3 trash, 4-6 bins; target bin or room
    location: jax.Array  # (name, room)
    moved: jax.Array  # (trash, room)
    spawned: jax.Array  # (trash, room)
    dynamics: jax.Array  # (action, bin)
    correction: int


def _sentences() -> Sentences:
    vocab = load_vocab()
    rows: dict[str, int] = {}

    def row(text: str) -> int:
        return rows.setdefault(text, len(rows))

    names = TRASH + BINS
    task = np.zeros((len(FAMILIES), len(names), 3), np.int32)
    for f, family in enumerate(FAMILIES):
        for n, name in enumerate(names):
            for k in range(3):
                if family in ("find",) or (family == "open" and name in BINS) or (
                        family == "get" and name in TRASH):
                    task[f, n, k] = row(task_text(family, name))
                elif family == "put" and name in TRASH:
                    task[f, n, k] = row(task_text(family, name, BINS[k]))
                elif family == "move" and name in TRASH:
                    task[f, n, k] = row(task_text(family, name, ROOMS[k]))
    location = np.asarray([[row(location_text(n, r)) for r in ROOMS] for n in names], np.int32)
    moved = np.asarray([[row(f"i moved the {o} to the {r}") for r in ROOMS] for o in TRASH],
                       np.int32)
    spawned = np.asarray([[row(f"there will be {o} in the {r} later") for r in ROOMS]
                          for o in TRASH], np.int32)
    dynamics = np.asarray([[row(dynamics_text(a, b)) for b in BINS] for a in BIN_ACTIONS],
                          np.int32)
    correction = row(CORRECTION)
    ids = [vocab.encode(text) for text in rows]
    width = max(map(len, ids))
    tokens = np.zeros((len(ids), width), np.int32)
    for i, r in enumerate(ids):
        tokens[i, :len(r)] = r
    a = jnp.asarray
    return Sentences(a(tokens), a(np.asarray([len(r) for r in ids], np.int32)), a(task),
                     a(location), a(moved), a(spawned), a(dynamics), correction)


SENTENCES = _sentences()


class Settings(NamedTuple):
    """The env's arguments that shape the rules (static under ``jit``)."""

    future: bool
    dynamics: bool
    corrections: bool
    max_steps: int = 100
    preread_max: int = 28
    repeat_task_every: int = 20
    p_language: float = 0.2
    p_teleport: float = 0.05

    @classmethod
    def of(cls, hints: frozenset[str], **kwargs: Any) -> Settings:
        """The settings of the hint kinds ``hints`` and the other arguments ``kwargs``."""
        return cls("future" in hints, "dynamics" in hints, "corrections" in hints, **kwargs)


class State(NamedTuple):
    """One episode.  Positions are map cells (x, y); -1 where a thing is carried or binned."""

    agent: jax.Array  # (3,) x, y, facing
    present: jax.Array  # (SLOTS,) bool
    kind: jax.Array  # (SLOTS,) bins: index into BINS; trash: index into TRASH
    x: jax.Array  # (SLOTS,)
    y: jax.Array  # (SLOTS,)
    hidden: jax.Array  # (SLOTS,) steps until a spawned object shows
    bin_state: jax.Array  # (N_BINS,) OPEN, CLOSED, BROKEN
    bin_action: jax.Array  # (N_BINS,) index into BIN_ACTIONS
    broken_for: jax.Array  # (N_BINS,)
    content: jax.Array  # (N_BINS,) slot inside the bin, or -1
    carrying: jax.Array  # () slot carried, or -1
    steps: jax.Array  # () world steps (read steps excluded)
    task: jax.Array  # (3,) family, object slot, target (bin slot or room)
    partial_paid: jax.Array  # () bool
    # The narrator
    t: jax.Array  # () observation index, read steps included
    preread: jax.Array  # () read steps after the first observation
    utterance: jax.Array  # (width,) token ids of what is being said
    utterance_length: jax.Array  # ()
    cursor: jax.Array  # () next token of the utterance to emit
    token: jax.Array  # () the token of the current observation
    task_pending: jax.Array  # () bool
    last_task_start: jax.Array  # ()
    distance: jax.Array  # () goal distance after the last step (corrections only)
    # The step that led here
    reward: jax.Array  # () float32
    terminated: jax.Array  # () bool, always False: HomeGrid only truncates
    truncated: jax.Array  # () bool
    success: jax.Array  # () bool


#: longest utterance: the pre-read phase tells at most every fact of a fresh house (each bin's
#: opening action and place, each object's place)
UTTERANCE_WIDTH = (2 * N_BINS + N_TRASH) * int(SENTENCES.tokens.shape[1])


# ----------------------------------------------------------------------------- the house
def name_of(s: State, slot: jax.Array) -> jax.Array:
    """A slot's name index in TRASH + BINS."""
    return jnp.where(slot < N_BINS, len(TRASH) + s.kind[slot], s.kind[slot])


def _on_grid(s: State) -> jax.Array:
    return s.present & (s.x >= 0)


def thing_at(s: State, x: jax.Array, y: jax.Array) -> jax.Array:
    """The slot lying on cell (x, y), hidden or not, or -1 (``world.grid[y][x]``)."""
    here = _on_grid(s) & (s.x == x) & (s.y == y)
    return jnp.where(here.any(), jnp.argmax(here), -1)


def free_object_cells(s: State) -> jax.Array:
    """Which OBJECT_CELLS hold nothing and not the agent (``World._free_object_cells``)."""
    taken = (_on_grid(s)[:, None] & (s.x[:, None] == OBJECT_CELLS[None, :, 0])
             & (s.y[:, None] == OBJECT_CELLS[None, :, 1])).any(0)
    agent = (OBJECT_CELLS[:, 0] == s.agent[0]) & (OBJECT_CELLS[:, 1] == s.agent[1])
    return ~taken & ~agent


def reset_house(r: Stream) -> dict[str, jax.Array]:
    """``World.reset``: two bins, two trash objects and the agent, at random."""
    bins = sample_indices(r, len(BINS), N_BINS)
    bin_cells = sample_indices(r, len(BIN_CELLS), N_BINS)
    states, actions = [], []
    for _ in range(N_BINS):
        states.append(jnp.where(r.random() < 0.5, OPEN, CLOSED))
        actions.append(r.choice(len(BIN_ACTIONS)))
    trash = sample_indices(r, len(TRASH), N_TRASH)
    trash_cells = sample_indices(r, len(OBJECT_CELLS), N_TRASH)
    cells = jnp.concatenate([BIN_CELLS[bin_cells], OBJECT_CELLS[trash_cells]])
    occupied = ((AGENT_STARTS[:, None, 0] == cells[None, :, 0])
                & (AGENT_STARTS[:, None, 1] == cells[None, :, 1])).any(1)
    start = AGENT_STARTS[kth(~occupied, r.choice((~occupied).sum()))]
    facing = jnp.floor(r.random() * 4).astype(jnp.int32)
    pad = SLOTS - N_BINS - N_TRASH
    return {"agent": jnp.concatenate([start, facing[None]]),
            "present": jnp.arange(SLOTS) < N_BINS + N_TRASH,
            "kind": jnp.concatenate([bins, trash, jnp.zeros(pad, jnp.int32)]),
            "x": jnp.concatenate([cells[:, 0], jnp.full(pad, -1, jnp.int32)]),
            "y": jnp.concatenate([cells[:, 1], jnp.full(pad, -1, jnp.int32)]),
            "bin_state": jnp.stack(states).astype(jnp.int32),
            "bin_action": jnp.stack(actions)}


def act(s: State, action: jax.Array) -> State:
    """``World.act``: one of the ten actions; impossible ones do nothing."""
    ax, ay, facing = s.agent[0], s.agent[1], s.agent[2]
    moving = action < 4
    facing = jnp.where(moving, MOVE_TO_DIR[jnp.minimum(action, 3)], facing)
    fx, fy = ax + DIRS[facing, 0], ay + DIRS[facing, 1]
    target = thing_at(s, fx, fy)
    blocked = (target >= 0) & (s.hidden[jnp.maximum(target, 0)] == 0)
    walk = moving & WALKABLE[fy, fx] & ~blocked
    agent = jnp.stack([jnp.where(walk, fx, ax), jnp.where(walk, fy, ay), facing])

    t = jnp.maximum(target, 0)
    is_bin = (target >= 0) & (target < N_BINS)
    b = jnp.minimum(t, N_BINS - 1)
    empty_hands = s.carrying < 0
    bin_open = is_bin & (s.bin_state[b] == OPEN)
    pickup = (action == PICKUP) & empty_hands & (target >= N_BINS)
    drop_floor = (action == DROP) & ~empty_hands & (target < 0) & DROPPABLE[fy, fx]
    drop_bin = (action == DROP) & ~empty_hands & bin_open & (s.content[b] < 0)
    get = (action == GET) & empty_hands & bin_open & (s.content[b] >= 0)
    bin_action = (action > GET) & is_bin & (s.bin_state[b] == CLOSED)
    opens = bin_action & (action - GET - 1 == s.bin_action[b])
    breaks = bin_action & ~opens

    c = jnp.maximum(s.carrying, 0)
    x, y = s.x, s.y
    x = jnp.where(pickup, x.at[t].set(-1), x)
    y = jnp.where(pickup, y.at[t].set(-1), y)
    x = jnp.where(drop_floor, x.at[c].set(fx), x)
    y = jnp.where(drop_floor, y.at[c].set(fy), y)
    content = jnp.where(drop_bin, s.content.at[b].set(s.carrying), s.content)
    content = jnp.where(get, content.at[b].set(-1), content)
    carrying = jnp.where(pickup, target, s.carrying)
    carrying = jnp.where(drop_floor | drop_bin, -1, carrying)
    carrying = jnp.where(get, s.content[b], carrying)
    bin_state = jnp.where(opens, s.bin_state.at[b].set(OPEN), s.bin_state)
    bin_state = jnp.where(breaks, bin_state.at[b].set(BROKEN), bin_state)
    broken_for = jnp.where(breaks, s.broken_for.at[b].set(0), s.broken_for)
    return s._replace(agent=agent, x=x, y=y, content=content, carrying=carrying,
                      bin_state=bin_state, broken_for=broken_for)


def tick(s: State) -> State:
    """``World.tick``: broken bins recover, hidden objects count down."""
    broken = s.bin_state == BROKEN
    broken_for = jnp.where(broken, s.broken_for + 1, s.broken_for)
    recovered = broken & (broken_for >= _B(BIN_RECOVERY, jnp.int32))
    return s._replace(broken_for=broken_for,
                      bin_state=jnp.where(recovered, CLOSED, s.bin_state),
                      hidden=jnp.maximum(s.hidden - 1, 0))


class Events(NamedTuple):
    """This step's random events: whether each happened and its sentence row."""

    happened: jax.Array  # (2,) teleport, spawn
    row: jax.Array  # (2,)


def random_events(s: State, r: Stream, cfg: Settings) -> tuple[State, Events]:
    """``World.random_events``: maybe teleport a visible object, maybe spawn a missing kind."""
    movable = _on_grid(s) & (s.hidden == 0) & (jnp.arange(SLOTS) >= N_BINS)
    teleport = (r.random() < cfg.p_teleport) & movable.any()
    obj = jnp.maximum(kth(movable, r.choice(movable.sum(), teleport)), 0)
    free = free_object_cells(s)
    cell = OBJECT_CELLS[jnp.maximum(kth(free, r.choice(free.sum(), teleport)), 0)]
    s = s._replace(x=jnp.where(teleport, s.x.at[obj].set(cell[0]), s.x),
                   y=jnp.where(teleport, s.y.at[obj].set(cell[1]), s.y))
    moved_row = SENTENCES.moved[s.kind[obj], ROOM_OF[cell[1], cell[0]]]

    n_trash = (s.present & (jnp.arange(SLOTS) >= N_BINS)).sum()
    n_missing = len(TRASH) - n_trash
    spawn = (r.random(n_missing > 0) < SPAWN_RATE * n_missing) & (n_missing > 0)
    kinds = jnp.arange(len(TRASH))
    have = ((s.kind[None, N_BINS:] == kinds[:, None]) & s.present[None, N_BINS:]).any(1)
    kind = jnp.maximum(kth(~have, r.choice(n_missing, spawn)), 0)
    free = free_object_cells(s)
    cell = OBJECT_CELLS[jnp.maximum(kth(free, r.choice(free.sum(), spawn)), 0)]
    slot = N_BINS + n_trash
    s = s._replace(
        present=jnp.where(spawn, s.present.at[slot].set(True), s.present),
        kind=jnp.where(spawn, s.kind.at[slot].set(kind), s.kind),
        x=jnp.where(spawn, s.x.at[slot].set(cell[0]), s.x),
        y=jnp.where(spawn, s.y.at[slot].set(cell[1]), s.y),
        hidden=jnp.where(spawn, s.hidden.at[slot].set(HIDDEN_STEPS), s.hidden))
    spawned_row = SENTENCES.spawned[kind, ROOM_OF[cell[1], cell[0]]]
    return s, Events(jnp.stack([teleport, spawn]), jnp.stack([moved_row, spawned_row]))


# ----------------------------------------------------------------------------- tasks
def sample_task(s: State, r: Stream, when: jax.Array | bool = True) -> jax.Array:
    """``tasks.sample_task``: (family, object slot, target); draws only ``when``."""
    family = r.choice(len(FAMILIES), when)
    trash = s.present & (jnp.arange(SLOTS) >= N_BINS)
    n_trash = trash.sum()
    # find: bins then trash; open: bins; get, put, move: trash
    n = jnp.where(family == FIND, N_BINS + n_trash, jnp.where(family == OPEN_T, N_BINS,
                                                               n_trash))
    k = r.choice(n, when)
    trash_slot = kth(trash, jnp.where(family == FIND, k - N_BINS, k))
    obj = jnp.where((family == OPEN_T) | ((family == FIND) & (k < N_BINS)), k, trash_slot)
    two = (family == PUT) | (family == MOVE)
    target = r.choice(jnp.where(family == PUT, N_BINS, len(ROOMS)), when & two)
    return jnp.stack([family, obj, jnp.where(two, target, 0)]).astype(jnp.int32)


def task_row(s: State) -> jax.Array:
    """The sentence row of the current task's text."""
    family, obj, target = s.task[0], s.task[1], s.task[2]
    # put names its bin by kind; move its room
    target = jnp.where(family == PUT, s.kind[jnp.minimum(target, N_BINS - 1)], target)
    return SENTENCES.task[family, name_of(s, obj), target]


def task_reward(s: State) -> tuple[State, jax.Array]:
    """``Task.reward``: 1 when done; 0.5 the first time a put/move object is carried."""
    family, obj, target = s.task[0], s.task[1], s.task[2]
    fx = s.agent[0] + DIRS[s.agent[2], 0]
    fy = s.agent[1] + DIRS[s.agent[2], 1]
    carried = s.carrying == obj
    two = (family == PUT) | (family == MOVE)
    partial = two & carried & ~s.partial_paid
    b = jnp.minimum(target, N_BINS - 1)
    on_grid = s.x[obj] >= 0
    room = ROOM_OF[jnp.maximum(s.y[obj], 0), jnp.maximum(s.x[obj], 0)]
    done = jnp.select(
        [family == FIND, family == GET_T, family == OPEN_T, carried, family == PUT],
        [thing_at(s, fx, fy) == obj, carried,
         s.bin_state[jnp.minimum(obj, N_BINS - 1)] == OPEN, False, s.content[b] == obj],
        on_grid & (room == target))
    reward = jnp.where(done, 1.0, jnp.where(partial, PARTIAL_REWARD, 0.0)).astype(jnp.float32)
    return s._replace(partial_paid=s.partial_paid | partial), reward


def goal_distance(s: State) -> jax.Array:
    """``Task.goal_distance``: Manhattan distance to what the agent should reach next."""
    family, obj, target = s.task[0], s.task[1], s.task[2]
    ax, ay = s.agent[0], s.agent[1]
    carried = s.carrying == obj
    thing = jnp.where(carried & (family == PUT), jnp.minimum(target, N_BINS - 1), obj)
    in_bin = (s.content == thing)
    bx = jnp.where(in_bin.any(), s.x[jnp.argmax(in_bin)], s.x[thing])
    by = jnp.where(in_bin.any(), s.y[jnp.argmax(in_bin)], s.y[thing])
    held = s.carrying == thing
    x, y = jnp.where(held, ax, bx), jnp.where(held, ay, by)
    to_room = ROOM_DISTANCE[jnp.minimum(target, len(ROOMS) - 1), ay, ax]
    return jnp.where(carried & (family == MOVE), to_room, jnp.abs(ax - x) + jnp.abs(ay - y))


# ----------------------------------------------------------------------------- the narrator
def descriptions(s: State, cfg: Settings) -> tuple[jax.Array, jax.Array]:
    """``language.descriptions``: (valid, row) of each possible fact, in the numpy order (per
    thing: how a bin opens, then where the thing lies)."""
    slots = jnp.arange(SLOTS)
    is_bin = slots < N_BINS
    dyn_row = SENTENCES.dynamics[s.bin_action[jnp.minimum(slots, N_BINS - 1)],
                                 s.kind[slots]]
    on_grid = _on_grid(s)
    room = ROOM_OF[jnp.maximum(s.y, 0), jnp.maximum(s.x, 0)]
    loc_row = SENTENCES.location[name_of(s, slots), room]
    valid = jnp.stack([s.present & is_bin & cfg.dynamics, on_grid & cfg.future], 1).reshape(-1)
    rows = jnp.stack([dyn_row, loc_row], 1).reshape(-1)
    return valid, rows


def _say(s: State, row: jax.Array, when: jax.Array) -> State:
    tokens = jnp.zeros(UTTERANCE_WIDTH, jnp.int32).at[:SENTENCES.tokens.shape[1]].set(
        SENTENCES.tokens[row])
    return s._replace(utterance=jnp.where(when, tokens, s.utterance),
                      utterance_length=jnp.where(when, SENTENCES.length[row],
                                                 s.utterance_length),
                      cursor=jnp.where(when, 0, s.cursor))


def narrate(s: State, r: Stream, cfg: Settings, new_task: jax.Array, events: Events,
            distance: jax.Array) -> State:
    """``Narrator.step`` for observation ``s.t``: choose what to say, then emit a token."""
    t = s.t
    pending = s.task_pending | new_task
    say_task = pending & (t >= s.preread)
    idle = ~say_task & (s.cursor >= s.utterance_length)
    repeat = idle & (t - s.last_task_start >= cfg.repeat_task_every)
    tell = idle & ~repeat & events.happened.any() & cfg.future
    event = jnp.where(r.choice(events.happened.sum(), tell) == 0,
                      jnp.argmax(events.happened), 1)
    chat = idle & ~repeat & ~tell & (cfg.future or cfg.dynamics or cfg.corrections)
    speak = chat & (r.random(chat) < cfg.p_language)
    correct = speak & cfg.corrections & (distance > s.distance)
    valid, rows = descriptions(s, cfg)
    describe = speak & ~correct & valid.any()
    fact = rows[jnp.maximum(kth(valid, r.choice(valid.sum(), describe)), 0)]
    task = task_row(s)
    s = _say(s, task, say_task | repeat)
    s = _say(s, events.row[event], tell)
    s = _say(s, jnp.int32(SENTENCES.correction), correct)
    s = _say(s, fact, describe)
    speaking = s.cursor < s.utterance_length
    token = jnp.where(speaking, s.utterance[jnp.minimum(s.cursor, UTTERANCE_WIDTH - 1)], 0)
    return s._replace(token=token, cursor=s.cursor + speaking, task_pending=pending & ~say_task,
                      last_task_start=jnp.where(say_task | repeat, t, s.last_task_start),
                      distance=distance)


# ----------------------------------------------------------------------------- an episode
def start(cfg: Settings, u: jax.Array) -> tuple[State, jax.Array]:
    """``Game.reset`` from the uniforms ``u``: (state, uniforms read)."""
    r = Stream(u)
    house = reset_house(r)
    zeros = jnp.zeros(N_BINS, jnp.int32)
    s = State(**house, hidden=jnp.zeros(SLOTS, jnp.int32), broken_for=zeros,
              content=zeros - 1, carrying=jnp.int32(-1), steps=jnp.int32(0),
              task=jnp.zeros(3, jnp.int32), partial_paid=jnp.asarray(False), t=jnp.int32(0),
              preread=jnp.int32(0),
              utterance=jnp.zeros(UTTERANCE_WIDTH, jnp.int32),
              utterance_length=jnp.int32(0), cursor=jnp.int32(0), token=jnp.int32(0),
              task_pending=jnp.asarray(True), last_task_start=jnp.int32(0),
              distance=jnp.int32(0), reward=jnp.float32(0), terminated=jnp.asarray(False),
              truncated=jnp.asarray(False), success=jnp.asarray(False))
    s = s._replace(task=sample_task(s, r))
    if cfg.preread_max > 0 and (cfg.future or cfg.dynamics):
        valid, rows = descriptions(s, cfg)
        n = int(cfg.dynamics) * N_BINS + int(cfg.future) * (N_BINS + N_TRASH)
        chosen = rows[jnp.nonzero(valid, size=n)[0]][sample_indices(r, n, n)]
        tokens = SENTENCES.tokens[chosen]
        lengths = SENTENCES.length[chosen]
        ends = jnp.cumsum(lengths)
        p = jnp.arange(UTTERANCE_WIDTH)
        k = jnp.minimum(jnp.searchsorted(ends, p, side="right"), n - 1)
        offset = jnp.clip(p - (ends[k] - lengths[k]), 0, tokens.shape[1] - 1)
        preread = jnp.minimum(ends[-1], cfg.preread_max)
        utterance = jnp.where(p < preread, tokens[k, offset], 0)
        s = s._replace(preread=preread, utterance=utterance, utterance_length=preread)
    distance = goal_distance(s) if cfg.corrections else jnp.int32(0)
    no_events = Events(jnp.zeros(2, bool), jnp.zeros(2, jnp.int32))
    s = narrate(s, r, cfg, jnp.asarray(False), no_events, distance)  # the distance before: 0
    return s, r.cursor


def play(cfg: Settings, s: State, action: jax.Array, u: jax.Array) -> tuple[State, jax.Array]:
    """``Game.step``: a read step only speaks; a world step ticks the timers, acts, runs the
    random events, scores the task (a new one when done) and speaks.  Returns (state,
    uniforms read)."""
    r = Stream(u)
    t = s.t + 1
    reading = t <= s.preread
    no_events = Events(jnp.zeros(2, bool), jnp.zeros(2, jnp.int32))
    read_draws = Stream(u)  # the world is frozen: only the narrator speaks
    read = narrate(s._replace(t=t, reward=jnp.float32(0), success=jnp.asarray(False)),
                   read_draws, cfg, jnp.asarray(False), no_events, s.distance)

    w = act(tick(s._replace(t=t)), action)
    w, events = random_events(w, r, cfg)
    w = w._replace(steps=w.steps + 1)
    w, reward = task_reward(w)
    success = reward == 1.0
    w = w._replace(task=jnp.where(success, sample_task(w, r, success), w.task),
                   partial_paid=w.partial_paid & ~success)
    distance = goal_distance(w) if cfg.corrections else jnp.int32(0)
    w = narrate(w, r, cfg, success, events, distance)
    w = w._replace(reward=reward, success=success, truncated=w.steps >= cfg.max_steps)
    state = jax.tree.map(lambda a, b: jnp.where(reading, a, b), read, w)
    return state, jnp.where(reading, read_draws.cursor, r.cursor)


def observe(s: State, image_size: int | None = 64) -> dict[str, jax.Array]:
    """``grid`` (``symbols.draw_grid``), ``token``, ``is_read_step`` and, unless
    ``image_size`` is None, ``image`` (``render.ViewRenderer``; dimmed on read steps as
    ``game.Game`` dims them)."""
    ax, ay, facing = s.agent[0], s.agent[1], s.agent[2]
    grid = jax.lax.dynamic_slice(STATIC_MAP, (ay, ax, 0), (VIEW, VIEW, STATIC_MAP.shape[2]))
    kx, ky = s.x - ax + 1, s.y - ay + 1
    seen = _on_grid(s) & (s.hidden == 0) & (kx >= 0) & (kx < VIEW) & (ky >= 0) & (ky < VIEW)
    slots = jnp.arange(SLOTS)
    is_bin = slots < N_BINS
    thing = jnp.where(is_bin, BIN_CHANNEL[jnp.minimum(s.kind, len(BINS) - 1)],
                      TRASH_CHANNEL[s.kind])
    state = BIN_STATE_CHANNEL[s.bin_state[jnp.minimum(slots, N_BINS - 1)]]
    rows, cols = jnp.clip(ky, 0, VIEW - 1), jnp.clip(kx, 0, VIEW - 1)
    grid = grid.at[rows, cols, thing].max(seen.astype(jnp.uint8))
    grid = grid.at[rows, cols, state].max((seen & is_bin).astype(jnp.uint8))
    grid = grid.at[1, 1, HEADING + facing].set(1)
    carried = s.carrying >= 0
    grid = grid.at[1, 1, CARRYING_CHANNEL[s.kind[jnp.maximum(s.carrying, 0)]]].max(
        carried.astype(jnp.uint8))
    reading = (s.t <= s.preread) & (s.preread > 0)
    obs = {"grid": grid, "token": s.token, "is_read_step": reading.astype(jnp.int32)}
    if image_size is not None:
        image = _view(s, _pixels(image_size))
        obs["image"] = jnp.where(reading, image // 2, image)
    return obs


class Pixels(NamedTuple):
    """What drawing the view at one image size looks up (``render.ViewRenderer``'s caches as
    arrays).  Nearest-neighbour resizing commutes with compositing pixel by pixel, so sprites
    are resized to each view cell's pixels first and composited at the output size."""

    static_views: np.ndarray  # (HEIGHT, WIDTH, S, S, 3): floors and furniture around each cell
    #: per view cell (row-major), the output rows and columns it covers
    bounds: tuple[tuple[int, int, int, int], ...]
    #: per view cell, every sprite resized to its pixels: bins by (kind, state), then trash,
    #: then the robot by heading (see :func:`_sprite_id`)
    sprites: tuple[np.ndarray, ...]


@functools.lru_cache(maxsize=4)
def _pixels(image_size: int) -> Pixels:
    renderer = ViewRenderer.for_size(image_size)
    src = np.arange(image_size) * VIEW * TILE // image_size  # the renderer's resize
    tiles = np.stack([np.stack([cell_tile(x, y) for x in range(-1, WIDTH + 1)])
                      for y in range(-1, HEIGHT + 1)])  # a ring of wall around the map
    views = np.zeros((HEIGHT, WIDTH, image_size, image_size, 3), np.uint8)
    for y in range(HEIGHT):
        for x in range(WIDTH):
            full = np.concatenate([np.concatenate(list(tiles[y + dy, x:x + VIEW]), 1)
                                   for dy in range(VIEW)])
            views[y, x] = full[src][:, src]
    looks = np.stack([sprite(f"{b.replace(' ', '_')}_{state}") for b in BINS
                      for state in BIN_STATES] + [sprite(t) for t in TRASH]
                     + [sprite(f"robot_{d}") for d in range(len(DIR_VEC))])
    bounds, sprites = [], []
    for ky in range(VIEW):
        for kx in range(VIEW):
            (r0, r1, rows), (c0, c1, cols) = renderer.cell_slots[ky], renderer.cell_slots[kx]
            bounds.append((r0, r1, c0, c1))
            sprites.append(looks[:, rows][:, :, cols])
    # numpy, not device arrays: built on first use, possibly inside a trace, and cached
    return Pixels(views, tuple(bounds), tuple(sprites))


def _sprite_id(s: State, slot: jax.Array) -> jax.Array:
    """Row of a thing's sprite in :attr:`Pixels.sprites`: a bin by kind and state, trash by
    kind."""
    b = jnp.minimum(slot, N_BINS - 1)
    return jnp.where(slot < N_BINS, s.kind[b] * len(BIN_STATES) + s.bin_state[b],
                     len(BINS) * len(BIN_STATES) + s.kind[slot])


ROBOT_SPRITE = len(BINS) * len(BIN_STATES) + len(TRASH)  # + heading


def _view(s: State, px: Pixels) -> jax.Array:
    """The agent's view: the static view of its cell, then per view cell a visible bin or
    object and, on the agent's cell, what it carries and the robot (``render``'s order)."""
    ax, ay, facing = s.agent[0], s.agent[1], s.agent[2]
    image = jnp.asarray(px.static_views)[ay, ax]
    for k, ((r0, r1, c0, c1), looks) in enumerate(zip(px.bounds, map(jnp.asarray,
                                                                     px.sprites))):
        ky, kx = divmod(k, VIEW)
        slot = thing_at(s, ax + kx - 1, ay + ky - 1)
        t = jnp.maximum(slot, 0)
        tile = image[r0:r1, c0:c1].astype(jnp.int32)
        tile = jnp.where((slot >= 0) & (s.hidden[t] == 0), over(tile, looks[_sprite_id(s, t)]),
                         tile)
        if ky == kx == 1:
            held = looks[_sprite_id(s, jnp.maximum(s.carrying, 0))]
            tile = jnp.where(s.carrying >= 0, over(tile, held), tile)
            tile = over(tile, looks[ROBOT_SPRITE + facing])
        image = image.at[r0:r1, c0:c1].set(tile.astype(jnp.uint8))
    return image


# ----------------------------------------------------------------------------- FuncEnv
class HomeGridFuncEnv(TwinFuncEnv):
    """HomeGrid as Gymnasium's functional env: ``initial`` reads :data:`START_UNIFORMS`
    uniforms drawn from its key, ``transition`` :data:`STEP_UNIFORMS`.  ``terminal`` is true
    when the step limit is reached (HomeGrid never terminates otherwise; the limit is no loss,
    so ``transition_info``'s ``timeout_loss`` is always false).  With ``pixels=False``
    observations leave out ``image``."""

    def __init__(self, cfg: Settings, vocab_size: int, image_size: int = 64,
                 pixels: bool = True):
        super().__init__()
        self.cfg, self.image_size, self.pixels = cfg, image_size, pixels
        self.observation_space = twin_observation_space(
            (image_size, image_size, 3), vocab_size, spaces.Box(0, 1, GRID_SHAPE, np.uint8),
            pixels)
        self.action_space = spaces.Discrete(len(ACTIONS))

    def initial(self, rng: Any, params: Any = None) -> State:
        return start(self.cfg, jax.random.uniform(rng, (START_UNIFORMS,)))[0]

    def transition(self, state: State, action: Any, rng: Any, params: Any = None) -> State:
        u = jax.random.uniform(rng, (STEP_UNIFORMS,))
        return play(self.cfg, state, jnp.asarray(action, jnp.int32), u)[0]

    def observation(self, state: State, rng: Any = None, params: Any = None
                    ) -> dict[str, Any]:
        return observe(state, self.image_size if self.pixels else None)

    def transition_info(self, state: Any, action: Any, next_state: State,
                        params: Any = None) -> dict[str, Any]:
        return {"success": next_state.success,
                "timeout_loss": jnp.zeros_like(next_state.truncated)}

    def render_image(self, state: State, render_state: Any = None, params: Any = None
                     ) -> tuple[Any, np.ndarray]:
        return render_state, np.asarray(observe(state, self.image_size)["image"])

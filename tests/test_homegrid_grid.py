"""HomeGrid's symbolic ``grid`` observation: layout, hand-made scenes, and agreement with pixels."""

import functools

import gymnasium as gym
import numpy as np
import pytest

import homegrid.vector
from homegrid import layout
from homegrid.oracle import Oracle
from homegrid.render import VIEW_CELLS
from homegrid.sprites import TILE, over, sprite
from homegrid.symbols import (
    CHANNEL,
    GRID_CHANNELS,
    GRID_SHAPE,
    HEADINGS,
    _outside_in_view,
    describe_grid,
    draw_grid,
    static_map,
)
from homegrid.world import DOWN, DROP, GRASP, LEFT, LIFT, PEDAL, PICKUP, UP, World


def world_with(agent, agent_dir=0, bins=None, trash=None):
    w = World(p_teleport=0.0)
    w.arrange(agent, agent_dir, bins, trash)
    return w


def grid_of(world):
    return draw_grid(world, np.full(GRID_SHAPE, 7, np.uint8))  # 7: catches unwritten entries


def cells_with(grid, name):
    """(row, col) of the view cells whose channel ``name`` is set."""
    return [tuple(int(i) for i in rc) for rc in np.argwhere(grid[..., CHANNEL[name]])]


# ----------------------------------------------------------------------------- layout
def test_channels_follow_the_documented_order():
    assert len(GRID_CHANNELS) == len(set(GRID_CHANNELS)) == 36
    assert GRID_SHAPE == (3, 3, 36)
    assert GRID_CHANNELS[:4] == ("wall", "kitchen", "living room", "dining room")
    assert GRID_CHANNELS[4:18] == (
        "plant", "sofa", "coffee_table", "cabinet", "sofa_side", "rug_left", "rug_right",
        "cupboard", "stove", "fridge", "countertop", "chair_left", "chair_right", "table")
    assert set(GRID_CHANNELS[4:18]) == {name for name, _ in layout.FURNITURE.values()}
    assert GRID_CHANNELS[18:22] == layout.TRASH
    assert GRID_CHANNELS[22:25] == layout.BINS
    assert GRID_CHANNELS[25:28] == ("bin open", "bin closed", "bin broken")
    assert GRID_CHANNELS[28:32] == tuple(f"agent facing {h}" for h in HEADINGS)
    assert HEADINGS == ("right", "down", "left", "up")  # World.agent_dir order (DIR_VEC)
    assert GRID_CHANNELS[32:] == tuple(f"carrying {t}" for t in layout.TRASH)


def test_observation_space_has_the_grid():
    space = gym.make("HomeGrid-v0").observation_space
    assert set(space.spaces) == {"image", "grid", "token", "is_read_step"}
    assert space["grid"] == gym.spaces.Box(0, 1, GRID_SHAPE, np.uint8)
    envs = homegrid.vector.HomeGridVectorEnv(3)
    assert envs.observation_space["grid"].shape == (3, *GRID_SHAPE)


def test_outside_never_comes_into_view():
    # Hence no "outside" channel: no walkable cell sees past the house walls.
    assert _outside_in_view() == []


def test_static_map_marks_every_cell_as_wall_or_one_room():
    padded = static_map()
    assert padded.shape == (layout.HEIGHT + 2, layout.WIDTH + 2, len(GRID_CHANNELS))
    for ring in (padded[0], padded[-1], padded[:, 0], padded[:, -1]):  # past the map edge
        assert ring[:, 0].all() and not ring[:, 1:].any()
    for y in range(layout.HEIGHT):
        for x in range(layout.WIDTH):
            cell = padded[y + 1, x + 1]
            if layout.MAP[y][x] == "#":
                assert list(np.flatnonzero(cell)) == [0]
            elif layout.MAP[y][x] != " ":
                assert cell[1:4].sum() == 1 and cell[1 + layout.ROOM_OF[y][x]] == 1
                furniture = layout.FURNITURE_AT[y][x]
                assert cell[4:18].sum() == (furniture is not None)
                if furniture:
                    assert cell[CHANNEL[furniture]] == 1
            assert not cell[18:].any()  # nothing dynamic is static


# ----------------------------------------------------------------------------- hand-made scenes
def test_walls_at_the_map_edge():
    g = grid_of(world_with((1, 7)))  # kitchen, west end: column x = 0 is the outer wall
    assert cells_with(g, "wall") == [(0, 0), (1, 0), (2, 0)]
    assert describe_grid(g)[0][1] == ["kitchen", "cupboard"]
    g = grid_of(world_with((12, 10)))  # dining room, south-east corner
    assert sorted(cells_with(g, "wall")) == [(0, 2), (1, 2), (2, 0), (2, 1), (2, 2)]


@pytest.mark.parametrize("cell, room", [((8, 4), "living room"), ((10, 7), "dining room"),
                                        ((3, 8), "kitchen"), ((7, 8), "kitchen")])
def test_room_channel_of_the_floor_under_the_agent(cell, room):
    g = grid_of(world_with(cell))
    rooms = [name for name in layout.ROOMS if g[1, 1, CHANNEL[name]]]
    assert rooms == [room]


def test_heading_channel_follows_the_agent():
    w = world_with((8, 4), agent_dir=0)
    assert describe_grid(grid_of(w))[1][1] == ["living room", "agent facing right"]
    w.act(UP)  # moves to (8, 3), facing up
    g = grid_of(w)
    assert (w.agent_x, w.agent_y) == (8, 3)
    assert cells_with(g, "agent facing up") == [(1, 1)]
    assert g[..., CHANNEL["agent facing right"]:CHANNEL["agent facing up"] + 1].sum() == 1
    w.act(LEFT)  # (7, 3) is the sofa side: the agent only turns
    g = grid_of(w)
    assert (w.agent_x, w.agent_y) == (8, 3) and cells_with(g, "agent facing left") == [(1, 1)]
    assert describe_grid(g)[1][0] == ["living room", "sofa_side"]


def test_carrying_sets_the_carry_channel_and_clears_the_object():
    w = world_with((8, 3), agent_dir=3, bins={"recycling bin": ((11, 1), "open", "pedal")},
                   trash={"bottle": (8, 2)})
    g = grid_of(w)
    assert cells_with(g, "bottle") == [(0, 1)] and not g[..., 32:].any()
    w.act(PICKUP)
    g = grid_of(w)
    assert cells_with(g, "carrying bottle") == [(1, 1)]
    assert g[..., 32:].sum() == 1 and not g[..., CHANNEL["bottle"]].any()
    w.act(DOWN)  # carry it along: still only on the agent
    g = grid_of(w)
    assert cells_with(g, "carrying bottle") == [(1, 1)] and not g[..., CHANNEL["bottle"]].any()
    w.act(DROP)  # onto the floor at (8, 5), south of the agent
    g = grid_of(w)
    assert cells_with(g, "bottle") == [(2, 1)] and not g[..., 32:].any()


def test_an_object_in_a_bin_is_nowhere_in_the_grid():
    w = world_with((11, 2), agent_dir=3, bins={"recycling bin": ((11, 1), "open", "pedal")},
                   trash={"papers": (10, 2)})
    w.act(LEFT)  # the papers block the way: the agent turns to face them
    w.act(PICKUP)
    w.act(UP)  # (11, 1) holds the bin: the agent turns to face it
    w.act(DROP)
    assert w.by_name["recycling bin"].content is w.by_name["papers"]
    g = grid_of(w)
    assert not g[..., CHANNEL["papers"]].any() and not g[..., CHANNEL["carrying papers"]].any()
    assert describe_grid(g)[0][1] == ["living room", "recycling bin", "bin open"]


@pytest.mark.parametrize("state", ["open", "closed", "broken"])
def test_bin_kind_and_state(state):
    g = grid_of(world_with((11, 2), bins={"trash bin": ((11, 1), state, "pedal")}))
    assert describe_grid(g)[0][1] == ["living room", "trash bin", f"bin {state}"]
    assert g[..., 22:28].sum() == 2  # one kind and one state, on that cell only


def test_bin_actions_change_the_state_channel_but_the_opening_action_is_not_shown():
    bins = {"compost bin": ((11, 1), "closed", "lift")}
    w = world_with((11, 2), agent_dir=3, bins=bins)
    other = world_with((11, 2), agent_dir=3, bins={"compost bin": ((11, 1), "closed", "grasp")})
    np.testing.assert_array_equal(grid_of(w), grid_of(other))  # how it opens is not visible
    w.act(PEDAL)  # the wrong action knocks it over
    assert cells_with(grid_of(w), "bin broken") == [(0, 1)]
    w = world_with((11, 2), agent_dir=3, bins=bins)
    w.act(LIFT)
    g = grid_of(w)
    assert cells_with(g, "bin open") == [(0, 1)] and not g[..., CHANNEL["bin closed"]].any()
    w.act(GRASP)  # an open bin stays open
    assert cells_with(grid_of(w), "bin open") == [(0, 1)]


class _Zeros:
    """A ``Uniform`` that always draws 0: spawn the first missing trash on the first free cell."""

    def random(self):
        return 0.0


def test_a_spawned_object_appears_only_when_visible():
    w = world_with((8, 2), trash={"fruit": (2, 10)})
    (event,) = w.random_events(_Zeros())
    assert (event["kind"], event["object"]) == ("spawn", "bottle")
    assert (w.by_name["bottle"].x, w.by_name["bottle"].y) == (9, 1)  # in view: row 0, col 2
    for _ in range(4):
        assert not grid_of(w)[..., CHANNEL["bottle"]].any()
        w.tick()
    assert not grid_of(w)[..., CHANNEL["bottle"]].any()
    w.tick()
    assert w.by_name["bottle"].hidden_for == 0
    assert cells_with(grid_of(w), "bottle") == [(0, 2)]


def test_a_hidden_object_under_the_agent_shows_once_visible():
    # The agent may walk onto a hidden object; the image then draws it beneath the robot.
    w = world_with((8, 3), agent_dir=3, trash={"plates": (8, 2)})
    w.by_name["plates"].hidden_for = 2
    w.act(UP)
    assert (w.agent_x, w.agent_y) == (8, 2)
    assert not grid_of(w)[..., CHANNEL["plates"]].any()
    w.by_name["plates"].hidden_for = 0  # it appears
    assert describe_grid(grid_of(w))[1][1] == ["living room", "plates", "agent facing up"]


# ----------------------------------------------------------------------------- the grid and pixels
@functools.lru_cache(maxsize=None)
def _tile(layers):
    img = sprite(layers[0])[..., :3]
    for name in layers[1:]:
        img = over(img, sprite(name))
    return img


def cell_layers(cell, centre):
    """The sprites a grid cell says to draw, bottom-up, named as the renderer names them."""
    on = [GRID_CHANNELS[c] for c in np.flatnonzero(cell)]
    assert set(cell.tolist()) <= {0, 1}
    rooms = [layout.ROOM_FLOOR[layout.ROOMS.index(n)] for n in on if n in layout.ROOMS]
    base = ["wall"] * ("wall" in on) + rooms
    assert len(base) == 1, on  # a cell is a wall or the floor of one room
    furniture = [n for n in on if n in GRID_CHANNELS[4:18]]
    trash = [n for n in on if n in layout.TRASH]
    kinds = [n for n in on if n in layout.BINS]
    states = [n.split()[1] for n in on if n.startswith("bin ")]
    assert len(kinds) == len(states) <= 1 and len(furniture) <= 1
    assert len(trash) + len(kinds) <= 1  # one thing per cell
    things = trash + [f"{k.replace(' ', '_')}_{s}" for k, s in zip(kinds, states)]
    carried = [n.split()[1] for n in on if n.startswith("carrying ")]
    headings = [HEADINGS.index(n.split()[2]) for n in on if n.startswith("agent facing ")]
    if centre:
        assert len(headings) == 1 and len(carried) <= 1
    else:
        assert not headings and not carried  # the agent is always the centre cell
    return tuple(base + furniture + things + carried + [f"robot_{d}" for d in headings])


def image_from_grid(grid, size):
    """Pixels drawn from the grid alone: cells composited, then nearest-neighbour resampled."""
    rows = [np.concatenate([_tile(cell_layers(grid[ky, kx], (ky, kx) == (1, 1)))
                            for kx in range(VIEW_CELLS)], axis=1) for ky in range(VIEW_CELLS)]
    full = np.concatenate(rows)
    src = np.arange(size) * (VIEW_CELLS * TILE) // size
    return full[src][:, src]


def mixed_policy(env, rng):
    """Half the oracle (carries, opens and fills bins), half random (breaks bins)."""
    oracle = Oracle()
    return lambda: (int(rng.integers(10)) if rng.random() < 0.5
                    else oracle.act(env.unwrapped.symbolic_state()))


@pytest.mark.parametrize("env_id, size", [("HomeGrid-v0", 64), ("HomeGrid-Task-v0", 48)])
def test_the_image_is_exactly_what_the_grid_says(env_id, size):
    env = gym.make(env_id, image_size=size)
    rng = np.random.default_rng(0)
    act = mixed_policy(env, rng)
    seen, read_steps = np.zeros(len(GRID_CHANNELS), bool), 0
    for episode in range(10):
        obs, _ = env.reset(seed=episode)
        trunc = False
        while True:  # every observation of the episode, the last one included
            grid, image = obs["grid"], obs["image"]
            assert grid.dtype == np.uint8 and grid.shape == GRID_SHAPE
            expected = image_from_grid(grid, size)
            if obs["is_read_step"]:
                expected = expected // 2  # dimmed, but the same frozen world
                read_steps += 1
            np.testing.assert_array_equal(image, expected)
            seen |= grid.any(axis=(0, 1)).astype(bool)
            if trunc:
                break
            obs, _, _, trunc, _ = env.step(act())
    if env_id == "HomeGrid-v0":
        assert read_steps > 20
    # The episodes went through the states that matter, so the comparison above means something.
    for name in ("bin open", "bin closed", "bin broken", *layout.TRASH, *layout.BINS,
                 *(f"agent facing {h}" for h in HEADINGS), "wall", *layout.ROOMS):
        assert seen[CHANNEL[name]], name
    assert seen[32:].sum() >= 2  # carried at least two kinds


def test_read_steps_show_the_frozen_world():
    env = gym.make("HomeGrid-Future-v0")
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        if env.unwrapped.game.preread >= 3:
            break
    assert env.unwrapped.game.preread >= 3 and obs["is_read_step"]
    first = obs["grid"]
    for _ in range(env.unwrapped.game.preread):
        obs, *_ = env.step(0)  # "left": ignored while reading
        np.testing.assert_array_equal(obs["grid"], first)
        assert obs["grid"] is not first


# ----------------------------------------------------------------------------- batching
@pytest.mark.parametrize("copy", [True, False])
def test_vector_grids_follow_the_copy_flag(copy):
    envs = homegrid.vector.HomeGridVectorEnv(4, (), copy=copy)
    obs, _ = envs.reset(seed=0)
    kept = obs["grid"]
    before = kept.copy()
    for t in range(5):
        obs, *_ = envs.step(np.full(4, t % 4))
    assert (obs["grid"] is kept) == (not copy)
    if copy:
        np.testing.assert_array_equal(kept, before)  # the caller's array was left alone
    np.testing.assert_array_equal(obs["grid"][0], gym_grid(0, [t % 4 for t in range(5)]))


def gym_grid(seed, actions):
    env = gym.make("HomeGrid-Task-v0")
    obs, _ = env.reset(seed=seed)
    for a in actions:
        obs, *_ = env.step(a)
    return obs["grid"]

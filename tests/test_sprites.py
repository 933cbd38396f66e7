"""Checks on the procedural sprites: shapes, opacity, rotations, the robot's heading, blending."""

import numpy as np
import pytest

from homegrid.sprites import SPRITE_NAMES, TILE, over, sprite

OPAQUE = ("floor_tile", "floor_carpet", "floor_wood", "wall", "outside")
FURNITURE = ("plant", "sofa", "coffee_table", "cabinet", "sofa_side", "rug_left", "rug_right",
             "cupboard", "stove", "fridge", "countertop", "chair_left", "chair_right", "table")
TRASH = ("bottle", "fruit", "papers", "plates")
BINS = tuple(f"{k}_bin_{s}" for k in ("recycling", "trash", "compost")
             for s in ("open", "closed", "broken"))
ROBOTS = tuple(f"robot_{d}" for d in range(4))
# Table and rug halves are deliberately edge to edge, so only require some transparency where
# the sprite is meant to float over the floor.
TRANSPARENT = tuple(n for n in FURNITURE if n != "table") + TRASH + BINS + ROBOTS


def test_names_complete():
    assert TILE == 32
    assert set(SPRITE_NAMES) == set(OPAQUE + FURNITURE + TRASH + BINS + ROBOTS)
    assert len(SPRITE_NAMES) == len(set(SPRITE_NAMES))


@pytest.mark.parametrize("name", SPRITE_NAMES)
def test_shape_dtype_readonly_cached(name):
    arr = sprite(name)
    assert arr.shape == (TILE, TILE, 4)
    assert arr.dtype == np.uint8
    assert not arr.flags.writeable
    assert sprite(name) is arr


@pytest.mark.parametrize("name", OPAQUE)
def test_floors_opaque(name):
    assert (sprite(name)[..., 3] == 255).all()


def test_outside_white():
    assert (sprite("outside")[..., :3] == 255).all()


@pytest.mark.parametrize("name", TRANSPARENT)
def test_objects_have_transparent_and_opaque_pixels(name):
    alpha = sprite(name)[..., 3]
    assert (alpha == 0).any()
    assert (alpha == 255).any()


def test_table_has_opaque_pixels():
    assert (sprite("table")[..., 3] == 255).any()


@pytest.mark.parametrize("kind", ("recycling", "trash", "compost"))
def test_broken_is_closed_rotated(kind):
    closed = sprite(f"{kind}_bin_closed")
    assert np.array_equal(sprite(f"{kind}_bin_broken"), np.rot90(closed, 1))


@pytest.mark.parametrize("kind", ("recycling", "trash", "compost"))
def test_open_differs_from_closed(kind):
    assert not np.array_equal(sprite(f"{kind}_bin_open"), sprite(f"{kind}_bin_closed"))


@pytest.mark.parametrize("facing, direction", [(0, (1, 0)), (1, (0, 1)), (2, (-1, 0)),
                                               (3, (0, -1))])
def test_robot_heading(facing, direction):
    arr = sprite(f"robot_{facing}")
    red = (arr[..., 0] == 255) & (arr[..., 1] == 0) & (arr[..., 2] == 0) & (arr[..., 3] == 255)
    assert red.sum() >= 20
    ys, xs = np.nonzero(red)
    dx, dy = xs.mean() + 0.5 - TILE / 2, ys.mean() + 0.5 - TILE / 2
    along = dx * direction[0] + dy * direction[1]
    across = dx * direction[1] - dy * direction[0]
    assert along > 1.0
    assert abs(across) < 0.5


def test_robot_leaves_margin():
    alpha = sprite("robot_0")[..., 3]
    for corner in (alpha[:4, :4], alpha[:4, -4:], alpha[-4:, :4], alpha[-4:, -4:]):
        assert (corner == 0).all()


def test_distinct_sprites():
    flat = {name: sprite(name).tobytes() for name in SPRITE_NAMES}
    assert len(set(flat.values())) == len(SPRITE_NAMES)


@pytest.mark.parametrize("floor", OPAQUE)
@pytest.mark.parametrize("name", SPRITE_NAMES)
def test_over_no_dark_halo(floor, name):
    bottom = sprite(floor)[..., :3]
    top = sprite(name)
    out = over(bottom, top)
    assert out.shape == (TILE, TILE, 3) and out.dtype == np.uint8
    assert (out >= np.minimum(bottom, top[..., :3])).all()
    assert (out <= np.maximum(bottom, top[..., :3])).all()


def test_over_blending_exact():
    bottom = np.full((TILE, TILE, 3), 200, np.uint8)
    top = np.zeros((TILE, TILE, 4), np.uint8)
    top[..., :3] = (100, 0, 255)
    top[..., 3] = 128
    out = over(bottom, top)
    expected = np.rint(np.array([100, 0, 255]) * 128 / 255 + 200 * 127 / 255)
    assert (out == expected.astype(np.uint8)).all()
    top[..., 3] = 0
    assert (over(bottom, top) == bottom).all()
    top[..., 3] = 255
    assert (over(bottom, top) == top[..., :3]).all()


def test_over_returns_new_array():
    bottom = sprite("floor_wood")[..., :3]
    out = over(bottom, sprite("bottle"))
    assert out is not bottom and out.flags.writeable


def test_unknown_name():
    with pytest.raises(ValueError, match="floor_tile"):
        sprite("nope")


def test_sprites_draw_without_pil_or_pygame():
    """Sprites are numpy only: they load and draw with PIL and pygame unavailable."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "for m in ('PIL', 'pygame'): sys.modules[m] = None\n"
        "import homegrid.sprites as s\n"
        "print(len([s.sprite(n) for n in s.SPRITE_NAMES]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == str(len(SPRITE_NAMES))

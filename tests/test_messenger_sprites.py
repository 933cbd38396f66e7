"""Checks on Messenger's procedural sprites: shapes, caching, tiny-cell legibility, errors."""

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from messenger_s2.entities import AVATAR, AVATAR_WITH_MESSAGE, DRAWN_SYMBOLS
from messenger_s2.sprites import BACKGROUND, cell_tile, symbol_sprite

SIZES = (6, 8, 16, 32)
# Thresholds for "clearly distinguishable" tiles at the game's tiny cell sizes.  The design
# clears them with margin (about 30 and 28 at the time of writing); a change of palette or
# coverage that erodes that margin should be a deliberate decision, not an accident.
MIN_MEAN_ABS_DIFF = 25.0  # mean |RGB difference| over all pixels and channels, of 255
MIN_MEAN_COLOUR_DIST = 20.0  # Euclidean distance between the two tiles' mean RGB colours
EMPTY = ()


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("symbol", DRAWN_SYMBOLS)
def test_sprite_shape_dtype_readonly_cached(symbol, size):
    arr = symbol_sprite(symbol, size)
    assert arr.shape == (size, size, 4)
    assert arr.dtype == np.uint8
    assert not arr.flags.writeable
    assert symbol_sprite(symbol, size) is arr
    with pytest.raises(ValueError):
        arr[0, 0, 0] = 1
    # Something is drawn and the sprite does not simply fill the square.
    assert (arr[..., 3] == 255).any()
    assert arr[..., 3].mean() < 250


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("symbol", DRAWN_SYMBOLS)
def test_tile_shape_dtype_readonly_cached(symbol, size):
    tile = cell_tile((symbol,), size)
    assert tile.shape == (size, size, 3)
    assert tile.dtype == np.uint8
    assert not tile.flags.writeable
    assert cell_tile((symbol,), size) is tile


@pytest.mark.parametrize("size", (4, 5, 7, 48))
def test_odd_and_extreme_sizes_draw(size):
    for symbol in DRAWN_SYMBOLS:
        assert symbol_sprite(symbol, size).shape == (size, size, 4)


@pytest.mark.parametrize("size", SIZES)
def test_empty_cell_is_background(size):
    tile = cell_tile(EMPTY, size)
    assert tile.shape == (size, size, 3)
    assert (tile == np.array(BACKGROUND, dtype=np.uint8)).all()
    assert not tile.flags.writeable


def _pair_distances(size: int) -> list[tuple[float, float, tuple, tuple]]:
    tiles = {(s,): cell_tile((s,), size).astype(float) for s in DRAWN_SYMBOLS}
    tiles[EMPTY] = cell_tile(EMPTY, size).astype(float)
    out = []
    for a, b in itertools.combinations(tiles, 2):
        mad = float(np.abs(tiles[a] - tiles[b]).mean())
        dist = float(np.linalg.norm(tiles[a].mean(axis=(0, 1)) - tiles[b].mean(axis=(0, 1))))
        out.append((mad, dist, a, b))
    return out


@pytest.mark.parametrize("size", (6, 8))
def test_tiles_distinguishable_at_small_sizes(size):
    pairs = _pair_distances(size)
    assert len(pairs) == 15 * 14 // 2  # 14 symbols and the empty cell
    mad, _, a, b = min(pairs, key=lambda p: p[0])
    _, dist, c, d = min(pairs, key=lambda p: p[1])
    print(f"{size} px: smallest mean |diff| {mad:.1f} ({a} vs {b}); "
          f"smallest mean-colour distance {dist:.1f} ({c} vs {d})")
    for mad, dist, a, b in pairs:
        assert mad >= MIN_MEAN_ABS_DIFF, (size, a, b, mad)
        assert dist >= MIN_MEAN_COLOUR_DIST, (size, a, b, dist)


def test_avatar_states_differ_in_colour():
    # The message is a magenta envelope: far more red+blue than green, unlike the white avatar.
    def magenta(symbol: int) -> int:
        px = cell_tile((symbol,), 6).reshape(-1, 3).astype(int)
        return int(((px[:, 0] - px[:, 1] > 100) & (px[:, 2] - px[:, 1] > 60)).sum())

    assert magenta(AVATAR) == 0
    assert magenta(AVATAR_WITH_MESSAGE) >= 6


@pytest.mark.parametrize("size", (6, 32))
@pytest.mark.parametrize("pair", [(AVATAR, 4), (4, AVATAR), (AVATAR_WITH_MESSAGE, 12),
                                  (2, 10), (13, 8), (8, 13)])
def test_overlapping_tiles_differ_from_single_tiles(pair, size):
    both = cell_tile(pair, size)
    assert both.shape == (size, size, 3)
    assert not both.flags.writeable
    for s in pair:
        assert not np.array_equal(both, cell_tile((s,), size))


def test_overlap_order_matters():
    assert not np.array_equal(cell_tile((AVATAR, 4), 32), cell_tile((4, AVATAR), 32))


def test_later_symbol_on_top():
    # Where the top sprite is opaque, the tile shows the top sprite's colour.
    top = symbol_sprite(10, 32)
    opaque = top[..., 3] == 255
    assert np.array_equal(cell_tile((2, 10), 32)[opaque], top[..., :3][opaque])


@pytest.mark.parametrize("bad", [0, 1, 14, 17, -3, True, "2", 2.5, None])
def test_unknown_symbol_raises_naming_valid_ones(bad):
    for call in (lambda: symbol_sprite(bad, 8), lambda: cell_tile((2, bad), 8)):
        with pytest.raises(ValueError) as err:
            call()
        message = str(err.value)
        for symbol in DRAWN_SYMBOLS:
            assert str(symbol) in message


@pytest.mark.parametrize("bad", [3, 0, -1, True, 6.0, "6"])
def test_bad_size_raises(bad):
    with pytest.raises(ValueError):
        symbol_sprite(2, bad)
    with pytest.raises(ValueError):
        cell_tile((2,), bad)
    with pytest.raises(ValueError):
        cell_tile(EMPTY, bad)


def test_numpy_integers_accepted():
    assert symbol_sprite(np.int64(2), np.int32(6)) is symbol_sprite(2, 6)


def test_draws_without_pil_or_pygame():
    code = (
        "import sys\n"
        "sys.modules['PIL'] = None\n"
        "sys.modules['pygame'] = None\n"
        "import messenger_s2.sprites as s\n"
        "from messenger_s2.entities import DRAWN_SYMBOLS\n"
        "for sym in DRAWN_SYMBOLS:\n"
        "    assert s.symbol_sprite(sym, 6).shape == (6, 6, 4)\n"
        "assert s.cell_tile((2, 15), 8).shape == (8, 8, 3)\n"
        "print('ok')\n"
    )
    root = Path(__file__).resolve().parents[1]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")

"""Contact sheet of every HomeGrid sprite: ``python -m homegrid.sprite_sheet [out.png]``.

Each sprite over every floor, enlarged on a checkerboard (to see its alpha), and as the agent
sees it after the 2/3 nearest-neighbour resize; then a small scene at native size.
"""

from __future__ import annotations

import sys
import time
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

from homegrid.sprites import SPRITE_NAMES, TILE, over, sprite

#: floors each sprite is shown on
FLOORS = ("floor_tile", "floor_carpet", "floor_wood", "wall", "outside")
ZOOM = 2  # on-sheet zoom for the per-floor copies
LABEL_W, PAD = 120, 6
#: the sheet's demo scene: per cell, a stack of sprite names, the floor first
DEMO_SCENE: list[list[tuple[str, ...]]] = [
    [("wall",), ("wall",), ("wall",), ("wall",), ("wall",), ("wall",), ("wall",),
     ("wall",), ("outside",), ("floor_wood",), ("floor_wood", "chair_left"),
     ("floor_wood", "table", "plates"), ("floor_wood", "chair_right"),
     ("floor_wood", "robot_3")],
    [("wall",), ("floor_tile", "cupboard", "bottle"), ("floor_tile", "stove"),
     ("floor_tile", "fridge"), ("floor_tile", "robot_0"), ("floor_tile", "fruit", "robot_1"),
     ("floor_carpet", "sofa"), ("floor_carpet", "coffee_table", "papers"),
     ("floor_carpet", "rug_left"), ("floor_carpet", "rug_right"),
     ("floor_wood", "chair_left"), ("floor_wood", "table", "fruit"),
     ("floor_wood", "chair_right"), ("floor_wood", "compost_bin_open")],
    [("wall",), ("floor_tile", "countertop"), ("floor_tile", "countertop", "plates"),
     ("floor_tile", "trash_bin_closed"), ("floor_tile", "recycling_bin_broken"),
     ("floor_carpet", "plant"), ("floor_carpet", "sofa_side"), ("floor_carpet", "cabinet"),
     ("floor_carpet", "trash_bin_open"), ("floor_wood", "trash_bin_broken"),
     ("floor_wood", "recycling_bin_open"), ("floor_wood", "papers", "robot_2"),
     ("floor_carpet", "bottle"), ("floor_wood", "plates")],
]


def _big(img: np.ndarray, k: int) -> np.ndarray:
    return img.repeat(k, axis=0).repeat(k, axis=1)


def _checker() -> np.ndarray:
    yy, xx = np.mgrid[:TILE, :TILE]
    v = np.where(((yy // 4) + (xx // 4)) % 2 == 0, 200, 150).astype(np.uint8)
    return np.repeat(v[..., None], 3, axis=2)


def _floor_rgb(name: str) -> np.ndarray:
    return sprite(name)[..., :3]


def _scene(cells: list[list[tuple[str, ...]]]) -> np.ndarray:
    """Stack of sprite names per cell, bottom first, composed into one image."""
    rows_img = []
    for row in cells:
        tiles = []
        for stack in row:
            img = _floor_rgb(stack[0]).copy()
            for n in stack[1:]:
                img = over(img, sprite(n))
            tiles.append(img)
        rows_img.append(np.concatenate(tiles, axis=1))
    return np.concatenate(rows_img, axis=0)


def _sprite_row(sheet: Image.Image, name: str, x0: int, y0: int) -> None:
    """One sprite on every floor, on a checkerboard at 4x, and as the agent sees it."""
    # The agent sees 3x3 tiles in 64 px: nearest-neighbour keeps columns floor(j * 1.5).
    keep = np.floor(np.arange(21) * 1.5).astype(int)
    spr = sprite(name)
    x = x0 + LABEL_W
    for f in FLOORS:
        sheet.paste(Image.fromarray(_big(over(_floor_rgb(f), spr), ZOOM)), (x, y0 + 4))
        x += TILE * ZOOM + PAD
    sheet.paste(Image.fromarray(_big(over(_checker(), spr), 4)), (x, y0))
    x += TILE * 4 + PAD
    small = over(_floor_rgb("floor_tile"), spr)[keep][:, keep]
    sheet.paste(Image.fromarray(small), (x, y0 + 4))
    sheet.paste(Image.fromarray(_big(small, 3)), (x, y0 + 4 + 24))


def main(argv: Sequence[str] | None = None) -> None:
    t0 = time.perf_counter()
    for n in SPRITE_NAMES:
        sprite(n)
    print(f"built {len(SPRITE_NAMES)} sprites in {time.perf_counter() - t0:.3f}s")

    out_path = argv[0] if argv else "sprites.png"
    cell_w = LABEL_W + len(FLOORS) * (TILE * ZOOM + PAD) + TILE * 4 + PAD + 21 * 3 + PAD
    cell_h = TILE * 4 + PAD
    cols = 2
    rows = -(-len(SPRITE_NAMES) // cols)
    scene_h = TILE * 3 + 2 * PAD + 14
    sheet = Image.new("RGB", (cols * cell_w, rows * cell_h + scene_h), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for i, name in enumerate(SPRITE_NAMES):
        x0, y0 = (i % cols) * cell_w, (i // cols) * cell_h
        draw.text((x0 + 4, y0 + 4), name, fill=(0, 0, 0))
        _sprite_row(sheet, name, x0, y0)

    demo = _scene(DEMO_SCENE)
    ys = rows * cell_h + PAD
    draw.text((4, ys), "scene (native size, then the agent's 2/3 nearest-neighbour view)",
              fill=(0, 0, 0))
    sheet.paste(Image.fromarray(demo), (4, ys + 14))
    hh, ww = demo.shape[:2]
    view = demo[np.floor(np.arange(hh * 2 // 3) * 1.5).astype(int)][
        :, np.floor(np.arange(ww * 2 // 3) * 1.5).astype(int)]
    sheet.paste(Image.fromarray(view), (4 + ww + 16, ys + 14))
    sheet.save(out_path)
    print(f"wrote {out_path} ({sheet.size[0]}x{sheet.size[1]})")


if __name__ == "__main__":
    main(sys.argv[1:])

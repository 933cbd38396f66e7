"""Pixels and the symbolic grid of the 10 x 10 board, updated cell by cell.

A cell's content is summarised by a bitmask over symbol ids (bit ``s`` set when an entity with
symbol ``s`` stands there).  :class:`Board` keeps, per bitmask ever seen, the cell's tile
(sprites composited in symbol order, so the avatar is on top) and its multi-hot grid row, so
that both observations of a step are updated by pasting a few cached cells: only cells whose
content changed are touched, which keeps a step's cost independent of the image size.
"""

from __future__ import annotations

import numpy as np

from langstream.caption import add_caption
from langstream.checks import check_image_size
from messenger_s2.entities import GRID_SIZE, N_SYMBOLS
from messenger_s2.sprites import MIN_SIZE, cell_tile

FRAME = (70, 70, 78)  # the border around the board
MIN_IMAGE_SIZE = MIN_SIZE * GRID_SIZE  # the smallest cell the sprites are drawn at, per cell


def symbols_of(bitmask: int) -> tuple[int, ...]:
    """The symbols set in a cell bitmask, in drawing order."""
    return tuple(s for s in range(N_SYMBOLS) if bitmask >> s & 1)


class Board:
    """Cached cells at one image size, and the routines that paste them.

    ``image_size`` is the side of the square image; each cell is ``image_size // 10`` pixels and
    what is left over becomes a frame around the board.
    """

    def __init__(self, image_size: int):
        image_size = check_image_size(image_size, MIN_IMAGE_SIZE)
        self.cell = cell = image_size // GRID_SIZE
        self.margin = (image_size - GRID_SIZE * cell) // 2
        self.shape = (image_size, image_size, 3)
        self._line = np.dtype((np.void, cell * 3))
        self._lut = np.full(1 << N_SYMBOLS, -1, np.int32)  # bitmask -> row of the tables
        self.tiles = np.empty((0, cell, cell, 3), np.uint8)
        self.bits = np.empty((0, N_SYMBOLS), np.uint8)
        self._add([0])  # the empty cell is row 0
        self.empty_image = np.empty(self.shape, np.uint8)
        self.empty_image[:] = FRAME
        m, n = self.margin, GRID_SIZE * cell
        self.empty_image[m:m + n, m:m + n] = np.tile(self.tiles[0], (GRID_SIZE, GRID_SIZE, 1))

    def cell_lines(self, images: np.ndarray) -> np.ndarray:
        """A view of a C-contiguous batch of images (n, H, W, 3) as (n, row, y, col) cell lines.

        Each element is one pixel row of one cell, as an opaque block of ``cell * 3`` bytes:
        pasting a cell then moves ``cell`` blocks instead of ``cell * cell * 3`` bytes, which is
        what makes the batched repaint cheap.
        """
        if not images.flags.c_contiguous:
            raise ValueError("cell_lines needs a C-contiguous image batch")
        n, h, w, _ = images.shape
        return np.ndarray((n, GRID_SIZE, self.cell, GRID_SIZE), self._line, images,
                          offset=(self.margin * w + self.margin) * 3,
                          strides=(h * w * 3, self.cell * w * 3, w * 3, self.cell * 3))

    def tile_lines(self) -> np.ndarray:
        """The cached tiles as (tile, y) cell lines (see :meth:`cell_lines`)."""
        return self.tiles.reshape(len(self.tiles), self.cell, -1).view(self._line)[..., 0]

    def index(self, bitmask: int) -> int:
        """Row of the cached tables for one cell bitmask (drawn on first use)."""
        i = int(self._lut[bitmask])
        return i if i >= 0 else self._add([bitmask])[0]

    def indices(self, bitmasks: np.ndarray) -> np.ndarray:
        """Rows of the cached tables for an array of bitmasks."""
        rows = self._lut[bitmasks]
        if (rows < 0).any():
            self._add(np.unique(bitmasks[rows < 0]).tolist())
            rows = self._lut[bitmasks]
        return rows

    def _add(self, bitmasks: list[int]) -> list[int]:
        start = len(self.tiles)
        tiles = [cell_tile(symbols_of(b), self.cell) for b in bitmasks]
        bits = [[b >> s & 1 for s in range(N_SYMBOLS)] for b in bitmasks]
        self.tiles = np.concatenate([self.tiles, np.stack(tiles)])
        self.bits = np.concatenate([self.bits, np.asarray(bits, np.uint8)])
        rows = list(range(start, start + len(bitmasks)))
        self._lut[bitmasks] = rows
        return rows

    def draw(self, image: np.ndarray, grid: np.ndarray, occupied: dict[tuple[int, int], int]
             ) -> None:
        """Draw a whole board: ``occupied`` maps (row, col) cells to their bitmask."""
        image[:] = self.empty_image
        grid[:] = 0
        for (r, c), bitmask in occupied.items():
            self.paint(image, grid, r, c, bitmask)

    def paint(self, image: np.ndarray, grid: np.ndarray, r: int, c: int, bitmask: int) -> None:
        """Redraw one cell of one board."""
        i = self.index(bitmask)
        m, s = self.margin, self.cell
        image[m + r * s:m + (r + 1) * s, m + c * s:m + (c + 1) * s] = self.tiles[i]
        grid[r, c] = self.bits[i]


def captioned_frame(board: Board, occupied: dict[tuple[int, int], int], *, sentence: str,
                    word: str, status: str) -> np.ndarray:
    """The whole board drawn with ``board`` (a larger cell size than the observation's), under
    the sentence streaming now (or that the manual has been read), ``status`` and the word on
    show."""
    image = np.empty(board.shape, np.uint8)
    grid = np.empty((GRID_SIZE, GRID_SIZE, N_SYMBOLS), np.uint8)
    board.draw(image, grid, occupied)
    reading = f"reading: {sentence}" if sentence else "manual read; playing"
    return add_caption(image, [reading, status + (f"  |  word: {word}" if word else "")],
                       rows=[2, 1])


def status_line(stage: str, split: str, step: int, max_steps: int, carrying: bool) -> str:
    """The frame's caption line about the game: stage, split, play steps, the message."""
    return (f"{stage} {split}  |  step {step}/{max_steps}"
            f"  |  carrying: {'yes' if carrying else 'no'}")

"""One utterance at a time, one token per step."""

from __future__ import annotations

from typing import Sequence

from langstream.vocab import PAD_ID


class TokenStream:
    """Plays an utterance token by token; emits pad (id 0) when idle.

    Starting a new utterance interrupts the current one.  Callers decide what to say and when
    (for HomeGrid: a new task interrupts, hints are dropped while busy); the stream only keeps
    the cursor.
    """

    __slots__ = ("_ids", "_cursor", "text")

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        """Stop talking."""
        self._ids: Sequence[int] = ()
        self._cursor = 0
        self.text = ""

    def start(self, text: str, ids: Sequence[int]) -> None:
        """Begin streaming ``ids`` (the tokens of ``text``) from the next emitted token."""
        if len(ids) == 0:
            raise ValueError(f"cannot stream an utterance with no tokens: {text!r}")
        self._ids = ids
        self._cursor = 0
        self.text = text

    @property
    def busy(self) -> bool:
        """True while tokens of the current utterance remain to be emitted."""
        return self._cursor < len(self._ids)

    def emit(self) -> tuple[int, str]:
        """The token for this step and the utterance it belongs to ("" for pad); then advance."""
        if self._cursor >= len(self._ids):
            return PAD_ID, ""
        token = self._ids[self._cursor]
        self._cursor += 1
        return token, self.text

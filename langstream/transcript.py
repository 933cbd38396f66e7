"""Rebuild what was said from a one-token-per-step stream, for people (play tools, demos)."""

from __future__ import annotations

from dataclasses import dataclass, field

from langstream.vocab import PAD_ID, Vocab


@dataclass
class Line:
    """One utterance as heard so far: the step its first token arrived and the token ids."""

    step: int
    utterance: str
    ids: list[int] = field(default_factory=list)


class Transcript:
    """Collects tokens into lines, one line per utterance; keeps the last ``keep`` lines."""

    def __init__(self, vocab: Vocab, keep: int | None = None):
        self.vocab, self.keep = vocab, keep
        self.lines: list[Line] = []

    def hear(self, token: int, utterance: str, step: int = 0) -> bool:
        """Add this step's token; True when it starts a new line."""
        if token == PAD_ID:
            return False
        last = self.lines[-1] if self.lines else None
        # The same utterance said again starts a new line too: after it was heard whole, or
        # when the stream starts it over before its end (a task drawn again at once).
        expected = self.vocab.encode(utterance)
        new = (last is None or last.utterance != utterance or len(last.ids) >= len(expected)
               or (token != expected[len(last.ids)] and token == expected[0]))
        if new:
            self.lines.append(Line(step, utterance))
            if self.keep is not None:
                del self.lines[:-self.keep]
        self.lines[-1].ids.append(token)
        return new

    def text(self, line: Line) -> str:
        return self.vocab.decode(line.ids)

    def text_lines(self) -> list[str]:
        return [self.text(line) for line in self.lines]

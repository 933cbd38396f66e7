"""Word-level vocabulary: text <-> token ids.

Words are lower-cased runs of letters, digits and apostrophes; every other non-space character
(",", ".", "?") is a token of its own.  So "no, turn around" is the four tokens
``no , turn around``, as in the reference tokenisation of HomeGrid.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Iterable, Sequence

PAD = "<pad>"
UNK = "<unk>"
PAD_ID = 0
UNK_ID = 1

_TOKEN_RE = re.compile(r"[a-z0-9']+|[^\sa-z0-9']")
_NO_SPACE_BEFORE = frozenset(",.;:!?)")


def tokenize(text: str) -> list[str]:
    """Split text into lower-case word and punctuation tokens."""
    return _TOKEN_RE.findall(text.lower())


class Vocab:
    """A fixed list of words; a word's id is its index.

    Id 0 is ``<pad>`` (no language this step) and id 1 is ``<unk>`` (a word outside the
    vocabulary), so every text is representable.
    """

    def __init__(self, words: Sequence[str]):
        words = list(words)
        if words[:2] != [PAD, UNK]:
            raise ValueError(f"a vocabulary must start with {PAD!r}, {UNK!r}; got {words[:2]}")
        duplicates = [w for w, n in Counter(words).items() if n > 1]
        if duplicates:
            raise ValueError(f"duplicate words in vocabulary: {sorted(duplicates)[:10]}")
        self.words: tuple[str, ...] = tuple(words)
        self._ids = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def from_file(cls, path: str | Path) -> "Vocab":
        """Load a vocabulary stored as one word per line (``<pad>`` and ``<unk>`` first)."""
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        return cls([line.strip() for line in lines if line.strip()])

    @classmethod
    def from_texts(cls, texts: Iterable[str], min_count: int = 1) -> "Vocab":
        """Build a vocabulary from a corpus: words seen at least ``min_count`` times, sorted."""
        counts = Counter(tok for text in texts for tok in tokenize(text))
        kept = sorted(w for w, n in counts.items() if n >= min_count and w not in (PAD, UNK))
        return cls([PAD, UNK, *kept])

    def save(self, path: str | Path) -> None:
        Path(path).write_text("\n".join(self.words) + "\n", encoding="utf-8")

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self._ids

    def id(self, word: str) -> int:
        """The id of one token (``UNK_ID`` when unknown)."""
        return self._ids.get(word, UNK_ID)

    def encode(self, text: str) -> list[int]:
        """Token ids of a text; unknown words map to ``UNK_ID``."""
        return [self._ids.get(tok, UNK_ID) for tok in tokenize(text)]

    def decode(self, ids: Iterable[int], skip_pad: bool = True) -> str:
        """Text of token ids, with punctuation re-attached to the previous word."""
        out: list[str] = []
        for i in ids:
            i = int(i)
            if not 0 <= i < len(self.words):
                raise ValueError(f"token id {i} is outside this vocabulary of "
                                 f"{len(self.words)} words")
            if i == PAD_ID and skip_pad:
                continue
            word = self.words[i]
            if out and word in _NO_SPACE_BEFORE:
                out[-1] += word
            else:
                out.append(word)
        return " ".join(out)

    def unknown_rate(self, texts: Iterable[str]) -> float:
        """Share of the tokens of ``texts`` that fall outside the vocabulary."""
        total = unknown = 0
        for text in texts:
            for tok in tokenize(text):
                total += 1
                unknown += tok not in self._ids
        return unknown / total if total else 0.0

    def __repr__(self) -> str:
        return f"Vocab({len(self)} words)"

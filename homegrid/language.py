"""What HomeGrid says, and when: hints and the per-step utterance choice of the reference.

Every observation carries one token.  At each step the :class:`Narrator` decides, in this order:

1. a newly sampled task interrupts whatever is streaming (after the pre-read phase);
2. otherwise, only if nothing is streaming:
   a. the task is repeated if it started ``repeat_task_every`` or more steps ago;
   b. else one of this step's events of an enabled hint kind is told (events that happen while
      something streams are dropped, not queued);
   c. else, with probability ``p_language``: "no, turn around" if corrections are on and the goal
      got farther, otherwise a random description of an enabled kind;
3. the next token of the current utterance is emitted (pad when idle).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from homegrid.layout import BINS, ROOMS, TRASH, room_name_at
from homegrid.tasks import Task, all_task_texts
from homegrid.world import BIN_ACTIONS, World
from langstream import TokenStream, Vocab, tokenize
from langstream.sampling import Uniform, choice, shuffle

HINT_KINDS = ("future", "dynamics", "corrections")
CORRECTION = "no, turn around"
VOCAB_PATH = Path(__file__).with_name("vocab.txt")


def dynamics_text(action: str, bin_name: str) -> str:
    return f"{action} to open the {bin_name}"


def location_text(name: str, room: str) -> str:
    return f"{name} is in the {room}"


def all_sentences() -> list[str]:
    """Every sentence the environment can emit (93): tasks, hints and the correction."""
    things = TRASH + BINS
    return (
        all_task_texts()
        + [location_text(t, r) for t in things for r in ROOMS]
        + [f"i moved the {o} to the {r}" for o in TRASH for r in ROOMS]
        + [f"there will be {o} in the {r} later" for o in TRASH for r in ROOMS]
        + [dynamics_text(a, b) for a in BIN_ACTIONS for b in BINS]
        + [CORRECTION]
    )


def load_vocab() -> Vocab:
    """HomeGrid's fixed vocabulary (``vocab.txt`` in the package)."""
    return Vocab.from_file(VOCAB_PATH)


def descriptions(world: World, hints: Iterable[str]) -> list[str]:
    """Facts available now: how each bin opens (dynamics), where each thing lies (future)."""
    out = []
    for t in world.things:
        if "dynamics" in hints and t.is_bin:
            out.append(dynamics_text(t.action, t.name))
        if "future" in hints and t.x >= 0:
            out.append(location_text(t.name, room_name_at(t.x, t.y)))
    return out


class Narrator:
    """Chooses the utterance and emits one token per observation (see the module docstring)."""

    def __init__(self, vocab: Vocab, hints: frozenset[str], preread_max: int = 28,
                 repeat_task_every: int = 20, p_language: float = 0.2):
        self.vocab = vocab
        self.hints = hints
        self.preread_max = preread_max
        self.repeat_task_every = repeat_task_every
        self.p_language = p_language
        self.stream = TokenStream()
        # The task-only setting has nothing to say at random: skip the draw.
        self._can_chat = bool(hints & {"future", "dynamics", "corrections"})
        self._ids: dict[str, tuple[int, ...]] = {}

    def _say(self, text: str) -> None:
        ids = self._ids.get(text)
        if ids is None:
            ids = self._ids[text] = tuple(self.vocab.encode(text))
        self.stream.start(text, ids)

    def reset(self, world: World, rng: Uniform) -> int:
        """Start the pre-read utterance; return the number of read steps P (0 = none)."""
        self.stream.clear()
        self._task_pending = True
        self._last_task_start = 0
        self._prev_distance = 0
        self.preread = 0
        if self.preread_max > 0 and self.hints & {"future", "dynamics"}:
            text = " ".join(shuffle(rng, descriptions(world, self.hints)))
            ids = self.vocab.encode(text)[: self.preread_max]
            if ids:
                self.preread = len(ids)
                self.stream.start(self.vocab.decode(ids), ids)
        return self.preread

    def step(self, t: int, world: World, task: Task, new_task: bool,
             events: list[dict[str, Any]], distance: int,
             rng: Uniform) -> tuple[int, str]:
        """The token of observation ``t`` and the utterance it belongs to ("" for pad)."""
        if new_task:
            self._task_pending = True
        if self._task_pending and t >= self.preread:
            self._say(task.text)
            self._last_task_start = t
            self._task_pending = False
        elif not self.stream.busy:
            if t - self._last_task_start >= self.repeat_task_every:
                self._say(task.text)
                self._last_task_start = t
            elif events and "future" in self.hints:
                self._say(choice(rng, events)["description"])
            elif self._can_chat and rng.random() < self.p_language:
                if "corrections" in self.hints and distance > self._prev_distance:
                    self._say(CORRECTION)
                else:
                    facts = descriptions(world, self.hints)
                    if facts:
                        self._say(choice(rng, facts))
        self._prev_distance = distance
        return self.stream.emit()


def vocab_words() -> list[str]:
    """The vocabulary file's content: pad, unk, then every token of every sentence, sorted."""
    words = sorted({tok for s in all_sentences() for tok in tokenize(s)})
    return ["<pad>", "<unk>", *words]

"""Where manual sentences and game splits come from: the project's grammar or the human texts.

A :class:`TextSource` answers "a sentence that says ``entity`` is the ``role`` and moves like
``movement``, from the ``split`` texts", lists the game triples of each game split, and owns the
word vocabulary (built from its train texts).  Two sources exist:

* :class:`GeneratedTexts` (the default, ``texts=None``): the project's own grammar
  (``grammar.py``), whose train, val and test sentence frames are disjoint; game splits are the
  reference's, defined by rule below.
* :class:`HumanTexts` (``texts=PATH``): the original crowd-sourced sentences of messenger-emma
  (``text_train.json``, ``text_val.json``, ``text_test.json`` and ``games.json``), read from a
  directory the user points to; they are not shipped with this project.
"""

from __future__ import annotations

import functools
import itertools
import json
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from langstream import Vocab, tokenize
from langstream.sampling import Uniform, choice
from messenger_s2 import grammar
from messenger_s2.entities import ENTITIES, ROLES, TEXT_MOVEMENTS, TEXT_SPLITS

Triple = tuple[str, str, str]  # (enemy, message, goal)
Sentence = tuple[str, tuple[int, ...]]  # text and token ids
GAME_SPLITS: tuple[str, ...] = ("train_mc", "train_sc", "val", "test")
TEXT_FILES: dict[str, str] = {split: f"text_{split}.json" for split in TEXT_SPLITS}
GAMES_FILE = "games.json"
_GAMES_KEYS = {"train_multi_comb": "train_mc", "train_single_comb": "train_sc",
               "val": "val", "test": "test"}
VOCAB_FILE = Path(__file__).with_name("vocab.txt")


def reference_games() -> dict[str, tuple[Triple, ...]]:
    """The reference's game splits (the same sets as messenger-emma's ``games.json``).

    train_mc: every triple of distinct entities with enemy in {queen, robot, ship, thief},
    message in {airplane, scientist, ship, thief} and goal in {airplane, queen, robot,
    scientist} (40 games).  train_sc: 4 games whose entities only ever meet each other.  val and
    test split the 64 triples of enemy in {airplane, bird, mage, scientist}, message in {dog,
    queen, robot, sword}, goal in {ball, fish, ship, thief} into two halves of 32 by the parity
    of the entities' pair groups, so that no (entity, role) pair of val or test is trained on.
    """
    train_mc = tuple(t for t in itertools.product(("robot", "ship", "queen", "thief"),
                                                  ("airplane", "ship", "scientist", "thief"),
                                                  ("airplane", "scientist", "robot", "queen"))
                     if len(set(t)) == 3)
    train_sc = (("dog", "fish", "bird"), ("fish", "bird", "dog"), ("sword", "ball", "mage"),
                ("ball", "mage", "sword"))
    enemy = {"airplane": 0, "scientist": 0, "bird": 1, "mage": 1}
    message = {"robot": 0, "dog": 0, "queen": 1, "sword": 1}
    goal = {"thief": 0, "ball": 0, "ship": 1, "fish": 1}
    held_out = list(itertools.product(enemy, message, goal))
    val = tuple(t for t in held_out if (enemy[t[0]] + message[t[1]] + goal[t[2]]) % 2 == 0)
    test = tuple(t for t in held_out if (enemy[t[0]] + message[t[1]] + goal[t[2]]) % 2 == 1)
    return {"train_mc": train_mc, "train_sc": train_sc, "val": val, "test": test}


class TextSource:
    """Sentences per (split, entity, role, movement), the game splits, and the vocabulary."""

    name: str
    games: dict[str, tuple[Triple, ...]]
    vocab: Vocab

    def sample(self, rng: Uniform, split: str, entity: str, role: str,
               movements: Sequence[str]) -> Sentence:
        """A sentence about ``entity`` as ``role``, uniform over the pools of ``movements``, with
        its token ids."""
        raise NotImplementedError

    def has(self, split: str, entity: str, role: str, movement: str) -> bool:
        """Whether that pool holds any sentence."""
        raise NotImplementedError

    def split_sentences(self, split: str) -> Iterator[str]:
        """Every sentence of a text split (for vocabulary statistics)."""
        raise NotImplementedError

    def encode(self, text: str) -> tuple[int, ...]:
        """Token ids of a sentence, always ending with a period so sentence ends are marked."""
        tokens = tokenize(text)
        if not tokens or tokens[-1] != ".":
            tokens.append(".")
        return tuple(self.vocab.id(tok) for tok in tokens)

    def unknown_rate(self, split: str) -> float:
        """Share of the split's tokens outside the (train) vocabulary."""
        return self.vocab.unknown_rate(self.split_sentences(split))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {len(self.vocab)} words)"


class GeneratedTexts(TextSource):
    """The project's own grammar; its vocabulary is the package's ``vocab.txt``."""

    def __init__(self) -> None:
        self.name = "generated"
        self.games = reference_games()
        self.vocab = Vocab.from_file(VOCAB_FILE)
        # Token ids per grammar filling (about 9,000) and entity name: a sampled sentence is
        # encoded by concatenation, without tokenising text on every episode.
        self._filling_ids: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {}
        self._name_ids: dict[str, tuple[int, ...]] = {}

    def sample(self, rng: Uniform, split: str, entity: str, role: str,
               movements: Sequence[str]) -> Sentence:
        if len(movements) == 1:
            movement = movements[0]
        else:  # uniform over the union of pools, as a draw from the concatenated list would be
            sizes = [self._pool_size(split, entity, role, m) for m in movements]
            x = rng.random() * sum(sizes)
            for movement, size in zip(movements, sizes):
                if x < size:
                    break
                x -= size
        filling, name = grammar.sample_parts(rng, split, entity, role, movement)
        before, after = self.filling_ids(filling)
        return filling.format(name), before + self.name_ids(name) + after

    def filling_ids(self, filling: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Token ids of a grammar filling's words before and after the entity's name (the
        latter ending with the period)."""
        parts = self._filling_ids.get(filling)
        if parts is None:
            before, after = filling.split("{0}")
            parts = self._filling_ids[filling] = (
                tuple(map(self.vocab.id, tokenize(before))), self.encode(after))
        return parts

    def name_ids(self, name: str) -> tuple[int, ...]:
        """Token ids of an entity synonym."""
        ids = self._name_ids.get(name)
        if ids is None:
            ids = self._name_ids[name] = tuple(map(self.vocab.id, tokenize(name)))
        return ids

    def pool_size(self, split: str, entity: str, role: str, movement: str) -> int:
        """How many distinct sentences the pool holds (what a draw over several pools weighs
        each by)."""
        return self._pool_size(split, entity, role, movement)

    @staticmethod
    @functools.lru_cache(maxsize=None)
    def _pool_size(split: str, entity: str, role: str, movement: str) -> int:
        return len(grammar.sentences(split, entity, role, movement))

    def has(self, split: str, entity: str, role: str, movement: str) -> bool:
        return True  # the grammar covers every pool (tested)

    def split_sentences(self, split: str) -> Iterator[str]:
        for entity, role, movement in itertools.product(ENTITIES, ROLES, TEXT_MOVEMENTS):
            yield from grammar.sentences(split, entity, role, movement)


class TextsError(ValueError):
    """A texts directory that is missing or malformed; the message names the file and the fault."""


class HumanTexts(TextSource):
    """The crowd-sourced sentences of messenger-emma, read from ``directory``.

    The directory must hold ``text_train.json``, ``text_val.json``, ``text_test.json`` (entity ->
    role -> movement -> list of sentences) and ``games.json`` (split -> list of [enemy,
    message, goal]).  Sentences are used verbatim; words outside the train vocabulary (typos
    included) become the unknown token.
    """

    def __init__(self, directory: str | Path):
        root = Path(directory).expanduser()
        if not root.is_dir():
            raise TextsError(f"texts directory {str(root)!r} does not exist (or is not a "
                             f"directory); it must hold {sorted(TEXT_FILES.values())} and "
                             f"{GAMES_FILE!r} from messenger-emma")
        self.name = str(root)
        self.pools = {split: _read_text_file(root / name) for split, name in TEXT_FILES.items()}
        self.games = _read_games_file(root / GAMES_FILE)
        self.vocab = Vocab.from_texts(self.split_sentences("train"))
        self._unions: dict[tuple[str, str, str, tuple[str, ...]], tuple[Sentence, ...]] = {}

    def pool(self, split: str, entity: str, role: str, movement: str) -> tuple[str, ...]:
        return self.pools[split].get(entity, {}).get(role, {}).get(movement, ())

    def has(self, split: str, entity: str, role: str, movement: str) -> bool:
        return bool(self.pool(split, entity, role, movement))

    def sample(self, rng: Uniform, split: str, entity: str, role: str,
               movements: Sequence[str]) -> Sentence:
        key = (split, entity, role, tuple(movements))
        sentences = self._unions.get(key)
        if sentences is None:  # encoded once per pool
            sentences = tuple((s, self.encode(s)) for m in movements
                              for s in self.pool(split, entity, role, m))
            if not sentences:
                raise TextsError(f"{TEXT_FILES[split]} in {self.name} has no sentence for "
                                 f"{entity} as {role} with movement {' or '.join(movements)}, "
                                 f"which this game needs")
            self._unions[key] = sentences
        return choice(rng, sentences)

    def split_sentences(self, split: str) -> Iterator[str]:
        for roles in self.pools[split].values():
            for movements in roles.values():
                for sentences in movements.values():
                    yield from sentences


def _read_json(path: Path) -> object:
    if not path.is_file():
        raise TextsError(f"missing file {path.name!r} in texts directory {str(path.parent)!r}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise TextsError(f"{path} is not valid JSON: {e}") from None


def _read_text_file(path: Path) -> dict[str, dict[str, dict[str, tuple[str, ...]]]]:
    data = _read_json(path)
    where = f"{path}"
    _expect_keys(data, ENTITIES, where, "entity")
    pools: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {}
    for entity, roles in data.items():  # type: ignore[attr-defined]  # a dict: checked above
        _expect_keys(roles, ROLES, f"{where}: [{entity!r}]", "role")
        pools[entity] = {}
        for role, movements in roles.items():
            _expect_keys(movements, TEXT_MOVEMENTS, f"{where}: [{entity!r}][{role!r}]",
                         "movement")
            pools[entity][role] = {}
            for movement, sentences in movements.items():
                at = f"{where}: [{entity!r}][{role!r}][{movement!r}]"
                if not isinstance(sentences, list) or not all(
                        isinstance(s, str) and s.strip() for s in sentences):
                    raise TextsError(f"{at} must be a list of non-empty sentences")
                pools[entity][role][movement] = tuple(sentences)
    return pools


def _expect_keys(obj: object, valid: Iterable[str], where: str, what: str) -> None:
    valid = tuple(valid)
    if not isinstance(obj, dict):
        raise TextsError(f"{where} must be a JSON object keyed by {what}, "
                         f"got {type(obj).__name__}")
    unknown = sorted(set(obj) - set(valid))
    if unknown:
        raise TextsError(f"{where} has unknown {what}(s) {unknown}; valid: {list(valid)}")


def _read_games_file(path: Path) -> dict[str, tuple[Triple, ...]]:
    data = _read_json(path)
    if not isinstance(data, dict) or set(data) != set(_GAMES_KEYS):
        found = sorted(data) if isinstance(data, dict) else type(data).__name__
        raise TextsError(f"{path} must map exactly the keys {sorted(_GAMES_KEYS)} to lists of "
                         f"[enemy, message, goal] triples; found {found}")
    games: dict[str, tuple[Triple, ...]] = {}
    for key, split in _GAMES_KEYS.items():
        triples = data[key]
        for i, triple in enumerate(triples if isinstance(triples, list) else [triples]):
            if (not isinstance(triple, list) or len(triple) != 3
                    or not all(name in ENTITIES for name in triple) or len(set(triple)) != 3):
                raise TextsError(f"{path}: [{key!r}][{i}] = {triple!r} is not a triple of "
                                 f"3 distinct entities from {list(ENTITIES)}")
        if not triples:
            raise TextsError(f"{path}: [{key!r}] lists no games")
        games[split] = tuple(tuple(t) for t in triples)  # type: ignore[misc]
    return games


@functools.lru_cache(maxsize=8)
def _load_cached(key: str | None) -> TextSource:
    return GeneratedTexts() if key is None else HumanTexts(key)


def load_texts(texts: str | Path | TextSource | None = None) -> TextSource:
    """The text source for ``texts``: None (the grammar), a directory path, or a source."""
    if isinstance(texts, TextSource):
        return texts
    if texts is not None and not isinstance(texts, (str, Path)):
        raise TypeError(f"texts must be None (the project's generator), a directory path or a "
                        f"TextSource, got {type(texts).__name__}")
    # Resolved paths share one loaded copy between the envs of a process.
    return _load_cached(None if texts is None else str(Path(texts).expanduser().resolve()))

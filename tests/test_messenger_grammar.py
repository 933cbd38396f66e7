"""The manual grammar: splits disjoint, pools full, sampling reproducible, meaning unambiguous."""

import itertools
import re

import numpy as np
import pytest

from langstream.sampling import UniformStream
from langstream.vocab import tokenize
from messenger_s2 import grammar
from messenger_s2.entities import ENTITIES, ROLES, TEXT_MOVEMENTS, TEXT_SPLITS, UNKNOWN

POOLS = tuple(itertools.product(ENTITIES, ROLES, TEXT_MOVEMENTS))

# Words that say one movement (or any movement at all), written here independently of the
# grammar's lexicon so that a phrase added to the wrong movement, or a frame word that hints at
# movement, fails.
MOVEMENT_MARKERS = {
    "chaser": {"toward", "towards", "coming", "comes", "chasing", "chases", "chase",
               "approaching", "approaches", "heading", "inching", "closer", "oncoming",
               "pursuing", "pursues", "following", "follows"},
    "fleeing": {"fleeing", "flees", "flee", "away", "escaping", "escapes", "escape", "evading",
                "evades", "evasive", "retreating", "leaving", "tries", "trying"},
    "immovable": {"stationary", "immovable", "not", "cannot", "motionless", "immobile", "unmoving",
                  "still", "never", "place", "standing", "staying", "stays", "remaining"},
}
ANY_MOTION = {"move", "moves", "moving", "moved", "way"}
ROLE_MARKERS = {
    "enemy": {"enemy", "opponent", "adversary", "foe", "rival", "nemesis", "deadly",
              "dangerous", "lethal", "hostile", "harmful", "fatal"},
    "message": {"message", "document", "report", "letter", "secret", "classified",
                "restricted", "confidential", "hidden", "information"},
    "goal": {"goal", "target", "objective", "destination", "essential", "vital", "crucial",
             "important", "critical", "primary"},
}
#: lowercase words, single spaces, commas and a final period attached; one sentence a line
SENTENCE_RE = re.compile(r"(?:[a-z]+(?:, | |\.\n))+")


@pytest.fixture(scope="module")
def pools() -> dict[str, dict[tuple[str, str, str], tuple[str, ...]]]:
    """split -> (entity, role, movement) -> every sentence."""
    return {split: {pool: grammar.sentences(split, *pool) for pool in POOLS}
            for split in TEXT_SPLITS}


def test_every_pool_is_full_and_the_grammar_is_large(pools):
    counts = {split: sum(map(len, by_pool.values())) for split, by_pool in pools.items()}
    print("distinct sentences per split:", counts, "total:", sum(counts.values()))
    for split, by_pool in pools.items():
        smallest = min(by_pool, key=lambda pool: len(by_pool[pool]))
        assert len(by_pool[smallest]) >= 30, (split, smallest, by_pool[smallest])
        for pool, sentences in by_pool.items():
            assert list(sentences) == sorted(set(sentences)), (split, pool)
    assert sum(counts.values()) >= 100_000
    # val and test are each roughly a fifth of the grammar, train the rest
    for split in ("val", "test"):
        assert 0.1 < counts[split] / sum(counts.values()) < 0.3


def test_the_splits_share_no_sentence(pools):
    union = {split: set().union(*by_pool.values()) for split, by_pool in pools.items()}
    for a, b in itertools.combinations(TEXT_SPLITS, 2):
        shared = union[a] & union[b]
        assert not shared, (a, b, sorted(shared)[:5])


def test_the_splits_share_no_frame_skeleton():
    # A skeleton is a frame without its movement fields and with role fields reduced to their
    # article: two splits sharing one would produce near-identical sentences.
    def skeleton(template: str) -> str:
        template = re.sub(r"\{m[a-z]*\}", "", template)
        template = re.sub(r"\{rdj?\}", "the R", template)
        template = re.sub(r"\{rij?\}", "a R", template)
        return re.sub(r"\{r[a-z]*\}", "R", template)

    skeletons = {split: {skeleton(f.template) for f in frames}
                 for split, frames in grammar.FRAMES.items()}
    for a, b in itertools.combinations(TEXT_SPLITS, 2):
        assert not skeletons[a] & skeletons[b], (a, b)
    for split, frames in grammar.FRAMES.items():
        for role in ROLES:
            assert sum(role in f.roles for f in frames) >= 3, (split, role)
    shares = {split: len(frames) / sum(map(len, grammar.FRAMES.values()))
              for split, frames in grammar.FRAMES.items()}
    assert shares["train"] >= 0.5 and min(shares["val"], shares["test"]) >= 0.15


def fast_tokens(text: str) -> list[str]:
    """``tokenize`` for text of the grammar's format (checked below), three times faster."""
    return text.replace(",", " ,").replace(".", " .").split()


def test_split_words_are_the_sentence_tokens_and_train_covers_val_and_test(pools):
    for split, by_pool in pools.items():
        words = set()
        for sentences in by_pool.values():
            text = " ".join(sentences)
            words.update(fast_tokens(text))
            assert fast_tokens(text[:2000]) == tokenize(text[:2000])
        assert grammar.split_words(split) == words, split
    train = grammar.split_words("train")
    assert grammar.split_words("val") | grammar.split_words("test") <= train


def test_sentences_are_well_formed_and_say_exactly_their_entity_role_and_movement(pools):
    synonym_of = {name: entity for entity, names in grammar.SYNONYMS.items() for name in names}
    assert len(synonym_of) == sum(map(len, grammar.SYNONYMS.values())), "a shared synonym"
    assert set(grammar.SYNONYMS) == set(ENTITIES)
    assert all(entity in grammar.SYNONYMS[entity] for entity in ENTITIES)
    # a line (sentence) that holds one of the movement's lexicon phrases, as whole words
    phrase_re = {m: re.compile(r"^[^\n]*?\b(?:%s)\b" % "|".join(
        p for form in grammar.MOVEMENTS_LEXICON[m].values() for p in form), re.MULTILINE)
        for m in TEXT_MOVEMENTS if m != UNKNOWN}
    all_moves = set().union(ANY_MOTION, *MOVEMENT_MARKERS.values())
    for split, by_pool in pools.items():
        for (entity, role, movement), sentences in by_pool.items():
            text = "\n".join(sentences) + "\n"
            assert SENTENCE_RE.fullmatch(text), (split, entity, role, movement)
            if movement != UNKNOWN:
                with_phrase = len(phrase_re[movement].findall(text))
                assert with_phrase == len(sentences), (split, entity, role, movement)
            own_name = grammar.SYNONYMS[entity]
            other_names = set(synonym_of) - set(own_name)
            own_role = ROLE_MARKERS[role]
            forbidden = other_names | set().union(
                *(words for r, words in ROLE_MARKERS.items() if r != role))
            if movement == UNKNOWN:
                own_move, forbidden = None, forbidden | all_moves
            else:
                own_move = MOVEMENT_MARKERS[movement]
                forbidden |= set().union(
                    *(words for m, words in MOVEMENT_MARKERS.items() if m != movement))
            for sentence in sentences:
                # the format is checked above, so the words are the space-separated runs
                tokens = sentence[:-1].replace(",", "").split()
                words = set(tokens)
                where = (split, entity, role, movement, sentence)
                assert 4 <= len(tokens) <= 20, where
                assert words.isdisjoint(forbidden), (where, words & forbidden)
                assert len(words.intersection(own_name)) == 1, where
                assert not words.isdisjoint(own_role), where
                if own_move is not None:
                    assert not words.isdisjoint(own_move), where


def test_sampling_is_reproducible_and_stays_in_the_pool(pools):
    def draw(seed: int) -> list[str]:
        rng = UniformStream(np.random.default_rng(seed))
        return [grammar.sample_sentence(rng, split, *pool)
                for split in TEXT_SPLITS for pool in POOLS for _ in range(3)]

    first = draw(0)
    assert first == draw(0)
    assert first != draw(1)
    samples = iter(first)
    for split in TEXT_SPLITS:
        for pool in POOLS:
            members = set(pools[split][pool])
            for _ in range(3):
                sentence = next(samples)
                assert sentence in members, (split, pool, sentence)


def test_sampling_reaches_every_sentence_of_a_pool(pools):
    # The support of the sampler is the whole pool, not a part of it (small pools only).
    rng = UniformStream(np.random.default_rng(0))
    for split in TEXT_SPLITS:
        pool = pools[split]["queen", "enemy", UNKNOWN]
        seen = {grammar.sample_sentence(rng, split, "queen", "enemy", UNKNOWN)
                for _ in range(40 * len(pool))}
        assert seen == set(pool), split


def test_sampling_uses_only_uniform_draws():
    class Counting:
        calls = 0

        def random(self) -> float:
            self.calls += 1
            return 0.999999 if self.calls % 2 else 0.0

    rng = Counting()
    sentence = grammar.sample_sentence(rng, "test", "ship", "message", "fleeing")
    assert rng.calls == 3 and sentence in grammar.sentences("test", "ship", "message", "fleeing")


@pytest.mark.parametrize("args, valid", [
    (("dev", "dog", "enemy", "chaser"), "train"),
    (("train", "cat", "enemy", "chaser"), "airplane"),
    (("train", "dog", "friend", "chaser"), "enemy"),
    (("train", "dog", "enemy", "teleporting"), "immovable"),
])
def test_bad_arguments_name_the_valid_values(args, valid):
    rng = UniformStream(np.random.default_rng(0))
    with pytest.raises(ValueError, match=valid):
        grammar.sample_sentence(rng, *args)
    with pytest.raises(ValueError, match=valid):
        grammar.sentences(*args)
    if args[0] == "dev":
        with pytest.raises(ValueError, match=valid):
            grammar.split_words("dev")

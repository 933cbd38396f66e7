"""Manual text sources: the project's grammar and the loader of the original human texts."""

import json

from langstream import tokenize
from langstream.sampling import UniformStream
from messenger_s2 import grammar
from messenger_s2.entities import ENTITIES, ROLES, TEXT_MOVEMENTS, TEXT_SPLITS
from messenger_s2.texts import VOCAB_FILE, GeneratedTexts, HumanTexts, load_texts


def test_shipped_vocabulary_is_the_grammar_train_words():
    """vocab.txt is generated from the grammar; regenerate it when the grammar changes."""
    words = VOCAB_FILE.read_text().split("\n")[:-1]
    assert words[:2] == ["<pad>", "<unk>"]
    assert set(words[2:]) == grammar.split_words("train")


def test_generated_sentences_encode_like_their_text():
    import numpy as np

    texts = GeneratedTexts()
    rng = UniformStream(np.random.default_rng(0))
    for split in TEXT_SPLITS:
        for entity in ENTITIES:
            for role in ROLES:
                for movement in TEXT_MOVEMENTS:
                    text, ids = texts.sample(rng, split, entity, role, (movement,))
                    assert ids == texts.encode(text)
                    assert 1 not in ids  # no unknown words in any split: new phrasing only
    # The cached pieces join at the entity slot without merging or splitting words.
    for split in TEXT_SPLITS:
        for role in ROLES:
            for movement in TEXT_MOVEMENTS:
                for frame in grammar._table(split, role, movement):
                    for filling in frame:
                        before, after = filling.split("{0}")
                        assert (not before or before[-1] == " ") and after[:1] in (" ", ",", ".")


def test_human_texts_load_every_sentence_into_its_split(capsys, texts_dir):
    texts = load_texts(texts_dir)
    assert isinstance(texts, HumanTexts) and load_texts(str(texts_dir)) is texts  # loaded once
    counts = {split: len(list(texts.split_sentences(split))) for split in TEXT_SPLITS}
    assert counts == {"train": 2863, "val": 1227, "test": 1226}
    assert len({s for split in TEXT_SPLITS for s in texts.split_sentences(split)}) == 5316
    words = [w for w in texts.vocab.words[2:] if w.isalpha()]
    rates = {split: texts.unknown_rate(split) for split in ("val", "test")}
    with capsys.disabled():
        print(f"\nhuman texts: train vocabulary {len(texts.vocab)} tokens ({len(words)} a-z "
              f"words); unknown-token rate val {rates['val']:.2%}, test {rates['test']:.2%}")
    assert 840 <= len(words) <= 870  # the spec counts 864 distinct a-z word types
    assert texts.unknown_rate("train") == 0.0
    assert 0.0 < rates["val"] < 0.1 and 0.0 < rates["test"] < 0.1
    # Sentences are kept verbatim (misspellings included) in the file's order, pool by pool.
    raw = json.loads((texts_dir / "text_val.json").read_text())
    assert list(texts.split_sentences("val")) == [
        s for roles in raw.values() for moves in roles.values() for pool in moves.values()
        for s in pool]
    # Words never seen in training (typos included) stream as <unk>.
    unseen = [s for s in texts.split_sentences("val")
              if any(w not in texts.vocab for w in tokenize(s))]
    assert unseen and all(1 in texts.encode(s) for s in unseen)

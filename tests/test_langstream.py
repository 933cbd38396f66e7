import pytest
from gymnasium import spaces

from langstream import PAD_ID, UNK_ID, TokenStream, Vocab, language_observation_space, tokenize


@pytest.fixture
def vocab():
    return Vocab.from_texts(["no, turn around", "put the bottle in the trash bin"])


def test_tokenize_splits_punctuation_and_lowercases():
    assert tokenize("No, turn AROUND.") == ["no", ",", "turn", "around", "."]


def test_encode_decode_round_trip(vocab):
    ids = vocab.encode("no, turn around")
    assert len(ids) == 4 and PAD_ID not in ids and UNK_ID not in ids
    assert vocab.decode(ids) == "no, turn around"


def test_unknown_words_map_to_unk_and_are_counted(vocab):
    assert vocab.encode("put the sofa") == [vocab.id("put"), vocab.id("the"), UNK_ID]
    assert vocab.unknown_rate(["put the sofa"]) == pytest.approx(1 / 3)


def test_pad_is_skipped_when_decoding(vocab):
    assert vocab.decode([PAD_ID, vocab.id("bin"), PAD_ID]) == "bin"


def test_bad_vocab_and_ids_are_rejected(vocab, tmp_path):
    with pytest.raises(ValueError, match="<pad>"):
        Vocab(["a", "b"])
    with pytest.raises(ValueError, match="duplicate"):
        Vocab(["<pad>", "<unk>", "a", "a"])
    with pytest.raises(ValueError, match="outside this vocabulary"):
        vocab.decode([len(vocab)])
    vocab.save(tmp_path / "v.txt")
    assert Vocab.from_file(tmp_path / "v.txt").words == vocab.words


def test_stream_emits_one_token_per_step_then_pad():
    stream = TokenStream()
    assert stream.emit() == (PAD_ID, "")
    stream.start("a b", (5, 6))
    assert stream.busy
    assert stream.emit() == (5, "a b")
    assert stream.emit() == (6, "a b")
    assert not stream.busy
    assert stream.emit() == (PAD_ID, "")


def test_stream_start_interrupts_and_rejects_empty():
    stream = TokenStream()
    stream.start("a b c", (5, 6, 7))
    stream.emit()
    stream.start("d", (9,))
    assert stream.emit() == (9, "d")
    with pytest.raises(ValueError, match="no tokens"):
        stream.start("", ())


def test_observation_space_follows_the_contract():
    space = language_observation_space((8, 8, 3), 10, grid=spaces.MultiBinary(4))
    assert space["token"] == spaces.Discrete(10)
    assert space["is_read_step"] == spaces.Discrete(2)
    assert space["image"].dtype.name == "uint8" and space["image"].shape == (8, 8, 3)
    assert "grid" in space.spaces
    with pytest.raises(ValueError):
        language_observation_space((8, 8, 3), 1)


def test_transcript_rebuilds_utterances_and_splits_repeats(vocab):
    from langstream import Transcript

    transcript = Transcript(vocab, keep=2)
    said = vocab.encode("no, turn around")
    for step, token in enumerate(said + [PAD_ID] + said):
        transcript.hear(token, "no, turn around" if token else "", step)
    assert transcript.text_lines() == ["no, turn around", "no, turn around"]
    assert [line.step for line in transcript.lines] == [0, 5]
    transcript.hear(vocab.id("bin"), "bin", 9)
    assert transcript.text_lines() == ["no, turn around", "bin"]  # keeps the last 2


def test_captions_wrap_into_a_fixed_number_of_rows():
    import numpy as np

    from langstream.caption import add_caption

    img = np.zeros((40, 300, 3), np.uint8)
    short = add_caption(img, ["hi", "status"], rows=[2, 1])
    long = add_caption(img, ["word " * 200, "status"], rows=[2, 1])
    assert short.shape == long.shape  # frames of one episode share a size
    assert short.shape[0] > add_caption(img, ["hi", "status"]).shape[0]
    band = long[44:]
    assert (band < 128).any(axis=(1, 2)).sum() > (short[44:] < 128).any(axis=(1, 2)).sum()


# --------------------------------------------------------------------------------------------
# hiding the language (ablations)


@pytest.mark.parametrize("env_id", ["HomeGrid-v0", "Messenger-S2-v0"])
def test_hide_language_wrapper_passes_check_env_and_silences_every_token(env_id):
    import gymnasium as gym
    import numpy as np
    from gymnasium.utils.env_checker import check_env

    import homegrid  # noqa: F401  (registers the ids)
    import messenger_s2  # noqa: F401
    from langstream.wrappers import HideLanguage

    env = HideLanguage(gym.make(env_id))
    check_env(env, skip_render_check=True)
    plain = gym.make(env_id)
    obs, _ = env.reset(seed=4)
    ref, _ = plain.reset(seed=4)
    spoken = 0
    for _ in range(80):
        action = env.action_space.sample()
        obs, reward, terminated, truncated, _ = env.step(action)
        ref, ref_reward, *_ = plain.step(action)
        spoken += int(ref["token"] != PAD_ID)
        assert obs["token"] == PAD_ID and obs["token"] in env.observation_space["token"]
        np.testing.assert_array_equal(obs["image"], ref["image"])
        assert reward == ref_reward
        if terminated or truncated:
            obs, _ = env.reset()
            ref, _ = plain.reset()
    assert spoken > 10  # there was language to hide


def test_hide_language_needs_a_token():
    import gymnasium as gym

    from langstream.wrappers import HideLanguage, HideLanguageVector

    with pytest.raises(ValueError, match="'token' key"):
        HideLanguage(gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="'token' key"):
        HideLanguageVector(gym.make_vec("CartPole-v1", num_envs=2))


# --------------------------------------------------------------------------------------------
# sentence context


@pytest.mark.parametrize("env_id", ["HomeGrid-v0", "Messenger-S2-v0"])
def test_sentence_context_wrapper_passes_check_env_and_bags_the_streaming_utterance(env_id):
    import gymnasium as gym
    import numpy as np
    from gymnasium.utils.env_checker import check_env

    import homegrid  # noqa: F401  (registers the ids)
    import messenger_s2  # noqa: F401
    from langstream.context import SentenceContext

    env = SentenceContext(gym.make(env_id))
    check_env(env, skip_render_check=True)
    vocab = env.unwrapped.vocab
    obs, info = env.reset(seed=4)
    spoken = 0
    for _ in range(80):
        assert obs in env.observation_space
        words = set(np.flatnonzero(obs["sentence"]).tolist())
        if obs["token"] == PAD_ID:
            assert not words
        else:
            spoken += 1
            assert obs["token"] in words and words == set(vocab.encode(info["text"]))
        obs, _, terminated, truncated, info = env.step(env.action_space.sample())
        if terminated or truncated:
            obs, info = env.reset()
    assert spoken > 10


def test_sentence_context_needs_a_project_env():
    import gymnasium as gym

    from langstream.context import SentenceContext, SentenceContextVector

    with pytest.raises(ValueError, match="vocab"):
        SentenceContext(gym.make("CartPole-v1"))
    with pytest.raises(ValueError, match="vocab"):
        SentenceContextVector(gym.make_vec("CartPole-v1", num_envs=2))


# --------------------------------------------------------------------------------------------
# argument checks


def test_numeric_checks_name_the_argument_the_value_and_what_is_valid():
    import numpy as np

    from langstream.checks import (
        MAX_IMAGE_SIZE,
        check_image_size,
        check_int,
        check_probability,
    )

    assert check_int("n", np.int32(3), 1) == 3 and type(check_int("n", np.int32(3), 1)) is int
    assert check_probability("p", 1) == 1.0 and check_probability("p", np.float32(0.5)) == 0.5
    assert check_image_size(MAX_IMAGE_SIZE, 40) == 1024
    for call, message in [
        (lambda: check_int("max_steps", 0, 1), "max_steps must be an int >= 1, got 0"),
        (lambda: check_int("n", False, 0), r"n must be an int >= 0, got False \(bool\)"),
        (lambda: check_int("n", 5, 0, 4), r"n must be an int in \[0, 4\], got 5"),
        (lambda: check_probability("p", "0.5"),
         r"p must be a probability, a number in \[0, 1\], got '0.5' \(str\)"),
        (lambda: check_probability("p", float("nan")), r"got nan$"),
        (lambda: check_image_size(1025, 3), r"image_size must be an int in \[3, 1024\], got 1025"),
    ]:
        with pytest.raises(ValueError, match=message):
            call()

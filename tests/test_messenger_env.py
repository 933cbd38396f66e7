"""Messenger's own side of the env contract (the shared part is tests/test_env_contract.py):
splits, the grid, manuals, arguments and their errors, texts, image sizes, batching options."""

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import messenger_s2
from messenger_s2 import MessengerEnv
from messenger_s2.texts import TextsError
from messenger_s2.vector import MessengerVectorEnv

SPLITS = {1: ["train", "train-mc", "train-sc", "val", "test"],
          2: ["train", "train-mc", "train-sc", "val", "test", "test-se"],
          3: ["train", "train-mc", "train-sc", "val", "test"]}
CASES = [(stage, split) for stage, splits in SPLITS.items() for split in splits]


@pytest.mark.parametrize("stage,split", CASES)
def test_check_env_on_every_split(stage, split):
    env = gym.make(f"Messenger-S{stage}-v0", split=split)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the checker's warnings are failures here
        check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_grid_shows_one_avatar_and_never_channel_zero(stage):
    env = gym.make(f"Messenger-S{stage}-v0")
    rng = np.random.default_rng(stage)
    obs, _ = env.reset(seed=stage)
    for _ in range(400):
        grid = obs["grid"]
        assert grid[..., 0].sum() == 0 and grid[..., 15:].sum() == 1
        obs, _, term, trunc, _ = env.step(int(rng.integers(5)))
        if term or trunc:
            obs, _ = env.reset()


def test_different_seeds_give_different_manuals():
    env = gym.make("Messenger-S2-v0")
    manuals = {env.reset(seed=s)[1]["manual"] for s in range(20)}
    assert len(manuals) > 15


def test_vector_env_spaces_copy_and_render():
    venv = gym.make_vec("Messenger-S3-v0", num_envs=3, vectorization_mode="vector_entry_point",
                        render_mode="rgb_array", split="val")
    obs, info = venv.reset(seed=0)
    assert venv.observation_space.contains(obs)
    assert obs["grid"].shape == (3, 10, 10, 17) and obs["image"].shape == (3, 64, 64, 3)
    frames = venv.render()
    assert len(frames) == 3 and frames[0].shape[2] == 3
    assert not np.array_equal(frames[0], frames[1])
    kept = obs["image"].copy()
    venv.step(np.zeros(3, np.int64))
    np.testing.assert_array_equal(obs["image"], kept)  # copy=True: returned arrays stay put
    fast = MessengerVectorEnv(2, 2, copy=False)
    first, _ = fast.reset(seed=0)
    second, *_ = fast.step(np.zeros(2, np.int64))
    assert first["image"] is second["image"]  # copy=False reuses the buffers


@pytest.mark.parametrize("stage", [1, 2, 3])
def test_vector_env_renders_each_row_as_its_single_env_does(stage):
    """Batched rows are drawn from their own state: frame for frame what the single env with
    the same seed shows, through the read phase and into play."""
    n, seed = 3, 11
    venv = MessengerVectorEnv(n, stage, render_mode="rgb_array")
    envs = [gym.make(f"Messenger-S{stage}-v0", render_mode="rgb_array") for _ in range(n)]
    venv.reset(seed=seed)
    for i, env in enumerate(envs):
        env.reset(seed=seed + i)
    rng = np.random.default_rng(0)
    for _ in range(60):
        for frame, env in zip(venv.render(), envs):
            np.testing.assert_array_equal(frame, env.render())
        actions = rng.integers(0, 5, n)
        _, _, terminated, truncated, _ = venv.step(actions)
        ended = [env.step(int(a))[2:4] for env, a in zip(envs, actions)]
        if (terminated | truncated).any() or any(any(e) for e in ended):
            break


def test_bad_actions_name_the_valid_ones():
    env = gym.make("Messenger-S2-v0")
    env.reset(seed=0)
    for bad in (5, -1, 1.5, "up", None):
        with pytest.raises(ValueError, match="0 up, 1 down, 2 left, 3 right, 4 stay"):
            env.unwrapped.step(bad)
    env.unwrapped.step(np.int64(3))  # numpy ints are fine
    venv = gym.make_vec("Messenger-S2-v0", num_envs=2, vectorization_mode="vector_entry_point")
    venv.reset(seed=0)
    with pytest.raises(ValueError, match=r"lie in \[0, 5\)"):
        venv.step(np.array([0, 5]))
    with pytest.raises(ValueError, match="2 integers"):
        venv.step(np.array([0.0, 1.0]))


def test_step_before_reset_and_after_the_end():
    env = MessengerEnv(1)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    env.reset(seed=0)
    done = False
    while not done:
        *_, term, trunc, _ = env.step(4)
        done = term or trunc
    with pytest.raises(RuntimeError, match="ended"):
        env.step(4)


def test_unknown_stage_split_and_arguments_name_what_is_valid():
    with pytest.raises(ValueError, match=r"unknown stage 4.*'S1', 'S2', 'S3'"):
        MessengerEnv(4)
    with pytest.raises(ValueError, match=r"unknown split 'test-se' for Messenger S3.*'val'"):
        MessengerEnv(3, "test-se")
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        gym.make("Messenger-S2-v0", split="dev")
    with pytest.raises(TypeError, match=r"unknown argument\(s\) \['splt'\].*'split'"):
        MessengerEnv(2, splt="val")
    with pytest.raises(ValueError, match="p_multi"):
        MessengerEnv(2, p_multi=1.5)
    with pytest.raises(ValueError, match="image_size"):
        MessengerEnv(2, image_size=30)
    with pytest.raises(ValueError, match="render_mode"):
        MessengerEnv(2, render_mode="ansi")


@pytest.mark.parametrize("name,value,valid", [
    ("p_multi", "0.5", r"a probability, a number in \[0, 1\]"),
    ("p_multi", 1.5, r"a probability, a number in \[0, 1\]"),
    ("image_size", 10000, r"an int in \[40, 1024\]"),
    ("image_size", "64", r"an int in \[40, 1024\]"),
    ("image_size", True, r"an int in \[40, 1024\]"),
])
def test_numeric_arguments_are_checked_by_type_and_range(name, value, valid,
                                                         argument_refused):
    """A one-line error naming the argument, the value and what is valid, single or batched."""
    argument_refused("Messenger-S2-v0", name, value, valid)


def test_image_size_bounds_and_numpy_numbers():
    env = gym.make("Messenger-S1-v0", image_size=np.int64(1024), p_multi=np.float64(0.5))
    assert env.reset(seed=0)[0]["image"].shape == (1024, 1024, 3)
    assert MessengerEnv(1, image_size=40).reset(seed=0)[0]["image"].shape == (40, 40, 3)
    with pytest.raises(ValueError, match=r"^num_envs must be an int >= 1, got 0$"):
        gym.make_vec("Messenger-S1-v0", num_envs=0, vectorization_mode="vector_entry_point")


@pytest.mark.parametrize("mode", ["vector_entry_point", "sync", None])
def test_arguments_that_contradict_the_id_are_refused(mode):
    expected = r"^Messenger-S2-v0 fixes stage=2, got stage=3; use the id 'Messenger-S3-v0' instead$"
    with pytest.raises(ValueError, match=expected):
        if mode is None:
            gym.make("Messenger-S2-v0", stage=3)
        else:
            gym.make_vec("Messenger-S2-v0", num_envs=2, vectorization_mode=mode, stage=3)
    # The same stage said differently is no contradiction.
    assert gym.make("Messenger-S2-v0", stage="s2").unwrapped.stage.name == "S2"


def test_texts_directory_errors_say_which_file_and_what(tmp_path):
    with pytest.raises(TextsError, match="does not exist"):
        MessengerEnv(2, texts=tmp_path / "nowhere")
    (tmp_path / "text_train.json").write_text("{}")
    with pytest.raises(TextsError, match="missing file 'text_val.json'"):
        MessengerEnv(2, texts=tmp_path)
    (tmp_path / "text_val.json").write_text("{not json")
    (tmp_path / "text_test.json").write_text("{}")
    (tmp_path / "games.json").write_text("{}")
    with pytest.raises(TextsError, match="text_val.json is not valid JSON"):
        MessengerEnv(2, texts=tmp_path)
    (tmp_path / "text_val.json").write_text('{"unicorn": {}}')
    with pytest.raises(TextsError, match=r"text_val.json has unknown entity\(s\) \['unicorn'\]"):
        MessengerEnv(2, texts=tmp_path)
    (tmp_path / "text_val.json").write_text('{"dog": {"enemy": {"chaser": [3]}}}')
    with pytest.raises(TextsError, match=r"\['dog'\]\['enemy'\]\['chaser'\] must be a list"):
        MessengerEnv(2, texts=tmp_path)
    (tmp_path / "text_val.json").write_text("{}")
    with pytest.raises(TextsError, match="games.json must map exactly the keys"):
        MessengerEnv(2, texts=tmp_path)
    games = {"train_multi_comb": [["dog", "dog", "fish"]], "train_single_comb": [],
             "val": [], "test": []}
    (tmp_path / "games.json").write_text(str(games).replace("'", '"'))
    with pytest.raises(TextsError, match=r"\['train_multi_comb'\]\[0\].*3 distinct entities"):
        MessengerEnv(2, texts=tmp_path)
    games["train_multi_comb"] = [["dog", "bird", "fish"]]
    for key in ("train_single_comb", "val", "test"):
        games[key] = [["dog", "bird", "fish"]]
    (tmp_path / "games.json").write_text(str(games).replace("'", '"'))
    env = MessengerEnv(2, texts=tmp_path)  # loads: the pools are checked when a game needs them
    with pytest.raises(TextsError, match="text_train.json .* no sentence for dog as enemy"):
        env.reset(seed=0)
    with pytest.raises(TypeError, match="texts must be None"):
        MessengerEnv(2, texts=3)


@pytest.mark.parametrize("size,cell", [(64, 6), (80, 8), (100, 10)])
def test_image_size(size, cell):
    env = MessengerEnv(2, image_size=size)
    obs, _ = env.reset(seed=0)
    assert obs["image"].shape == (size, size, 3)
    assert env.game.board.cell == cell


def test_read_phase_streams_the_manual_then_pads():
    """One token per step while the board is frozen; the action on the last token counts."""
    env = MessengerEnv(2)
    obs, info = env.reset(seed=5)
    vocab, game = env.vocab, env.game
    heard, frozen, start = [], obs["grid"].copy(), list(game.avatar)
    while obs["is_read_step"]:
        np.testing.assert_array_equal(obs["grid"], frozen)
        heard.append(int(obs["token"]))
        ignored = env.reading
        obs, reward, term, trunc, info = env.step(4 if start[0] == 0 else 0)  # stay or up
        assert reward == 0 and not term and not trunc
        assert (game.avatar == start) == ignored  # only the last token's action moves
    expected = [vocab.decode(env.texts.encode(s)) for s in info["manual"]]
    assert vocab.decode(heard) == " ".join(expected)
    assert vocab.decode(heard).count(".") == len(info["manual"])  # every sentence ends marked
    assert obs["token"] == 0 and info["text"] == ""
    assert game.t == 1  # the read steps before it did not count toward the limit
    obs, *_ = env.step(4)
    assert obs["token"] == 0 and obs["is_read_step"] == 0


def test_symbolic_state_tells_decoys_apart_and_matches_the_grid():
    env = MessengerEnv(3)
    obs, info = env.reset(seed=2)
    state = env.symbolic_state()
    assert list(state["npcs"]) == ["enemy", "message", "goal", "decoy_message", "decoy_goal"]
    assert state["npcs"]["decoy_goal"]["entity"] == info["roles"]["goal"]
    for npc in state["npcs"].values():
        assert npc["movement"] in ("chaser", "fleeing", "immovable") and npc["present"]
        symbol = messenger_s2.entities.ENTITY_ID[npc["entity"]]
        assert obs["grid"][(*npc["cell"], symbol)] == 1
    assert obs["grid"][(*state["avatar"]["cell"], 15)] == 1 and state["step"] == 0

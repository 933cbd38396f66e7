"""The environment adapter against the real suites (stepped in lockstep with an identical vector
env) and against a tiny contract env: episode flags, rewards, padding, episode statistics and
clear errors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv

from agent.envs import EnvAdapter

KEYS = {"image": np.uint8, "token": np.int32, "reward": np.float32, "is_first": np.bool_,
        "is_last": np.bool_, "is_terminal": np.bool_, "is_read_step": np.bool_}


class TinyEnv(gym.Env):
    """A contract env with known episodes: 3 steps each, reward = 1 + action; odd-numbered
    episodes terminate, even-numbered ones are truncated (a time limit)."""

    def __init__(self, with_token: bool = True, image_dtype: type = np.uint8,
                 action_space: spaces.Space | None = None, length: int = 3):
        obs = {"image": spaces.Box(0, 255, (2, 3, 3), image_dtype),
               "is_read_step": spaces.Discrete(2)}
        if with_token:
            obs["token"] = spaces.Discrete(5)
        self.observation_space = spaces.Dict(obs)
        self.action_space = action_space or spaces.Discrete(4)
        self.length = length
        self.episode = -1
        self.t = 0

    def _obs(self) -> dict:
        obs = {"image": np.full((2, 3, 3), self.t, self.observation_space["image"].dtype),
               "is_read_step": int(self.t == 0)}
        if "token" in self.observation_space.spaces:
            obs["token"] = self.t
        return obs

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.episode += 1
        self.t = 0
        return self._obs(), {}

    def step(self, action):
        self.t += 1
        done = self.t >= self.length
        terminated = done and self.episode % 2 == 1
        truncated = done and not terminated
        return self._obs(), 1.0 + float(action), terminated, truncated, {}


if "AgentTestTiny-v0" not in gym.registry:
    # No vector entry point: the adapter must fall back to "sync".
    gym.register(id="AgentTestTiny-v0", entry_point=TinyEnv)


def _check_types(out: dict, n: int, image_shape: tuple) -> None:
    assert set(out) == set(KEYS)
    for key, dtype in KEYS.items():
        assert out[key].dtype == dtype, key
        assert out[key].shape == ((n, *image_shape) if key == "image" else (n,)), key


def _run_lockstep(env_id: str, n: int, steps: int, adapter_kwargs: dict, env_kwargs: dict):
    """Step the adapter and an identical vector env with the same random actions and check
    every output against the reference; returns (flags seen, episodes from the reference)."""
    adapter = EnvAdapter(env_id, n, seed=7, **adapter_kwargs, **env_kwargs)
    ref = gym.make_vec(env_id, num_envs=n, vectorization_mode="vector_entry_point",
                       **env_kwargs)
    key = adapter_kwargs.get("image_key", "image")
    rng = np.random.default_rng(0)
    ref_obs, _ = ref.reset(seed=7)
    out = adapter.reset()

    def check_obs(out: dict, ref_obs: dict) -> None:
        _check_types(out, n, adapter.image_shape)
        image = ref_obs[key]
        h, w = image.shape[1:3]
        np.testing.assert_array_equal(out["image"][:, :h, :w], image)
        assert not out["image"][:, h:].any() and not out["image"][:, :, w:].any()  # padding
        np.testing.assert_array_equal(out["token"], ref_obs["token"])
        np.testing.assert_array_equal(out["is_read_step"], ref_obs["is_read_step"] == 1)

    check_obs(out, ref_obs)
    assert out["is_first"].all() and not out["reward"].any()
    assert not out["is_last"].any() and not out["is_terminal"].any()

    ended = np.zeros(n, bool)  # the reference's previous step ended the episode
    ret, length, real = np.zeros(n), np.zeros(n, int), np.zeros(n, int)
    episodes, seen = [], {"terminal": 0, "truncated": 0, "timeout_loss": 0, "first": 0}
    for _ in range(steps):
        actions = rng.integers(0, adapter.n_actions, n)
        out = adapter.step(actions)
        ref_obs, reward, terminated, truncated, info = ref.step(actions)
        loss = truncated & np.asarray(info.get("timeout_loss", np.zeros(n, bool)), bool)
        check_obs(out, ref_obs)
        # is_first exactly on the autoreset rows; their reward is 0 and they never end.
        np.testing.assert_array_equal(out["is_first"], ended)
        np.testing.assert_array_equal(out["reward"], np.where(ended, 0.0, reward))
        np.testing.assert_array_equal(out["is_last"], (terminated | truncated) & ~ended)
        # Terminal: a termination, or a time-out the env scores as a loss (Messenger); any
        # other time limit keeps continue = 1.
        np.testing.assert_array_equal(out["is_terminal"], (terminated | loss) & ~ended)
        seen["timeout_loss"] += int((loss & ~ended).sum())
        seen["first"] += int(out["is_first"].sum())
        seen["terminal"] += int(out["is_terminal"].sum())
        seen["truncated"] += int((out["is_last"] & ~out["is_terminal"]).sum())
        # Episode statistics from the reference alone.
        ret = np.where(ended, 0.0, ret + reward)
        length = np.where(ended, 0, length + 1)
        real = np.where(ended, 0, real + (ref_obs["is_read_step"] == 0))
        done_now = (terminated | truncated) & ~ended
        expected = [{"return": ret[i], "length": length[i], "real_length": real[i]}
                    for i in np.flatnonzero(done_now)]
        got = adapter.take_completed()
        assert len(got) == len(expected)
        for episode, reference in zip(got, expected):  # approx takes no nested structures
            assert episode == pytest.approx(reference)
        episodes += got
        ended = done_now
    assert adapter.completed == []
    adapter.close()
    ref.close()
    return seen, episodes


def test_homegrid_matches_the_underlying_env():
    seen, episodes = _run_lockstep("HomeGrid-Task-v0", 4, 300, {}, {"max_steps": 30})
    assert seen["truncated"] >= 8 and seen["first"] >= 8  # HomeGrid only truncates
    assert seen["terminal"] == 0
    assert all(ep["length"] == 30 for ep in episodes)


def test_messenger_grid_is_padded_and_matches_the_underlying_env():
    seen, episodes = _run_lockstep("Messenger-S1-v0", 4, 300,
                                   {"image_key": "grid", "pad_grid_to": 16}, {})
    # Every S1 episode ends terminal: a win, a death or a time-out (a loss by the rules).
    assert seen["timeout_loss"] > 0 and seen["terminal"] > seen["timeout_loss"]
    assert seen["truncated"] == 0
    assert seen["first"] >= seen["terminal"] - 4
    # The manual is read first: read steps count in length but not in real_length.
    assert all(ep["real_length"] < ep["length"] for ep in episodes)


def test_messenger_adapter_shapes():
    with EnvAdapter("Messenger-S1-v0", 2, image_key="grid", pad_grid_to=16) as adapter:
        assert adapter.image_shape == (16, 16, 17)
        assert adapter.vocab_size == adapter.env.single_observation_space["token"].n
        assert adapter.n_actions == 5 and adapter.num_envs == 2
        _check_types(adapter.reset(), 2, (16, 16, 17))
    with EnvAdapter("Messenger-S1-v0", 2) as adapter:
        assert adapter.image_shape == (64, 64, 3)


def test_sync_fallback_episodes_and_statistics():
    adapter = EnvAdapter("AgentTestTiny-v0", 2, seed=0)
    assert isinstance(adapter.env, SyncVectorEnv)
    assert (adapter.vocab_size, adapter.n_actions, adapter.image_shape) == (5, 4, (2, 3, 3))
    out = adapter.reset()
    assert out["is_first"].all() and out["is_read_step"].all()
    rows = []
    for step in range(8):
        out = adapter.step(np.array([step % 4, 0]))
        rows.append(out)
    # Steps 1-3 play episode 0 (truncated at step 3), step 4 is the autoreset, 5-7 episode 1
    # (terminated at step 7), step 8 the next autoreset.
    flags = np.array([[r["is_first"][1], r["is_last"][1], r["is_terminal"][1]] for r in rows])
    np.testing.assert_array_equal(flags, [[0, 0, 0], [0, 0, 0], [0, 1, 0], [1, 0, 0],
                                          [0, 0, 0], [0, 0, 0], [0, 1, 1], [1, 0, 0]])
    np.testing.assert_array_equal([r["reward"][0] for r in rows], [1, 2, 3, 0, 1, 2, 3, 0])
    np.testing.assert_array_equal([r["token"][1] for r in rows], [1, 2, 3, 0, 1, 2, 3, 0])
    done = adapter.take_completed()
    assert [d["return"] for d in done] == [6.0, 3.0, 6.0, 3.0]  # env 0, env 1, env 0, env 1
    assert all(d["length"] == 3 and d["real_length"] == 3 for d in done)
    assert adapter.take_completed() == []
    # A new reset restarts every row and drops nothing but the episodes in progress.
    out = adapter.reset()
    assert out["is_first"].all() and not out["reward"].any()
    assert not adapter.step(np.zeros(2, int))["is_first"].any()
    adapter.close()


def test_existing_vector_env():
    env = gym.make_vec("HomeGrid-Task-v0", num_envs=3, vectorization_mode="vector_entry_point")
    adapter = EnvAdapter(env)
    assert adapter.num_envs == 3 and adapter.image_shape == (64, 64, 3)
    _check_types(adapter.reset(), 3, (64, 64, 3))
    with pytest.raises(ValueError, match="num_envs=2 but the given vector env has 3 envs"):
        EnvAdapter(env, 2)
    with pytest.raises(TypeError, match="only be given with an env id"):
        EnvAdapter(env, max_steps=5)
    adapter.close()


def test_bad_actions_raise_clear_errors():
    adapter = EnvAdapter("AgentTestTiny-v0", 2)
    with pytest.raises(RuntimeError, match="reset"):
        adapter.step(np.zeros(2, int))
    adapter.reset()
    with pytest.raises(ValueError, match=r"2 integers \(shape \(2,\)\), got int64 array of "
                                         r"shape \(3,\)"):
        adapter.step(np.zeros(3, int))
    with pytest.raises(ValueError, match="got float64 array"):
        adapter.step(np.zeros(2))
    with pytest.raises(ValueError, match=r"actions must lie in \[0, 4\), got \[0, 4\]"):
        adapter.step(np.array([0, 4]))
    with pytest.raises(ValueError, match=r"must lie in \[0, 4\), got \[-1, 0\]"):
        adapter.step([-1, 0])
    assert adapter.step([3, 0])["reward"].tolist() == [4.0, 1.0]  # lists of ints are fine
    adapter.close()


def test_contract_violations_raise_clear_errors():
    no_token = SyncVectorEnv([lambda: TinyEnv(with_token=False)])
    with pytest.raises(ValueError, match=r"lack the key\(s\) \['token'\].*keys present: "
                                         r"\['image', 'is_read_step'\]"):
        EnvAdapter(no_token)
    with pytest.raises(ValueError, match=r"lack the key\(s\) \['grid'\]"):
        EnvAdapter("AgentTestTiny-v0", image_key="grid")
    with pytest.raises(ValueError, match="must be a uint8 Box of shape"):
        EnvAdapter(SyncVectorEnv([lambda: TinyEnv(image_dtype=np.float32)]))
    with pytest.raises(TypeError, match="Discrete action space"):
        EnvAdapter(SyncVectorEnv([lambda: TinyEnv(action_space=spaces.Box(-1, 1, (2,)))]))
    same_step = SyncVectorEnv([TinyEnv], autoreset_mode=AutoresetMode.SAME_STEP)
    with pytest.raises(ValueError, match="NEXT_STEP"):
        EnvAdapter(same_step)
    with pytest.raises(ValueError, match=r"pad_grid_to must be an int >= the image's height and "
                                         r"width \(10, 10\)"):
        EnvAdapter("Messenger-S1-v0", image_key="grid", pad_grid_to=8)
    with pytest.raises(ValueError, match="num_envs must be a positive int"):
        EnvAdapter("AgentTestTiny-v0", 0)
    with pytest.raises(TypeError, match="env id"):
        EnvAdapter(3)  # type: ignore[arg-type]


@pytest.mark.parametrize("vector", ["sync", "async"])
def test_vector_modes_give_the_native_batchs_episodes(vector):
    """``vector="sync"``/``"async"`` (subprocesses) step the same episodes as the env's own
    batched entry point: same seeds, same observations."""
    actions = np.random.default_rng(0).integers(0, 5, (12, 2))
    with EnvAdapter("Messenger-S1-v0", 2, seed=3) as native, \
            EnvAdapter("Messenger-S1-v0", 2, seed=3, vector=vector) as other:
        assert isinstance(other.env, AsyncVectorEnv if vector == "async" else SyncVectorEnv)
        pairs = [(native.reset(), other.reset())]
        pairs += [(native.step(a), other.step(a)) for a in actions]
    for ours, theirs in pairs:
        for key in KEYS:
            np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)


def test_unknown_vector_mode_is_refused():
    with pytest.raises(ValueError, match="vector must be one of"):
        EnvAdapter("Messenger-S1-v0", 2, vector="threads")


# --------------------------------------------------------------------------------------------
# time limits: a loss by the game's rules is terminal, any other truncation bootstraps


@pytest.mark.parametrize("vector", ["auto", "sync"])
def test_messenger_time_out_is_terminal_for_the_agent(vector):
    """S1 lets the avatar stand still for 4 play steps, then ends the episode with -1.  Gymnasium
    hears a truncation; the agent hears the loss it is (is_terminal, continue = 0), so its world
    model does not learn that a Messenger episode can go on forever."""
    with EnvAdapter("Messenger-S1-v0", 3, vector=vector, seed=0) as adapter:
        adapter.reset()
        ends = []
        for _ in range(150):
            out = adapter.step(np.full(3, 4))  # 4 = stay: never touches anything in S1
            for i in np.flatnonzero(out["is_last"]):
                ends.append((bool(out["is_terminal"][i]), float(out["reward"][i])))
    assert len(ends) >= 6
    assert ends == [(True, -1.0)] * len(ends)


def test_homegrid_time_limit_is_not_terminal():
    with EnvAdapter("HomeGrid-Task-v0", 2, seed=0, max_steps=5) as adapter:
        adapter.reset()
        lasts = terminals = 0
        for _ in range(20):
            out = adapter.step(np.zeros(2, int))
            lasts += int(out["is_last"].sum())
            terminals += int(out["is_terminal"].sum())
    assert lasts >= 4 and terminals == 0


def test_a_plain_truncation_of_the_tiny_env_bootstraps():
    # TinyEnv truncates without saying "timeout_loss": is_last but not is_terminal (covered in
    # the episode-flag test above); the same with the flag set to False explicitly.
    class Flagged(TinyEnv):
        def step(self, action):
            obs, reward, terminated, truncated, info = super().step(action)
            return obs, reward, terminated, truncated, {"timeout_loss": False}

    adapter = EnvAdapter(SyncVectorEnv([Flagged, Flagged]))
    adapter.reset()
    outs = [adapter.step(np.zeros(2, int)) for _ in range(3)]
    assert outs[-1]["is_last"].all() and not outs[-1]["is_terminal"].any()
    adapter.close()


# --------------------------------------------------------------------------------------------
# hiding the language


@pytest.mark.parametrize("env_id", ["Messenger-S1-v0", "HomeGrid-Future-v0"])
def test_hide_language_silences_every_token_and_nothing_else(env_id):
    seen = {}
    for hide in (False, True):
        with EnvAdapter(env_id, 2, seed=3, hide_language=hide) as adapter:
            rows = [adapter.reset()]
            rows += [adapter.step(np.zeros(2, int)) for _ in range(60)]
        seen[hide] = rows
    spoken = sum(int((r["token"] != 0).sum()) for r in seen[False])
    assert spoken > 20  # the manual or the hints were there to hide
    for heard, silent in zip(seen[False], seen[True]):
        assert not silent["token"].any()
        for key in ("image", "reward", "is_first", "is_last", "is_terminal", "is_read_step"):
            np.testing.assert_array_equal(heard[key], silent[key], err_msg=key)


# --------------------------------------------------------------------------------------------
# sentence context


@pytest.mark.parametrize("env_id,vector", [("Messenger-S1-v0", "auto"),
                                           ("HomeGrid-Future-v0", "auto"),
                                           ("Messenger-S1-v0", "sync")])
def test_sentence_context_bags_each_words_utterance_and_hides_with_the_tokens(env_id, vector):
    with EnvAdapter(env_id, 2, seed=3, sentence_context=True, vector=vector) as adapter:
        vocab = adapter.env.bags.vocab
        assert adapter.spec.sentence_size == len(vocab) == adapter.vocab_size
        rows, texts = [adapter.reset()], [adapter.last_info["text"]]
        for _ in range(60):
            rows.append(adapter.step(np.zeros(2, int)))
            texts.append(adapter.last_info["text"])
    spoken = 0
    for row, text in zip(rows, texts):
        assert row["sentence"].shape == (2, len(vocab)) and row["sentence"].dtype == np.uint8
        for i in range(2):
            words = set(np.flatnonzero(row["sentence"][i]).tolist())
            if row["token"][i] == 0:
                assert not words  # silence carries no sentence
            else:
                spoken += 1
                assert row["token"][i] in words and words == set(vocab.encode(text[i]))
    assert spoken > 20
    with EnvAdapter(env_id, 2, seed=3, sentence_context=True, hide_language=True) as adapter:
        silent = [adapter.reset()] + [adapter.step(np.zeros(2, int)) for _ in range(60)]
    assert not any(r["sentence"].any() or r["token"].any() for r in silent)
    with EnvAdapter(env_id, 2, seed=3) as adapter:
        assert "sentence" not in adapter.reset() and adapter.spec.sentence_size == 0

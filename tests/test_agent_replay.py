"""The uniform sequence replay: contiguous chunks across ring wrap-around, uniform starts,
dtypes, exact save/load resume, and clear errors."""

from __future__ import annotations

import collections
import os

import numpy as np
import pytest

from agent.replay import Replay


def _step(t: int, num_envs: int) -> dict[str, np.ndarray]:
    """Step ``t`` of every env, tagged so that a sampled chunk reveals where it came from."""
    envs = np.arange(num_envs)
    return {
        "t": np.full(num_envs, t, np.int64),
        "env": envs.astype(np.int32),
        "image": np.full((num_envs, 4, 4, 3), t % 256, np.uint8) + envs[:, None, None, None]
        .astype(np.uint8),
        "token": np.full(num_envs, t % 7, np.int32),
        "reward": np.full(num_envs, t, np.float32),
        "is_first": np.full(num_envs, t % 5 == 0),
    }


def _check_chunks(batch: dict[str, np.ndarray], newest: int, per_env: int) -> None:
    t, env = batch["t"], batch["env"]
    # One env per chunk, consecutive steps, all still stored (not overwritten).
    assert (env == env[:, :1]).all()
    assert (np.diff(t, axis=1) == 1).all()
    assert t.min() >= max(0, newest - per_env + 1) and t.max() <= newest
    # The other keys came from the same (env, step) cells.
    assert (batch["image"][:, :, 0, 0, 0] == ((t % 256) + env).astype(np.uint8)).all()
    assert (batch["token"] == t % 7).all()
    assert (batch["is_first"] == (t % 5 == 0)).all()


def test_chunks_stay_contiguous_across_wrap_around():
    replay = Replay(capacity=40, num_envs=4, seed=1)  # 10 steps per env
    for t in range(57):
        replay.add(_step(t, 4))
        if replay.steps_per_env >= 6:
            for length in (1, 6, replay.steps_per_env):
                _check_chunks(replay.sample(16, length), newest=t, per_env=10)
    assert len(replay) == 40 and replay.adds == 57


def test_starts_are_uniform_over_valid_chunks():
    num_envs, per_env, length = 3, 10, 4
    replay = Replay(capacity=num_envs * per_env, num_envs=num_envs, seed=2)
    for t in range(25):  # wrapped: steps 15..24 are stored, the ring's seam mid-buffer
        replay.add(_step(t, num_envs))
    n_draws = 21_000
    batch = replay.sample(n_draws, length)
    counts = collections.Counter(zip(batch["env"][:, 0].tolist(), batch["t"][:, 0].tolist()))
    valid = {(e, s) for e in range(num_envs) for s in range(15, 25 - length + 1)}
    assert set(counts) == valid  # every valid start occurs, no invalid one does
    expected = n_draws / len(valid)  # 1000 each; a std of about 31
    assert all(abs(c - expected) < 0.15 * expected for c in counts.values()), counts


def test_dtypes_and_shapes_are_preserved():
    replay = Replay(capacity=64, num_envs=2)
    for t in range(10):
        replay.add(_step(t, 2))
    batch = replay.sample(5, 3)
    assert batch["image"].dtype == np.uint8 and batch["image"].shape == (5, 3, 4, 4, 3)
    assert batch["token"].dtype == np.int32 and batch["token"].shape == (5, 3)
    assert batch["reward"].dtype == np.float32
    assert batch["is_first"].dtype == bool
    # Later adds of a wider dtype of the same kind are stored in the first add's dtype.
    step = _step(10, 2)
    step["token"] = step["token"].astype(np.int64)
    replay.add(step)
    assert replay.sample(2, 2)["token"].dtype == np.int32


def test_sizes_and_description():
    replay = Replay(capacity=1001, num_envs=4)
    assert replay.per_env == 250 and replay.capacity == 1000
    assert replay.nbytes == 0 and len(replay) == 0
    assert "size known after the first add" in replay.describe()
    replay.add({"image": np.zeros((4, 64, 64, 3), np.uint8), "token": np.zeros(4, np.int32)})
    assert len(replay) == 4
    assert replay.nbytes == 1000 * (64 * 64 * 3 + 4)
    assert replay.describe() == "replay: 1,000 steps (250 per env x 4), 12.3 MB"


@pytest.mark.parametrize("adds", [7, 30, 43])  # partly filled, exactly full, wrapped
def test_save_load_resumes_exactly(tmp_path, adds):
    replay = Replay(capacity=60, num_envs=2, seed=3)  # 30 per env
    for t in range(adds):
        replay.add(_step(t, 2))
    replay.sample(4, 5)  # advance the RNG so that its state matters
    path = tmp_path / "replay.npz"
    replay.save(path)
    assert os.listdir(tmp_path) == ["replay.npz"]  # the temporary file was renamed away
    loaded = Replay.load(path)
    assert (loaded.capacity, loaded.num_envs, len(loaded), loaded.adds) == (
        replay.capacity, replay.num_envs, len(replay), replay.adds)
    for t in range(adds, adds + 12):  # the future: samples, then adds that wrap further
        a, b = replay.sample(8, 5), loaded.sample(8, 5)
        assert a.keys() == b.keys()
        for key in a:
            assert a[key].dtype == b[key].dtype
            np.testing.assert_array_equal(a[key], b[key])
        replay.add(_step(t, 2))
        loaded.add(_step(t, 2))
    _check_chunks(loaded.sample(32, 5), newest=adds + 11, per_env=30)


def test_save_before_any_add_round_trips(tmp_path):
    replay = Replay(capacity=10, num_envs=2, seed=4)
    replay.save(tmp_path / "empty.npz")
    loaded = Replay.load(tmp_path / "empty.npz")
    assert len(loaded) == 0 and loaded.nbytes == 0
    loaded.add(_step(0, 2))
    assert len(loaded) == 2


def test_errors_are_clear():
    with pytest.raises(ValueError, match="capacity .3. must be at least num_envs .4."):
        Replay(capacity=3, num_envs=4)
    with pytest.raises(ValueError, match="num_envs must be an int >= 1, got 0"):
        Replay(capacity=3, num_envs=0)
    replay = Replay(capacity=20, num_envs=2)
    with pytest.raises(ValueError, match="replay holds 0 steps per env; a chunk needs 4"):
        replay.sample(2, 4)
    for t in range(3):
        replay.add(_step(t, 2))
    with pytest.raises(ValueError, match="replay holds 3 steps per env; a chunk needs 4"):
        replay.sample(2, 4)
    with pytest.raises(ValueError, match="does not fit the replay's 10 steps per env"):
        replay.sample(2, 11)
    step = _step(3, 2)
    del step["token"]
    with pytest.raises(ValueError, match=r"missing \['token'\]"):
        replay.add(step)
    step = _step(3, 2)
    step["extra"] = np.zeros(2)
    with pytest.raises(ValueError, match=r"unexpected \['extra'\]"):
        replay.add(step)
    step = _step(3, 2)
    step["image"] = np.zeros((2, 8, 8, 3), np.uint8)
    with pytest.raises(ValueError, match=r"'image' has per-step shape \(8, 8, 3\)"):
        replay.add(step)
    step = _step(3, 2)
    step["image"] = step["image"].astype(np.float32)
    with pytest.raises(ValueError, match="dtype float32, which does not fit the stored uint8"):
        replay.add(step)
    with pytest.raises(ValueError, match=r"must have shape \(2, ...\)"):
        replay.add({key: value[:1] for key, value in _step(3, 2).items()})
    assert replay.adds == 3  # failed adds wrote nothing

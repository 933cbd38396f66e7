"""The environment adapter: a batch of Gymnasium envs as the numpy arrays the agents consume.

The agents never touch an environment directly.  :class:`EnvAdapter` makes (or wraps) a
Gymnasium vector env that follows the README's observation contract (``image`` uint8
HxWxC, ``token`` Discrete(V) with 0 = pad, optional ``is_read_step``) and turns every step into a
dict of arrays batched over envs::

    image         uint8   (N, H, W, C)   padded to ``pad_grid_to`` if asked
    token         int32   (N,)
    reward        float32 (N,)           0 on the first step of an episode
    is_first      bool    (N,)           first observation of an episode
    is_last       bool    (N,)           last observation of an episode (terminated or truncated)
    is_terminal   bool    (N,)           terminated, or a time limit the env scores as a loss
                                         (``info["timeout_loss"]``, Messenger); any other
                                         time limit keeps continue = 1 and is bootstrapped
    is_read_step  bool    (N,)           the world is frozen, the action is ignored
    sentence      uint8   (N, V)         with ``sentence_context``: the bag of words of the
                                         utterance each token belongs to (0 on silence)

Vector envs autoreset in Gymnasium's NEXT_STEP mode: the step after an episode ends returns the
first observation of the next episode (reward 0, action ignored).  That row is reported as
``is_first`` with reward 0, which is exactly the DreamerV3 step layout, so the adapter's output can
go into the replay as is.

No JAX here: this module runs in actor processes and tests on machines without an accelerator.
"""

from __future__ import annotations

import importlib
from typing import Any, NamedTuple

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv

from langstream.checks import check_batch_actions
from langstream.context import SentenceContextVector
from langstream.wrappers import HideLanguageVector

__all__ = ["EnvAdapter", "Spec"]


class Spec(NamedTuple):
    """What an agent needs to know about an environment to build its networks."""

    image_shape: tuple[int, int, int]
    vocab_size: int
    n_actions: int
    binary_image: bool = False  # Messenger's symbolic grid: Bernoulli decoder, no pixel scaling
    sentence_size: int = 0  # the bag-of-words length of ``sentence`` (0: no sentence context)

#: id prefix -> the project package that registers it, so that plain ids such as
#: "HomeGrid-Task-v0" work without the caller importing the suite first (a new suite adds its
#: line, docs/adding-an-env.md).  Any other id needs its package imported, or the "module:Id"
#: form that Gymnasium itself understands.
SUITE_PACKAGES = {"HomeGrid-": "homegrid", "Messenger-": "messenger_s2"}


def project_env_ids() -> list[str]:
    """Every env id the project's suites register."""
    for package in SUITE_PACKAGES.values():
        importlib.import_module(package)
    return sorted(i for i in gym.registry if i.startswith(tuple(SUITE_PACKAGES)))


def registered_spec(env_id: str) -> gym.envs.registration.EnvSpec:
    """The registered spec of ``env_id``, importing the project suite it belongs to if needed;
    an unknown id raises a one-line ``gym.error.Error`` that lists the project's ids."""
    if ":" not in env_id and env_id not in gym.registry:
        for prefix, package in SUITE_PACKAGES.items():
            if env_id.startswith(prefix):
                importlib.import_module(package)
    try:
        return gym.spec(env_id)
    except gym.error.Error as error:
        raise type(error)(f"no env is registered as {env_id!r}; the project's envs: "
                          f"{', '.join(project_env_ids())} (others as \"module:Id\", the module "
                          f"that registers them first)") from None


VECTOR_MODES = ("auto", "sync", "async")


def _make_vector_env(env_id: str, num_envs: int, vector: str, env_kwargs: dict[str, Any]
                     ) -> VectorEnv:
    """``gym.make_vec`` in ``vector`` mode: "auto" uses the id's natively batched entry point
    (or "sync" if it has none), "sync" steps copies of the env in this process, "async" one per
    subprocess (worth it when an env step costs more than the inter-process round trip; the
    calling script must be a file or module, as for any ``multiprocessing`` fork server)."""
    if vector not in VECTOR_MODES:
        raise ValueError(f"vector must be one of {VECTOR_MODES}, got {vector!r}")
    spec = registered_spec(env_id)
    if vector == "auto":
        vector = "vector_entry_point" if spec.vector_entry_point is not None else "sync"
    # Subprocesses come from a fork server, not a fork of this process: JAX's threads do not
    # survive a fork (the child may deadlock).
    options: dict[str, Any] = (
        {"vector_kwargs": {"context": "forkserver"}} if vector == "async" else {})
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode=vector, **options,
                        **env_kwargs)


def _describe_space(space: spaces.Space) -> str:
    return type(space).__name__ if not isinstance(space, spaces.Box) else (
        f"Box(shape={space.shape}, dtype={space.dtype})")


def _info_flag(info: dict[str, Any], key: str, n: int) -> np.ndarray:
    """A boolean per env from a vector env's ``info`` (False where the key or its ``_key`` mask
    is missing)."""
    if key not in info:
        return np.zeros(n, bool)
    value = np.asarray(info[key]).astype(bool).reshape(n)
    return value & np.asarray(info.get(f"_{key}", np.ones(n, bool)), bool).reshape(n)


class EnvAdapter:
    """Steps a batch of Gymnasium envs and returns what the agent consumes, as numpy arrays.

    Args:
        env_id_or_vector_env: a registered env id (made with ``gym.make_vec(id,
            num_envs=num_envs, vectorization_mode="vector_entry_point", **env_kwargs)``, or
            ``"sync"`` when the id has no vector entry point), or an existing
            :class:`gymnasium.vector.VectorEnv` (``num_envs`` then comes from it; the adapter
            closes it in :meth:`close`).
        num_envs: number of envs to make from an id.
        image_key: the observation key the agent sees as its image: ``"image"`` (pixels),
            ``"grid"`` (the symbolic multi-hot grid: Messenger's 10x10x17 board, HomeGrid's
            3x3x36 view), and ``"auto"``, the key the paper's agent read where the env names
            one in ``metadata["paper_image_key"]`` (Messenger: its grid), else ``"image"``.
        pad_grid_to: zero-pad the image's height and width to this size at the bottom and right
            (Dynalang feeds Messenger's grid as 16x16x17 and crops ``[:10, :10]`` to undo it);
            ``"auto"`` pads to the next power of two when the image is not a square with a
            power-of-two side (what the agents' CNNs need).
        vector: with an env id, how its copies are batched: "auto" (the id's natively
            batched entry point, else "sync"), "sync" or "async" (subprocesses).
        seed: seed of the first :meth:`reset` (env ``i`` gets ``seed + i``); later resets
            continue the envs' random streams.
        hide_language: replace every token by ``<pad>`` (the ablation "without language":
            :class:`langstream.wrappers.HideLanguageVector`).
        sentence_context: add ``sentence``, the bag of words of the utterance each token belongs
            to (:class:`langstream.context.SentenceContextVector`, the project's stand-in for
            the paper's T5 token vectors); hidden with the tokens under ``hide_language``.
        **env_kwargs: passed to ``gym.make_vec`` (the env's own arguments, e.g. ``max_steps``).

    Attributes:
        vocab_size: ``observation_space["token"].n``.
        sentence_size: the length of ``sentence`` (the vocabulary's, V) where the observations
            have it (``sentence_context``, or a given env that adds it itself), else 0.
        n_actions: ``single_action_space.n``.
        image_shape: shape of one image as the agent sees it (after padding).
        num_envs: number of envs stepped together.
        completed: one dict per finished episode, in the order they ended:
            ``{"return": float, "length": int, "real_length": int}``.  ``length`` counts the
            env steps of the episode (actions taken, read steps included); ``real_length``
            only the steps whose observation is not a read step, i.e. the world's own step
            count.  Pop with :meth:`take_completed`.
        last_info: the info dict of the latest reset/step, as the vector env returned it (for
            subtitles: ``last_info["text"]``).
    """

    def __init__(self, env_id_or_vector_env: str | VectorEnv, num_envs: int = 1, *,
                 image_key: str = "image", pad_grid_to: int | str | None = None, seed: int = 0,
                 vector: str = "auto", hide_language: bool = False,
                 sentence_context: bool = False, **env_kwargs: Any):
        if isinstance(env_id_or_vector_env, VectorEnv):
            if env_kwargs:
                raise TypeError(f"env arguments {sorted(env_kwargs)} can only be given with an "
                                f"env id, not with an existing vector env")
            env = env_id_or_vector_env
            if num_envs not in (1, env.num_envs):  # 1 is the default: nothing was asked for
                raise ValueError(f"num_envs={num_envs} but the given vector env has "
                                 f"{env.num_envs} envs")
        elif isinstance(env_id_or_vector_env, str):
            if not isinstance(num_envs, int) or isinstance(num_envs, bool) or num_envs < 1:
                raise ValueError(f"num_envs must be a positive int, got {num_envs!r}")
            env = _make_vector_env(env_id_or_vector_env, num_envs, vector, env_kwargs)
        else:
            raise TypeError(f"expected an env id (str) or a gymnasium.vector.VectorEnv, got "
                            f"{type(env_id_or_vector_env).__name__}")
        try:
            if sentence_context:
                env = SentenceContextVector(env)
        except Exception:
            if isinstance(env_id_or_vector_env, str):
                env.close()
            raise
        if hide_language:
            env = HideLanguageVector(env)
        self.env = env
        self.num_envs: int = env.num_envs
        if image_key == "auto":
            image_key = env.metadata.get("paper_image_key", "image")
        self.image_key = image_key
        self.seed = seed
        try:
            self._check_contract(pad_grid_to)
        except Exception:
            if isinstance(env_id_or_vector_env, str):  # ours to close; a given env is not
                env.close()
            raise
        self.completed: list[dict] = []
        self.last_info: dict[str, Any] = {}
        n = self.num_envs
        self._started = False
        self._seeded = False
        # The episode state of each row: did its last step end the episode (so the next step is
        # the env's autoreset), and the running statistics of the episode in progress.
        self._ended = np.zeros(n, bool)
        self._return = np.zeros(n, np.float64)
        self._length = np.zeros(n, np.int64)
        self._real_length = np.zeros(n, np.int64)

    # ------------------------------------------------------------------ contract
    def _check_contract(self, pad_grid_to: int | str | None) -> None:
        env = self.env
        obs_space = env.single_observation_space
        if not isinstance(obs_space, spaces.Dict):
            raise ValueError(f"the env's observation space must be a Dict with keys "
                             f"{self.image_key!r} and 'token', got {obs_space}")
        present = list(obs_space.spaces)
        missing = [k for k in (self.image_key, "token") if k not in obs_space.spaces]
        if missing:
            raise ValueError(f"the env's observations lack the key(s) {missing} that the agent "
                             f"needs; keys present: {present}")
        image = obs_space[self.image_key]
        if not (isinstance(image, spaces.Box) and image.dtype == np.uint8
                and len(image.shape) == 3):
            raise ValueError(f"observation {self.image_key!r} must be a uint8 Box of shape "
                             f"(H, W, C), got {_describe_space(image)}")
        token = obs_space["token"]
        if not isinstance(token, spaces.Discrete):
            raise ValueError(f"observation 'token' must be Discrete(V) (0 = pad), got "
                             f"{_describe_space(token)}")
        self._has_read = "is_read_step" in obs_space.spaces
        if self._has_read:
            read = obs_space["is_read_step"]
            if not (isinstance(read, (spaces.Discrete, spaces.MultiBinary))
                    or (isinstance(read, spaces.Box) and read.shape == ())):
                raise ValueError(f"observation 'is_read_step' must be Discrete(2), got "
                                 f"{_describe_space(read)}")
        action = env.single_action_space
        if not isinstance(action, spaces.Discrete):
            raise TypeError(f"the agents need a Discrete action space, got {action}")
        mode = env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        if AutoresetMode(mode) != AutoresetMode.NEXT_STEP:
            # Other modes put the reset observation elsewhere; the is_first logic below assumes
            # the step after an episode's end is the next episode's first observation.
            raise ValueError(f"the vector env must autoreset in NEXT_STEP mode, got {mode}")
        height, width, channels = image.shape
        if pad_grid_to == "auto":
            side = max(height, width, 4)
            power = 1 << (side - 1).bit_length()
            pad_grid_to = None if (height == width == power) else power
        if pad_grid_to is not None:
            if not isinstance(pad_grid_to, int) or pad_grid_to < max(height, width):
                raise ValueError(f"pad_grid_to must be an int >= the image's height and width "
                                 f"{(height, width)}, got {pad_grid_to!r}")
            height = width = pad_grid_to
        self._pad = pad_grid_to
        sentence = obs_space.spaces.get("sentence")
        if sentence is not None and not (isinstance(sentence, spaces.Box)
                                         and len(sentence.shape or ()) == 1):
            raise ValueError(f"observation 'sentence' must be a Box of shape (V,) (a bag of "
                             f"words), got {_describe_space(sentence)}")
        self.sentence_size: int = 0 if sentence is None else int(sentence.shape[0])
        self.image_shape: tuple[int, int, int] = (height, width, channels)
        self.vocab_size: int = int(token.n)
        self.n_actions: int = int(action.n)
        self._action_start = int(action.start)

    # ------------------------------------------------------------------ stepping
    @property
    def spec(self) -> Spec:
        """The agent's view of these envs: image shape, vocabulary and action counts."""
        height, width, channels = self.image_shape
        return Spec((height, width, channels), self.vocab_size, self.n_actions,
                    binary_image=self.image_key == "grid", sentence_size=self.sentence_size)

    def reset(self) -> dict[str, np.ndarray]:
        """Reset every env; all rows are ``is_first`` with reward 0.

        The first call seeds the envs with ``seed`` (env ``i`` gets ``seed + i``).  An episode
        in progress is dropped without being reported in :attr:`completed`.
        """
        obs, info = self.env.reset(seed=None if self._seeded else self.seed)
        self._seeded = self._started = True
        self.last_info = info
        n = self.num_envs
        self._ended[:] = False
        self._return[:] = 0.0
        self._length[:] = 0
        self._real_length[:] = 0
        false = np.zeros(n, bool)
        out = self._observation(obs)
        out.update(reward=np.zeros(n, np.float32), is_first=np.ones(n, bool), is_last=false,
                   is_terminal=false.copy())
        return out

    def step(self, actions: np.ndarray) -> dict[str, np.ndarray]:
        """Step every env with ``actions`` (ints in ``[0, n_actions)``, shape ``(num_envs,)``).

        Rows whose previous step ended the episode are the env's autoreset: their action is
        ignored and they return the next episode's first observation (``is_first``, reward 0).
        """
        if not self._started:
            raise RuntimeError("call reset() before step()")
        actions = check_batch_actions(actions, self.num_envs, self.n_actions)
        obs, reward, terminated, truncated, info = self.env.step(actions + self._action_start)
        self.last_info = info
        first = self._ended  # autoreset rows; the env ignored their action
        running = ~first
        truncated = np.asarray(truncated, bool) & running
        terminated = np.asarray(terminated, bool) & running
        last = terminated | truncated
        # A time-out the game scores as a loss ends the episode for the agent too: bootstrapping
        # through it would teach the world model that Messenger never ends.
        terminal = terminated | (truncated & _info_flag(info, "timeout_loss", self.num_envs))
        reward = np.where(first, 0.0, np.asarray(reward, np.float64))

        out = self._observation(obs)

        # Episode statistics: a first row starts a new episode, a running row adds its step.
        # A step whose observation is not a read step is one the world moved in (both suites
        # mark the observation showing the last manual token as read, and play its action).
        self._return = np.where(first, 0.0, self._return + reward)
        self._length = np.where(first, 0, self._length + 1)
        self._real_length = np.where(first, 0, self._real_length + ~out["is_read_step"])
        for i in np.flatnonzero(last):
            self.completed.append({"return": float(self._return[i]),
                                   "length": int(self._length[i]),
                                   "real_length": int(self._real_length[i])})

        out.update(reward=reward.astype(np.float32), is_first=first.copy(), is_last=last,
                   is_terminal=terminal)
        self._ended = last.copy()
        return out

    def _observation(self, obs: dict[str, Any]) -> dict[str, np.ndarray]:
        n = self.num_envs
        image = np.asarray(obs[self.image_key])
        if self._pad is None:
            # Always a fresh array: vector envs with copy=False reuse their buffers.
            image = np.array(image, np.uint8)
        else:
            padded = np.zeros((n, *self.image_shape), np.uint8)
            padded[:, :image.shape[1], :image.shape[2]] = image
            image = padded
        if self._has_read:
            read = np.asarray(obs["is_read_step"]).reshape(n) != 0
        else:
            read = np.zeros(n, bool)
        out = {"image": image, "token": np.asarray(obs["token"]).astype(np.int32).reshape(n),
               "is_read_step": read}
        if self.sentence_size:
            out["sentence"] = np.array(obs["sentence"], np.uint8).reshape(n, self.sentence_size)
        return out

    # ------------------------------------------------------------------ bookkeeping
    def take_completed(self) -> list[dict]:
        """The episodes finished since the last call (and forget them)."""
        done, self.completed = self.completed, []
        return done

    def close(self) -> None:
        """Close the vector env."""
        self.env.close()

    def __enter__(self) -> EnvAdapter:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"EnvAdapter({self.env!r}, num_envs={self.num_envs}, image_key="
                f"{self.image_key!r}, image_shape={self.image_shape}, vocab_size="
                f"{self.vocab_size}, n_actions={self.n_actions})")

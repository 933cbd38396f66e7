"""Gymnasium envs over a JAX twin's ``FuncEnv``: one env with numpy outputs, and a batch on the
device whose step, autoreset included, is one jitted call.

A twin's state carries ``reward``, ``terminated`` and ``truncated`` of the step that led to it
(so ``reward`` and ``terminal`` are reads, not recomputations), and its ``transition_info``
reads the state after the step only.  Autoreset follows Gymnasium's next-step mode: the step
after an episode ends returns the first observation of a new one, with reward 0.
"""

from __future__ import annotations

from typing import Any, Sequence

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
from gymnasium.experimental.functional import FuncEnv
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from langstream import checks, language_observation_space


class TwinFuncEnv(FuncEnv):
    """What every twin's ``FuncEnv`` shares: its state carries the step's ``reward``,
    ``terminated`` and ``truncated``, so ``reward`` and ``terminal`` read them."""

    def reward(self, state: Any, action: Any, next_state: Any, rng: Any = None,
               params: Any = None) -> jax.Array:
        return next_state.reward

    def terminal(self, state: Any, rng: Any = None, params: Any = None) -> jax.Array:
        return state.terminated | state.truncated

    def state_info(self, state: Any, params: Any = None) -> dict[str, Any]:
        return {}


def twin_observation_space(image_shape: tuple[int, int, int], vocab_size: int,
                           grid: gym.spaces.Box, pixels: bool) -> gym.spaces.Dict:
    """The contract's observation space with the suite's ``grid``; without ``image`` unless
    ``pixels`` (drawing it is most of a twin's step, and agents that read ``grid`` need none)."""
    space = language_observation_space(image_shape, vocab_size, grid=grid)
    if not pixels:
        space = gym.spaces.Dict({k: v for k, v in space.spaces.items() if k != "image"})
    return space


def _to_host(obs: dict[str, Any], info: dict[str, Any]) -> tuple[dict[str, Any],
                                                                   dict[str, Any]]:
    """An observation (arrays, and Python ints for scalars) and info (Python bools) as the
    numpy envs return them."""
    obs, info = jax.device_get((obs, info))
    return ({k: v if v.ndim else int(v) for k, v in obs.items()},
            {k: bool(v) for k, v in info.items()})


def _key_from(np_random: np.random.Generator) -> jax.Array:
    """A JAX key drawn from an env's seeded numpy generator."""
    return jax.random.PRNGKey(int(np_random.integers(0, 2**31 - 1)))


class FuncJaxEnv(gym.Env):
    """One episode of a twin's ``FuncEnv``, jitted, with numpy observations and Python
    scalars, as the numpy env returns them; ``func_env`` is the functional env itself."""

    def __init__(self, func_env: FuncEnv, action_names: Sequence[str],
                 render_mode: str | None = None):
        self.func_env, self.action_names = func_env, action_names
        self.observation_space = func_env.observation_space
        self.action_space = func_env.action_space
        self.render_mode = render_mode
        self._initial = jax.jit(lambda key: self._seen(func_env.initial(key)))
        self._transition = jax.jit(
            lambda state, action, key: self._seen(func_env.transition(state, action, key)))
        self._state: Any = None
        self._key: jax.Array | None = None

    def _seen(self, state: Any) -> tuple[Any, dict[str, Any], dict[str, Any]]:
        """A state with its observation and info (made in the same jitted call)."""
        return (state, self.func_env.observation(state, None),
                self.func_env.transition_info(None, None, state))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._key, key = jax.random.split(_key_from(self.np_random))
        self._state, obs, info = self._initial(key)
        return _to_host(obs, info)

    def step(self, action: Any):
        if self._state is None or self._key is None:
            raise RuntimeError("call reset() before step()")
        if bool(self._state.terminated | self._state.truncated):
            raise RuntimeError("the episode has ended; call reset() to start a new one")
        action = checks.check_action(action, self.action_names)
        self._key, key = jax.random.split(self._key)
        self._state, obs, info = self._transition(self._state, action, key)
        obs, info = _to_host(obs, info)
        s = self._state
        return obs, float(s.reward), bool(s.terminated), bool(s.truncated), info

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        if self._state is None:
            raise RuntimeError("call reset() before render()")
        return self.func_env.render_image(self._state, None)[1]


def where_rows(mask: jax.Array, a: Any, b: Any) -> Any:
    """Per row of a batched pytree: ``a`` where ``mask``, else ``b``."""
    def pick(x: jax.Array, y: jax.Array) -> jax.Array:
        return jnp.where(mask.reshape(mask.shape + (1,) * (x.ndim - 1)), x, y)
    return jax.tree.map(pick, a, b)


def reset_reserve(num_envs: int) -> int:
    """How many episode starts :func:`autoreset_step` draws per step for the rows that ended."""
    return min(num_envs, max(8, num_envs // 16))


def autoreset_step(func_env: FuncEnv, state: Any, actions: jax.Array, key: jax.Array) -> Any:
    """A batch of a twin's episodes stepped with Gymnasium's next-step autoreset: rows whose
    episode has ended (the state says so) start a new one instead (reward 0, flags false,
    action ignored).  Pure: jit, vmap or scan it."""
    needs_reset = state.terminated | state.truncated
    n = needs_reset.shape[0]
    k_step, k_reset = jax.random.split(key)
    stepped = jax.vmap(func_env.transition)(state, actions, jax.random.split(k_step, n))
    # Episode starts cost more than steps, and few rows end on any one step: draw a small
    # reserve of starts and write them into the rows that ended (a scatter of a few rows; a
    # gather or select over every row costs more than the step itself on a CPU), or into
    # every row when more ended than the reserve holds.
    reserve = reset_reserve(n)

    def fresh(count: int) -> Any:
        return jax.vmap(func_env.initial)(jax.random.split(k_reset, count))

    def few() -> Any:
        rows = jnp.nonzero(needs_reset, size=reserve, fill_value=n)[0]
        return jax.tree.map(lambda x, y: x.at[rows].set(y, mode="drop"), stepped,
                            fresh(reserve))

    def many() -> Any:
        return where_rows(needs_reset, fresh(n), stepped)

    return jax.lax.cond(needs_reset.sum() <= reserve, few, many)


class FuncJaxVectorEnv(VectorEnv):
    """``num_envs`` episodes of a twin's ``FuncEnv`` on the device: observations, rewards and
    flags come back as JAX arrays, and a step (transition, observation and the next-step
    autoreset of the rows that ended) is one jitted call.  Seeding ``reset(seed=s)`` makes the
    whole batch reproducible.  Actions may be a JAX array (used as they are) or anything
    numpy takes (checked first)."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, func_env: FuncEnv, action_names: Sequence[str], num_envs: int):
        self.func_env, self.action_names = func_env, action_names
        self.num_envs = checks.check_num_envs(num_envs)
        self.single_observation_space = func_env.observation_space
        self.single_action_space = func_env.action_space
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self._state: Any = None
        self._key: jax.Array | None = None
        self._reset_all = jax.jit(self._fresh)
        self._step = jax.jit(self._step_all)

    def _fresh(self, key: jax.Array) -> tuple[Any, dict[str, jax.Array]]:
        state = jax.vmap(self.func_env.initial)(jax.random.split(key, self.num_envs))
        return state, jax.vmap(lambda s: self.func_env.observation(s, None))(state)

    def _step_all(self, state: Any, actions: jax.Array, key: jax.Array) -> tuple[Any, ...]:
        f = self.func_env
        key, k_step = jax.random.split(key)
        state = autoreset_step(f, state, actions, k_step)
        obs = jax.vmap(lambda s: f.observation(s, None))(state)
        info = jax.vmap(lambda s: f.transition_info(None, None, s))(state)
        return state, obs, state.reward, state.terminated, state.truncated, info, key

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        if options:
            raise ValueError(f"the JAX vector env resets every sub-env and takes no options, "
                             f"got {sorted(options)}")
        super().reset(seed=seed)
        self._key, first = jax.random.split(_key_from(self.np_random))
        self._state, obs = self._reset_all(first)
        return obs, {}

    def step(self, actions: Any):
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        if not isinstance(actions, jax.Array):  # host actions are checked; device ones trusted
            actions = checks.check_batch_actions(actions, self.num_envs, self.action_names)
        (self._state, obs, reward, terminated, truncated, info,
         self._key) = self._step(self._state, jnp.asarray(actions, jnp.int32), self._key)
        return obs, reward, terminated, truncated, info

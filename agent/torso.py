"""The baselines' shared body: the observation encoder and an LSTM core (Flax linen).

IMPALA-style and R2D2-style agents see exactly what Dynalang sees (the image and one token per
step, through the same :class:`agent.nets.Encoder`: a CNN on the image and a learned token
embedding with an MLP) and, as in both original papers, the previous action (one-hot) and the
reward received on arriving at this step (symlog-squashed).  An LSTM carries everything across
steps; ``is_first`` resets it to zeros and zeroes the previous action and reward, so episodes
never leak into each other inside a batch row.

Used functionally, like ``agent.nets``: :meth:`Torso.embed` runs on a whole (T, B, ...) batch at
once, and :func:`unroll` scans :meth:`Torso.core` over time; acting carries a :class:`Carry` from
one :func:`act_step` to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from agent import dists, nets
from agent.config_flags import AgentConfig
from agent.envs import Spec

LSTMState = tuple[jnp.ndarray, jnp.ndarray]  # (cell c, hidden h), each (B, units)


@dataclass(frozen=True)
class TorsoConfig(AgentConfig):
    """The fields of the torso, which both baselines' configs extend."""

    cnn_depth: int = 16
    """channels of the first CNN stage (doubling each stage)."""
    mlp_units: int = 256
    """units of the language MLP (token embedding -> MLP)."""
    mlp_layers: int = 1
    """layers of the language MLP."""
    token_embed: int = 32
    """size of the learned token embedding (over the env's vocabulary)."""
    lstm: int = 256
    """units of the LSTM core."""


def build(cfg: TorsoConfig, spec: Spec) -> "Torso":
    """The torso of ``cfg``'s sizes for an env's spec (image shape, vocabulary, actions)."""
    return Torso(cfg.cnn_depth, cfg.mlp_units, cfg.mlp_layers, spec.vocab_size, cfg.token_embed,
                 cfg.lstm, spec.n_actions, spec.binary_image,
                 jnp.bfloat16 if cfg.bf16 else jnp.float32)


class Torso(nn.Module):
    """Encoder features + previous action and reward -> LSTM of ``lstm`` units."""

    cnn_depth: int
    units: int
    layers: int
    vocab_size: int
    token_embed: int
    lstm: int
    n_actions: int
    binary: bool = False
    dtype: Any = jnp.float32

    def setup(self) -> None:
        self.encoder = nets.Encoder(self.cnn_depth, self.units, self.layers, self.vocab_size,
                                    self.token_embed, self.binary, self.dtype)
        self.cell = nn.OptimizedLSTMCell(self.lstm, dtype=self.dtype, param_dtype=jnp.float32)

    def initial(self, batch: int) -> LSTMState:
        """The zero state of ``batch`` rows (float32)."""
        zeros = jnp.zeros((batch, self.lstm), jnp.float32)
        return zeros, zeros

    def embed(self, image: jnp.ndarray, token: jnp.ndarray, prev_action: jnp.ndarray,
              prev_reward: jnp.ndarray, is_first: jnp.ndarray) -> jnp.ndarray:
        """The LSTM's input for any leading dims: [encoder(image, token), one-hot previous
        action, symlog previous reward], the last two zeroed where ``is_first``."""
        keep = 1.0 - is_first.astype(jnp.float32)
        action = jax.nn.one_hot(prev_action, self.n_actions) * keep[..., None]
        reward = dists.symlog(prev_reward.astype(jnp.float32)) * keep
        x = self.encoder(image, token)
        return jnp.concatenate([x, action.astype(x.dtype), reward[..., None].astype(x.dtype)],
                               -1)

    def core(self, state: LSTMState, x: jnp.ndarray, is_first: jnp.ndarray
             ) -> tuple[LSTMState, jnp.ndarray]:
        """One LSTM step of a batch (B, F), from zeros where ``is_first``; returns the new
        state and the output h (float32)."""
        keep = (1.0 - is_first.astype(jnp.float32))[:, None]
        c, h = (s * keep for s in state)
        (c, h), _ = self.cell((c, h), x)
        c, h = c.astype(jnp.float32), h.astype(jnp.float32)
        return (c, h), h

    def __call__(self, state: LSTMState, image: jnp.ndarray, token: jnp.ndarray,
                 prev_action: jnp.ndarray, prev_reward: jnp.ndarray, is_first: jnp.ndarray
                 ) -> tuple[LSTMState, jnp.ndarray]:
        """One step of a batch: embed, then the core (also what ``init`` traces)."""
        return self.core(state, self.embed(image, token, prev_action, prev_reward, is_first),
                         is_first)


def unroll(torso: Torso, params: Any, state: LSTMState, inputs: dict[str, jnp.ndarray],
           unroll: int = 1) -> tuple[LSTMState, jnp.ndarray]:
    """The torso over a time-major sequence: ``inputs`` holds ``image`` (T, B, H, W, C),
    ``token``, ``prev_action``, ``prev_reward`` and ``is_first`` (T, B).  The encoder runs once
    over all T x B steps; the LSTM is a ``lax.scan`` from ``state``.  Returns the last state and
    the outputs (T, B, lstm)."""
    x = torso.apply(params, inputs["image"], inputs["token"], inputs["prev_action"],
                    inputs["prev_reward"], inputs["is_first"], method=Torso.embed)

    def step(s: LSTMState, xs: tuple[jnp.ndarray, jnp.ndarray]) -> tuple[LSTMState, jnp.ndarray]:
        return torso.apply(params, s, xs[0], xs[1], method=Torso.core)

    return jax.lax.scan(step, state, (x, inputs["is_first"]), unroll=unroll)


class Carry(NamedTuple):
    """What acting carries between steps, per env: the LSTM state and the action taken last
    (the torso's previous-action input, which it zeroes itself where ``is_first``)."""

    lstm: LSTMState
    action: jnp.ndarray  # int32 (n,)


def initial_carry(torso: Torso, n: int) -> Carry:
    """The carry of ``n`` envs before their first step."""
    return Carry(torso.initial(n), jnp.zeros((n,), jnp.int32))


def act_step(torso: Torso, params: Any, carry: Carry, obs: dict[str, jnp.ndarray]
             ) -> tuple[LSTMState, jnp.ndarray]:
    """One acting step of every env: the LSTM state and output (n, lstm) after ``obs`` (its
    ``image``, ``token``, ``reward`` and ``is_first``)."""
    return torso.apply(params, carry.lstm, obs["image"], obs["token"], carry.action,
                       obs["reward"], obs["is_first"])


def init(torso: Torso, key: jax.Array, image_shape: tuple[int, int, int]) -> Any:
    """Parameters of ``torso`` for images of ``image_shape``."""
    one = jnp.zeros((1,), jnp.int32)
    return torso.init(key, torso.initial(1), jnp.zeros((1, *image_shape), jnp.uint8), one, one,
                      jnp.zeros((1,), jnp.float32), jnp.ones((1,), bool))

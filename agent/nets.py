"""Networks shared by the agents (Flax linen): MLPs, the image and token encoder, the RSSM, the
image decoder and output heads.

Modules are used functionally, ``module.apply(params, ...)``, inside pure functions, so that the
agents can put them in ``jax.lax.scan`` over time and one ``jax.jit`` over the whole update.
Layout follows DreamerV3 (2023): every hidden Linear is followed by LayerNorm (eps 1e-3) and
SiLU and has no bias (the norm makes it redundant); ``dtype`` sets the compute precision while
parameters stay float32.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from agent import dists

State = dict[str, jnp.ndarray]  # RSSM state: deter (..., D), stoch (..., S, K), logits (..., S, K)


class Norm(nn.Module):
    """LayerNorm (eps 1e-3) computed in float32, then SiLU, back in the compute dtype."""

    dtype: Any = jnp.float32
    act: bool = True

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        y = nn.LayerNorm(epsilon=1e-3, dtype=jnp.float32)(x.astype(jnp.float32))
        return (jax.nn.silu(y) if self.act else y).astype(self.dtype)


class MLP(nn.Module):
    """``layers`` x (Linear without bias -> LayerNorm -> SiLU)."""

    units: int
    layers: int
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        x = x.astype(self.dtype)
        for _ in range(self.layers):
            x = Norm(self.dtype)(nn.Dense(self.units, use_bias=False, dtype=self.dtype)(x))
        return x


class Head(nn.Module):
    """An MLP and a linear output of ``size`` values (zero-initialised for reward and critic,
    so that their first predictions are exactly 0)."""

    size: int
    units: int
    layers: int
    zero_init: bool = False
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, feat: jnp.ndarray) -> jnp.ndarray:
        x = MLP(self.units, self.layers, self.dtype)(feat)
        init = nn.initializers.zeros if self.zero_init else nn.initializers.lecun_normal()
        return nn.Dense(self.size, kernel_init=init, dtype=jnp.float32)(x.astype(jnp.float32))


def cnn_stages(size: int, minres: int = 4) -> int:
    """Stride-2 stages that bring an image of side ``size`` down to ``minres``."""
    stages, side = 0, size
    while side > minres:
        if side % 2:
            raise ValueError(f"image side {size} cannot be halved down to {minres}")
        side //= 2
        stages += 1
    return stages


class Encoder(nn.Module):
    """Image CNN features concatenated with token MLP features: the observation embedding e_t.

    ``binary`` images (Messenger's 0/1 grid) are used as they are; pixels are scaled to [0, 1]
    and shifted by -0.5.  The token is looked up in a learned table over the env's vocabulary.
    """

    depth: int
    units: int
    layers: int
    vocab_size: int
    token_embed: int
    binary: bool = False
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, image: jnp.ndarray, token: jnp.ndarray,
                 text_only: bool = False) -> jnp.ndarray:
        lead = image.shape[:-3]
        if text_only:
            # Text pretraining: the image features are zeros and the CNN gets no gradient.
            stages = cnn_stages(image.shape[-3])
            side = image.shape[-3] // 2 ** stages
            x = jnp.zeros((*lead, side * side * self.depth * 2 ** (stages - 1)), self.dtype)
        else:
            x = image.astype(self.dtype)
            if not self.binary:
                x = x / 255.0 - 0.5
            x = x.reshape(-1, *x.shape[-3:])
            for i in range(cnn_stages(x.shape[1])):
                x = nn.Conv(self.depth * 2 ** i, (4, 4), strides=2, padding="SAME",
                            use_bias=False, dtype=self.dtype)(x)
                x = Norm(self.dtype)(x)
            x = x.reshape(*lead, -1)
        t = nn.Embed(self.vocab_size, self.token_embed, dtype=self.dtype)(token)
        t = MLP(self.units, self.layers, self.dtype)(t)
        return jnp.concatenate([x, t], -1)


class ImageDecoder(nn.Module):
    """features -> Linear to 4 x 4 x (top depth) -> stride-2 transposed convolutions.

    Returns the image mean (+0.5, for a squared-error loss on pixels scaled to [-0.5, 0.5]) or,
    for ``binary`` images, Bernoulli logits.
    """

    depth: int
    shape: tuple[int, int, int]
    binary: bool = False
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, feat: jnp.ndarray) -> jnp.ndarray:
        stages = cnn_stages(self.shape[0])
        top = self.depth * 2 ** (stages - 1)
        lead = feat.shape[:-1]
        x = nn.Dense(4 * 4 * top, dtype=self.dtype)(feat.astype(self.dtype))
        x = x.reshape(-1, 4, 4, top)
        for i in reversed(range(stages - 1)):
            x = nn.ConvTranspose(self.depth * 2 ** i, (4, 4), strides=(2, 2), padding="SAME",
                                 use_bias=False, dtype=self.dtype)(x)
            x = Norm(self.dtype)(x)
        x = nn.ConvTranspose(self.shape[-1], (4, 4), strides=(2, 2), padding="SAME",
                             dtype=jnp.float32)(x.astype(jnp.float32))
        x = x.reshape(*lead, *self.shape)
        return x if self.binary else x + 0.5


class RSSM(nn.Module):
    """Recurrent state-space model: GRU deterministic state h and ``stoch`` x ``classes``
    categorical latents z (1% unimix, straight-through samples).

    ``img_step`` is the prior (h_t from h_{t-1}, z_{t-1}, a_{t-1}); ``obs_step`` also computes
    the posterior from h_t and the observation embedding, after resetting to the learned initial
    state where ``is_first``.  Language reaches h only through z (the posterior), as in Dynalang.
    """

    deter: int
    hidden: int
    stoch: int
    classes: int
    unimix: float = 0.01
    dtype: Any = jnp.float32

    def setup(self) -> None:
        dense = dict(use_bias=False, dtype=self.dtype)
        self.img_in = nn.Dense(self.hidden, **dense)
        self.img_in_norm = Norm(self.dtype)
        self.gru = nn.Dense(3 * self.deter, **dense)
        self.gru_norm = Norm(self.dtype, act=False)
        self.prior_hidden = nn.Dense(self.hidden, **dense)
        self.prior_norm = Norm(self.dtype)
        self.prior_out = nn.Dense(self.stoch * self.classes, dtype=jnp.float32)
        self.post_hidden = nn.Dense(self.hidden, **dense)
        self.post_norm = Norm(self.dtype)
        self.post_out = nn.Dense(self.stoch * self.classes, dtype=jnp.float32)
        self.init_deter = self.param("init_deter", nn.initializers.zeros, (self.deter,))

    def initial(self, batch: int) -> State:
        """The learned initial state: h = tanh(w), z = the mode of its prior."""
        deter = jnp.broadcast_to(jnp.tanh(self.init_deter), (batch, self.deter))
        logits = self._prior_logits(deter)
        stoch = jax.nn.one_hot(jnp.argmax(logits, -1), self.classes)
        return {"deter": deter, "stoch": stoch, "logits": logits}

    def _logits(self, x: jnp.ndarray, out: nn.Module) -> jnp.ndarray:
        logits = out(x.astype(jnp.float32)).reshape(*x.shape[:-1], self.stoch, self.classes)
        return dists.unimix(logits, self.unimix)

    def _prior_logits(self, deter: jnp.ndarray) -> jnp.ndarray:
        return self._logits(self.prior_norm(self.prior_hidden(deter.astype(self.dtype))),
                            self.prior_out)

    def img_step(self, prev: State, action: jnp.ndarray, key: jax.Array) -> State:
        """One prior step: the imagined next state."""
        flat = prev["stoch"].reshape(*prev["stoch"].shape[:-2], -1)
        x = self.img_in_norm(self.img_in(jnp.concatenate([flat, action], -1).astype(self.dtype)))
        gates = self.gru_norm(self.gru(jnp.concatenate(
            [x, prev["deter"].astype(self.dtype)], -1))).astype(jnp.float32)
        reset, cand, update = jnp.split(gates, 3, -1)
        reset = jax.nn.sigmoid(reset)
        cand = jnp.tanh(reset * cand)
        update = jax.nn.sigmoid(update - 1.0)
        deter = update * cand + (1 - update) * prev["deter"]
        logits = self._prior_logits(deter)
        return {"deter": deter, "stoch": dists.onehot_sample(key, logits), "logits": logits}

    def obs_step(self, prev: State, action: jnp.ndarray, embed: jnp.ndarray,
                 is_first: jnp.ndarray, key: jax.Array) -> tuple[State, State]:
        """(posterior, prior) of one observed step."""
        init = self.initial(is_first.shape[0])
        keep = (1.0 - is_first.astype(jnp.float32))
        prev = jax.tree.map(lambda p, i: _mix(p, i, keep), prev, init)
        action = action * keep[:, None]
        prior_key, post_key = jax.random.split(key)
        prior = self.img_step(prev, action, prior_key)
        x = jnp.concatenate([prior["deter"].astype(self.dtype), embed.astype(self.dtype)], -1)
        logits = self._logits(self.post_norm(self.post_hidden(x)), self.post_out)
        post = {"deter": prior["deter"], "stoch": dists.onehot_sample(post_key, logits),
                "logits": logits}
        return post, prior

    def __call__(self, prev: State, action: jnp.ndarray, embed: jnp.ndarray,
                 is_first: jnp.ndarray, key: jax.Array) -> tuple[State, State]:
        # Initialisation touches every layer through one observed step.
        return self.obs_step(prev, action, embed, is_first, key)


def _mix(prev: jnp.ndarray, init: jnp.ndarray, keep: jnp.ndarray) -> jnp.ndarray:
    keep = keep.reshape(keep.shape + (1,) * (prev.ndim - 1))
    return prev * keep + init * (1 - keep)


def feat(state: State) -> jnp.ndarray:
    """What the heads read: [h, flatten(z)]."""
    stoch = state["stoch"]
    return jnp.concatenate([state["deter"], stoch.reshape(*stoch.shape[:-2], -1)], -1)

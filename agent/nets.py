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
import numpy as np

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


class UpConv(nn.Module):
    """A 4 x 4 transposed convolution with stride 2 and "SAME" padding, as matrix products.

    The same function and parameters as ``nn.ConvTranspose(features, (4, 4), strides=(2, 2),
    padding="SAME")``.  Each output pixel of a stride-2 transposed convolution sees a 2 x 2
    input patch through 2 x 2 of the 16 kernel taps, which ones set by the pixel's row and
    column parity; so the output is four ordinary matrix products, one per parity,
    interleaved.  XLA computes a transposed convolution as a convolution over the input dilated
    with zeros (3 in 4 of what it multiplies) and, on CPU, its gradient far below the machine's
    matrix-product speed: this form made the world model's gradient on Messenger 1.6x faster.
    """

    features: int
    use_bias: bool = True
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
        kernel = self.param("kernel", nn.initializers.lecun_normal(),
                            (4, 4, x.shape[-1], self.features)).astype(self.dtype)
        n, height, width, channels = x.shape
        x = jnp.pad(x.astype(self.dtype), ((0, 0), (1, 1), (1, 1), (0, 0)))
        rows = []
        for a in (0, 1):  # output row parity: taps a and a + 2, input rows i + a and i + a + 1
            cols = []
            for b in (0, 1):
                patch = jnp.concatenate([x[:, a + ty:a + ty + height, b + tx:b + tx + width]
                                         for ty in (0, 1) for tx in (0, 1)], -1)
                taps = kernel[a::2, b::2].reshape(4 * channels, self.features)
                cols.append(patch @ taps)
            rows.append(jnp.stack(cols, 3))  # (n, h, w, 2, features): column parity
        y = jnp.stack(rows, 2)  # (n, h, 2, w, 2, features): row parity
        y = y.reshape(n, 2 * height, 2 * width, self.features)
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,)).astype(self.dtype)
        return y


def cnn_stages(size: int, minres: int = 4) -> int:
    """Stride-2 stages that bring an image of side ``size`` down to ``minres``."""
    stages, side = 0, size
    while side > minres:
        if side % 2:
            raise ValueError(f"image side {size} cannot be halved down to {minres}")
        side //= 2
        stages += 1
    return stages


def cnn_features(shape: tuple[int, ...], depth: int) -> int:
    """Size of the flattened CNN output for images of ``shape`` (H, W, C).  An image already
    at the CNN's 4 x 4 end resolution (HomeGrid's 3 x 3 view, padded) passes through flat."""
    stages = cnn_stages(shape[0])
    if stages == 0:
        return int(shape[0] * shape[1] * shape[2])
    side = shape[0] // 2 ** stages
    return side * side * depth * 2 ** (stages - 1)


class Encoder(nn.Module):
    """Image CNN features concatenated with token MLP features: the observation embedding e_t.

    ``binary`` images (the symbol grids) are used as they are; pixels are scaled to [0, 1]
    and shifted by -0.5.  The token is looked up in a learned table over the env's vocabulary;
    a ``sentence`` (the bag of words of the token's utterance, :mod:`langstream.context`), when
    given, passes a Linear and joins the token's embedding before the token MLP.
    """

    depth: int
    units: int
    layers: int
    vocab_size: int
    token_embed: int
    binary: bool = False
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, image: jnp.ndarray, token: jnp.ndarray, text_only: bool = False,
                 sentence: jnp.ndarray | None = None) -> jnp.ndarray:
        lead = image.shape[:-3]
        if text_only:
            # Text pretraining: the image features are zeros and the CNN gets no gradient.
            x = jnp.zeros((*lead, cnn_features(image.shape[-3:], self.depth)), self.dtype)
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
        if sentence is not None:
            bag = nn.Dense(self.token_embed, dtype=self.dtype, name="sentence")(
                sentence.astype(self.dtype))
            t = jnp.concatenate([t, bag], -1)
        t = MLP(self.units, self.layers, self.dtype)(t)
        return jnp.concatenate([x, t], -1)


class ImageDecoder(nn.Module):
    """features -> Linear to 4 x 4 x (top depth) -> stride-2 transposed convolutions.

    Returns the image mean (the output + 0.5, so that it starts near the middle of pixels
    scaled to [0, 1]) or, for ``binary`` images, Bernoulli logits.  An image of the CNN's end
    resolution (4 x 4) is read out by the Linear alone.  The output's bias is one parameter per
    channel, ``bias``, so that it can be set from data (:func:`output_bias_from_data`).
    """

    depth: int
    shape: tuple[int, int, int]
    binary: bool = False
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, feat: jnp.ndarray) -> jnp.ndarray:
        stages = cnn_stages(self.shape[0])
        lead = feat.shape[:-1]
        if stages == 0:
            x = nn.Dense(int(np.prod(self.shape)), use_bias=False, dtype=jnp.float32)(
                feat.astype(jnp.float32))
        else:
            top = self.depth * 2 ** (stages - 1)
            x = nn.Dense(4 * 4 * top, dtype=self.dtype)(feat.astype(self.dtype))
            x = x.reshape(-1, 4, 4, top)
            for i in reversed(range(stages - 1)):
                x = UpConv(self.depth * 2 ** i, use_bias=False, dtype=self.dtype)(x)
                x = Norm(self.dtype)(x)
            x = UpConv(self.shape[-1], use_bias=False, dtype=jnp.float32)(x.astype(jnp.float32))
        x = x.reshape(*lead, *self.shape)
        x = x + self.param("bias", nn.initializers.zeros, (self.shape[-1],))
        return x if self.binary else x + 0.5


def output_bias_from_data(images: np.ndarray, binary: bool) -> np.ndarray:
    """The image decoder's output bias that predicts ``images`` (N, H, W, C) channel by channel
    before it has learned anything: for symbol grids, the log-odds of each channel's rate in
    the data; for pixels, each channel's mean (centred, as the decoder adds 0.5).

    A symbol grid is sparse: Messenger's has about 4 ones in 4,352 values.  From the default
    logit 0 (probability 0.5 everywhere) Adam needs thousands of updates to push every cell's
    logit to about -7 before the decoder can learn where the symbols are; a small autoencoder
    of these grids recognised nothing after 1,500 updates from 0, and every symbol after 500
    updates from the data's log-odds.
    """
    images = np.asarray(images, np.float64).reshape(-1, np.shape(images)[-1])
    if not binary:
        return (images.mean(0) / 255.0 - 0.5).astype(np.float32)
    rate = np.clip(images.mean(0), 1e-4, 1 - 1e-4)
    return np.log(rate / (1 - rate)).astype(np.float32)


class RSSM(nn.Module):
    """Recurrent state-space model: GRU deterministic state h and ``stoch`` x ``classes``
    categorical latents z (1% unimix, straight-through samples).

    ``img_step`` is the prior (h_t from h_{t-1}, z_{t-1}, a_{t-1}); ``obs_step`` also computes
    the posterior from h_t and the observation embedding, after resetting to the learned initial
    state where ``is_first``.  Language reaches h only through z (the posterior), as in Dynalang.

    Two switches change how h is written; their defaults are the reference's.
    ``gate_norm=False`` drops the layer norm of the gates' pre-activations, giving DreamerV3
    (2024)'s gates, a Linear with bias.  ``gru_reads_mode`` feeds the GRU each latent's most
    likely class (straight-through, from ``logits``; ``stoch`` is then not read) instead of its
    sample.  The heads still read the sampled z, but an imagined h follows the prior's most
    likely outcome, so h branches only by action in imagination.  Why: at 64 units the sampling
    noise that every read step feeds the GRU seems to wash out what h holds;
    ``memory_probe.py`` (in ``benchmarks/``) finds the tiny model carrying a token 30 steps
    with both switches for 2 seeds of 3 in 2,000 updates, and not with either alone (one seed).
    """

    deter: int
    hidden: int
    stoch: int
    classes: int
    unimix: float = 0.01
    dtype: Any = jnp.float32
    #: added to the update gate's input: DreamerV3's -1 makes the gate start near 0.27, so that
    #: h keeps 73% of itself per step; more negative keeps more
    update_bias: float = -1.0
    #: layer-norm the gates' pre-activations (DreamerV3 2023); False: a Linear with bias (2024)
    gate_norm: bool = True
    #: the GRU reads the straight-through mode of z_{t-1}, not its sample
    gru_reads_mode: bool = False

    def setup(self) -> None:
        dense = dict(use_bias=False, dtype=self.dtype)
        self.img_in = nn.Dense(self.hidden, **dense)
        self.img_in_norm = Norm(self.dtype)
        if self.gate_norm:
            self.gru = nn.Dense(3 * self.deter, **dense)
            self.gru_norm = Norm(self.dtype, act=False)
        else:
            self.gru = nn.Dense(3 * self.deter, dtype=self.dtype)
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
        """One prior step: the imagined next state (with ``gru_reads_mode`` the GRU reads the
        mode of ``prev["logits"]``, not ``prev["stoch"]``)."""
        stoch = dists.onehot_mode(prev["logits"]) if self.gru_reads_mode else prev["stoch"]
        flat = stoch.reshape(*stoch.shape[:-2], -1)
        x = self.img_in_norm(self.img_in(jnp.concatenate([flat, action], -1).astype(self.dtype)))
        gates = self.gru(jnp.concatenate([x, prev["deter"].astype(self.dtype)], -1))
        if self.gate_norm:
            gates = self.gru_norm(gates)
        gates = gates.astype(jnp.float32)
        reset, cand, update = jnp.split(gates, 3, -1)
        reset = jax.nn.sigmoid(reset)
        cand = jnp.tanh(reset * cand)
        update = jax.nn.sigmoid(update + self.update_bias)
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

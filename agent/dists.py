"""Distribution math of the Dynalang / DreamerV3 (2023) agent, as pure functions of jnp arrays.

Conventions:

- Every function is jit-friendly (no Python control flow on array values) and computes in
  float32: inputs are cast on entry, so heads may run in a lower precision while the
  distribution math, losses and KLs stay in float32.
- Categorical distributions are given by *logits* over the last axis.  Logits need not be
  normalised; functions that return logits (``unimix``) return normalised log-probabilities.
- **Two-hot** (reward head and critic): 255 bins at ``symexp(linspace(-20, 20, 255))``; a
  target x is split linearly, in raw space, between its two neighbouring bins, and the mean is
  ``sum(probs * bins)`` in raw space (Dynalang's code and DreamerV3 2024).  The DreamerV3 paper's
  form, whose mean is ``symexp(sum(probs * symlog bins))``, reads stochastic returns biased
  towards 0.
- **Discrete latents**: probabilities get 1% uniform mass mixed in ("unimix") and samples are
  straight-through one-hots, so the forward value is an exact one-hot while gradients flow to
  the logits through the probabilities.
- **KL balancing**: ``dyn * max(free, KL[sg(post) || prior]) + rep * max(free, KL[post ||
  sg(prior)])`` where each KL is summed over the stochastic latents *before* the free-nats clip.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array

_F32 = jnp.float32


def _f32(x) -> Array:
    return jnp.asarray(x, _F32)


# --------------------------------------------------------------------------------------------
# symlog squashing


def symlog(x) -> Array:
    """sign(x) * ln(1 + |x|): compresses large magnitudes of either sign, identity near 0."""
    x = _f32(x)
    return jnp.sign(x) * jnp.log1p(jnp.abs(x))


def symexp(x) -> Array:
    """Inverse of ``symlog``: sign(x) * (exp(|x|) - 1)."""
    x = _f32(x)
    return jnp.sign(x) * jnp.expm1(jnp.abs(x))


# --------------------------------------------------------------------------------------------
# two-hot distribution over symexp-spaced bins


def twohot_bins(n: int = 255, low: float = -20.0, high: float = 20.0) -> Array:
    """Bin positions in raw space, shape (n,): ``symexp(linspace(low, high, n))``.

    Even spacing in symlog space puts the bins close together near 0 (about 0.17 apart) and far
    apart for large magnitudes (up to about +-4.85e8 with the defaults).  With an odd ``n`` and
    a symmetric range, 0 is a bin and the grid is exactly symmetric (mirrored, not recomputed),
    so a uniform distribution has mean exactly 0.
    """
    if n < 2:
        raise ValueError(f"two-hot needs at least 2 bins, got {n}")
    grid = symexp(jnp.linspace(low, high, n, dtype=_F32))
    if low == -high:
        # Exactly antisymmetric: a - b is exactly -(b - a) in floating point.
        grid = (grid - grid[::-1]) / 2
    return grid


def twohot_encode(x, bins) -> Array:
    """Two-hot weights of shape ``x.shape + (n,)`` for targets ``x`` (raw space).

    ``x`` is clipped to the bin range and split linearly, in raw space, between its two
    neighbouring bins (Dynalang's and DreamerV3 2024's form), so the weights are non-negative,
    sum to 1 and ``sum(weights * bins) == x`` inside the range.  A value exactly on a bin (or
    clipped to an end) puts all its weight on that bin.  Targets are data: no gradient flows
    back into ``x``.
    """
    bins = _f32(bins)
    n = bins.shape[-1]
    y = jax.lax.stop_gradient(jnp.clip(_f32(x), bins[0], bins[-1]))
    # Index of the bin at or below y, kept in [0, n - 2] so that `below + 1` is always a bin
    # (y == bins[-1] then lands in the last interval with weight 1 on the last bin).
    # compare_all (one comparison per bin) vectorises well on accelerators for 255 bins.
    below = jnp.clip(jnp.searchsorted(bins, y, side="right", method="compare_all") - 1, 0, n - 2)
    above = below + 1
    lo, hi = bins[below], bins[above]
    w_above = jnp.clip((y - lo) / (hi - lo), 0.0, 1.0)
    w_below = 1.0 - w_above
    return (
        jax.nn.one_hot(below, n, dtype=_F32) * w_below[..., None]
        + jax.nn.one_hot(above, n, dtype=_F32) * w_above[..., None]
    )


def twohot_mean(logits, bins) -> Array:
    """Mean of the two-hot distribution in raw space: ``sum(softmax(logits) * bins)``.

    The expectation is taken where the rewards live, so a stochastic return is read without
    bias (+1 with p = 0.75, else -1, reads 0.5; its mean in symlog space would read 0.41).  The
    bins reach +-4.85e8, so a left-to-right float32 sum of a uniform distribution would be off
    by about 0.1; summing the mirrored halves pairwise first makes it exactly 0.
    """
    probs = jax.nn.softmax(_f32(logits), axis=-1)
    bins = _f32(bins)
    n = bins.shape[-1]
    half = n // 2
    low = probs[..., :half] * bins[:half]
    high = probs[..., n - half:] * bins[n - half:]
    middle = jnp.sum(probs[..., half:n - half] * bins[half:n - half], axis=-1)
    return jnp.sum(low[..., ::-1] + high, axis=-1) + middle


def twohot_loss(logits, x, bins) -> Array:
    """Negative log-likelihood of targets ``x`` (raw space), shape ``x.shape``.

    ``-sum(twohot_encode(x) * log_softmax(logits))``: a cross-entropy against the two-hot
    target, minimised (at the target's entropy, at most ln 2) when the predicted
    probabilities equal the two-hot weights.
    """
    target = twohot_encode(x, bins)
    return -jnp.sum(target * jax.nn.log_softmax(_f32(logits), axis=-1), axis=-1)


# --------------------------------------------------------------------------------------------
# categorical distributions


def unimix(logits, mix: float) -> Array:
    """Logits (normalised log-probabilities) of ``(1 - mix) * softmax(logits) + mix / K``.

    Mixing in a little uniform mass keeps every probability >= mix / K, which bounds the KL
    terms and the log-probabilities of the latents and the actor (mix = 0.01, as in DreamerV3).
    """
    logits = _f32(logits)
    probs = jax.nn.softmax(logits, axis=-1)
    k = logits.shape[-1]
    return jnp.log((1.0 - mix) * probs + mix / k)


def onehot_mode(logits) -> Array:
    """Straight-through one-hot of the most likely class: ``one_hot(argmax) + (probs -
    stop_gradient(probs))``, the same estimator as :func:`onehot_sample` without its noise."""
    logits = _f32(logits)
    probs = jax.nn.softmax(logits, axis=-1)
    onehot = jax.nn.one_hot(jnp.argmax(logits, -1), logits.shape[-1], dtype=_F32)
    return onehot + (probs - jax.lax.stop_gradient(probs))


def onehot_sample(key, logits) -> Array:
    """Straight-through one-hot sample: ``one_hot(sample) + (probs - stop_gradient(probs))``.

    The bracket is exactly 0 in the forward pass, so the value is an exact one-hot; its
    gradient is the softmax Jacobian, so gradients of a function of the sample reach the logits.
    """
    logits = _f32(logits)
    probs = jax.nn.softmax(logits, axis=-1)
    index = jax.random.categorical(key, logits, axis=-1)
    onehot = jax.nn.one_hot(index, logits.shape[-1], dtype=_F32)
    return onehot + (probs - jax.lax.stop_gradient(probs))


def categorical_entropy(logits) -> Array:
    """Entropy over the last axis, ``-sum(p * log p)``; classes with p == 0 contribute 0."""
    logp = jax.nn.log_softmax(_f32(logits), axis=-1)
    probs = jnp.exp(logp)
    # Masked classes (logits of -inf) have log p = -inf; zeroing it *before* the product keeps
    # both the value and the gradient free of `0 * inf` NaNs.
    return -jnp.sum(probs * jnp.where(probs > 0, logp, 0.0), axis=-1)


def categorical_kl(p_logits, q_logits) -> Array:
    """KL[p || q] over the last axis, ``sum(p * (log p - log q))``; >= 0, 0 iff p == q."""
    logp = jax.nn.log_softmax(_f32(p_logits), axis=-1)
    logq = jax.nn.log_softmax(_f32(q_logits), axis=-1)
    probs = jnp.exp(logp)
    # As in the entropy: classes with p == 0 contribute 0 even where log q = -inf too.
    return jnp.sum(probs * jnp.where(probs > 0, logp - logq, 0.0), axis=-1)


def kl_loss(
    post_logits, prior_logits, *, dyn: float, rep: float, free: float
) -> tuple[Array, Array, Array]:
    """KL balancing of the world model (DreamerV3).

    ``post_logits`` and ``prior_logits`` have shape ``(..., stoch, classes)`` and are used as
    given (the RSSM has already applied unimix).  Returns ``(loss, dyn_kl, rep_kl)``, each of
    shape ``(...)``:

    - ``dyn_kl = KL[sg(post) || prior]`` trains only the prior (the "dynamics" / prediction
      term), ``rep_kl = KL[post || sg(prior)]`` only the posterior (the "representation" /
      regulariser term); both have the same value and are summed over the ``stoch`` latents;
    - ``loss = dyn * max(free, dyn_kl) + rep * max(free, rep_kl)``: the clip comes after the
      sum over latents, so below ``free`` nats in total the loss is constant and gives no
      gradient (free bits).
    """
    post = _f32(post_logits)
    prior = _f32(prior_logits)
    sg = jax.lax.stop_gradient
    dyn_kl = jnp.sum(categorical_kl(sg(post), prior), axis=-1)
    rep_kl = jnp.sum(categorical_kl(post, sg(prior)), axis=-1)
    loss = dyn * jnp.maximum(free, dyn_kl) + rep * jnp.maximum(free, rep_kl)
    return loss, dyn_kl, rep_kl


# --------------------------------------------------------------------------------------------
# Bernoulli


def bernoulli_logprob(logits, x) -> Array:
    """Elementwise log-likelihood of ``x`` in [0, 1] under Bernoulli(sigmoid(logits)).

    ``x * log_sigmoid(l) + (1 - x) * log_sigmoid(-l)``: log_sigmoid is computed stably, so
    large logits of either sign give finite values and gradients (used by the continue head
    and Messenger's symbol-grid decoder).
    """
    logits = _f32(logits)
    x = _f32(x)
    return x * jax.nn.log_sigmoid(logits) + (1.0 - x) * jax.nn.log_sigmoid(-logits)

"""Dynalang's learner: a DreamerV3 (2023) agent whose world model reads one token per step.

It follows the learner contract of every agent (``docs/agent-contract.md``): :func:`build`,
:func:`init_train_state`, :func:`make_update` and :func:`policy`, each from ``(cfg, spec)``.
Read top to bottom:

1. :func:`build` makes the networks for an env's spaces; :func:`init_params` their parameters.
2. :func:`world_model_loss` runs the RSSM over a replayed batch (``lax.scan`` over time) and
   scores the image, token, reward and continue predictions plus the balanced KL.
3. :func:`imagine` rolls the prior forward ``horizon`` steps from every posterior state (every
   ``imag_stride``-th if set) with the actor choosing actions.
4. :func:`actor_critic_losses` turn the imagined trajectories into lambda-returns, REINFORCE
   with percentile-normalised advantages, and a two-hot critic pulled towards its slow EMA.
5. :func:`make_update` jits all of it into one function; :func:`policy` is acting.

Batch convention (batch-major (B, T, ...), one row per env step, what the replay stores):
``image``, ``token``, ``reward`` (received on arriving at this step), ``is_first``,
``is_terminal`` and ``action`` (taken after this step's observation), and ``sentence`` where the
envs give sentence context (``spec.sentence_size`` > 0: the encoder reads it and a Bernoulli
head reconstructs it, as the reference's decoder reconstructed its T5 token vectors).  The RSSM
at step t consumes the action of step t-1.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from agent import dists, nets
from agent.dynalang.config import Config
from agent.envs import Spec  # noqa: F401  (part of this module's interface)
from agent.optim import clipped_adam
from agent.returns import Percentiles, lambda_returns, percentiles_init, percentiles_update
from agent.runner import Policy

Batch = dict[str, jnp.ndarray]
Params = dict[str, Any]


class Networks(NamedTuple):
    encoder: nets.Encoder
    rssm: nets.RSSM
    image: nets.ImageDecoder
    token: nets.Head
    sentence: nets.Head | None  # Bernoulli logits of the sentence's bag (sentence context only)
    reward: nets.Head
    cont: nets.Head
    actor: nets.Head
    critic: nets.Head


class Carry(NamedTuple):
    """What acting keeps per env between steps: the last posterior state and action."""

    state: nets.State
    action: jnp.ndarray


class TrainState(NamedTuple):
    params: Params
    opt: dict[str, Any]
    percentiles: Percentiles
    key: jax.Array
    updates: jnp.ndarray


def build(cfg: Config, spec: Spec) -> Networks:
    """The networks (Flax modules, no parameters) for ``spec``'s spaces."""
    dtype = jnp.bfloat16 if cfg.bf16 else jnp.float32
    mlp = dict(units=cfg.mlp_units, layers=cfg.mlp_layers, dtype=dtype)
    return Networks(
        encoder=nets.Encoder(cfg.cnn_depth, cfg.mlp_units, cfg.mlp_layers, spec.vocab_size,
                             cfg.token_embed, spec.binary_image, dtype),
        rssm=nets.RSSM(cfg.deter, cfg.hidden, cfg.stoch, cfg.classes, cfg.unimix, dtype,
                       update_bias=cfg.gru_update_bias, gate_norm=cfg.gate_norm,
                       gru_reads_mode=cfg.gru_reads_mode),
        image=nets.ImageDecoder(cfg.cnn_depth, spec.image_shape, spec.binary_image, dtype),
        token=nets.Head(spec.vocab_size, **mlp),
        sentence=nets.Head(spec.sentence_size, **mlp) if spec.sentence_size else None,
        reward=nets.Head(cfg.bins, zero_init=True, **mlp),
        cont=nets.Head(1, **mlp),
        actor=nets.Head(spec.n_actions, **mlp),
        critic=nets.Head(cfg.bins, zero_init=True, **mlp),
    )


def init_params(net: Networks, cfg: Config, spec: Spec, key: jax.Array) -> Params:
    keys = iter(jax.random.split(key, 10))
    image = jnp.zeros((1, *spec.image_shape), jnp.uint8)
    token = jnp.zeros((1,), jnp.int32)
    sentence = jnp.zeros((1, spec.sentence_size), jnp.uint8) if spec.sentence_size else None
    enc = net.encoder.init(next(keys), image, token, sentence=sentence)
    embed = net.encoder.apply(enc, image, token, sentence=sentence)
    state = {"deter": jnp.zeros((1, cfg.deter)),
             "stoch": jnp.zeros((1, cfg.stoch, cfg.classes)),
             "logits": jnp.zeros((1, cfg.stoch, cfg.classes))}
    action = jnp.zeros((1, spec.n_actions))
    rssm = net.rssm.init(next(keys), state, action, embed, jnp.ones((1,), bool), next(keys))
    f = jnp.zeros((1, cfg.feat))
    critic = net.critic.init(next(keys), f)
    wm = {"encoder": enc, "rssm": rssm, "image": net.image.init(next(keys), f),
          "token": net.token.init(next(keys), f), "reward": net.reward.init(next(keys), f),
          "cont": net.cont.init(next(keys), f)}
    if net.sentence is not None:
        wm["sentence"] = net.sentence.init(next(keys), f)
    return {
        "wm": wm,
        "actor": net.actor.init(next(keys), f),
        "critic": critic,
        "slow_critic": jax.tree.map(jnp.copy, critic),  # its own buffers (donated apart)
    }


def with_image_prior(params: Params, images: Any, spec: Spec) -> Params:
    """``params`` whose image decoder starts out predicting the per-channel statistics of
    ``images`` (a batch from the replay; :func:`agent.nets.output_bias_from_data`).  The
    trainer calls it once, before its first update."""
    bias = nets.output_bias_from_data(images, spec.binary_image)
    image = params["wm"]["image"]
    image = {**image, "params": {**image["params"], "bias": jnp.asarray(bias)}}
    return {**params, "wm": {**params["wm"], "image": image}}


def optimizers(cfg: Config) -> dict[str, optax.GradientTransformation]:
    return {"wm": clipped_adam(cfg.model_lr, cfg.model_eps, cfg.model_clip),
            "actor": clipped_adam(cfg.ac_lr, cfg.ac_eps, cfg.ac_clip),
            "critic": clipped_adam(cfg.ac_lr, cfg.ac_eps, cfg.ac_clip)}


def initial_carry(net: Networks, params: Params, batch_size: int, n_actions: int) -> Carry:
    state = net.rssm.apply(params["wm"]["rssm"], batch_size, method=nets.RSSM.initial)
    return Carry(state, jnp.zeros((batch_size, n_actions)))


# ------------------------------------------------------------------ world model
def observe(net: Networks, wm: Params, batch: Batch, n_actions: int, key: jax.Array,
            text_only: bool = False, unroll: int = 1) -> tuple[nets.State, nets.State]:
    """Posterior and prior states of a batch (B, T, ...).

    Every chunk starts from the learned initial state: its first step counts as ``is_first``
    whatever the replay says, as in the reference's replay.  A chunk cut from the middle of an
    episode has no true predecessor state in the batch, and the state at the end of some
    *other* chunk would feed the model a history that never happened.
    """
    embed = net.encoder.apply(wm["encoder"], batch["image"], batch["token"], text_only,
                              batch.get("sentence"))
    actions = jax.nn.one_hot(batch["action"], n_actions)
    prev_actions = jnp.concatenate([jnp.zeros_like(actions[:, :1]), actions[:, :-1]], 1)
    is_first = jnp.asarray(batch["is_first"]).at[:, 0].set(True)
    steps = (jnp.swapaxes(prev_actions, 0, 1), jnp.swapaxes(embed, 0, 1),
             jnp.swapaxes(is_first, 0, 1), jax.random.split(key, batch["token"].shape[1]))

    def step(state: nets.State, x: tuple) -> tuple[nets.State, tuple[nets.State, nets.State]]:
        action, e, first, k = x
        post, prior = net.rssm.apply(wm["rssm"], state, action, e, first, k,
                                     method=nets.RSSM.obs_step)
        return post, (post, prior)

    # Any state of the right shape: step 0 replaces it by the initial state.
    start = net.rssm.apply(wm["rssm"], batch["token"].shape[0], method=nets.RSSM.initial)
    _, (posts, priors) = jax.lax.scan(step, start, steps, unroll=unroll)
    swap = lambda tree: jax.tree.map(lambda x: jnp.swapaxes(x, 0, 1), tree)  # noqa: E731
    return swap(posts), swap(priors)


def world_model_loss(wm: Params, net: Networks, cfg: Config, spec: Spec, batch: Batch,
                     key: jax.Array, text_only: bool = False) -> tuple[jnp.ndarray, tuple]:
    """Mean over batch and time of the decoder losses plus the balanced KL.

    With sentence context the bag's Bernoulli loss is added at the token's weight
    (``token_scale``): both reconstruct what was said.  ``text_only`` (text pretraining, never
    with sentence context): the image features are zeroed and only the token loss and the KL
    terms count, so the CNN, image, reward and continue heads are left untouched.
    """
    posts, priors = observe(net, wm, batch, spec.n_actions, key, text_only, cfg.scan_unroll)
    feat = nets.feat(posts)
    token_logits = net.token.apply(wm["token"], feat)
    token_loss = -jnp.take_along_axis(jax.nn.log_softmax(token_logits),
                                      batch["token"][..., None], -1)[..., 0]
    kl, dyn_kl, rep_kl = dists.kl_loss(posts["logits"], priors["logits"], dyn=cfg.kl_dyn,
                                       rep=cfg.kl_rep, free=cfg.free_nats)
    metrics = {"token_loss": token_loss.mean(), "dyn_kl": dyn_kl.mean(),
               "rep_kl": rep_kl.mean(),
               "token_accuracy": (token_logits.argmax(-1) == batch["token"]).mean()}
    loss = cfg.token_scale * token_loss + kl
    if net.sentence is not None:
        sentence = batch["sentence"].astype(jnp.float32)
        logits = net.sentence.apply(wm["sentence"], feat)
        assert logits.shape == sentence.shape, (logits.shape, sentence.shape)
        sentence_loss = -dists.bernoulli_logprob(logits, sentence).sum(-1)
        loss = loss + cfg.token_scale * sentence_loss
        metrics["sentence_loss"] = sentence_loss.mean()
    if not text_only:
        image = batch["image"].astype(jnp.float32)
        decoded = net.image.apply(wm["image"], feat)
        if spec.binary_image:
            image_loss = -dists.bernoulli_logprob(decoded, image).sum((-3, -2, -1))
        else:
            # The decoder's mean is centred on 0.5 (its output + 0.5), the pixels' midpoint.
            image_loss = ((decoded - image / 255.0) ** 2).sum((-3, -2, -1))
        bins = dists.twohot_bins(cfg.bins)
        reward_loss = dists.twohot_loss(net.reward.apply(wm["reward"], feat), batch["reward"],
                                        bins)
        cont_logit = net.cont.apply(wm["cont"], feat)[..., 0]
        cont_loss = -dists.bernoulli_logprob(cont_logit,
                                             1.0 - batch["is_terminal"].astype(jnp.float32))
        loss = loss + (cfg.image_scale * image_loss + cfg.reward_scale * reward_loss
                       + cfg.cont_scale * cont_loss)
        metrics.update(image_loss=image_loss.mean(), reward_loss=reward_loss.mean(),
                       cont_loss=cont_loss.mean())
    metrics["model_loss"] = loss.mean()
    return loss.mean(), (metrics, posts)


# ------------------------------------------------------------------ behaviour
def policy_logits(net: Networks, actor: Params, feat: jnp.ndarray, cfg: Config) -> jnp.ndarray:
    return dists.unimix(net.actor.apply(actor, feat), cfg.unimix)


def imagine(net: Networks, params: Params, cfg: Config, start: nets.State,
            key: jax.Array) -> tuple[jnp.ndarray, jnp.ndarray]:
    """Features (H+1, N, F) and actions (H, N) of imagined rollouts from ``start``."""

    def step(state: nets.State, k: jax.Array) -> tuple[nets.State, tuple]:
        k_act, k_dyn = jax.random.split(k)
        f = nets.feat(state)
        action = jax.random.categorical(k_act, policy_logits(net, params["actor"], f, cfg))
        onehot = jax.nn.one_hot(action, net.actor.size)
        nxt = net.rssm.apply(params["wm"]["rssm"], state, onehot, k_dyn,
                             method=nets.RSSM.img_step)
        return nxt, (f, action)

    last, (feats, actions) = jax.lax.scan(step, start, jax.random.split(key, cfg.horizon),
                                          unroll=cfg.scan_unroll)
    feats = jnp.concatenate([feats, nets.feat(last)[None]], 0)
    return jax.lax.stop_gradient(feats), actions


def actor_critic_losses(actor: Params, critic: Params, net: Networks, params: Params,
                        cfg: Config, feats: jnp.ndarray, actions: jnp.ndarray,
                        first_cont: jnp.ndarray, percentiles: Percentiles
                        ) -> tuple[jnp.ndarray, jnp.ndarray, tuple]:
    bins = dists.twohot_bins(cfg.bins)
    wm = params["wm"]
    reward = dists.twohot_mean(net.reward.apply(wm["reward"], feats[1:]), bins)
    cont = jax.nn.sigmoid(net.cont.apply(wm["cont"], feats[1:])[..., 0])
    # One pass of the critic serves its loss (steps 0..H-1) and, without gradient, the values
    # that the returns bootstrap from (steps 0..H).
    critic_logits = net.critic.apply(critic, feats)
    values = dists.twohot_mean(jax.lax.stop_gradient(critic_logits), bins)
    discounts = cfg.discount * cont
    returns = lambda_returns(reward, discounts, jax.lax.stop_gradient(values), cfg.lam)
    # Weight of step t: the discounted chance that the trajectory is still alive there (the
    # start state's continue flag is the real one).
    weights = jax.lax.stop_gradient(jnp.cumprod(jnp.concatenate(
        [first_cont[None], discounts[:-1]], 0), 0))
    percentiles, scale = percentiles_update(percentiles, returns, cfg.return_decay)
    advantage = jax.lax.stop_gradient((returns - values[:-1]) / scale)
    logits = policy_logits(net, actor, feats[:-1], cfg)
    logp = jnp.take_along_axis(jax.nn.log_softmax(logits), actions[..., None], -1)[..., 0]
    entropy = dists.categorical_entropy(logits)
    actor_loss = (weights * -(logp * advantage + cfg.entropy * entropy)).mean()
    slow = dists.twohot_mean(net.critic.apply(params["slow_critic"], feats[:-1]), bins)
    critic_loss = (weights * (dists.twohot_loss(critic_logits[:-1], returns, bins)
                              + cfg.slow_critic_reg * dists.twohot_loss(
                                  critic_logits[:-1], slow, bins))).mean()
    metrics = {"actor_loss": actor_loss, "critic_loss": critic_loss,
               "policy_entropy": entropy.mean(), "imagined_return": returns.mean(),
               "return_scale": scale}
    return actor_loss, critic_loss, (metrics, percentiles)


# ------------------------------------------------------------------ one jitted update
def make_update(cfg: Config, spec: Spec):
    """``update(train_state, batch) -> (train_state, metrics)``, jitted as one function."""
    net, opts = build(cfg, spec), optimizers(cfg)

    def update(ts: TrainState, batch: Batch) -> tuple[TrainState, dict[str, jnp.ndarray]]:
        key, k_wm, k_img = jax.random.split(ts.key, 3)
        params = ts.params
        grads, (wm_metrics, posts) = jax.grad(world_model_loss, has_aux=True)(
            params["wm"], net, cfg, spec, batch, k_wm)
        wm_updates, wm_opt = opts["wm"].update(grads, ts.opt["wm"], params["wm"])
        params = {**params, "wm": optax.apply_updates(params["wm"], wm_updates)}

        # Imagine from every posterior state of the batch (B x T starts), or every
        # imag_stride-th: imagination dominates a wide GRU's update on a CPU.
        starts = lambda x: x[:, ::cfg.imag_stride].reshape(-1, *x.shape[2:])  # noqa: E731
        start = jax.tree.map(lambda x: jax.lax.stop_gradient(starts(x)), posts)
        feats, actions = imagine(net, params, cfg, start, k_img)
        first_cont = 1.0 - starts(batch["is_terminal"]).astype(jnp.float32)

        def losses(actor: Params, critic: Params) -> tuple[jnp.ndarray, tuple]:
            a, c, aux = actor_critic_losses(actor, critic, net, params, cfg, feats, actions,
                                            first_cont, ts.percentiles)
            return a + c, aux

        (actor_grads, critic_grads), (ac_metrics, percentiles) = jax.grad(
            losses, argnums=(0, 1), has_aux=True)(params["actor"], params["critic"])
        actor_updates, actor_opt = opts["actor"].update(actor_grads, ts.opt["actor"])
        critic_updates, critic_opt = opts["critic"].update(critic_grads, ts.opt["critic"])
        critic = optax.apply_updates(params["critic"], critic_updates)
        mix = cfg.slow_critic_fraction
        params = {**params, "actor": optax.apply_updates(params["actor"], actor_updates),
                  "critic": critic,
                  "slow_critic": jax.tree.map(lambda s, c: (1 - mix) * s + mix * c,
                                              params["slow_critic"], critic)}
        ts = TrainState(params, {"wm": wm_opt, "actor": actor_opt, "critic": critic_opt},
                        percentiles, key, ts.updates + 1)
        return ts, {**wm_metrics, **ac_metrics}

    return jax.jit(update, donate_argnums=0)


def make_model_update(cfg: Config, spec: Spec, text_only: bool = False):
    """``update(train_state, batch) -> (train_state, metrics)`` for the world model alone
    (text pretraining with ``text_only``, and tests of what the model learns)."""
    net, opt = build(cfg, spec), optimizers(cfg)["wm"]

    def update(ts: TrainState, batch: Batch) -> tuple[TrainState, dict[str, jnp.ndarray]]:
        key, k_wm = jax.random.split(ts.key)
        grads, (metrics, _) = jax.grad(world_model_loss, has_aux=True)(
            ts.params["wm"], net, cfg, spec, batch, k_wm, text_only)
        updates, wm_opt = opt.update(grads, ts.opt["wm"], ts.params["wm"])
        params = {**ts.params, "wm": optax.apply_updates(ts.params["wm"], updates)}
        ts = ts._replace(params=params, opt={**ts.opt, "wm": wm_opt}, key=key,
                         updates=ts.updates + 1)
        return ts, metrics

    return jax.jit(update, donate_argnums=0)


def next_token_logits(net: Networks, params: Params, spec: Spec, batch: Batch,
                      key: jax.Array, text_only: bool = False) -> jnp.ndarray:
    """The model's prediction of each next token: observe the batch, then one prior step with
    the action taken, decoded by the token head.  (B, T-1, V) logits for tokens 1..T-1."""
    wm = params["wm"]
    k_obs, k_img = jax.random.split(key)
    posts, _ = observe(net, wm, batch, spec.n_actions, k_obs, text_only)
    actions = jax.nn.one_hot(batch["action"][:, :-1], spec.n_actions)
    start = jax.tree.map(lambda x: x[:, :-1], posts)
    prior = net.rssm.apply(wm["rssm"], start, actions, k_img, method=nets.RSSM.img_step)
    return net.token.apply(wm["token"], nets.feat(prior))


def init_train_state(cfg: Config, spec: Spec, key: jax.Array) -> TrainState:
    """Fresh parameters, optimiser states and normaliser (one jitted call: run eagerly,
    the hundreds of small initialisers each compile on their own)."""
    return _jitted_init(cfg, spec)(key)


@functools.lru_cache(maxsize=8)
def _jitted_init(cfg: Config, spec: Spec) -> Any:
    # Cached so that a second trainer of the same model in one process compiles nothing.
    return jax.jit(functools.partial(_init_train_state, cfg, spec))


def _init_train_state(cfg: Config, spec: Spec, key: jax.Array) -> TrainState:
    k_params, k_state = jax.random.split(key)
    params = init_params(build(cfg, spec), cfg, spec, k_params)
    opts = optimizers(cfg)
    opt = {"wm": opts["wm"].init(params["wm"]), "actor": opts["actor"].init(params["actor"]),
           "critic": opts["critic"].init(params["critic"])}
    return TrainState(params, opt, percentiles_init(), k_state, jnp.zeros((), jnp.int32))


# ------------------------------------------------------------------ acting
def policy(cfg: Config, spec: Spec) -> Policy:
    """Acting as pure functions (:class:`agent.runner.Policy`): the posterior from the
    observation, an action from the actor (its argmax where ``greedy``), and, as ``aux``, the
    world model's guess of the NEXT token: one prior step with that action, decoded by the token
    head (``next_token_probs``, (n, vocab)).  The carry is each env's posterior state and last
    action; ``is_first`` resets it.  Under ``jit`` the guess costs nothing when ``aux`` is not
    used: XLA drops outputs nobody reads."""
    net = build(cfg, spec)

    def initial(params: Params, n: int) -> Carry:
        return initial_carry(net, params, n, spec.n_actions)

    def step(params: Params, obs: Batch, carry: Carry, key: jax.Array, greedy: Any = False
             ) -> tuple[jnp.ndarray, Carry, dict[str, jnp.ndarray]]:
        k_obs, k_act, k_img = jax.random.split(key, 3)
        wm = params["wm"]
        embed = net.encoder.apply(wm["encoder"], obs["image"], obs["token"],
                                  sentence=obs.get("sentence"))
        post, _ = net.rssm.apply(wm["rssm"], carry.state, carry.action, embed, obs["is_first"],
                                 k_obs, method=nets.RSSM.obs_step)
        logits = policy_logits(net, params["actor"], nets.feat(post), cfg)
        action = jnp.where(greedy, jnp.argmax(logits, -1), jax.random.categorical(k_act, logits))
        onehot = jax.nn.one_hot(action, spec.n_actions)
        prior = net.rssm.apply(wm["rssm"], post, onehot, k_img, method=nets.RSSM.img_step)
        probs = jax.nn.softmax(net.token.apply(wm["token"], nets.feat(prior)))
        return action, Carry(post, onehot), {"next_token_probs": probs}

    return Policy(initial, step)

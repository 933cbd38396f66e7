"""Text pretraining's evaluation: held-out next-token likelihood and accuracy beside a unigram
baseline, and a continuation generated in latent space (see :mod:`agent.pretrain`)."""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from agent import nets
from agent.dynalang import config as config_lib
from agent.dynalang import learner as dynalang
from agent.pretrain.corpus import Corpus, heldout_sequences

PROMPT_TOKENS = 20  # held-out prompt of the sampled continuation
NEW_TOKENS = 10  # tokens generated after it


def device_batch(batch: dict[str, jnp.ndarray], spec: dynalang.Spec) -> dict[str, jnp.ndarray]:
    """The batch with its zero image made inside the jit (text-only never reads it, so XLA
    never allocates it)."""
    b, t = batch["token"].shape
    return {**batch, "image": jnp.zeros((b, t, *spec.image_shape), jnp.uint8)}


def make_eval(net: dynalang.Networks, spec: dynalang.Spec):
    """``evaluate(params, tokens (B, T), weights (B,), key) -> (nll_sum, correct_sum, count)``
    of the next-token predictions for tokens 1..T-1 of each weighted sequence."""

    @jax.jit
    def evaluate(params: dynalang.Params, tokens: jnp.ndarray, weights: jnp.ndarray,
                 key: jax.Array):
        b, t = tokens.shape
        batch = device_batch({"token": tokens, "reward": jnp.zeros((b, t)),
                               "is_first": jnp.zeros((b, t), bool).at[:, 0].set(True),
                               "is_terminal": jnp.zeros((b, t), bool),
                               "action": jnp.zeros((b, t), jnp.int32)}, spec)
        logits = dynalang.next_token_logits(net, params, spec, batch, key, text_only=True)
        targets = tokens[:, 1:]
        nll = -jnp.take_along_axis(jax.nn.log_softmax(logits), targets[..., None], -1)[..., 0]
        correct = (logits.argmax(-1) == targets).astype(jnp.float32)
        w = jnp.broadcast_to(weights[:, None], targets.shape)
        return (nll * w).sum(), (correct * w).sum(), w.sum()

    return evaluate


def make_generate(net: dynalang.Networks, spec: dynalang.Spec, n_new: int):
    """``generate(params, prompt (P,), key) -> (sampled (n_new,), greedy (n_new,))``: the
    posterior over the prompt, then ``n_new`` prior steps with action 0, a token decoded from
    each imagined latent (never fed back: Dynalang generates in latent space)."""

    @jax.jit
    def generate(params: dynalang.Params, prompt: jnp.ndarray, key: jax.Array):
        wm = params["wm"]
        t = prompt.shape[0]
        batch = device_batch({"token": prompt[None], "reward": jnp.zeros((1, t)),
                               "is_first": jnp.zeros((1, t), bool).at[:, 0].set(True),
                               "is_terminal": jnp.zeros((1, t), bool),
                               "action": jnp.zeros((1, t), jnp.int32)}, spec)
        k_obs, k_gen = jax.random.split(key)
        posts, _ = dynalang.observe(net, wm, batch, spec.n_actions, k_obs, text_only=True)
        state = jax.tree.map(lambda x: x[:, -1], posts)
        action = jax.nn.one_hot(jnp.zeros((1,), jnp.int32), spec.n_actions)

        def step(state: nets.State, k: jax.Array):
            k_dyn, k_tok = jax.random.split(k)
            nxt = net.rssm.apply(wm["rssm"], state, action, k_dyn, method=nets.RSSM.img_step)
            logits = net.token.apply(wm["token"], nets.feat(nxt))[0]
            return nxt, (jax.random.categorical(k_tok, logits), logits.argmax())

        _, (sampled, greedy) = jax.lax.scan(step, state, jax.random.split(k_gen, n_new))
        return sampled, greedy

    return generate


def unigram_baseline(train: np.ndarray, targets: np.ndarray, vocab_size: int) -> dict[str, float]:
    """Always predicting the training stream's most frequent token (accuracy), and the
    add-one smoothed unigram distribution (perplexity), on ``targets``."""
    counts = np.bincount(train, minlength=vocab_size).astype(np.float64)
    probs = (counts + 1) / (counts.sum() + vocab_size)
    return {"unigram_accuracy": float(np.mean(targets == counts.argmax())),
            "unigram_perplexity": float(np.exp(-np.mean(np.log(probs[targets]))))}


@functools.lru_cache(maxsize=4)
def _jitted(cfg: config_lib.Config, spec: dynalang.Spec) -> tuple[Any, Any]:
    # Made once per process: a resumed or repeated run in the same process compiles nothing.
    net = dynalang.build(cfg, spec)
    return make_eval(net, spec), make_generate(net, spec, NEW_TOKENS)


class Evaluator:
    """Held-out next-token metrics and a sampled continuation, for one corpus and model."""

    def __init__(self, cfg: config_lib.Config, spec: dynalang.Spec, corpus: Corpus, vocab: Any,
                 max_sequences: int = 256, prompt_tokens: int = PROMPT_TOKENS,
                 new_tokens: int = NEW_TOKENS, chunk: int = 64):
        self.seqs = heldout_sequences(corpus.heldout, cfg.batch_length, max_sequences)
        self.chunk = min(chunk, len(self.seqs))
        self.vocab = vocab
        self.baseline = unigram_baseline(corpus.train, self.seqs[:, 1:].reshape(-1),
                                         spec.vocab_size)
        self._eval, self._generate = _jitted(cfg, spec)
        held = corpus.heldout
        # The prompt starts after the first sentence end in the held-out stream, if it has one
        # early on, and leaves room for the true continuation (shown for comparison).
        period = vocab.id(".") if hasattr(vocab, "id") and "." in vocab else None
        ends = np.flatnonzero(held[:100] == period) if period is not None else np.zeros(0)
        start = int(ends[0]) + 1 if ends.size else 0
        if start + prompt_tokens + new_tokens > held.size:
            start = 0
        self.prompt = held[start:start + prompt_tokens]
        self.truth = held[start + self.prompt.size:start + self.prompt.size + new_tokens]
        self.key = jax.random.PRNGKey(cfg.seed + 1)

    def __call__(self, params: dynalang.Params, updates: int) -> dict[str, Any]:
        """Held-out ``eval_nll`` (nats per token), ``eval_perplexity``, ``eval_accuracy``, the
        unigram baselines and a sampled continuation of the prompt (as text)."""
        nll = correct = count = 0.0
        for i in range(0, len(self.seqs), self.chunk):
            tokens = self.seqs[i:i + self.chunk]
            weights = np.ones(self.chunk, np.float32)
            if len(tokens) < self.chunk:  # pad the last chunk with weight-0 rows
                weights[len(tokens):] = 0
                tokens = np.concatenate([tokens, self.seqs[:self.chunk - len(tokens)]])
            out = self._eval(params, tokens, weights, jax.random.fold_in(self.key, i))
            nll, correct, count = (a + float(b) for a, b in zip((nll, correct, count), out))
        sampled, greedy = self._generate(params, self.prompt,
                                         jax.random.fold_in(self.key, updates + 1_000_003))
        decode = self.vocab.decode
        return {"eval_nll": nll / count, "eval_perplexity": math.exp(nll / count),
                "eval_accuracy": correct / count, **self.baseline,
                "eval_tokens": int(count),
                "sample_prompt": decode(self.prompt.tolist(), skip_pad=False),
                "sample_continuation": decode(np.asarray(sampled).tolist(), skip_pad=False),
                "greedy_continuation": decode(np.asarray(greedy).tolist(), skip_pad=False),
                "true_continuation": decode(self.truth.tolist(), skip_pad=False)}


def describe_eval(updates: int, e: dict[str, Any]) -> str:
    return (f"[update {updates}] held-out nll {e['eval_nll']:.3f} ppl "
            f"{e['eval_perplexity']:.2f} (unigram {e['unigram_perplexity']:.2f}), next-token "
            f"accuracy {e['eval_accuracy']:.3f} (unigram {e['unigram_accuracy']:.3f})\n"
            f"  prompt:   {e['sample_prompt']}\n"
            f"  sampled:  {e['sample_continuation']}\n"
            f"  greedy:   {e['greedy_continuation']}\n"
            f"  true:     {e['true_continuation']}")

"""Text pretraining as a trainer: Dynalang's world model learns a token stream alone, on the
state, devices and checkpoints every agent's trainer has (:class:`agent.runner.Learning`)."""

from __future__ import annotations

import functools
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
from tqdm import tqdm

from agent import checkpoint, runner
from agent.dynalang import config as config_lib
from agent.dynalang import learner as dynalang
from agent.logger import Logger
from agent.pretrain.corpus import SequenceSampler, env_vocab, split_corpus
from agent.pretrain.evaluation import Evaluator, describe_eval, device_batch
from agent.runner import EnvConfig


@functools.lru_cache(maxsize=4)
def make_train_step(cfg: config_lib.Config, spec: dynalang.Spec) -> Callable[..., Any]:
    """``step(train_state, batch) -> (train_state, metrics)``: the world model's text-only
    update (:func:`agent.dynalang.learner.make_model_update`), with only the tokens and flags
    sent to the device.  Made once per process and kept: a resumed or repeated run compiles
    nothing again."""
    model_update = dynalang.make_model_update(cfg, spec, text_only=True)

    @functools.partial(jax.jit, donate_argnums=0)
    def update(ts: dynalang.TrainState, batch: dict[str, jnp.ndarray]):
        return model_update(ts, device_batch(batch, spec))

    def step(ts: dynalang.TrainState, batch: dict[str, np.ndarray]):
        return update(ts, {k: v for k, v in batch.items() if k != "image"})

    return step


class TextTrainer(runner.Learning):
    """The world model of ``cfg`` for ``env``'s spaces (made once, never stepped), trained on
    ``corpus_tokens`` (ids in the env's vocabulary) with :meth:`run`.

    Its checkpoints are a Dynalang run's (counters with ``updates``, no env steps) plus a
    ``pretrain`` entry describing the corpus (``source``) and the latest evaluation, so that
    ``agent.train --init-wm`` loads them; :meth:`load` resumes one made with the same config,
    env and corpus.
    """

    name = "dynalang"  # a Dynalang world model: agent.train --init-wm loads its checkpoints
    learner = dynalang

    def __init__(self, cfg: config_lib.Config, env: EnvConfig,
                 corpus_tokens: Sequence[int] | np.ndarray, logdir: str | Path, *,
                 source: dict[str, Any] | None = None, eval_sequences: int = 256):
        adapter = env.adapter(1, cfg.seed)
        try:
            spec, vocab = adapter.spec, env_vocab(adapter)
        finally:
            adapter.close()
        # Split first: a corpus that cannot be trained on is refused before anything compiles.
        self.corpus = split_corpus(corpus_tokens, cfg.batch_length, spec.vocab_size)
        super().__init__(cfg, env, spec, logdir)
        self.source = dict(source or {"source": "tokens"})
        self.evaluate = Evaluator(cfg, spec, self.corpus, vocab, eval_sequences)
        self.sampler = self._sampler()
        self.last_eval: dict[str, Any] = {}
        self.evaluated = -1  # the update count of the latest evaluation

    def _sampler(self) -> SequenceSampler:
        # Seeded by the updates done, so that a resumed run draws new sequences.
        cfg = self.cfg
        return SequenceSampler(self.corpus.train, cfg.batch_size, cfg.batch_length,
                               self.spec.image_shape, seed=(cfg.seed, self.updates))

    def make_update(self) -> Callable[..., Any]:
        return make_train_step(self.cfg, self.spec)

    def update_once(self) -> dict[str, Any]:
        """One update on the next batch of sequences; its metrics."""
        self.state, metrics = self.learn(self.sampler.sample())
        return metrics

    def evaluate_now(self, verbose: bool) -> dict[str, Any]:
        """Evaluate the model as it is now (:class:`agent.pretrain.evaluation.Evaluator`)."""
        self.last_eval = self.evaluate(self.state.params, self.updates)
        self.evaluated = self.updates
        if verbose:
            tqdm.write(describe_eval(self.updates, self.last_eval), file=sys.stderr)
        return self.last_eval

    # ------------------------------------------------------------------ checkpoints
    @property
    def checkpoint_step(self) -> int:
        return self.updates

    def checkpoint_extras(self) -> dict[str, Any]:
        corpus = self.corpus
        return {"pretrain": {**self.source, "tokens": corpus.tokens,
                             "train_tokens": int(corpus.train.size),
                             "heldout_tokens": int(corpus.heldout.size), "sha1": corpus.sha1,
                             "unk_rate": corpus.unk_rate, "eval": _numbers(self.last_eval)}}

    def load(self, blob: dict[str, Any] | None = None) -> None:
        if blob is None:
            blob = checkpoint.load(self.logdir, verify_buffers=True, set_aside_damaged=True)
        if "pretrain" not in blob:
            raise ValueError(f"{checkpoint.path_of(self.logdir)} is not a text-pretraining "
                             f"checkpoint (it has no 'pretrain' entry): resume it with "
                             f"agent.train instead")
        super().load(blob)

    def resumed(self, blob: dict[str, Any]) -> None:
        saved = blob["pretrain"]
        if saved.get("sha1") != self.corpus.sha1:
            raise ValueError(f"the checkpoint at {checkpoint.path_of(self.logdir)} was trained "
                             f"on another corpus ({saved.get('tokens')} tokens from "
                             f"{saved.get('source')}; this run: {self.corpus.tokens} tokens, "
                             f"different content), so it cannot be resumed")
        self.last_eval = dict(saved.get("eval", {}))
        self.evaluated = self.updates if self.last_eval else -1
        self.sampler = self._sampler()

    # ------------------------------------------------------------------ the loop
    def run(self, updates: int, *, eval_every: int = 1_000, checkpoint_every: int = 10_000,
            log_every: int = 100, tensorboard: bool = True, progress: bool = True,
            verbose: bool = True) -> dict[str, Any]:
        """Train until ``updates`` in all, logging every ``log_every`` updates, evaluating
        every ``eval_every`` and checkpointing every ``checkpoint_every`` (0: never, apart from
        the last update, which is always evaluated and saved).  Returns the last evaluation
        with ``updates`` and ``seconds``."""
        if verbose:
            print(self.describe(), file=sys.stderr)
        logger = Logger(self.logdir, updates, self.updates, tensorboard=tensorboard,
                        progress=progress)
        started, clock, then = time.time(), time.time(), self.updates
        saved = self.updates if checkpoint.exists(self.logdir) else -1
        tokens_per_update = self.cfg.batch_size * self.cfg.batch_length

        def due(every: int) -> bool:
            return bool(every and self.updates % every == 0) or self.updates == updates

        try:
            while self.updates < updates:
                out = self.update_once()
                self.updates += 1
                logger.advance(1)
                record: dict[str, Any] = {}
                if due(log_every):
                    now = time.time()
                    record.update(updates_per_s=(self.updates - then) / max(now - clock, 1e-9),
                                  epochs=self.updates * tokens_per_update / self.corpus.train.size,
                                  **{k: float(v) for k, v in out.items()})
                    clock, then = now, self.updates
                if due(eval_every):
                    record.update(self.evaluate_now(verbose))
                if record:
                    logger.write({"env_steps": self.updates, "updates": self.updates, **record})
                if due(checkpoint_every):
                    self.save()
                    saved = self.updates
            # Nothing (more) to train, e.g. ``updates=0``: the model as it is, evaluated and saved.
            if self.evaluated != self.updates:
                logger.write({"env_steps": self.updates, "updates": self.updates,
                              **self.evaluate_now(verbose)})
            if saved != self.updates:
                self.save()
        finally:
            logger.close()
        return {**self.last_eval, "updates": self.updates, "seconds": time.time() - started}

    def describe(self) -> str:
        corpus, spec = self.corpus, self.spec
        params = sum(int(np.size(x)) for x in jax.tree.leaves(self.state.params["wm"]))
        return (f"pretrain_text: world model {params / 1e6:.2f}M parameters on "
                f"{jax.devices()[0].platform}; env {self.env_cfg.id} (image {spec.image_shape}, "
                f"vocab {spec.vocab_size}); corpus {self.source.get('source')}: {corpus.tokens} "
                f"tokens ({corpus.heldout.size} held out, {corpus.unk_rate:.1%} <unk>); unigram "
                f"baseline accuracy {self.evaluate.baseline['unigram_accuracy']:.3f}")


def pretrain(cfg: config_lib.Config, env_id: str | EnvConfig,
             corpus_tokens: Sequence[int] | np.ndarray, updates: int, logdir: str | Path, *,
             source: dict[str, Any] | None = None, eval_every: int = 1_000,
             checkpoint_every: int = 10_000, log_every: int = 100, eval_sequences: int = 256,
             resume: bool = False, tensorboard: bool = True, progress: bool = True,
             verbose: bool = True) -> dict[str, Any]:
    """Pretrain the world model of ``cfg`` for ``env_id`` on a token stream: a
    :class:`TextTrainer`, resumed from ``logdir`` when ``resume``, run to ``updates``.

    Args:
        cfg: the agent configuration (the one ``agent.train`` will fine-tune with).
        env_id: the env whose spaces the model is built for (an id or an
            :class:`agent.runner.EnvConfig`); made once, never stepped.
        corpus_tokens: the token ids of the corpus in the env's vocabulary (see
            :func:`agent.pretrain.corpus.text_file_tokens` and
            :func:`agent.pretrain.corpus.manual_tokens`).
        updates: train until this many updates in all (a resumed run counts its earlier ones).
        logdir: the run directory (metrics, checkpoint).
        source: what the corpus is, saved in the checkpoint's ``pretrain`` entry.
        eval_every, checkpoint_every, log_every: in updates (0 turns off periodic ones; the
            last update is always evaluated and checkpointed).
        eval_sequences: held-out sequences per evaluation, at most.
        resume: continue from ``logdir``'s checkpoint (same config, env and corpus).

    Returns:
        The final evaluation (see :class:`agent.pretrain.evaluation.Evaluator`) with
        ``updates`` and ``seconds``.
    """
    for name, value in (("updates", updates), ("eval_every", eval_every),
                        ("checkpoint_every", checkpoint_every), ("log_every", log_every)):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"{name} must be an int >= 0, got {value!r}")
    if not isinstance(eval_sequences, (int, np.integer)) or eval_sequences < 1:
        raise ValueError(f"eval_sequences must be a positive int, got {eval_sequences!r}")
    env = env_id if isinstance(env_id, EnvConfig) else EnvConfig(id=env_id)
    if not resume and checkpoint.exists(logdir):
        raise FileExistsError(f"{logdir} already holds a run: resume it, or choose another "
                              f"logdir")
    trainer = TextTrainer(cfg, env, corpus_tokens, logdir, source=source,
                          eval_sequences=eval_sequences)
    if resume:
        trainer.load()
    return trainer.run(updates, eval_every=eval_every, checkpoint_every=checkpoint_every,
                       log_every=log_every, tensorboard=tensorboard, progress=progress,
                       verbose=verbose)


def _numbers(record: dict[str, Any]) -> dict[str, Any]:
    return {k: (float(v) if isinstance(v, (int, float, np.number)) else v)
            for k, v in record.items()}

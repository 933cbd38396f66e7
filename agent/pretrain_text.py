"""Pretrain Dynalang's world model on text alone, then fine-tune it in an env (hypothesis D).

    python -m agent.pretrain_text --env Messenger-S2-v0 --manuals --updates 20000 --logdir runs/pt
    python -m agent.pretrain_text --env Messenger-S2-v0 --text stories.txt --preset small \\
        --updates 100000 --logdir runs/pt-stories
    python -m agent.pretrain_text --logdir runs/pt --updates 40000 --resume   # continue
    python -m agent.train --env Messenger-S2-v0 --logdir runs/s2 --init-wm runs/pt  # fine-tune

The world model is built for the env's spaces exactly as :class:`agent.dynalang.Trainer` builds it
(same config, image shape, vocabulary and action count), so its checkpoint loads into
``agent.train --init-wm`` for the same env and config; the actor and critic start fresh there.

**Data.**  ``--text FILE``: any plain-text file, lower-cased and split into words and
punctuation by :func:`langstream.tokenize` (the env vocabulary's own tokeniser); words outside
the env's vocabulary become ``<unk>`` (a corpus that is more than half ``<unk>`` is warned
about).  ``--manuals``: the env's own language, generated until ``--corpus-tokens`` tokens
(Messenger: the sentences of ``info["manual"]`` over resets with seeds ``seed, seed+1, ...``,
each ending with a period as the env streams it; other envs: the non-pad tokens the env says
while played with random actions, e.g. HomeGrid's utterances).  The last 5% of the token stream
(at least one sequence) is held out for evaluation.  Training sequences are ``batch_length``
tokens cut from the rest: each epoch draws a random offset, cuts the stream into consecutive
sequences from there (plus one at each end, so every token is in some sequence each epoch) and
serves them in a fresh random order; batches run on across epochs.

**Model inputs**: the token stream, with zero images (the CNN is bypassed and
gets no gradient), reward 0, ``is_terminal`` False and action 0; ``is_first`` is True at the
first step of every sequence, so each sequence starts from the RSSM's initial state.  The loss
is the token decoder's plus the two KL terms (``world_model_loss(..., text_only=True)``).

**Evaluation** every ``--eval-every`` updates, on up to ``--eval-sequences`` held-out sequences:
the negative log-likelihood of each next token (nats), its perplexity and the next-token
accuracy, where the prediction of token t+1 is the token head applied to one prior step from
the posterior at t (:func:`agent.dynalang.learner.next_token_logits`), beside the unigram baseline
(always the corpus's most frequent token; its perplexity from add-one smoothed frequencies).
A sampled continuation is printed: the posterior over a held-out prompt, then the prior rolled
forward with action 0, one token decoded (sampled) from each imagined latent.  The imagined
latent is not re-conditioned on the decoded token: that is how Dynalang generates.

**Logging.**  ``LOGDIR/metrics.jsonl`` and TensorBoard, one record per ``--log-every``
updates and per evaluation.  :class:`agent.logger.Logger` keys records by ``env_steps``; here
that key holds the *update count* (no env is stepped), repeated as ``updates``.

**Checkpoints** (``LOGDIR/checkpoint-<updates>.pkl``, checksummed, the last two kept) have the
layout of ``agent.train``'s (agent, config, spec, env, state, key, counters with env_steps =
real_steps = 0 and update_credit = 0) plus a ``pretrain`` entry describing the corpus and the
latest held-out metrics; written every ``--checkpoint-every`` updates and at the end.
``--resume`` continues from it (parameters, optimiser, RNG and counters; the data sampler is
re-seeded from seed + updates) and needs the same corpus: leave ``--text``/``--manuals`` out
to rebuild the checkpoint's.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

from agent import checkpoint, cli
from agent.dynalang import config as config_lib
from agent.pretrain.corpus import (  # noqa: F401  (the corpus API, for scripts and tests)
    DEFAULT_CORPUS_TOKENS,
    PAD_ID,
    UNK_ID,
    CorpusError,
    CorpusWarning,
    SequenceSampler,
    build_corpus,
    env_vocab,
    manual_tokens,
    split_corpus,
    text_file_tokens,
)
from agent.pretrain.trainer import TextTrainer, pretrain  # noqa: F401
from agent.train import add_env_arguments

PROG = "python -m agent.pretrain_text"
DEFAULT_ENV = "Messenger-S2-v0"


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = cli.Parser(
        prog=PROG, description=__doc__.splitlines()[0],
        epilog="The flags from --preset on are the world model's config fields; each overrides "
               "the preset, whose values are in brackets.", formatter_class=cli.HelpFormatter)
    add_env_arguments(parser, DEFAULT_ENV)
    data = parser.add_mutually_exclusive_group()
    data.add_argument("--text", default=None, help="plain-text file to pretrain on")
    data.add_argument("--manuals", action="store_true",
                      help="pretrain on the env's own generated manuals")
    parser.add_argument("--corpus-tokens", type=cli.positive_int, default=None,
                        help=f"tokens to generate with --manuals (default "
                             f"{DEFAULT_CORPUS_TOKENS}); with --text, read at most this many")
    parser.add_argument("--updates", type=cli.positive_int, default=10_000,
                        help="train until this many")
    parser.add_argument("--logdir", default="runs/pretrain", help="metrics and checkpoints")
    parser.add_argument("--eval-every", type=cli.positive_int, default=1_000, help="updates")
    parser.add_argument("--eval-sequences", type=cli.positive_int, default=256,
                        help="held-out sequences per evaluation, at most")
    parser.add_argument("--checkpoint-every", type=cli.positive_int, default=10_000, help="updates")
    parser.add_argument("--log-every", type=cli.positive_int, default=100, help="updates")
    parser.add_argument("--resume", action="store_true", help="continue from LOGDIR's checkpoint")
    parser.add_argument("--no-tensorboard", action="store_true", help="JSONL metrics only")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    config_lib.add_arguments(parser)
    args = parser.parse_args(argv)
    if args.sentence_context:
        parser.error("--sentence-context: text pretraining streams bare tokens, without their "
                     "sentences; pretrain without it")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    from agent.train import configs

    args = parse(argv)
    logdir = Path(args.logdir)
    if not args.resume:
        if checkpoint.exists(logdir):
            cli.fail(PROG, f"{logdir} already holds a run: add --resume to continue it, or "
                           f"choose another --logdir")
        if not (args.text or args.manuals):
            cli.fail(PROG, "give the corpus: --text FILE or --manuals")
        args.env = args.env or DEFAULT_ENV
    try:
        cfg, env_cfg = configs(args, recipe=False)  # the recipes are for RL, not text
        if args.text or args.manuals:
            source = ({"source": "text", "path": str(Path(args.text).expanduser().resolve()),
                       "corpus_tokens": args.corpus_tokens} if args.text else
                      {"source": "manuals", "corpus_tokens": args.corpus_tokens
                       or DEFAULT_CORPUS_TOKENS})
        else:  # --resume without a corpus flag: the checkpoint's own corpus
            saved = checkpoint.load(logdir).get("pretrain")
            if saved is None:
                raise ValueError(f"{checkpoint.path_of(logdir)} is not a text-pretraining "
                                 f"checkpoint")
            source = {k: saved[k] for k in ("source", "path", "corpus_tokens") if k in saved}
        tokens = build_corpus(source, env_cfg, cfg.seed)
        pretrain(cfg, env_cfg, tokens, args.updates, logdir, source=source,
                 eval_every=args.eval_every, checkpoint_every=args.checkpoint_every,
                 log_every=args.log_every, eval_sequences=args.eval_sequences,
                 resume=args.resume, tensorboard=not args.no_tensorboard,
                 progress=not args.no_progress)
    except cli.USER_ERRORS as error:  # CorpusError is a ValueError
        cli.fail(PROG, str(error))


if __name__ == "__main__":
    main()

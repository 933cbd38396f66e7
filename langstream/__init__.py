"""The language channel shared by every suite: a word vocabulary and a one-token-per-step stream.

Environments speak to the agent through a single `token` observation per step.  This package
owns the pieces that make that channel the same everywhere:

* :class:`Vocab` - a fixed word-level vocabulary (id 0 = ``<pad>`` = silence, id 1 = ``<unk>``);
* :class:`TokenStream` - plays one utterance at a time, one token per step, with pad when idle;
* :func:`language_observation_space` - the observation space of the README's contract;
* :class:`Transcript` - rebuilds the utterances from the tokens, for people watching.

Its other modules hold what every suite needs besides language, so each suite says only what
differs: ``sampling`` (seeded draws), ``checks`` (argument errors), ``registry`` (Gymnasium ids),
``canvas`` (procedural sprites), ``caption`` (text under frames), ``window`` (pygame display) and
``play_ui`` (the keyboard play tools).
"""

from langstream.spaces import language_observation_space
from langstream.stream import TokenStream
from langstream.transcript import Transcript
from langstream.vocab import PAD, PAD_ID, UNK, UNK_ID, Vocab, tokenize

__all__ = [
    "PAD",
    "PAD_ID",
    "UNK",
    "UNK_ID",
    "TokenStream",
    "Transcript",
    "Vocab",
    "language_observation_space",
    "tokenize",
]

"""What the agents' command lines add to :mod:`langstream.cli` (one error style, flag types
that check their range) and :mod:`langstream.checks` (the ranges), both re-exported here:
``KEY=VALUE`` env arguments and the errors that count as the user's.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
from typing import Any, Iterator, Sequence

import gymnasium as gym

from langstream.checks import (
    FRACTION,
    FRACTION_BELOW_ONE,
    NON_NEGATIVE,
    POSITIVE,
    Range,
    check_number,
)
from langstream.cli import (
    USAGE_ERROR,
    HelpFormatter,
    Parser,
    fail,
    non_negative_int,
    number,
    positive_float,
    positive_int,
)

__all__ = [  # langstream's names too, which the agents' flags use from here
    "FRACTION", "FRACTION_BELOW_ONE", "NON_NEGATIVE", "POSITIVE", "USAGE_ERROR", "HelpFormatter",
    "Parser", "Range", "check_number", "fail", "non_negative_int", "number", "positive_float",
    "positive_int", "USER_ERRORS", "user_errors", "add_env_arg_flag", "RESERVED_ENV_ARGS",
    "env_kwargs"]

#: errors that mean the user asked for something that cannot be (not a bug of ours)
USER_ERRORS = (ValueError, FileNotFoundError, FileExistsError, PermissionError,
               NotADirectoryError, IsADirectoryError, ModuleNotFoundError, gym.error.Error)


@contextlib.contextmanager
def user_errors(prog: str) -> Iterator[None]:
    """Turn the user errors raised inside into :func:`fail`'s one line.  Wrap the set-up of a
    command (flags, files, envs), not its long work, where such errors would be bugs."""
    try:
        yield
    except USER_ERRORS as error:
        fail(prog, str(error) or type(error).__name__)


# ------------------------------------------------------------------ env arguments
def add_env_arg_flag(parser: argparse.ArgumentParser, what: str) -> None:
    """``--env-arg KEY=VALUE`` (repeatable): keyword arguments of the env, for ``what``."""
    parser.add_argument(
        "--env-arg", dest="env_args", action="append", default=None, metavar="KEY=VALUE",
        help=f"an argument of the env ({what}); repeat for more, e.g. --env-arg split=val "
             f"--env-arg p_language=0.5 (values are Python literals, else strings)")


#: keyword arguments the agents' env adapter sets itself, which --env-arg may not
RESERVED_ENV_ARGS = ("num_envs", "seed", "vector", "vectorization_mode", "vector_kwargs",
                     "image_key", "pad_grid_to", "hide_language", "sentence_context", "copy",
                     "autoreset_mode", "render_mode", "wrappers")


def env_kwargs(items: Sequence[str] | None) -> dict[str, Any]:
    """``["split=val", "max_steps=50"]`` -> ``{"split": "val", "max_steps": 50}``."""
    out: dict[str, Any] = {}
    for item in items or ():
        key, sep, text = item.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"--env-arg expects KEY=VALUE with KEY a Python name, got {item!r}")
        if key in RESERVED_ENV_ARGS:
            raise ValueError(f"--env-arg {key}=... is set by the agent's env adapter, not by "
                             f"--env-arg (use the flag of its own, if any: --num-envs, --seed, "
                             f"--vector, --image-key, --pad-to, --hide-language, "
                             f"--sentence-context)")
        try:
            out[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            out[key] = text  # a plain word, e.g. split=val
    return out

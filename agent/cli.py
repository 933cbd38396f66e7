"""What every command line of the project shares: one error style, flag types that check their
range, ``KEY=VALUE`` env arguments, and help that shows no meaningless defaults.

A user error (a bad flag, an unknown env, a run directory that cannot be used) ends a command
with one line on stderr, ``PROG: error: what is wrong; what is valid``, and exit code 2, the
code argparse uses for usage errors.  Tracebacks are kept for the project's own bugs.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import math
import numbers
import sys
from typing import Any, Iterator, NamedTuple, NoReturn, Sequence

import gymnasium as gym

#: exit code of every user error (argparse's)
USAGE_ERROR = 2


def fail(prog: str, message: str) -> NoReturn:
    """End the command with ``message`` as its one-line user error."""
    sys.stderr.write(f"{prog}: error: {' '.join(str(message).split())}\n")
    sys.exit(USAGE_ERROR)


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors are one line (no usage block) with exit code 2."""

    def error(self, message: str) -> NoReturn:
        fail(self.prog, f"{message} (see --help)")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter,
                    argparse.RawDescriptionHelpFormatter):
    """Shows a flag's default where it has one; flags that default to None (their value comes
    from a preset, a recipe or a checkpoint) say so in their own help instead."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


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


# ------------------------------------------------------------------ ranges
class Range(NamedTuple):
    """The values a numeric flag or config field accepts: ``low`` to ``high``, each end open
    or closed."""

    low: float
    high: float = math.inf
    low_closed: bool = True
    high_closed: bool = True

    def contains(self, value: float) -> bool:
        above = value >= self.low if self.low_closed else value > self.low
        below = value <= self.high if self.high_closed else value < self.high
        return above and below and not math.isnan(value)

    def describe(self, kind: type) -> str:
        if self.high == math.inf:
            if kind is int:
                return f"an integer of at least {int(self.low) + (not self.low_closed)}"
            return f"a number {'>=' if self.low_closed else '>'} {self.low:g}"
        left, right = "[" if self.low_closed else "(", "]" if self.high_closed else ")"
        what = "an integer" if kind is int else "a number"
        return f"{what} in {left}{self.low:g}, {self.high:g}{right}"


POSITIVE = Range(0, low_closed=False)
NON_NEGATIVE = Range(0)
FRACTION = Range(0, 1)
FRACTION_BELOW_ONE = Range(0, 1, high_closed=False)


def check_number(name: str, value: Any, kind: type, bounds: Range = POSITIVE) -> None:
    """Raise a one-line ValueError unless ``value`` is a ``kind`` (int or float) in
    ``bounds``."""
    is_number = (isinstance(value, numbers.Real) and not isinstance(value, bool)
                 and (kind is float or isinstance(value, numbers.Integral)))
    if not is_number or not bounds.contains(value):
        raise ValueError(f"{name} must be {bounds.describe(kind)}, got {value!r}")


def number(kind: type, bounds: Range = POSITIVE) -> Any:
    """An argparse type: a ``kind`` (int or float) within ``bounds``."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be {bounds.describe(kind)}, got {text!r}") from None
        if not bounds.contains(value):
            raise argparse.ArgumentTypeError(f"must be {bounds.describe(kind)}, got {text!r}")
        return value

    parse.__name__ = f"{kind.__name__} ({bounds.describe(kind)})"  # argparse names the type
    return parse


positive_int = number(int)
non_negative_int = number(int, NON_NEGATIVE)
positive_float = number(float)


# ------------------------------------------------------------------ env arguments
def add_env_arg_flag(parser: argparse.ArgumentParser, what: str) -> None:
    """``--env-arg KEY=VALUE`` (repeatable): keyword arguments of the env, for ``what``."""
    parser.add_argument(
        "--env-arg", dest="env_args", action="append", default=None, metavar="KEY=VALUE",
        help=f"an argument of the env ({what}); repeat for more, e.g. --env-arg split=val "
             f"--env-arg p_language=0.5 (values are Python literals, else strings)")


def env_kwargs(items: Sequence[str] | None) -> dict[str, Any]:
    """``["split=val", "max_steps=50"]`` -> ``{"split": "val", "max_steps": 50}``."""
    out: dict[str, Any] = {}
    for item in items or ():
        key, sep, text = item.partition("=")
        if not sep or not key.isidentifier():
            raise ValueError(f"--env-arg expects KEY=VALUE with KEY a Python name, got {item!r}")
        try:
            out[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            out[key] = text  # a plain word, e.g. split=val
    return out

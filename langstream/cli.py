"""What every command line of the project shares, envs and agents alike: one error style and
flag types that check their range.

A user error (a bad flag, a file that cannot be used) ends a command with one line on stderr,
``PROG: error: what is wrong; what is valid``, and exit code 2, the code argparse uses for usage
errors.  Tracebacks are kept for the project's own bugs.
"""

from __future__ import annotations

import argparse
import math
import numbers
import sys
from typing import Any, NamedTuple, NoReturn

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
        return above and below and math.isfinite(value)

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

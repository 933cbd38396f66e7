"""What every command line of the project shares, envs and agents alike: one error style and
flag types that check their range (the ranges of :mod:`langstream.checks`, which env arguments
and agent configs use too).

A user error (a bad flag, a file that cannot be used) ends a command with one line on stderr,
``PROG: error: what is wrong; what is valid``, and exit code 2, the code argparse uses for usage
errors.  Tracebacks are kept for the project's own bugs.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, NoReturn

from langstream.checks import NON_NEGATIVE, POSITIVE, Range

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

"""Command-line flags for any agent's config dataclass: ``--preset`` plus one flag per field.

Every agent's ``Config`` is a frozen dataclass whose fields are bool, int, float or str, each
with a one-line docstring under it (that docstring becomes the flag's ``--help``), and a
``Config.preset(name, **overrides)``.  Flags default to None so that a resumed run can tell a
flag given from a default.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import inspect
from typing import Any, Iterable

DEFAULT_PRESET = "small"


def preset(cls: type, presets: dict[str, dict[str, Any]], name: str,
           overrides: dict[str, Any]) -> Any:
    """``cls`` with preset ``name``'s values, then ``overrides``, applied (what every agent's
    ``Config.preset`` does)."""
    if name not in presets:
        raise ValueError(f"unknown preset {name!r}; presets: {list(presets)}")
    return dataclasses.replace(cls(), **{**presets[name], **overrides})


def add_arguments(parser: argparse.ArgumentParser, cls: type, presets: Iterable[str]) -> None:
    """``--preset`` and one ``--field-name`` flag per field of ``cls`` (its doc is the help)."""
    parser.add_argument("--preset", default=None, choices=list(presets),
                        help=f"model size and batch preset (default: {DEFAULT_PRESET})")
    docs, defaults = field_docs(cls), cls()
    for f in dataclasses.fields(cls):
        kind = {bool: boolean, int: int, float: float, str: str}[type(getattr(defaults, f.name))]
        parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=kind,
                            default=None, help=docs.get(f.name, ""))


def overrides_of(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of ``cls`` given on the command line."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in vars(args).items() if k in names and v is not None}


def from_args(args: argparse.Namespace, cls: type,
              recipe: dict[str, Any] | None = None) -> Any:
    """The preset named by ``args.preset`` (small if none), then the env's ``recipe`` (fields
    an agent sets per env family), then every flag given."""
    return cls.preset(args.preset or DEFAULT_PRESET,
                      **{**(recipe or {}), **overrides_of(args, cls)})


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


def boolean(text: str) -> bool:
    """An argparse type: true/false, yes/no, on/off or 1/0."""
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


@functools.lru_cache(maxsize=None)
def field_docs(cls: type) -> dict[str, str]:
    """The docstring under each field (read from the source, so the help stays in one place)."""
    tree = ast.parse(inspect.getsource(cls))
    docs, body = {}, tree.body[0].body  # type: ignore[attr-defined]
    for node, nxt in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(nxt, ast.Expr)
                and isinstance(nxt.value, ast.Constant)):
            docs[node.target.id] = nxt.value.value  # type: ignore[union-attr]
    return docs

"""Command-line flags for any agent's config dataclass: ``--preset`` plus one flag per field.

Every agent's ``Config`` is a frozen dataclass over :class:`AgentConfig` whose fields are bool,
int, float or str, each with a one-line docstring under it (that docstring becomes the flag's
``--help``, followed by the value each preset gives it), with its ``presets`` and
``Config.preset(name, **overrides)``.  Numeric fields must be positive unless the class's
``BOUNDS`` gives another :class:`agent.cli.Range`; the flags check that when parsed and the
dataclass (through :func:`check_fields` in its ``__post_init__``) when built.  Flags default to
None so that a resumed run can tell a flag given from a default.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import functools
import inspect
from typing import Any, ClassVar, Self

from agent import cli

DEFAULT_PRESET = "small"


@dataclasses.dataclass(frozen=True)
class AgentConfig:
    """What every agent's ``Config`` shares: the fields below, checked values, and presets.

    A subclass is a frozen dataclass that adds its own fields, sets ``presets`` (preset name
    -> field values; ``small`` is the default preset) and, for fields that need not be
    positive, ``BOUNDS`` (``{**AgentConfig.BOUNDS, ...}``).
    """

    bf16: bool = False
    """compute in bfloat16 (GPU); parameters, recurrent states and losses stay float32."""
    scan_unroll: int = 1
    """time steps per iteration of the scans over time (more: faster on GPU, slower to compile)."""
    seed: int = 0
    """seed of everything: parameters, acting, replay sampling, envs."""

    #: preset name -> field values
    presets: ClassVar[dict[str, dict[str, Any]]] = {"small": {}}
    #: fields that need not be positive (every other number must be)
    BOUNDS: ClassVar[dict[str, cli.Range]] = {"seed": cli.NON_NEGATIVE}

    def __post_init__(self) -> None:
        check_fields(self)

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> Self:
        """Preset ``name`` with ``overrides`` applied."""
        return preset(cls, cls.presets, name, overrides)


def preset(cls: type, presets: dict[str, dict[str, Any]], name: str,
           overrides: dict[str, Any]) -> Any:
    """``cls`` with preset ``name``'s values, then ``overrides``, applied (what every agent's
    ``Config.preset`` does)."""
    if name not in presets:
        raise ValueError(f"unknown preset {name!r}; presets: {list(presets)}")
    return dataclasses.replace(cls(), **{**presets[name], **overrides})


def add_arguments(parser: argparse.ArgumentParser, cls: Any) -> None:
    """``--preset`` and one ``--field-name`` flag per field of ``cls`` (an
    :class:`AgentConfig`): its doc, then the value of each preset, is the help; numbers are
    checked against the field's bounds."""
    presets = cls.presets
    parser.add_argument("--preset", default=None, choices=list(presets),
                        help=f"model size and batch preset (default: {DEFAULT_PRESET})")
    docs, defaults = field_docs(cls), cls()
    values = {name: cls.preset(name) for name in presets}
    for f in dataclasses.fields(cls):
        kind = type(getattr(defaults, f.name))
        parse = (boolean if kind is bool else cli.number(kind, bounds_of(cls, f.name))
                 if kind in (int, float) else str)
        per_preset = {name: getattr(cfg, f.name) for name, cfg in values.items()}
        shown = (f"every preset: {_short(per_preset[next(iter(per_preset))])}"
                 if len(set(per_preset.values())) == 1 else
                 ", ".join(f"{name} {_short(v)}" for name, v in per_preset.items()))
        doc = docs.get(f.name, "").replace("%", "%%")  # argparse formats help with %
        parser.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, type=parse,
                            default=None, help=f"{doc} [{shown}]")


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else repr(value)


def bounds_of(cls: type, name: str) -> cli.Range:
    """The range of numeric field ``name`` of ``cls`` (positive unless ``cls.BOUNDS`` says)."""
    return getattr(cls, "BOUNDS", {}).get(name, cli.POSITIVE)


def check_fields(cfg: Any) -> None:
    """Raise a one-line ValueError naming the first field of ``cfg`` of the wrong type or
    outside its bounds (call it from the config's ``__post_init__``)."""
    for f in dataclasses.fields(cfg):
        value, kind = getattr(cfg, f.name), type(f.default)
        if kind is bool or kind is str:
            if not isinstance(value, kind):
                raise ValueError(f"{f.name} must be a {kind.__name__}, got {value!r}")
        elif kind in (int, float):
            cli.check_number(f.name, value, kind, bounds_of(type(cfg), f.name))


def overrides_of(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of ``cls`` given on the command line."""
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in vars(args).items() if k in names and v is not None}


def from_args(args: argparse.Namespace, cls: Any,
              recipe: dict[str, Any] | None = None) -> Any:
    """The preset named by ``args.preset`` (small if none), then the env's ``recipe`` (fields
    an agent sets per env family), then every flag given."""
    return cls.preset(args.preset or DEFAULT_PRESET,
                      **{**(recipe or {}), **overrides_of(args, cls)})


def boolean(text: str) -> bool:
    """An argparse type: true/false, yes/no, on/off or 1/0."""
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def field_value(config: Any, name: str, text: str) -> Any:
    """``text`` as the type of field ``name`` of the config (class or instance) ``config``;
    ValueError "NAME takes WHAT" if that type cannot take it."""
    kind = type(getattr(config, name))
    try:
        return boolean(text) if kind is bool else kind(text)
    except (ValueError, argparse.ArgumentTypeError):
        what = {int: "an integer", float: "a number", bool: "true or false"}.get(
            kind, kind.__name__)
        raise ValueError(f"{name} takes {what}") from None


@functools.lru_cache(maxsize=None)
def field_docs(cls: type) -> dict[str, str]:
    """The docstring under each field, the class's own over its bases' (read from the source,
    so the help stays in one place)."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        if not dataclasses.is_dataclass(klass):
            continue
        tree = ast.parse(inspect.getsource(klass))
        body = tree.body[0].body  # type: ignore[attr-defined]
        for node, nxt in zip(body, body[1:]):
            if (isinstance(node, ast.AnnAssign) and isinstance(nxt, ast.Expr)
                    and isinstance(nxt.value, ast.Constant)):
                docs[node.target.id] = str(nxt.value.value)  # type: ignore[union-attr]
    return docs

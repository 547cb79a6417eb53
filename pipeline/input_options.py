"""Per-input options: which keys each reader kind takes, how they are validated, and the ``--input`` syntax.

An input's options (the config's ``inputs[].options``, ``run --input KIND=PATH --option KEY=VALUE``,
``inspect FILE --option KEY=VALUE``) go to its reader and to the extractor of its records: the same mapping,
through the same code (``pipeline.stages.read.read_file`` and ``pipeline.stages.extract.extract`` / ``split_documents``),
whichever command runs them. An unknown key or a bad ``tables`` value is a ``ConfigError`` (one line, exit 2)
before anything is read.

Command-line syntax (``run`` and ``inspect``): ``--option KEY=VALUE`` applies to the ``--input`` given
last before it (on ``inspect``, to the file). The path is everything after the first ``=`` of ``--input``, taken
literally, so paths may hold ``?``, ``&``, ``=``, ``,`` or spaces; the value is everything after the first
``=`` of ``--option``. An ``--option`` before any ``--input`` is an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.errors import ConfigError


def validate_options(kind: str, options: Mapping[str, Any], where: str = "") -> None:
    """Raise ``ConfigError`` (what is wrong, with a "did you mean") for an unknown key or a bad value.

    The accepted keys and values are the reader-option models of ``sources/options.py``, the declaration the
    config schema checks ``inputs[].options`` against: one list, whichever door an option comes in by.
    """
    from pipeline.config import make_input
    from sources import READERS

    if kind not in READERS:
        return  # an unknown kind is reported by whoever resolves the kind
    make_input(kind, ["-"], name="options", options=dict(options), where=where or f"options of {kind}")


def option_value(text: str) -> Any:
    """A ``--option`` value read as YAML, as it would be in a config file (``true`` is a boolean, ``[a, b]`` a
    list); text that is not valid YAML stays text."""
    import yaml

    try:
        return yaml.safe_load(text) if text.strip() else text
    except yaml.YAMLError:
        return text


def parse_option(item: str, flag: str = "--option") -> tuple[str, str]:
    """``KEY=VALUE`` -> ``(key, value)``; the value may itself hold ``=``."""
    key, sep, value = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(f"{flag} {item!r}: expected KEY=VALUE, e.g. {flag} tables=drop")
    return key.strip(), value


def group_cli_inputs(argv: Iterable[str]) -> list[tuple[str, dict[str, str]]]:
    """``--input KIND=PATH`` values with the ``--option KEY=VALUE`` flags that follow each, in order.

    Accepts ``--input X`` and ``--input=X`` (likewise ``--option``). Raises ``ConfigError`` for an
    ``--option`` that comes before any ``--input`` or lacks its value.
    """
    grouped: list[tuple[str, dict[str, str]]] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        for flag in ("--input", "--option"):
            if arg == flag or arg.startswith(flag + "="):
                if arg == flag:
                    if i + 1 >= len(args):
                        raise ConfigError(f"{flag} needs a value")
                    value = args[i + 1]
                    i += 1
                else:
                    value = arg[len(flag) + 1 :]
                if flag == "--input":
                    grouped.append((value, {}))
                elif not grouped:
                    raise ConfigError(
                        f"--option {value!r} comes before any --input; put each --option after the --input "
                        "it applies to"
                    )
                else:
                    key, val = parse_option(value)
                    grouped[-1][1][key] = val
                break
        i += 1
    return grouped


__all__ = ["group_cli_inputs", "option_value", "parse_option", "validate_options"]

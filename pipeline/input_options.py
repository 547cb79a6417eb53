"""Per-input options: which keys each reader kind takes, how they are validated, and the ``--input`` syntax.

An input's options (the config's ``inputs[].options``, ``run --input KIND=PATH --option KEY=VALUE``,
``inspect FILE --option KEY=VALUE``) go to its reader and to the extractor of its records: the same mapping,
through the same code (``pipeline.read.read_file`` and ``pipeline.extract.extract`` / ``split_documents``),
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

from pipeline.errors import ConfigError

# Options of the HTML extractor (sources.html), for every kind whose records are HTML.
HTML_EXTRACT_KEYS = ("tables", "include_tables", "include_comments", "favor_precision", "favor_recall")
_URL_LISTS = ("news_domains", "press_domains", "deny_domains")

OPTION_KEYS: dict[str, tuple[str, ...]] = {
    "edgar": ("exhibits", "tables", "split_items", "split_items_as_documents", "max_doc_bytes"),
    "warc": ("default_source", *_URL_LISTS, "max_doc_bytes", *HTML_EXTRACT_KEYS),
    "rss": ("source", *_URL_LISTS, *HTML_EXTRACT_KEYS),
    "news_cache": ("source", *_URL_LISTS, "max_doc_bytes", *HTML_EXTRACT_KEYS),
    "html": ("source", "url", *HTML_EXTRACT_KEYS),
    "reddit": ("subreddits", "min_score", "max_doc_bytes"),
    "tweets": ("text_column", "id_column", "min_words", "max_doc_bytes"),
    "stocktwits": ("min_words", "max_doc_bytes"),
    "wikipedia": ("source", "wiki_base_url", "xml_huge_tree", "max_doc_bytes"),
    "jsonl": ("source", "fields", "max_doc_bytes"),
    "text": ("source",),
    "pubmed": ("max_doc_bytes",),
    "pmc": ("allowed_licenses", "max_doc_bytes"),
}


def validate_options(kind: str, options: Mapping[str, Any], where: str = "") -> None:
    """Raise ``ConfigError`` (one line: what is wrong and the accepted keys) for an unknown key or a bad value."""
    known = OPTION_KEYS.get(kind)
    prefix = f"{where}: " if where else ""
    if known is None:
        return  # an unknown kind is reported by whoever resolves the kind
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ConfigError(
            f"{prefix}unknown option {', '.join(map(repr, unknown))} for input kind {kind!r}; "
            f"known options: {', '.join(known)}"
        )
    if any(key in options for key in HTML_EXTRACT_KEYS) and kind != "edgar":
        from sources.html import resolve_options

        try:
            resolve_options(options)
        except ConfigError as exc:
            raise ConfigError(f"{prefix}{exc}") from None


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


__all__ = ["HTML_EXTRACT_KEYS", "OPTION_KEYS", "group_cli_inputs", "parse_option", "validate_options"]

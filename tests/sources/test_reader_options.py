"""The reader options schema (sources/options.py) declares every option the readers and extractors read.

Two checks derive the readers' options from their code: a scan of the source for ``options.get("key")`` /
``options["key"]``, and a run of each reader of the embedded sample over a mapping that records every key asked for.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from core.schema import RawRecord
from pipeline.config import load_config
from pipeline.stages.extract import extract, split_documents
from pipeline.stages.read import list_input_files
from sources import READERS, get_reader
from sources.options import READER_OPTIONS, HtmlExtractOptions

REPO = Path(__file__).resolve().parents[2]


def test_reader_options_cover_every_reader_kind():
    assert set(READER_OPTIONS) == set(READERS)
    assert list(READER_OPTIONS) == list(READERS)


def _option_keys_read(path: Path) -> set[str]:
    """String keys the code reads from a mapping named options/opts/settings (``.get("k")``, ``["k"]``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    consts = {
        t.id: node.value.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for t in node.targets
        if isinstance(t, ast.Name)
    }
    names = {"options", "opts"}

    def key(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return consts.get(node.id)
        return None

    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in names
            and node.args
        ):
            k = key(node.args[0])
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in names:
            k = key(node.slice)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "_option_domains"
        ):
            k = key(node.args[1]) if len(node.args) > 1 else None
        else:
            continue
        if k:
            found.add(k)
    return found


def test_every_option_a_reader_reads_is_declared():
    """A reader that starts reading a new option must declare it in sources/options.py (or it is refused)."""
    declared = set().union(*(m.model_fields for m in READER_OPTIONS.values()))
    files = sorted((REPO / "sources").glob("*.py")) + [
        REPO / "pipeline" / "stages" / "extract.py",
        REPO / "pipeline" / "stages" / "read.py",
    ]
    # fetch-time settings that share the name `options` but are Beam pipeline options, not reader options
    not_reader = {"max_num_workers", "num_workers"}
    read = set().union(*(_option_keys_read(f) for f in files)) - not_reader
    assert read, "the scan found no option reads: it is broken"
    assert read <= declared, f"options read by a reader but declared by no kind: {sorted(read - declared)}"


class _Recorder(Mapping):
    """An empty options mapping that notes every key a reader asks for."""

    def __init__(self) -> None:
        self.asked: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.asked.add(key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        self.asked.add(key)
        return default

    def __contains__(self, key: object) -> bool:
        self.asked.add(str(key))
        return False

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:  # `options or {}` must keep the recorder
        return True


def test_sample_readers_ask_only_for_declared_options():
    cfg = load_config()
    asked_by_kind: dict[str, set[str]] = {}
    for f in list_input_files(cfg.inputs):
        recorder = _Recorder()
        with open(f.path, "rb") as stream:
            for item in get_reader(f.kind)(f.path, stream, recorder):
                if isinstance(item, RawRecord):
                    result = extract(item, cfg.source_domains, recorder)
                    if not hasattr(result, "stage"):
                        split_documents(result, recorder)
        asked_by_kind.setdefault(f.kind, set()).update(recorder.asked)
    assert set(asked_by_kind) == {i.kind for i in cfg.inputs}
    for kind, asked in asked_by_kind.items():
        assert asked, f"{kind}: the recorder saw no option read (the check would prove nothing)"
        declared = set(READER_OPTIONS[kind].model_fields)
        assert asked <= declared, f"{kind} reads undeclared option(s) {sorted(asked - declared)}"


def test_html_extractor_settings_are_declared():
    from sources.html import DEFAULT_EXTRACT_OPTIONS

    assert set(DEFAULT_EXTRACT_OPTIONS) <= set(HtmlExtractOptions.model_fields)

"""Config loading and validation: each bad input gives one clear ConfigError."""

from __future__ import annotations

import os

import pytest

from pipeline.config import default_config_path, load_config, parse_config
from pipeline.errors import ConfigError


def test_default_config_loads_and_resolves_sample_paths():
    cfg = load_config()
    assert cfg.run_name == "sample"
    assert {i.kind for i in cfg.inputs} == {"edgar", "warc", "rss", "reddit", "tweets", "wikipedia"}
    sample_dir = os.path.join(os.path.dirname(default_config_path()), "..", "sample")
    for spec in cfg.inputs:
        for path in spec.paths:
            assert os.path.isabs(path)
            assert os.path.normpath(sample_dir) in path
    assert cfg.domain_of("filings") == "financial"
    assert cfg.domain_of("wikipedia") == "general"
    assert len(cfg.config_hash) == 16


def test_config_hash_changes_with_thresholds():
    a = parse_config({"inputs": [{"kind": "warc", "paths": "x.warc.gz"}]})
    b = parse_config({"inputs": [{"kind": "warc", "paths": "x.warc.gz"}], "language": {"min_score": 0.9}})
    assert a.config_hash != b.config_hash


@pytest.mark.parametrize(
    "raw, message",
    [
        ({}, "no inputs"),
        ({"inputs": [{"kind": "ftp", "paths": "x"}]}, "unknown source kind 'ftp'"),
        ({"inputs": [{"kind": "warc"}]}, "'paths' must be"),
        ({"inputs": [{"kind": "warc", "paths": "x"}], "bogus": 1}, "unknown config key(s) bogus"),
        ({"inputs": [{"kind": "warc", "paths": "x"}], "language": {"min_score": 2}}, "language.min_score"),
        (
            {
                "inputs": [{"kind": "warc", "paths": "x"}],
                "mix": {"domain_targets": {"financial": 0.6, "general": 0.6}},
            },
            "must sum to 1.0",
        ),
        (
            {"inputs": [{"kind": "warc", "paths": "x"}], "dedup": {"priority": ["blogs"]}},
            "unknown source(s) ['blogs']",
        ),
        ({"inputs": [{"kind": "warc", "paths": "x"}], "shards": {"max_rows": 0}}, "shards.max_rows"),
        (
            {
                "inputs": [
                    {"kind": "warc", "paths": "x", "name": "a"},
                    {"kind": "rss", "paths": "y", "name": "a"},
                ]
            },
            "names must be unique",
        ),
    ],
)
def test_invalid_config_is_one_clear_error(raw, message):
    with pytest.raises(ConfigError) as info:
        parse_config(raw, origin="test.yaml")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(str(tmp_path / "nope.yaml"))
    bad = tmp_path / "bad.yaml"
    bad.write_text("inputs: [\n  - kind: warc\n    paths: x\n")
    with pytest.raises(ConfigError, match="not valid YAML at line"):
        load_config(str(bad))
    listy = tmp_path / "list.yaml"
    listy.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must hold a YAML mapping"):
        load_config(str(listy))


def test_relative_paths_resolve_against_the_config_file(tmp_path):
    cfg_file = tmp_path / "conf" / "c.yaml"
    cfg_file.parent.mkdir()
    cfg_file.write_text(
        "inputs:\n  - kind: warc\n    paths: ['../data/*.warc.gz', 'gs://bucket/x.warc.gz']\n"
    )
    cfg = load_config(str(cfg_file))
    assert cfg.inputs[0].paths == (str(tmp_path / "data" / "*.warc.gz"), "gs://bucket/x.warc.gz")

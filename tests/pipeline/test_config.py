"""Config loading and validation: the typed schema refuses every mistake, one clear line each."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.schema import Document
from pipeline.config import (
    Config,
    DecontamSettings,
    DedupSettings,
    DomainSettings,
    LanguageSettings,
    MixSettings,
    PiiSettings,
    QualitySettings,
    config_reference,
    load_config,
    make_input,
    parse_config,
)
from pipeline.profiles import default_config_path

REPO = Path(__file__).resolve().parents[2]
WARC = {"kind": "warc", "paths": "x.warc.gz"}


def _errors(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(raw, origin="test.yaml")
    return str(info.value).splitlines()


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
    assert cfg.dedup.near.threshold == 0.7 and cfg.language.allowed == ["en"]


def test_config_hash_changes_with_thresholds():
    a = parse_config({"inputs": [WARC]})
    b = parse_config({"inputs": [WARC], "language": {"min_score": 0.9}})
    assert a.config_hash != b.config_hash
    assert a.config_hash == parse_config({"inputs": [WARC]}).config_hash


# Each mistake, the line that names it. The first five are the silent corpus changers of issue 16 item 7.
@pytest.mark.parametrize(
    "raw, message",
    [
        (
            {"inputs": [WARC], "language": {"allowed": "en"}},
            "language.allowed: must be a list, not the string 'en': write [en]",
        ),
        ({"inputs": [WARC], "quality": {"label_only": "false"}}, "quality.label_only: must be true or false"),
        ({"inputs": [WARC], "mix": {"max_weight": -2}}, "mix.max_weight: must be greater than 0, got -2"),
        (
            {"inputs": [WARC], "dedup": {"near": {"treshold": 0.7}}},
            "dedup.near.treshold: unknown key; did you mean 'threshold'?",
        ),
        ({"inputs": [{**WARC, "optoins": {}}]}, "inputs[0].optoins: unknown key; did you mean 'options'?"),
        (
            {"inputs": [{**WARC, "options": {"defualt_source": "news"}}]},
            "inputs[0].options.defualt_source: unknown key; did you mean 'default_source'?",
        ),
        (
            {"inputs": [{"kind": "edgar", "paths": "x", "options": {"tables": "keep"}}]},
            "inputs[0].options.tables: 'keep' is not one of: markdown, linearize, drop, drop_numeric",
        ),
        (
            {"inputs": [{"kind": "edgar", "paths": "x", "options": {"split_items_as_documents": "yes"}}]},
            "options.split_items_as_documents: must be true or false",
        ),
        (
            {"inputs": [{"kind": "reddit", "paths": "x", "options": {"text_column": "body"}}]},
            "inputs[0].options.text_column: unknown key",
        ),
        ({}, "no inputs"),
        ({"inputs": []}, "no inputs"),
        ({"inputs": [{"kind": "ftp", "paths": "x"}]}, "unknown source kind 'ftp'"),
        ({"inputs": [{"kind": "edgr", "paths": "x"}]}, "unknown source kind 'edgr'; did you mean 'edgar'?"),
        ({"inputs": [{"kind": "warc"}]}, "'paths' must be"),
        ({"inputs": [{"kind": "warc", "paths": []}]}, "'paths' must be"),
        ({"inputs": [WARC], "bogus": 1}, "bogus: unknown key"),
        ({"inputs": [WARC], "dedupe": {}}, "dedupe: unknown key; did you mean 'dedup'?"),
        (
            {"inputs": [WARC], "language": {"min_score": 2}},
            "language.min_score: must be less than or equal to 1",
        ),
        ({"inputs": [WARC], "language": {"allowed": ["english"]}}, "language.allowed[0]"),
        (
            {"inputs": [WARC], "mix": {"domain_targets": {"financial": 0.6, "general": 0.6}}},
            "must sum to 1.0",
        ),
        (
            {"inputs": [WARC], "mix": {"source_targets": {"financial": {"blog": 1}}}},
            "mix.source_targets.financial.blog: unknown source 'blog' (known: filings, press",
        ),
        (
            {"inputs": [WARC], "dedup": {"priority": ["blogs"]}},
            "dedup.priority[0]: unknown source 'blogs' (known: filings,",
        ),
        (
            {"inputs": [WARC], "dedup": {"near": {"threshold": 1.5}}},
            "dedup.near.threshold: must be less than 1",
        ),
        ({"inputs": [WARC], "dedup": {"exact": "no"}}, "dedup.exact: must be true or false"),
        (
            {"inputs": [WARC], "shards": {"max_rows": 0}},
            "shards.max_rows: must be greater than or equal to 1, got 0",
        ),
        ({"inputs": [WARC], "shards": {"max_rows": "100"}}, "shards.max_rows: must be a valid integer"),
        (
            {"inputs": [WARC], "decontam": {"mode": "delete"}},
            "decontam.mode: 'delete' is not one of: drop, flag",
        ),
        (
            {"inputs": [WARC], "domain": {"threshold": -0.1}},
            "domain.threshold: must be greater than or equal to 0",
        ),
        (
            {"inputs": [WARC], "source_domains": {"web": "finance"}},
            "source_domains.web: unknown domain 'finance'; did you mean 'financial'? (known: financial, medical, general)",
        ),
        (
            {"inputs": [WARC], "quality": {"default": {"gopher_quality": {"min_doc_word": 3}}}},
            "did you mean 'min_doc_words'?",
        ),
        (
            {"inputs": [WARC], "quality": {"sources": {"social": {"groups": ["c5"]}}}},
            "quality.sources.social.groups[0]: 'c5' is not one of",
        ),
        ({"inputs": [WARC], "pii": {"default": ["emails"]}}, "pii.default[0]: 'emails' is not one of"),
        (
            {"inputs": [WARC], "boilerplate": {"min_docs": 1}},
            "boilerplate.min_docs: must be greater than or equal to 2",
        ),
        ({"inputs": [WARC], "language": []}, "language: must be a mapping"),
        (
            {"inputs": [{**WARC, "name": "a"}, {"kind": "rss", "paths": "y", "name": "a"}]},
            "names must be unique",
        ),
    ],
)
def test_invalid_config_is_one_clear_error(raw, message):
    lines = _errors(raw)
    assert len(lines) == 1, lines
    assert lines[0].startswith("test.yaml: ")
    assert message in lines[0]


def test_every_mistake_is_reported_at_once_one_line_each():
    lines = _errors(
        {
            "inputs": [{**WARC, "optoins": {}}],
            "language": {"allowed": "en"},
            "quality": {"label_only": "false"},
            "mix": {"max_weight": -2},
            "dedup": {"near": {"treshold": 0.7}},
        }
    )
    assert len(lines) == 5, lines
    for key in (
        "inputs[0].optoins",
        "language.allowed",
        "quality.label_only",
        "mix.max_weight",
        "dedup.near.treshold",
    ):
        assert sum(key in line for line in lines) == 1, (key, lines)


def test_yaml_file_with_mistakes(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "inputs:\n  - kind: warc\n    paths: x\nlanguage:\n  allowed: en\nquality:\n  label_only: 'false'\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(str(cfg))
    lines = str(info.value).splitlines()
    assert lines == [
        f"{cfg}: language.allowed: must be a list, not the string 'en': write [en]",
        f"{cfg}: quality.label_only: must be true or false (YAML booleans, unquoted), got 'false'",
    ]


def test_sections_and_options_written_empty_take_their_defaults(tmp_path):
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("inputs:\n  - kind: warc\n    paths: x\n    options:\npii:\n  # none yet\ndedup:\n")
    cfg = load_config(str(cfg_file))
    assert cfg.pii == PiiSettings() and cfg.dedup == DedupSettings()
    assert cfg.inputs[0].reader_options() == {}


def test_list_keys_written_empty_are_empty_lists(tmp_path):
    """``eval_sets:`` with nothing after it (YAML null) was refused as 'must be a valid list, got None'."""
    cfg_file = tmp_path / "c.yaml"
    cfg_file.write_text("inputs:\n  - {kind: text, paths: [x.txt]}\ndecontam:\n  sets:\n  eval_sets:\n")
    cfg = load_config(str(cfg_file))
    assert cfg.decontam.sets == [] and cfg.decontam.eval_sets == []


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
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "fpb.csv").write_text("text\nRevenue rose.\n")
    cfg_file.write_text(
        "inputs:\n  - kind: warc\n    paths: ['../data/*.warc.gz', 'gs://bucket/x.warc.gz']\n"
        "decontam:\n  eval_sets: [{name: fpb, path: ../eval/fpb.csv}]\n"
    )
    cfg = load_config(str(cfg_file))
    assert cfg.inputs[0].paths == [str(tmp_path / "data" / "*.warc.gz"), "gs://bucket/x.warc.gz"]
    assert cfg.decontam.eval_sets[0].path == str(tmp_path / "eval" / "fpb.csv")


def test_a_folder_as_input_is_refused_with_a_glob_hint(tmp_path):
    lines = _errors({"inputs": [{"kind": "warc", "paths": str(tmp_path)}]})
    assert lines == [
        f"test.yaml: inputs[0].paths: {tmp_path} is a directory; give the files as a glob, e.g. {tmp_path}/* "
        f"(or a narrower pattern such as {tmp_path}/*.warc.gz)"
    ]
    with pytest.raises(ConfigError, match="is a directory"):
        make_input("warc", [str(tmp_path)], name="warc-0")


def test_missing_domain_model_is_refused_at_load(tmp_path):
    lines = _errors({"inputs": [WARC], "domain": {"model_path": str(tmp_path / "none.ftz")}})
    assert lines == [
        f"test.yaml: domain.model_path: model file not found: {tmp_path / 'none.ftz'} "
        "(train one with `python -m pipeline train-domain-classifier RUN_DIR`)"
    ]


def test_missing_eval_set_is_refused_at_load_not_inside_the_run(tmp_path):
    lines = _errors(
        {"inputs": [WARC], "decontam": {"eval_sets": [{"name": "fpb", "path": str(tmp_path / "x.csv")}]}}
    )
    assert lines == [
        f"test.yaml: decontam.eval_sets[0].path: file not found: {tmp_path / 'x.csv'} "
        "(evaluation set fpb; fix the path or remove the entry)"
    ]


def test_config_pickles_and_sections_are_typed():
    cfg = load_config()
    again = pickle.loads(pickle.dumps(cfg))
    assert again == cfg and again.origin == cfg.origin
    assert isinstance(cfg.language, LanguageSettings) and isinstance(cfg.mix, MixSettings)
    assert cfg.inputs[0].reader_options() == {}  # nothing set: the readers' own defaults apply
    assert cfg.to_dict()["inputs"][0]["options"] == {}


def test_near_false_turns_near_dedup_off_and_natural_split_round_trips():
    cfg = parse_config(
        {"inputs": [WARC], "dedup": {"near": False}, "mix": {"source_targets": {"general": "natural"}}}
    )
    assert cfg.dedup.near.enabled is False
    assert cfg.mix.source_targets == {"general": None}
    assert cfg.to_dict()["mix"]["source_targets"] == {"general": "natural"}
    assert parse_config(cfg.to_dict() | {"inputs": [WARC]}).mix.source_targets == {"general": None}


def test_schema_defaults_agree_with_the_stages():
    from filters.boilerplate import BoilerplateConfig
    from filters.decontam import DEFAULT_NGRAM, MIN_WORDS
    from pipeline.stages import dedup, domain, mix

    assert DomainSettings().threshold == domain.DEFAULT_THRESHOLD
    assert tuple(DomainSettings().sources) == domain.DEFAULT_SOURCES
    assert (DecontamSettings().ngram, DecontamSettings().min_words) == (DEFAULT_NGRAM, MIN_WORDS)
    d = DedupSettings()
    assert (d.cc_rounds, d.big_bucket, d.cc_max_residual_edges) == (
        dedup.DEFAULT_CC_ROUNDS,
        dedup.DEFAULT_BIG_BUCKET,
        dedup.DEFAULT_MAX_RESIDUAL_EDGES,
    )
    assert MixSettings().domain_targets == mix.DEFAULT_DOMAIN_TARGETS
    assert MixSettings().max_weight == mix.DEFAULT_MAX_WEIGHT
    assert parse_config({"inputs": [WARC]}).boilerplate.config() == BoilerplateConfig()


def test_pii_policy_from_the_config_reaches_the_stage():
    # Before the schema the stage handed the raw mapping to PiiRedactor as its policy: any `pii:` setting
    # crashed inside a worker ('dict' object has no attribute 'kinds_for').
    from pipeline.stages.pii import _RedactPiiFn

    fn = _RedactPiiFn(PiiSettings.of({"default": ["email"]}))
    fn.setup()
    doc = Document(id="1", text="Mail jane@example.com or call 212-555-0100.", source="web")
    out = fn.handle(doc)
    assert "jane@example.com" not in out.text and "212-555-0100" in out.text


def test_quality_settings_become_rule_thresholds():
    rules = QualitySettings.of({"default": {"gopher_quality": {"min_doc_words": 30}}}).rules()
    assert rules.policy_for("web").gopher_quality.min_doc_words == 30
    assert rules.policy_for("filings").groups == ("gopher_repetition",)  # built-ins stay


def test_section_of_a_plain_mapping_uses_the_same_messages():
    with pytest.raises(
        ConfigError, match=r"^language.allowed: must be a list, not the string 'en': write \[en\]$"
    ):
        LanguageSettings.of({"allowed": "en"})
    assert LanguageSettings.of(None) == LanguageSettings()


def test_config_reference_doc_is_current():
    """docs/config.md is generated: `python -m pipeline config-reference --write` after changing the schema."""
    doc = (REPO / "docs" / "config.md").read_text(encoding="utf-8")
    assert doc == config_reference()
    for needle in (
        "`language.allowed`",
        "`dedup.near.threshold`",
        "`mix.max_weight`",
        "### `edgar`",
        "`options.tables`",
    ):
        assert needle in doc


def test_config_model_lists_every_top_level_key_of_the_default_config():
    import yaml

    raw = yaml.safe_load(Path(default_config_path()).read_text(encoding="utf-8"))
    assert set(raw) <= set(Config.model_fields)

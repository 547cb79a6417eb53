"""``export sft``: FinGPT-style instruction JSONL from labelled sets; splits share no text; counts add up."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

import pytest

from core.errors import ConfigError
from filters.decontam import decode, normalize
from pipeline.export_sft import INSTRUCTIONS, cmd_export, split_of
from sources.evalsets import TWITTER_LABELS


def write_config(tmp_path: Path, eval_sets: list[dict], sets: list[str] | None = None) -> str:
    path = tmp_path / "export.yaml"
    entries = "\n".join("    - " + json.dumps(e) for e in eval_sets)
    path.write_text(
        "inputs:\n  - {name: x, kind: text, paths: [x.txt]}\n"
        f"decontam:\n  sets: {json.dumps(sets or [])}\n  eval_sets:\n{entries}\n",
        encoding="utf-8",
    )
    return str(path)


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_export_of_the_real_labelled_files(shared_data, tmp_path, capsys):
    pb = shared_data / "labeled" / "financial_phrasebank_50agree_subset.csv"
    tw = shared_data / "social" / "tweets" / "twitter_financial_news_sentiment_valid_subset.csv"
    if not pb.is_file() or not tw.is_file():
        pytest.skip("labelled files not found")
    config = write_config(
        tmp_path,
        [
            {
                "name": "phrasebank",
                "path": str(pb),
                "field": "news",
                "label_field": "label",
                "like": "phrasebank",
            },
            {
                "name": "tfns",
                "path": str(tw),
                "field": "text",
                "label_field": "label",
                "like": "twitter_financial_news_sentiment",
            },
        ],
    )
    out = tmp_path / "sft"
    assert cmd_export(["sft", "--out", str(out), "--config", config]) == 0
    assert "export sft: train" in capsys.readouterr().out
    train, test = read_jsonl(out / "train.jsonl"), read_jsonl(out / "test.jsonl")
    card = json.loads((out / "data_card.json").read_text())

    # The splits share no normalised text, and no text appears twice at all.
    train_norm = [normalize(r["input"]) for r in train]
    test_norm = [normalize(r["input"]) for r in test]
    assert not set(train_norm) & set(test_norm)
    assert len(set(train_norm + test_norm)) == len(train) + len(test)
    assert 0.15 < len(test) / (len(train) + len(test)) < 0.25

    # FinGPT's prompts: news for PhraseBank, tweet for the Twitter set.
    assert {r["instruction"] for r in train + test if r["set"] == "phrasebank"} == {INSTRUCTIONS["news"]}
    assert {r["instruction"] for r in train + test if r["set"] == "tfns"} == {INSTRUCTIONS["tweet"]}
    assert INSTRUCTIONS["news"] == (
        "What is the sentiment of this news? Please choose an answer from {negative/neutral/positive}."
    )

    # Label counts match the source files: read them here, independently, with the csv module.
    tw_rows = list(csv.DictReader(io.StringIO(decode(tw.read_bytes()))))
    source = {
        "phrasebank": Counter(r["label"] for r in csv.DictReader(io.StringIO(decode(pb.read_bytes())))),
        "tfns": Counter(TWITTER_LABELS[r["label"]] for r in tw_rows if r["label"] in TWITTER_LABELS),
    }
    assert source["phrasebank"] == Counter(neutral=2141, positive=1039, negative=455)
    # The subset file has rows whose quoting was cut (a label like " no change"): skipped and counted.
    broken = sum(1 for r in tw_rows if r["label"] not in TWITTER_LABELS)
    assert broken > 0 and card["sets"]["tfns"]["skipped_bad_label"] == broken
    for name, counts in source.items():
        entry = card["sets"][name]
        assert entry["source_labels"] == dict(counts)
        for split, rows in (("train", train), ("test", test)):
            written = Counter(r["output"] for r in rows if r["set"] == name)
            assert entry["splits"][split]["labels"] == dict(sorted(written.items()))
        for label, n in counts.items():
            kept = sum(entry["splits"][s]["labels"].get(label, 0) for s in ("train", "test"))
            removed = sum(c.get(label, 0) for c in entry["removed"].values())
            assert kept + removed == n, (name, label)
    assert card["sets"]["phrasebank"]["removed"]["exact_duplicate"]  # the file repeats some sentences
    md = (out / "data_card.md").read_text()
    assert "CC BY-NC-SA 3.0" in md and "non-commercial" in md
    with pytest.raises(ConfigError, match="--overwrite"):
        cmd_export(["sft", "--out", str(out), "--config", config])


def test_duplicates_across_sets_and_label_conflicts(tmp_path):
    a = tmp_path / "a.csv"
    a.write_text(
        "label,news\n"
        'positive,"Apple shares rose 5 % after strong iPhone sales in China , analysts said on Tuesday ."\n'
        "negative,Nokia cuts 1000 jobs in Finland as handset demand slumps across Europe\n"
        "neutral,The annual general meeting will be held in Helsinki on 12 March\n"
        "positive,Fiskars reports record operating profit for the third quarter\n",
        encoding="utf-8",
    )
    b = tmp_path / "b.csv"
    b.write_text(
        "text,label\n"
        '"Apple shares rose 5% after strong iPhone sales in China, analysts said on Tuesday",1\n'  # exact (normalised)
        "NOKIA CUTS 1000 JOBS IN FINLAND AS HANDSET DEMAND SLUMPS ACROSS EUROPE,2\n"  # same text, other label
        "The annual general meeting will be held in Helsinki on 12 March 2024 says company,2\n"  # near duplicate
        "$TSLA Tesla deliveries beat estimates https://t.co/abc,1\n",
        encoding="utf-8",
    )
    config = write_config(
        tmp_path,
        [
            {"name": "a", "path": str(a), "field": "news", "label_field": "label", "like": "phrasebank"},
            {
                "name": "b",
                "path": str(b),
                "field": "text",
                "label_field": "label",
                "like": "twitter_financial_news_sentiment",
            },
        ],
    )
    out = tmp_path / "sft"
    assert cmd_export(["sft", "--out", str(out), "--config", config, "--near_threshold", "0.6"]) == 0
    card = json.loads((out / "data_card.json").read_text())
    rows = read_jsonl(out / "train.jsonl") + read_jsonl(out / "test.jsonl")
    assert sorted(r["id"] for r in rows) == ["a-0", "a-2", "a-3", "b-3"]
    assert card["sets"]["b"]["removed"] == {
        "exact_duplicate": {"positive": 1},
        "label_conflict": {"neutral": 1},
        "near_duplicate": {"neutral": 1},
    }
    assert card["sets"]["a"]["removed"] == {"label_conflict": {"negative": 1}}


def test_split_depends_on_the_normalised_text_only():
    assert split_of(normalize("Profit ROSE, sharply."), 0.2, "s") == split_of("profit rose sharply", 0.2, "s")
    splits = Counter(split_of(f"sentence number {i}", 0.2, "s") for i in range(5000))
    assert 900 < splits["test"] < 1100


def test_bad_input(tmp_path):
    config = write_config(tmp_path, [], sets=["phrasebank"])
    with pytest.raises(ConfigError, match="no labelled set available"):
        cmd_export(["sft", "--out", str(tmp_path / "o"), "--config", config])
    with pytest.raises(ConfigError, match="unknown format"):
        cmd_export(["dpo"])
    with pytest.raises(ConfigError, match="test_fraction"):
        cmd_export(["sft", "--out", str(tmp_path / "o"), "--test_fraction", "1.5"])


def test_export_from_the_fetch_cache_and_cli_errors(tmp_path, isolated_fetch_cache, capsys):
    from pipeline.cli import main
    from sources.evalsets import REGISTRY, fetch_set, write_manifest
    from tests.sources.test_evalsets import FIXTURES

    manifest: dict = {}
    for name in ("phrasebank", "fiqa_sentiment"):

        class Replay:
            def get(self, url, name=name):
                class R:
                    content = FIXTURES[name]

                return R()

        assert fetch_set(REGISTRY[name], str(isolated_fetch_cache), Replay(), manifest).status == "fetched"
    write_manifest(str(isolated_fetch_cache), manifest)
    config = write_config(
        tmp_path, [], sets=["phrasebank", "fiqa_sentiment", "twitter_financial_news_sentiment"]
    )
    out = tmp_path / "sft"
    assert main(["export", "sft", "--out", str(out), "--config", config, "--test_fraction", "0.5"]) == 0
    err = capsys.readouterr().err
    assert "not in the cache" in err and "fetch evalsets twitter_financial_news_sentiment" in err
    rows = read_jsonl(out / "train.jsonl") + read_jsonl(out / "test.jsonl")
    assert sorted((r["set"], r["output"]) for r in rows) == [
        ("fiqa_sentiment", "negative"),
        ("fiqa_sentiment", "positive"),
        ("phrasebank", "negative"),
        ("phrasebank", "neutral"),
        ("phrasebank", "positive"),
        ("phrasebank", "positive"),
    ]
    tweet = next(r for r in rows if r["input"].startswith("$AAPL"))
    assert tweet["instruction"] == INSTRUCTIONS["tweet"]  # a FiQA microblog post gets the tweet prompt
    card = json.loads((out / "data_card.json").read_text())
    assert card["sets"]["phrasebank"]["licence"] == "CC BY-NC-SA 3.0"
    assert main(["export", "sft"]) == 2  # --out missing: one line, exit 2
    assert "--out" in capsys.readouterr().err

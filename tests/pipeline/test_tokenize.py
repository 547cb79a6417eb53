"""``tokenize``: round trips through both formats and both tokenizer kinds, the mixture, the shuffle, bad input.

The files are read back with ``read_megatron_independently`` below, written from Megatron-LM's documented
MMIDIDX layout (megatron/core/datasets/indexed_dataset.py), not with ``pipeline.token_files``, so a writer bug
cannot hide behind a matching reader bug. The numpy format is read the way its docs tell a user to (np.memmap).
"""

from __future__ import annotations

import glob
import json
import math
import shutil
import struct
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from core.errors import ConfigError
from pipeline import cli
from pipeline.token_files import megatron_index, token_dtype
from pipeline.tokenize import (
    KEY_SPACE,
    bucket_of,
    fraction_cutoff,
    pair_plan,
    repetitions,
    tokenize,
)
from pipeline.tokenizer import load, make_spec

# Megatron-LM's DType enum: code -> numpy dtype.
MEGATRON_CODES = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 6: np.float64, 7: np.float32,
                  8: np.uint16}  # fmt: skip


def read_megatron_independently(prefix: str) -> list[np.ndarray]:
    """Sequences of a Megatron indexed dataset, from the documented layout (checks every invariant)."""
    idx = Path(prefix + ".idx").read_bytes()
    assert idx[:9] == b"MMIDIDX\x00\x00"
    assert struct.unpack("<Q", idx[9:17])[0] == 1
    dtype = np.dtype(MEGATRON_CODES[idx[17]])
    n_seq, n_doc = struct.unpack("<QQ", idx[18:34])
    lengths = np.frombuffer(idx, dtype="<i4", count=n_seq, offset=34)
    pointers = np.frombuffer(idx, dtype="<i8", count=n_seq, offset=34 + 4 * n_seq)
    doc_idx = np.frombuffer(idx, dtype="<i8", count=n_doc, offset=34 + 12 * n_seq)
    assert len(idx) == 34 + 12 * n_seq + 8 * n_doc
    assert doc_idx[0] == 0 and doc_idx[-1] == n_seq and np.all(np.diff(doc_idx) > 0)
    tokens = np.memmap(prefix + ".bin", dtype=dtype, mode="r")
    assert tokens.nbytes == int(lengths.sum()) * dtype.itemsize
    out = []
    for ln, ptr in zip(lengths, pointers, strict=True):
        assert ptr % dtype.itemsize == 0
        start = int(ptr) // dtype.itemsize
        out.append(np.array(tokens[start : start + int(ln)]))
    return out


def read_numpy_independently(prefix: str) -> tuple[list[np.ndarray], list[str]]:
    index = json.loads(Path(prefix + ".json").read_text())
    tokens = np.memmap(prefix + ".bin", dtype=index["dtype"], mode="r")
    offsets = index["offsets"]
    assert offsets[-1] == len(tokens) == index["tokens"]
    seqs = [np.array(tokens[offsets[i] : offsets[i + 1]]) for i in range(index["sequences"])]
    return seqs, index["ids"]


def read_split(out: Path, split: str, fmt: str) -> list[np.ndarray]:
    seqs: list[np.ndarray] = []
    for data in sorted(glob.glob(str(out / split / "*.bin"))):
        prefix = data[: -len(".bin")]
        seqs += (
            read_megatron_independently(prefix) if fmt == "megatron" else read_numpy_independently(prefix)[0]
        )
    return seqs


def split_bytes(out: Path) -> dict[str, bytes]:
    files = sorted(p for p in out.rglob("*") if p.is_file() and p.suffix in (".bin", ".idx", ".json"))
    return {str(p.relative_to(out)): p.read_bytes() for p in files if p.name != "manifest.json"}


# ---------------------------------------------------------------------------------------------------------
# Fixtures: a private copy of the session's sample run, one tiny trained BPE tokenizer.json.


@pytest.fixture(scope="module")
def run_dir(sample_run, tmp_path_factory) -> Path:
    """A private copy of the session's sample run: tokenize registers its outputs in the run folder."""
    copy = tmp_path_factory.mktemp("runs") / "sample"
    shutil.copytree(sample_run[0], copy)
    return copy


@pytest.fixture(scope="module")
def kept(run_dir) -> dict[str, dict]:
    """The run's documents by id: text, source pair, weight."""
    rows = {}
    for path in sorted(run_dir.glob("data/*/*/*.parquet")):
        for r in pq.read_table(path, columns=["id", "text", "source", "domain", "mix_weight"]).to_pylist():
            rows[r["id"]] = {**r, "pair": f"{r['domain']}/{r['source']}"}
    return rows


@pytest.fixture(scope="module")
def bpe_json(tmp_path_factory, kept) -> Path:
    """A byte-level BPE (vocabulary 600) trained in the test on the run's texts, with <s> and </s>."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=600, special_tokens=["<s>", "</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    tok.train_from_iterator([d["text"] for d in kept.values()], trainer)
    path = tmp_path_factory.mktemp("tok") / "tiny-bpe" / "tokenizer.json"
    path.parent.mkdir()
    tok.save(str(path))
    return path


def _tokenize(run_dir: Path, out: Path, tokenizer: str, *flags: str) -> dict:
    return tokenize([str(run_dir), "--tokenizer", tokenizer, "--out", str(out), *flags])


# ---------------------------------------------------------------------------------------------------------
# Pure core.


def test_fraction_cutoff_takes_the_prefix_closest_to_the_fractional_tokens():
    # Weight 1.5 for all: goal = 0.5 * (100 + 300 + 200 + 400) = 500. In key order: 100, 300 (400), 200 (600)...
    entries = [(1, 100, 1.5), (2, 300, 1.5), (3, 200, 1.5), (4, 400, 1.5)]
    # |400 - 500| = 100 = |600 - 500|: the tie keeps the shorter prefix, so keys 1 and 2 get the extra copy.
    assert fraction_cutoff(entries) == 3
    assert [repetitions(1.5, k, 3) for k, _, _ in entries] == [2, 2, 1, 1]
    assert fraction_cutoff([(5, 10, 2.0), (6, 10, 0.0)]) == KEY_SPACE  # nothing fractional
    assert fraction_cutoff([(7, 10, 0.96)]) == KEY_SPACE  # 9.6 of 10 tokens: take it
    assert fraction_cutoff([(7, 10, 0.04)]) == 7  # 0.4 of 10: leave it
    plan = pair_plan("financial/news", [(k, n, n + 1, w) for k, n, w in entries])
    assert plan["target_tokens"] == 1500 and plan["expected_tokens"] == 2 * 100 + 2 * 300 + 200 + 400
    assert plan["zero_repetitions"] == 0 and plan["max_document_tokens"] == 400


def test_buckets_are_equal_slices_of_the_key_range():
    assert bucket_of(0, 4) == 0
    assert bucket_of(KEY_SPACE - 1, 4) == 3
    assert bucket_of(KEY_SPACE // 4, 4) == 1
    assert bucket_of(KEY_SPACE // 4 - 1, 4) == 0


def test_dtype_rule_and_megatron_index_layout():
    assert token_dtype(65_535, "megatron") == np.uint16
    assert token_dtype(65_536, "megatron") == np.int32  # Megatron's DType has no uint32
    assert token_dtype(100_277, "numpy") == np.uint32
    idx = megatron_index([3, 5], np.dtype(np.uint16))
    expected = (b"MMIDIDX\x00\x00" + struct.pack("<QBQQ", 1, 8, 2, 3) + struct.pack("<2i", 3, 5)
                + struct.pack("<2q", 0, 6) + struct.pack("<3q", 0, 1, 2))  # fmt: skip
    assert idx == expected


def test_huggingface_special_tokens(tmp_path, bpe_json):
    tok = load(make_spec(str(bpe_json)))
    assert (tok.bos_token, tok.eos_token) == ("<s>", "</s>") and tok.vocab_size <= 600
    assert load(make_spec(str(bpe_json.parent))).eos_id == tok.eos_id  # a folder works too
    assert load(make_spec(str(bpe_json), bos="none")).bos_id is None
    # tokenizer_config.json beside the file names them (here: swapped, to see it is read).
    (tmp_path / "tokenizer.json").write_text(bpe_json.read_text())
    (tmp_path / "tokenizer_config.json").write_text(
        json.dumps({"bos_token": "</s>", "eos_token": {"content": "<s>"}})
    )
    swapped = load(make_spec(str(tmp_path / "tokenizer.json")))
    assert (swapped.bos_token, swapped.eos_token) == ("</s>", "<s>")
    with pytest.raises(ConfigError, match="not a token"):
        load(make_spec(str(bpe_json), separator="<|no such token|>"))
    tiktoken_tok = load(make_spec("cl100k_base"))
    assert tiktoken_tok.bos_id is None and tiktoken_tok.eos_token == "<|endoftext|>"
    with pytest.raises(ConfigError, match="not a single token"):
        load(make_spec("cl100k_base", separator="two words"))


# ---------------------------------------------------------------------------------------------------------
# Round trips: both formats, both tokenizer kinds.


@pytest.mark.parametrize("fmt", ["megatron", "numpy"])
@pytest.mark.parametrize("kind", ["tiktoken", "huggingface"])
def test_round_trip(tmp_path, run_dir, kept, bpe_json, fmt, kind):
    name = "cl100k_base" if kind == "tiktoken" else str(bpe_json)
    out = tmp_path / "tok"
    manifest = _tokenize(run_dir, out, name, "--format", fmt, "--file_tokens", "8000")
    tok = load(make_spec(name))
    assert manifest["dtype"] == (
        "uint16" if kind == "huggingface" else {"megatron": "int32", "numpy": "uint32"}[fmt]
    )
    seqs = read_split(out, "train", fmt)
    assert len(manifest["splits"]["train"]["files"]) == len(glob.glob(str(out / "train" / "*.bin"))) > 1
    assert len(seqs) == manifest["splits"]["train"]["sequences"]

    by_text: dict[str, list[str]] = {}
    for doc_id, d in kept.items():
        by_text.setdefault(d["text"], []).append(doc_id)
    copies: Counter[str] = Counter()
    for seq in seqs:
        ids = seq.tolist()
        assert ids[-1] == tok.eos_id
        if tok.bos_id is not None:
            assert ids[0] == tok.bos_id
            ids = ids[1:]
        text = tok.decode(ids[:-1])
        assert text in by_text, f"decoded text is not a kept document: {text[:80]!r}"
        # The separator decodes to its token text.
        assert tok.decode(seq.tolist()).endswith(tok.eos_token)
        copies[text] += 1
    # Each kept document appears floor(w) or ceil(w) times (its repetitions), none more, none less.
    for text, doc_ids in by_text.items():
        weights = [kept[i]["mix_weight"] for i in doc_ids]
        low = sum(math.floor(w) for w in weights)
        high = sum(math.ceil(w) for w in weights)
        assert low <= copies[text] <= high, (kept[doc_ids[0]]["pair"], weights, copies[text])
    assert manifest["documents"]["balanced"]


# ---------------------------------------------------------------------------------------------------------
# The mixture.


def test_token_counts_per_source_match_the_mixture(tmp_path, run_dir, kept):
    out = tmp_path / "tok"
    manifest = _tokenize(run_dir, out, "cl100k_base", "--format", "numpy", "--file_tokens", "5000")
    mixture = json.loads((run_dir / "mixture.json").read_text())
    # Count the files ourselves: the tokens of each sequence (minus its EOS) go to its document's source.
    achieved: Counter[str] = Counter()
    for data in sorted(glob.glob(str(out / "train" / "*.bin"))):
        seqs, ids = read_numpy_independently(data[: -len(".bin")])
        for seq, doc_id in zip(seqs, ids, strict=True):
            achieved[kept[doc_id]["pair"]] += len(seq) - 1
    biggest: Counter[str] = Counter()
    for d in kept.values():
        from filters.tokens import count_tokens

        biggest[d["pair"]] = max(biggest[d["pair"]], count_tokens(d["text"]))
    assert set(achieved) <= set(mixture["sources"])
    for pair, m in mixture["sources"].items():
        entry = manifest["mixture"]["sources"][pair]
        assert entry["raw_tokens"] == m["raw_tokens"]  # same tokenizer as the run's counts
        assert entry["achieved_tokens"] == achieved[pair]
        # Within rounding: half of the source's largest document (whole documents only).
        assert abs(achieved[pair] - m["effective_tokens"]) <= biggest[pair] / 2 + 0.1, pair
        assert entry["within_rounding"]
    total = sum(achieved.values())
    assert abs(total - mixture["total_effective_tokens"]) <= sum(biggest.values()) / 2


def test_validation_split_is_by_document_and_reported(tmp_path, run_dir, kept):
    out = tmp_path / "tok"
    manifest = _tokenize(run_dir, out, "cl100k_base", "--format", "numpy", "--validation_fraction", "0.25")
    train_ids = {i for data in glob.glob(str(out / "train" / "*.bin"))
                 for i in read_numpy_independently(data[:-4])[1]}  # fmt: skip
    val_ids = [
        i
        for data in glob.glob(str(out / "validation" / "*.bin"))
        for i in read_numpy_independently(data[:-4])[1]
    ]
    assert val_ids and not set(val_ids) & train_ids
    assert len(val_ids) == len(set(val_ids))  # held-out documents once each
    docs = manifest["documents"]
    assert docs["validation"] == len(val_ids) and docs["balanced"]
    assert docs["read"] == len(kept) == docs["train"] + docs["validation"] + docs["zero_repetitions"]
    assert sum(v["documents"] for v in manifest["validation"].values()) == len(val_ids)
    assert manifest["splits"]["validation"]["tokens"] == sum(v["tokens"] + v["sequences"]
                                                            for v in manifest["validation"].values())  # fmt: skip


# ---------------------------------------------------------------------------------------------------------
# Determinism and the shuffle.


def test_same_seed_same_bytes_other_shuffle_seed_same_multiset(tmp_path, run_dir):
    flags = ("--format", "megatron", "--file_tokens", "6000", "--seed", "7")
    _tokenize(run_dir, tmp_path / "a", "cl100k_base", *flags)
    _tokenize(run_dir, tmp_path / "b", "cl100k_base", *flags)
    a, b = split_bytes(tmp_path / "a"), split_bytes(tmp_path / "b")
    assert a and a == b

    _tokenize(run_dir, tmp_path / "c", "cl100k_base", *flags, "--shuffle_seed", "8")
    seqs_a = [tuple(s.tolist()) for s in read_split(tmp_path / "a", "train", "megatron")]
    seqs_c = [tuple(s.tolist()) for s in read_split(tmp_path / "c", "train", "megatron")]
    assert seqs_a != seqs_c
    assert Counter(seqs_a) == Counter(seqs_c)

    # A different --seed draws another sample too: the order changes, the totals stay within rounding.
    other = _tokenize(run_dir, tmp_path / "d", "cl100k_base", *flags[:-1], "9")
    assert [tuple(s.tolist()) for s in read_split(tmp_path / "d", "train", "megatron")] != seqs_a
    assert all(e["within_rounding"] for e in other["mixture"]["sources"].values())


def test_order_is_a_shuffle_across_sources_not_file_order(tmp_path, run_dir, kept):
    out = tmp_path / "tok"
    _tokenize(run_dir, out, "cl100k_base", "--format", "numpy", "--num_files", "1")
    seqs, ids = read_numpy_independently(str(out / "train" / "part-00000"))
    pairs = [kept[i]["pair"] for i in ids]
    changes = sum(1 for x, y in zip(pairs, pairs[1:], strict=False) if x != y)
    assert changes > 2 * len(set(pairs))  # sources interleave
    assert ids != sorted(ids)
    first_seen = list(dict.fromkeys(ids))
    shard_order = list(kept)  # the shards' order
    assert first_seen != [i for i in shard_order if i in set(first_seen)]


def test_multi_processing_gives_the_same_bytes(tmp_path, run_dir):
    flags = ("--format", "megatron", "--file_tokens", "6000")
    _tokenize(run_dir, tmp_path / "a", "cl100k_base", *flags)
    _tokenize(run_dir, tmp_path / "b", "cl100k_base", *flags,
              "--direct_running_mode=multi_processing", "--direct_num_workers=2")  # fmt: skip
    assert split_bytes(tmp_path / "a") == split_bytes(tmp_path / "b")


# ---------------------------------------------------------------------------------------------------------
# Bad input and the report.


def _cli(capsys, *args: str) -> tuple[int, str]:
    code = cli.main(["tokenize", *args])
    return code, capsys.readouterr().err


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, run_dir):
    code, err = _cli(
        capsys, str(tmp_path / "missing"), "--tokenizer", "cl100k_base", "--out", str(tmp_path / "o")
    )
    assert code == 2 and err.count("\n") == 1 and "does not exist" in err
    code, err = _cli(capsys, str(run_dir), "--tokenizer", "no-such-tokenizer", "--out", str(tmp_path / "o"))
    assert code == 2 and err.count("\n") == 1 and "unknown tokenizer 'no-such-tokenizer'" in err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    code, err = _cli(capsys, str(run_dir), "--tokenizer", str(bad), "--out", str(tmp_path / "o"))
    assert code == 2 and err.count("\n") == 1 and "not a Hugging Face tokenizer.json" in err
    code, err = _cli(capsys, str(run_dir), "--tokenizer", "cl100k_base", "--out", str(tmp_path / "o"),
                     "--validation_fraction", "1.5")  # fmt: skip
    assert code == 2 and "--validation_fraction" in err


def test_existing_output_needs_overwrite(tmp_path, capsys, run_dir):
    out = tmp_path / "tok"
    assert cli.main(["tokenize", str(run_dir), "--tokenizer", "cl100k_base", "--out", str(out)]) == 0
    capsys.readouterr()
    code, err = _cli(capsys, str(run_dir), "--tokenizer", "cl100k_base", "--out", str(out))
    assert code == 2 and "--overwrite" in err
    code, _ = _cli(capsys, str(run_dir), "--tokenizer", "cl100k_base", "--out", str(out), "--overwrite")
    assert code == 0


def test_stats_report_has_a_training_data_section(tmp_path, run_dir):
    from pipeline.report import write_report

    manifest = _tokenize(run_dir, tmp_path / "tok", "cl100k_base", "--validation_fraction", "0.2")
    stats = write_report(str(run_dir), samples=0)
    (entry,) = [t for t in stats["training_data"] if t["out"] == str(tmp_path / "tok")]
    assert (
        entry["sources"]["general/wikipedia"]["achieved_tokens"]
        == (manifest["mixture"]["sources"]["general/wikipedia"]["achieved_tokens"])
    )
    md = (run_dir / "stats" / "report.md").read_text()
    assert "## Training data" in md and str(tmp_path / "tok") in md
    assert "general/wikipedia" in md.split("## Training data", 1)[1]
    html = (run_dir / "stats" / "report.html").read_text()
    assert "Training data" in html


def test_dataflow_translation_offline(tmp_path, run_dir, bpe_json):
    pytest.importorskip("apache_beam.runners.dataflow.internal.apiclient", reason="needs apache-beam[gcp]")
    pytest.importorskip("google.cloud.storage", reason="needs apache-beam[gcp]")
    from apache_beam.portability.api import beam_runner_api_pb2

    staging = tmp_path / "staging"
    staging.mkdir()
    out = tmp_path / "out"
    manifest = _tokenize(run_dir, out, str(bpe_json), "--validation_fraction", "0.1",
                         "--runner=DataflowRunner", "--project=finpile-test", "--region=us-central1",
                         "--dataflow_endpoint=http://localhost:1", "--no_auth", f"--temp_location={tmp_path / 'tmp'}",
                         f"--staging_location={staging}", f"--template_location={tmp_path / 'job.json'}")  # fmt: skip
    assert manifest is None  # translated only
    assert json.loads((tmp_path / "job.json").read_text())["type"] == "JOB_TYPE_BATCH"
    pipeline = beam_runner_api_pb2.Pipeline.FromString((staging / "pipeline.pb").read_bytes())
    names = {t.unique_name for t in pipeline.components.transforms.values()}
    for step in ("ReadShards", "Tokenize", "SourcePlan", "WriteTrain", "WriteValidation"):
        assert step in names, f"{step} missing from the Dataflow job graph"
    assert not out.exists()  # nothing ran, nothing written

"""train-domain-classifier: labels from source and labelled files, a deterministic split, a model + card from a run;
the same data and seed give the same bytes; without --out nothing is written into the package."""

from __future__ import annotations

import hashlib
import os
from importlib import resources
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from core.errors import ConfigError
from core.schema import Document, documents_to_table
from filters.domain import DomainClassifier
from pipeline.train_domain import (
    CHUNK_WORDS,
    LabelledDoc,
    ag_news_text,
    chunks,
    cmd_train_domain,
    label_of,
    read_ag_news,
    read_phrasebank,
    split,
    training_lines,
)
from tests.filters.test_domain import FINANCIAL, GENERAL


def write_run(run_dir: Path, docs: list[Document]) -> None:
    """A run folder laid out as WriteShards lays it out: data/D/S/part-00000.parquet."""
    groups: dict[tuple[str, str], list[Document]] = {}
    for d in docs:
        groups.setdefault((d.domain, d.source), []).append(d)
    for (domain, source), group in groups.items():
        folder = run_dir / "data" / f"domain={domain}" / f"source={source}"
        folder.mkdir(parents=True)
        pq.write_table(documents_to_table(group), folder / "part-00000.parquet")


def sample_docs() -> list[Document]:
    docs = []
    for i in range(10):
        # Each document: three of the inline sentences, rotated, so documents differ but share vocabulary.
        fin = " ".join(FINANCIAL[(i + k) % len(FINANCIAL)] for k in range(3))
        gen = " ".join(GENERAL[(i + k) % len(GENERAL)] for k in range(3))
        docs.append(
            Document(
                id=f"f{i}", text=fin, source=("news", "press", "filings", "social")[i % 4], domain="financial"
            )
        )
        docs.append(Document(id=f"g{i}", text=gen, source=("wikipedia", "web")[i % 2], domain="general"))
    # A web page an earlier classifier moved to the financial domain: not used (its label is that model's guess).
    docs.append(Document(id="fw", text=FINANCIAL[0], source="web", domain="financial"))
    return docs


def test_labels_come_from_the_source():
    assert label_of("filings", "financial") == "financial"
    assert label_of("social", "financial") == "financial"
    assert label_of("wikipedia", "general") == "general"
    assert label_of("web", "general") == "general"
    assert label_of("web", "financial") is None
    assert label_of("unknown", "general") is None
    # a post from a subreddit outside the finance list: its source does not say
    assert label_of("social", "financial", {"domain_hint": "unknown"}) is None


def test_split_is_deterministic_and_does_not_depend_on_the_other_documents():
    docs = [LabelledDoc(f"f{i}", "t", "news", "financial") for i in range(200)]
    docs += [LabelledDoc(f"g{i}", "t", "wikipedia", "general") for i in range(3)]
    train, held = split(docs, 0.2, seed=1)
    assert [d.id for d in held] == [d.id for d in split(docs, 0.2, seed=1)[1]]
    assert 20 <= sum(d.label == "financial" for d in held) <= 60  # ~20% of 200
    assert sum(d.label == "general" for d in held) >= 1 and sum(d.label == "general" for d in train) >= 1
    assert {d.id for d in train} | {d.id for d in held} == {d.id for d in docs}
    assert not {d.id for d in train} & {d.id for d in held}
    assert [d.id for d in split(docs, 0.2, seed=2)[1]] != [d.id for d in held]
    # the financial documents held out are the same when trained alone: a benchmark can rebuild the split
    fin_held = {d.id for d in held if d.label == "financial"}
    assert {d.id for d in split(docs[:200], 0.2, seed=1)[1]} == fin_held


def test_chunks_and_balanced_shuffled_lines():
    assert [len(c.split()) for c in chunks("word " * 90)] == [CHUNK_WORDS, CHUNK_WORDS, 90 - 2 * CHUNK_WORDS]
    docs = [
        LabelledDoc("f", "money " * (3 * CHUNK_WORDS), "news", "financial"),
        LabelledDoc("g", "river", "web", "general"),
    ]
    lines = training_lines(docs)
    assert len(lines) == 6  # 3 financial chunks; the 1 general chunk repeated to 3
    assert sum(line.startswith("__label__general ") for line in lines) == 3
    shuffled = training_lines(docs, seed=1)
    assert sorted(shuffled) == sorted(lines) and shuffled == training_lines(docs, seed=1)


def test_ag_news_rows_are_decoded_and_labelled(tmp_path):
    # The layout of AG News: class, title, description; "#36;" for "$", "\\" for a line break.
    csv_file = tmp_path / "ag.csv"
    csv_file.write_text(
        '"3","Oil Tops #36;50","Crude rose to #36;50 a barrel.\\Traders said supply was tight."\n'
        '"2","Cup Final","The home side won 2-1 at the stadium."\n',
        encoding="utf-8",
    )
    docs = read_ag_news(str(csv_file))
    assert [(d.id, d.label, d.source) for d in docs] == [
        ("ag_news:1", "financial", "ag_news"),
        ("ag_news:2", "general", "ag_news"),
    ]
    assert docs[0].text == "Oil Tops $50. Crude rose to $50 a barrel. Traders said supply was tight."
    assert ag_news_text("A", "it#39;s") == "A. it's"
    bad = tmp_path / "bad.csv"
    bad.write_text('"9","x","y"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not an AG News row"):
        read_ag_news(str(bad))


def test_phrasebank_sentences_are_financial(tmp_path):
    csv_file = tmp_path / "fpb.csv"
    csv_file.write_text('label,news\nneutral,"Operating profit rose to 22.1 mln eur ."\n', encoding="utf-8")
    docs = read_phrasebank(str(csv_file))
    assert [(d.label, d.text) for d in docs] == [("financial", "Operating profit rose to 22.1 mln eur .")]


def test_the_real_labelled_files_read_whole(shared_data):
    ag = read_ag_news(str(shared_data / "domain" / "ag_news_test.csv"))
    assert len(ag) == 7600 and sum(d.label == "financial" for d in ag) == 1900
    assert not any("#36;" in d.text or "\\" in d.text for d in ag)
    fpb = read_phrasebank(str(shared_data / "labeled" / "financial_phrasebank_50agree_subset.csv"))
    assert len(fpb) > 3000 and {d.label for d in fpb} == {"financial"}


def test_train_from_a_run_writes_model_card_and_figures(tmp_path, capsys):
    run = tmp_path / "run"
    write_run(run, sample_docs())
    out = tmp_path / "models" / "domain.ftz"
    assert (
        cmd_train_domain([str(run), "--out", str(out), "--holdout", "0.2", "--seed", "1", "--dim", "16"]) == 0
    )
    printed = capsys.readouterr().out
    assert "precision 1.000  recall 1.000  F1 1.000" in printed
    assert f"model written to {out}" in printed
    assert out.is_file() and os.path.getsize(out) < 1_000_000
    card = (tmp_path / "models" / "domain.md").read_text()
    for heading in ("## Data", "## Parameters", "## Held-out figures", "Threshold sweep", str(run)):
        assert heading in card
    assert "| **total** | | " in card
    assert "Not used (no label): financial/web=1" in card
    clf = DomainClassifier(str(out), label="financial")
    assert clf.score(FINANCIAL[2]) > 0.5 > clf.score(GENERAL[2])


def _sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def test_two_runs_give_identical_model_bytes_and_figures(tmp_path, capsys):
    """fastText with one thread and a seeded init: the same data and seed give the same model. Before, training
    used 10 threads (racy updates) and an uninitialised matrix: F1 0.76, 1.00, 0.92 on identical runs."""
    run = tmp_path / "run"
    write_run(run, sample_docs())
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name / "domain.ftz"
        cmd_train_domain([str(run), "--out", str(out), "--seed", "3", "--dim", "16", "--epoch", "20"])
        outputs.append((out, capsys.readouterr().out.splitlines()[:2]))
    (a, printed_a), (b, printed_b) = outputs
    assert _sha1(a) == _sha1(b)
    assert printed_a == printed_b
    card_b = (b.parent / "domain.md").read_text().replace(str(b), str(a))  # the command line names --out
    assert (a.parent / "domain.md").read_text() == card_b


def test_without_out_the_model_goes_to_the_working_folder_not_the_package(tmp_path, monkeypatch, capsys):
    run = tmp_path / "run"
    write_run(run, sample_docs())
    package_models = Path(str(resources.files("pipeline") / "profiles" / "models"))
    before = {p.name: _sha1(p) for p in package_models.iterdir()}
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert cmd_train_domain([str(run), "--dim", "16"]) == 0
    assert (work / "models" / "domain.ftz").is_file()
    assert f"model written to {work / 'models' / 'domain.ftz'}" in capsys.readouterr().out
    assert {p.name: _sha1(p) for p in package_models.iterdir()} == before


def test_bad_input_is_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="no Parquet shards"):
        cmd_train_domain([str(tmp_path), "--out", str(tmp_path / "m.ftz")])
    run = tmp_path / "fin-only"
    write_run(run, [d for d in sample_docs() if d.domain == "financial"])
    with pytest.raises(ConfigError, match="both labels"):
        cmd_train_domain([str(run), "--out", str(tmp_path / "m.ftz")])
    with pytest.raises(ConfigError, match="no training data"):
        cmd_train_domain(["--out", str(tmp_path / "m.ftz")])
    with pytest.raises(ConfigError, match="file not found"):
        cmd_train_domain(["--ag_news", str(tmp_path / "missing.csv")])
    with pytest.raises(ConfigError, match="LABEL=FILE"):
        cmd_train_domain(["--lines", "finance=x.txt"])


# ---------------------------------------------------------------------------------------------------------
# Another profile's classifier (medical vs general)

MEDICAL = [
    "Patients with community-acquired pneumonia received antibiotics within four hours of admission to hospital.",
    "The randomised trial compared insulin doses and hypoglycaemia in adults with type 2 diabetes.",
    "Blood pressure and heart failure readmission fell after nurse-led telemonitoring of discharged patients.",
    "Children with urinary tract infection were treated with short courses of oral antibiotics.",
    "Arm function after ischaemic stroke improved with task-specific training in the rehabilitation unit.",
    "Serum calcium and kidney function returned to normal after treatment with fluids and glucocorticoids.",
]


def medical_docs() -> list[Document]:
    docs = []
    for i in range(10):
        med = " ".join(MEDICAL[(i + k) % len(MEDICAL)] for k in range(3))
        gen = " ".join(GENERAL[(i + k) % len(GENERAL)] for k in range(3))
        docs.append(Document(id=f"m{i}", text=med, source=("pubmed", "pmc")[i % 2], domain="medical"))
        docs.append(Document(id=f"g{i}", text=gen, source=("wikipedia", "web")[i % 2], domain="general"))
    # financial sources are no label of the medical profile; a web page already moved to medical is left out
    docs.append(Document(id="f0", text=FINANCIAL[0], source="filings", domain="general"))
    docs.append(Document(id="mw", text=MEDICAL[0], source="web", domain="medical"))
    return docs


def test_labels_follow_the_profile():
    from pipeline.profiles import load_profile

    medical = load_profile("medical")
    assert label_of("pubmed", "medical", None, medical) == "medical"
    assert label_of("pmc", "general", None, medical) == "medical"
    assert label_of("filings", "general", None, medical) is None
    assert label_of("web", "general", None, medical) == "general"
    assert label_of("web", "medical", None, medical) is None
    assert label_of("pubmed", "general") is None  # finance: PubMed is no label


def test_ag_news_business_is_left_out_of_a_medical_classifier(tmp_path):
    path = tmp_path / "ag.csv"
    path.write_text('"3","Stocks rise","Shares rose."\n"4","New chip","A chip."\n"2","Match","A goal."\n')
    assert [(d.id, d.label) for d in read_ag_news(str(path), "medical")] == [
        ("ag_news:2", "general"),
        ("ag_news:3", "general"),
    ]


def test_medical_classifier_two_trainings_give_identical_bytes(tmp_path, capsys):
    """The reproducibility rule of the financial model holds for another profile's: same data, same bytes."""
    run = tmp_path / "run"
    write_run(run, medical_docs())
    outputs = []
    for name in ("a", "b"):
        out = tmp_path / name / "domain-medical.ftz"
        cmd_train_domain(
            [
                "--profile",
                "medical",
                str(run),
                "--out",
                str(out),
                "--seed",
                "3",
                "--dim",
                "16",
                "--epoch",
                "20",
            ]
        )
        outputs.append((out, capsys.readouterr().out.splitlines()))
    (a, printed_a), (b, printed_b) = outputs
    assert _sha1(a) == _sha1(b)
    assert printed_a[:2] == printed_b[:2] and "medical = positive" in printed_a[0]
    card = (a.parent / "domain-medical.md").read_text()
    assert "`__label__medical` vs `__label__general`" in card
    assert "Not used (no label): general/filings=1, medical/web=1" in card
    clf = DomainClassifier(str(a), label="medical")
    assert clf.score(MEDICAL[2]) > 0.5 > clf.score(GENERAL[2])
    with pytest.raises(ValueError, match="no __label__financial label"):
        DomainClassifier(
            str(a), label="financial"
        ).setup()  # a medical model is refused where a financial one is expected


def test_medical_profile_refuses_phrasebank_and_unknown_profile(tmp_path):
    with pytest.raises(ConfigError, match="no label in the medical profile"):
        cmd_train_domain(["--profile", "medical", "--phrasebank", str(tmp_path / "x.csv")])
    with pytest.raises(ConfigError, match="unknown profile 'legal'"):
        cmd_train_domain(["--profile", "legal", str(tmp_path)])

"""Domain profiles (pipeline/profiles/__init__.py): selection, the medical profile's config, and what a profile changes in
a run (domains, mix targets, the report's reference table, decontamination sets)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import apache_beam as beam
import pyarrow.parquet as pq
import pytest
import yaml
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from core.errors import ConfigError
from core.schema import Document
from pipeline.config import load_config, parse_config
from pipeline.profiles import FINANCE, profile_config_path, profile_names, resolve_profile
from pipeline.stages.decontam import Decontaminate
from pipeline.stages.mix import compute_mixture
from pipeline.stats import composition
from tests.conftest import run_cli


def medical():
    return load_config(profile_config_path("medical"))


def test_shipped_profiles_and_unknown_name():
    assert profile_names() == ["finance", "medical"]
    assert profile_config_path("finance").endswith("pipeline/profiles/finance.yaml")
    with pytest.raises(ConfigError, match=r"unknown profile 'legal'; choose one of: finance, medical"):
        profile_config_path("legal")


def test_a_config_without_profile_is_finance():
    path = profile_config_path("finance")
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    shipped = parse_config(raw, str(Path(path).parent))
    del raw["profile"]  # a config written before profiles
    cfg = parse_config(raw, str(Path(path).parent))
    assert cfg.config_hash == shipped.config_hash == load_config().config_hash
    assert cfg.profile.name == "finance" and cfg.domains == ("financial", "general")
    assert cfg.profile.reference.model_dump(exclude_none=True) == FINANCE["reference"]
    assert cfg.domain_of("filings") == "financial" and cfg.domain_of("pubmed") == "general"
    assert "pubmedqa" not in cfg.decontam.sets and "phrasebank" in cfg.decontam.sets


def test_the_finance_profile_is_its_file_not_code():
    """finance.yaml holds the finance profile (FinPile's domain, sources, reference table); the code that reads
    profiles names no domain of its own."""
    section = yaml.safe_load(Path(profile_config_path("finance")).read_text(encoding="utf-8"))["profile"]
    assert section == FINANCE and section["domain"] == "financial"
    assert section["reference"]["shares"]["financial/filings"] == 2.04
    tree = ast.parse(
        Path(profile_config_path("finance")).with_name("__init__.py").read_text(encoding="utf-8")
    )
    docstrings = {id(f.body[0].value) for f in ast.walk(tree) if isinstance(f, ast.Module | ast.FunctionDef)}
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and id(n) not in docstrings]
    assert not [v for v in strings if isinstance(v, str) and ("financial" in v or "FinPile" in v)]


def test_medical_profile_config():
    cfg = medical()
    assert cfg.profile.name == "medical" and cfg.domains == ("medical", "general")
    assert {s: cfg.domain_of(s) for s in ("pubmed", "pmc", "web", "wikipedia", "filings", "news")} == {
        "pubmed": "medical",
        "pmc": "medical",
        "web": "general",
        "wikipedia": "general",
        "filings": "general",  # only the profile's domain sources are medical by origin
        "news": "general",
    }
    assert cfg.mix.domain_targets == {"medical": 0.5, "general": 0.5}
    # a web page the classifier moves to medical has a target (else the mixer gives it weight 0)
    assert set(cfg.mix.source_targets["medical"]) == {"pmc", "pubmed", "web"}
    assert cfg.decontam.sets == ["pubmedqa", "medqa", "medmcqa"]
    assert cfg.domain.model_path.endswith("pipeline/profiles/models/domain-medical.ftz")
    assert cfg.profile.reference.label == "The Pile %"
    assert cfg.profile.reference.shares["medical/pmc"] == 14.40


def test_profile_section_errors():
    base = {"inputs": [{"kind": "text", "paths": ["x.txt"]}]}
    with pytest.raises(ConfigError, match="profile.domain must name"):
        parse_config({**base, "profile": {"name": "x", "domain": "general", "domain_sources": []}})
    with pytest.raises(ConfigError, match="unknown key"):
        parse_config({**base, "profile": {"name": "x", "domains": ["a"]}})
    with pytest.raises(ConfigError, match="profile.domain"):  # a domain the schema does not know
        parse_config({**base, "profile": {"name": "x", "domain": "legal", "domain_sources": []}})
    with pytest.raises(ConfigError, match="name no domain of this profile"):
        resolve_profile(
            {
                "name": "x",
                "domain": "legal",
                "domain_sources": [],
                "reference": {"shares": {"financial/web": 1}},
            }
        )
    # a finance domain in a medical config is refused, naming the profile
    with pytest.raises(
        ConfigError, match=r"news: financial: a domain must be one of medical, general \(profile m\)"
    ):
        parse_config(
            {**base, "profile": {"name": "m", "domain": "medical", "domain_sources": []},
             "source_domains": {"news": "financial"}}
        )  # fmt: skip
    with pytest.raises(ConfigError, match="mix.domain_targets: financial is no domain of profile m"):
        parse_config(
            {**base, "profile": {"name": "m", "domain": "medical", "domain_sources": []},
             "mix": {"domain_targets": {"financial": 0.5, "general": 0.5}}}
        )  # fmt: skip
    # another profile's domain targets default to half and half
    cfg = parse_config({**base, "profile": {"name": "m", "domain": "medical", "domain_sources": ["pubmed"]}})
    assert cfg.mix.domain_targets == {"medical": 0.5, "general": 0.5}
    assert cfg.domain_of("pubmed") == "medical" and cfg.domain_of("pmc") == "general"
    assert cfg.decontam.sets == []  # a profile without standard sets


def test_mixture_domains_follow_the_profile():
    cfg = medical()
    mix = compute_mixture({("medical", "pubmed"): 100, ("medical", "pmc"): 400, ("general", "web"): 500},
                          cfg.source_domains, cfg.mix)  # fmt: skip
    assert list(mix["domains"]) == ["medical", "general"]  # no financial row in a medical run
    assert mix["domains"]["medical"]["achieved_share"] == pytest.approx(0.5, abs=0.001)
    fin = compute_mixture({("financial", "news"): 100, ("general", "web"): 100}, {}, {})
    assert list(fin["domains"]) == ["financial", "general"]


def test_composition_shows_the_profiles_reference():
    summary = {"domains": {"medical": 2}, "domain_chars": {"medical": 100}, "domain_tokens": {"medical": 20},
               "domain_weighted": {"medical": 20.0}, "languages": {"en": 2}}  # fmt: skip
    web = {"domains": {"general": 1}, "domain_chars": {"general": 50}, "domain_tokens": {"general": 10},
           "domain_weighted": {"general": 10.0}, "languages": {"en": 1}}  # fmt: skip
    ref = medical().profile.reference.model_dump()
    comp = composition({"pmc": summary, "web": web}, ref, ("medical", "general"))
    (med, gen) = comp["domains"]
    assert med["domain"] == "medical" and med["sources"][0]["reference_share_pct"] == 14.40
    assert med["subtotal"]["reference_share_pct"] == 17.47
    assert gen["sources"][0]["reference_share_pct"] == 18.11
    fin = composition({"pmc": summary}, None, ())  # a run without a profile: FinPile's table, finance order
    assert [d["domain"] for d in fin["domains"]] == ["financial", "general", "medical"]


def test_cli_profile_errors_are_one_line_exit_2():
    proc = run_cli("run", "--profile", "legal", "--output_root", "/nonexistent/x")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "unknown profile 'legal'" in proc.stderr
    proc = run_cli("run", "--profile", "medical", "--config", profile_config_path("finance"))
    assert proc.returncode == 2 and "follows profile finance" in proc.stderr
    assert proc.stderr.strip().count("\n") == 0


@pytest.fixture(scope="module")
def medical_run(tmp_path_factory) -> tuple[Path, str, str]:
    root = tmp_path_factory.mktemp("medical-run")
    proc = run_cli("run", "--profile", "medical", f"--output_root={root}", "--run_name=med")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root / "med", proc.stdout, proc.stderr


def test_medical_default_run_end_to_end(medical_run):
    run_dir, stdout, stderr = medical_run
    # a profile without a reference date span drew an empty legend: matplotlib warned on the user's console
    assert "Warning" not in stderr, stderr[-2000:]
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["config"]["profile"]["name"] == "medical"
    funnel = manifest["funnel"]
    assert funnel["totals"]["balanced"] and all(s["balanced"] for s in funnel["sources"].values())
    # 10 citations: 1 without an abstract skipped, a retraction and an erratum rejected, 1 German abstract
    pubmed = funnel["sources"]["pubmed"]
    assert pubmed["read"] == 9 and pubmed["kept"] == 6
    assert pubmed["rejected"].get("extract/pubmed:retracted") == 1
    assert pubmed["rejected"].get("extract/pubmed:erratum") == 1
    assert funnel["sources"]["pmc"]["kept"] == 3
    rows = pq.read_table(run_dir / "data").to_pylist()
    domains = {(r["domain"], r["source"]) for r in rows}
    assert {d for d, _ in domains} == {"medical", "general"}
    assert ("medical", "pubmed") in domains and ("medical", "pmc") in domains
    assert ("general", "wikipedia") in domains
    web = {r["id"]: dict((e["key"], e["value"]) for e in r["metadata"]) for r in rows if r["source"] == "web"}
    scores = {m.get("file"): float(m["domain_score"]) for m in web.values() if m.get("file")}
    # both saved pages were scored by the medical model; the leaflet scores far above the gardening page
    assert scores["heart-failure-living-well.html"] > 10 * scores["growing-tomatoes.html"]
    assert set(manifest["mixture"]["domains"]) == {"medical", "general"}
    assert manifest["mixture"]["domains"]["medical"]["target_share"] == 0.5
    report = (run_dir / "stats" / "report.md").read_text()
    assert "| The Pile % |" in report and "FinPile %" not in report
    assert "Composition (the shape of The Pile's Table 1)" in report
    stats = json.loads((run_dir / "stats" / "stats.json").read_text())
    assert stats["profile"] == "medical" and stats["reference"]["shares"]["medical/pubmed"] == 3.07
    assert "medical" in stdout


def _cache_pubmedqa(shared_data: Path, cache_dir: Path) -> dict:
    from sources.evalsets import REGISTRY, fetch_set, write_manifest

    data = (shared_data / "medical" / "evalsets" / "pubmedqa_ori_pqal.json").read_bytes()

    class Replay:  # the real file, served as if fetched (no network)
        def get(self, url):
            class R:
                content = data

            return R()

    manifest: dict = {}
    assert fetch_set(REGISTRY["pubmedqa"], str(cache_dir), Replay(), manifest).status == "fetched"
    write_manifest(str(cache_dir), manifest)
    return json.loads(data)


def test_pubmedqa_context_given_as_input_is_dropped(shared_data, isolated_fetch_cache):
    """The medical profile decontaminates against PubMedQA: a citation carrying an item's context is dropped,
    even without the item's question or conclusion; an unrelated abstract is kept."""
    items = _cache_pubmedqa(shared_data, isolated_fetch_cache)
    pmid, item = sorted(items.items())[7]
    context = "\n\n".join(item["CONTEXTS"])
    assert item["LONG_ANSWER"] not in context and item["QUESTION"] not in context
    stage = Decontaminate(medical().decontam)
    assert [(s["name"], s["status"]) for s in stage.report["sets"]] == [
        ("pubmedqa", "used"), ("medqa", "missing"), ("medmcqa", "missing")
    ]  # fmt: skip
    other = (
        "Early mobilisation after admission for pneumonia shortened the hospital stay of older adults by about "
        "two days in a randomised trial of a nurse-led programme, without more falls or readmissions."
    )
    p = TestPipeline()
    kept, rejected, _ = (
        p
        | beam.Create(
            [
                Document(id=f"pubmed:{pmid}", text=f"A title.\n\n{context}", source="pubmed"),
                Document(id="pubmed:1", text=other, source="pubmed"),
            ]
        )
        | stage
    )
    assert_that(kept | "K" >> beam.Map(lambda d: d.id), equal_to(["pubmed:1"]), label="Kept")
    assert_that(
        rejected | "R" >> beam.Map(lambda r: (r.document.id, r.reason)),
        equal_to([(f"pubmed:{pmid}", "decontam:pubmedqa")]),
        label="Rejected",
    )
    p.run().wait_until_finish()


def test_a_model_without_the_profiles_label_is_refused_before_the_run():
    """The financial model in a medical config: one ConfigError when the pipeline is built (it used to fail in
    every worker's setup with a traceback)."""
    from pipeline.stages.domain import ClassifyDomain, default_model_path

    with pytest.raises(ConfigError, match=r"no __label__medical label.*train-domain-classifier --profile"):
        ClassifyDomain({"model_path": default_model_path()}, "medical")
    ClassifyDomain({"model_path": medical().domain.model_path}, "medical")  # the right one loads


def test_inspect_applies_the_profile(capsys):
    from pipeline.cli import main

    path = str(Path(profile_config_path("medical")).parent.parent / "sample/medical/pmc/PMC9900202.nxml")
    assert main(["inspect", path, "--profile", "medical", "--max_chars", "80"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[0])["domain"] == "medical"
    assert main(["inspect", path, "--max_chars", "80"]) == 0  # finance: PMC is general text
    assert json.loads(capsys.readouterr().out.splitlines()[0])["domain"] == "general"
    assert main(["inspect", path, "--profile", "medical", "--config", profile_config_path("finance")]) == 2
    assert "not both" in capsys.readouterr().err

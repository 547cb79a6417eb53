"""Corpus statistics: ``stats/report.md`` and ``stats/stats.json`` for a run folder.

Composition in the shape of BloombergGPT's FinPile Table 1 (documents, characters per document, characters per
token, tokens, share of tokens, per source with domain subtotals and a grand total), the funnel from the
manifest, and language counts. Only the metadata columns of the shards are read (never the text column), and
every shard is checked against the manifest's sha256 first, so a damaged run fails with the shard's name.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from filters.tokens import TOKENIZER_NAME
from pipeline.errors import ConfigError
from pipeline.schema import DOMAINS, SCHEMA_VERSION
from pipeline.write import read_json, write_bytes_atomically, write_json

STATS_COLUMNS = ["source", "domain", "n_chars", "n_tokens", "mix_weight", "lang"]

# BloombergGPT (Wu et al., 2023), Table 1: share of training tokens per FinPile part, for comparison.
FINPILE_PUBLISHED_SHARES = {
    "web": 42.01,
    "news": 5.31,
    "filings": 2.04,
    "press": 1.21,
    "bloomberg": 0.70,
    "financial total": 51.27,
    "public total": 48.73,
    "c4": 19.48,
}


def load_manifest(run_dir: str) -> dict[str, Any]:
    path = FileSystems.join(run_dir, "manifest.json")
    if not FileSystems.exists(path):
        raise ConfigError(
            f"{run_dir} has no manifest.json: is it a finished run folder? (run `python -m pipeline run` first)"
        )
    try:
        return read_json(path)
    except ValueError as exc:
        raise ConfigError(f"{path} is not valid JSON ({exc}); rerun the pipeline with --overwrite") from None


def read_shard_columns(run_dir: str, shard: dict[str, Any]) -> dict[str, list]:
    """The stats columns of one shard, after checking its size and sha256 against the manifest."""
    path = FileSystems.join(run_dir, shard["path"])
    if not FileSystems.exists(path):
        raise ConfigError(f"shard {shard['path']} listed in the manifest is missing from {run_dir}")
    with FileSystems.open(path) as f:
        data = f.read()
    if hashlib.sha256(data).hexdigest() != shard["sha256"]:
        raise ConfigError(
            f"shard {shard['path']} is corrupt: its sha256 differs from the manifest's (rerun the pipeline)"
        )
    import io

    try:
        table = pq.read_table(io.BytesIO(data), columns=STATS_COLUMNS)
    except Exception as exc:  # pyarrow raises ArrowInvalid/OSError subclasses for broken files
        raise ConfigError(f"shard {shard['path']} cannot be read as Parquet: {exc}") from None
    return table.to_pydict()


def composition(run_dir: str, manifest: dict[str, Any]) -> dict[str, Any]:
    """Table 1: per source and domain, docs, chars, tokens, chars/doc, chars/token and share of tokens."""
    acc: dict[tuple[str, str], dict[str, float]] = defaultdict(
        lambda: {"docs": 0, "chars": 0, "tokens": 0, "weighted": 0.0}
    )
    languages: dict[str, int] = defaultdict(int)
    for shard in manifest["shards"]:
        cols = read_shard_columns(run_dir, shard)
        for source, domain, n_chars, n_tokens, weight, lang in zip(
            cols["source"],
            cols["domain"],
            cols["n_chars"],
            cols["n_tokens"],
            cols["mix_weight"],
            cols["lang"],
            strict=True,
        ):
            a = acc[(domain, source)]
            a["docs"] += 1
            a["chars"] += n_chars
            a["tokens"] += n_tokens
            a["weighted"] += n_tokens * weight
            languages[lang] += 1
    total_tokens = sum(a["tokens"] for a in acc.values()) or 1
    total_weighted = sum(a["weighted"] for a in acc.values()) or 1.0

    def row(name: str, a: dict[str, float]) -> dict[str, Any]:
        return {
            "name": name,
            "docs": int(a["docs"]),
            "chars": int(a["chars"]),
            "tokens": int(a["tokens"]),
            "chars_per_doc": round(a["chars"] / a["docs"], 1) if a["docs"] else 0.0,
            "chars_per_token": round(a["chars"] / a["tokens"], 3) if a["tokens"] else 0.0,
            "token_share_pct": round(100 * a["tokens"] / total_tokens, 2),
            "weighted_token_share_pct": round(100 * a["weighted"] / total_weighted, 2),
        }

    domains = []
    grand = {"docs": 0, "chars": 0, "tokens": 0, "weighted": 0.0}
    for domain in DOMAINS:
        sources = sorted((s, a) for (d, s), a in acc.items() if d == domain)
        subtotal = {k: sum(a[k] for _, a in sources) for k in grand}
        for k in grand:
            grand[k] += subtotal[k]
        domains.append(
            {"domain": domain, "sources": [row(s, a) for s, a in sources], "subtotal": row(domain, subtotal)}
        )
    return {
        "domains": domains,
        "total": row("total", grand),
        "languages_kept": dict(sorted(languages.items())),
    }


def compute_stats(run_dir: str) -> dict[str, Any]:
    manifest = load_manifest(run_dir)
    comp = composition(run_dir, manifest)
    funnel = manifest["funnel"]
    languages_seen: dict[str, int] = defaultdict(int)
    for entry in funnel["sources"].values():
        for lang, n in entry.get("languages", {}).items():
            languages_seen[lang] += n
    return {
        "schema_version": SCHEMA_VERSION,
        "run_name": manifest["run_name"],
        "tokenizer": TOKENIZER_NAME,
        "config_hash": manifest["config_hash"],
        "composition": comp,
        "finpile_published_shares_pct": FINPILE_PUBLISHED_SHARES,
        "funnel": funnel,
        "languages_identified": dict(sorted(languages_seen.items(), key=lambda kv: -kv[1])),
        "mixture": manifest.get("mixture", {}),
        "shards": len(manifest["shards"]),
    }


def _fmt(n: float) -> str:
    return f"{n:,.0f}" if isinstance(n, int) or float(n).is_integer() else f"{n:,.2f}"


def render_markdown(stats: dict[str, Any]) -> str:
    """The report as Markdown tables."""
    lines = [f"# Corpus statistics: {stats['run_name']}", ""]
    lines += [
        f"Tokens counted with {stats['tokenizer']}. Config hash `{stats['config_hash']}`, {stats['shards']} shards.",
        "",
    ]
    lines += ["## Composition (the shape of FinPile's Table 1)", ""]
    lines += [
        "| Dataset | Docs | Chars/Doc | Chars/Token | Tokens | % of tokens | % after mixing |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    comp = stats["composition"]
    for dom in comp["domains"]:
        for r in dom["sources"]:
            lines.append(_table_row(r))
        sub = dict(dom["subtotal"], name=f"**{dom['domain']} total**")
        lines.append(_table_row(sub))
    lines.append(_table_row(dict(comp["total"], name="**Grand total**")))
    lines += [
        "",
        "Published FinPile shares of tokens (%): "
        + ", ".join(f"{k} {v:.2f}" for k, v in stats["finpile_published_shares_pct"].items()),
        "",
    ]

    lines += [
        "## Funnel",
        "",
        "| Source | Read | Kept | Rejected | Errors | Adds up |",
        "|---|---:|---:|---:|---:|---|",
    ]
    funnel = stats["funnel"]
    for source, e in funnel["sources"].items():
        lines.append(
            f"| {source} | {e['read']:,} | {e['kept']:,} | {e['rejected_total']:,} | {e['errors_total']:,} | "
            f"{'yes' if e['balanced'] else '**NO**'} |"
        )
    t = funnel["totals"]
    lines.append(
        f"| **total** | {t['read']:,} | {t['kept']:,} | {t['rejected_total']:,} | {t['errors_total']:,} | "
        f"{'yes' if t['balanced'] else '**NO**'} |"
    )
    lines += [
        "",
        "### Rejected by stage and reason",
        "",
        "| Source | Stage/reason | Docs |",
        "|---|---|---:|",
    ]
    for source, e in funnel["sources"].items():
        for reason, n in e["rejected"].items():
            lines.append(f"| {source} | {reason} | {n:,} |")
    lines += ["", "### Errors by stage and kind", "", "| Source | Stage/kind | Records |", "|---|---|---:|"]
    for source, e in funnel["sources"].items():
        for kind, n in e["errors"].items():
            lines.append(f"| {source} | {kind} | {n:,} |")

    lines += [
        "",
        "## Languages identified (all extracted documents)",
        "",
        "| Language | Docs |",
        "|---|---:|",
    ]
    for lang, n in stats["languages_identified"].items():
        lines.append(f"| {lang} | {n:,} |")

    mixture = stats.get("mixture") or {}
    if mixture:
        lines += [
            "",
            "## Mixture",
            "",
            "| Source | Domain | Raw tokens | Weight | Target % | Achieved % |",
            "|---|---|---:|---:|---:|---:|",
        ]
        for source, m in mixture.get("sources", {}).items():
            lines.append(
                f"| {source} | {m['domain']} | {m['raw_tokens']:,} | {m['weight']:.3f} | "
                f"{100 * m['target_share']:.2f} | {100 * m['achieved_share']:.2f} |"
            )
        for note in mixture.get("notes", []):
            lines.append(f"\n> {note}")
    return "\n".join(lines) + "\n"


def _table_row(r: dict[str, Any]) -> str:
    return (
        f"| {r['name']} | {r['docs']:,} | {_fmt(r['chars_per_doc'])} | {r['chars_per_token']:.2f} | {r['tokens']:,} | "
        f"{r['token_share_pct']:.2f} | {r['weighted_token_share_pct']:.2f} |"
    )


def write_report(run_dir: str) -> dict[str, Any]:
    """Compute the statistics of a run and write stats/stats.json and stats/report.md."""
    stats = compute_stats(run_dir)
    write_json(FileSystems.join(run_dir, "stats", "stats.json"), stats)
    write_bytes_atomically(FileSystems.join(run_dir, "stats", "report.md"), render_markdown(stats).encode())
    return stats

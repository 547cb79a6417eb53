"""``stats/report.html``: one self-contained page (CSS inline, PNG plots as base64 data URIs, no scripts).

It shows the same tables as ``report.md`` (the row builders live in ``pipeline.stats``) with the plots inline,
so it opens from a file or an e-mail attachment without a server.
"""

from __future__ import annotations

import base64
import json
from html import escape
from typing import Any

from pipeline import stats as S

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:1150px;
color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}h3{margin-top:1.4em}
table{border-collapse:collapse;margin:.6em 0 1em;font-size:.88em}
th,td{border:1px solid #ddd;padding:.25em .6em;vertical-align:top}
th{background:#f3f5f7;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:600;background:#fafafa}
img{max-width:100%;height:auto;display:block;margin:.6em 0 1.2em;border:1px solid #eee}
.note{color:#555;font-size:.9em}.na{color:#a33}
blockquote{border-left:3px solid #e0a000;margin:.5em 0;padding:.2em .8em;background:#fff8e6}
.sample{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.82em;white-space:pre-wrap;
word-break:break-word;max-width:60em}
table.samples{table-layout:fixed;width:100%}table.samples td{overflow-wrap:anywhere}
td.wrap{overflow-wrap:anywhere;word-break:break-word}
nav a{margin-right:.8em}details{margin:.5em 0}pre{background:#f6f8fa;padding:.8em;overflow:auto;font-size:.8em}
"""


def _img(pngs: dict[str, bytes], name: str, alt: str) -> str:
    if name not in pngs:
        return ""
    data = base64.b64encode(pngs[name]).decode("ascii")
    return f'<img alt="{escape(alt)}" src="data:image/png;base64,{data}">'


def _is_number(cell: str) -> bool:
    text = (
        cell.replace(",", "").replace("+", "").replace("−", "-").replace("%", "").replace(" pp", "").strip()
    )
    if text in ("–", ""):
        return True
    try:
        float(text)
        return True
    except ValueError:
        return False


def _table(header: list[str], rows: list[list[str]], totals: list[bool] | None = None) -> str:
    out = ["<table>", "<tr>" + "".join(f"<th>{escape(h)}</th>" for h in header) + "</tr>"]
    for i, row in enumerate(rows):
        cls = ' class="total"' if totals and totals[i] else ""
        cells = []
        for cell in row:
            text = str(cell)
            bold = text.startswith("**") and text.endswith("**")
            text = text.strip("*")
            num = ' class="n"' if _is_number(text) else ""
            cells.append(f"<td{num}>{'<b>' if bold else ''}{escape(text)}{'</b>' if bold else ''}</td>")
        out.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _code_spans(text: str) -> str:
    """Escaped text with Markdown `code` spans as <code> (the Reproducibility cells are shared with report.md)."""
    parts = escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _na(text: str) -> str:
    return f'<p class="na">{escape(text)}</p>'


def render_html(stats: dict[str, Any], pngs: dict[str, bytes]) -> str:
    """The whole report as one HTML document."""
    title = f"Corpus statistics: {stats['run_name']}"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="note">Tokens counted with <b>{escape(stats["tokenizer"])}</b>. Config hash '
        f"<code>{escape(str(stats['config_hash'] or 'n/a'))}</code>, {stats['shards']} shards. Every number is in "
        "<code>stats.json</code> (layout: <code>pipeline/stats_schema.md</code>).</p>",
        '<nav><a href="#composition">Composition</a><a href="#funnel">Funnel</a><a href="#languages">Languages</a>'
        '<a href="#distributions">Distributions</a><a href="#top">Top values</a><a href="#mixture">Mixture</a>'
        + ('<a href="#compare">Comparison</a>' if stats.get("compare") else "")
        + '<a href="#samples">Samples</a><a href="#reproducibility">Reproducibility</a></nav>',
    ]

    # Composition.
    rows = S.composition_rows(stats)
    parts += [
        f'<h2 id="composition">Composition (the shape of {escape(stats["reference"]["title"])})</h2>',
        _table(S.composition_header(stats), [c for c, _ in rows], [t for _, t in rows]),
        '<p class="note">'
        + escape(stats["reference"]["note"])
        + " “% after mixing” weighs each document by its mix_weight.</p>",
        _img(pngs, "composition", f"Share of tokens per source vs {stats['reference']['title']}"),
    ]

    # Funnel.
    parts.append('<h2 id="funnel">Funnel</h2>')
    funnel = stats.get("funnel")
    if not funnel:
        parts.append(_na("Not available: no manifest.json (a folder of shards, not a run folder)."))
    else:
        ft = stats["funnel_tokens"]
        frows, ftot = [], []
        for source, e in funnel["sources"].items():
            frows.append(
                [source, f"{e['read']:,}", f"{e['kept']:,}", f"{e['rejected_total']:,}", f"{e['errors_total']:,}",
                 "yes" if e["balanced"] else "NO", f"{ft[source]['kept_tokens']:,}",
                 f"{ft[source]['rejected_tokens']:,}"]
            )  # fmt: skip
            ftot.append(False)
        t = funnel["totals"]
        frows.append(
            ["total", f"{t['read']:,}", f"{t['kept']:,}", f"{t['rejected_total']:,}", f"{t['errors_total']:,}",
             "yes" if t["balanced"] else "NO", f"{sum(f['kept_tokens'] for f in ft.values()):,}",
             f"{sum(f['rejected_tokens'] for f in ft.values()):,}"]
        )  # fmt: skip
        ftot.append(True)
        parts += [
            _table(
                ["Source", "Read", "Kept", "Rejected", "Errors", "Adds up", "Kept tokens", "Rejected tokens"],
                frows,
                ftot,
            ),  # fmt: skip
            _img(pngs, "funnel", "Funnel per source"),
            '<p class="note">Tokens are counted on each text as it left the pipeline (kept: after cleaning and PII '
            "redaction; rejected: as the rejecting stage saw it). Errors have no text.</p>",
            "<h3>Through each stage</h3>",
            f'<p class="note">{escape(S.STAGE_TABLE_NOTE)}</p>',
            _table(
                [
                    "Source",
                    "Stage",
                    "Docs in",
                    "Rejected",
                    "Errors",
                    "Docs out",
                    "Tokens in",
                    "Tokens rejected",
                ],
                S.stage_rows(stats),
            ),  # fmt: skip
            "<h3>Rejected by stage and reason</h3>",
            _table(["Source", "Stage/reason", "Docs", "Tokens"], S.reason_rows(stats)),
            "<h3>Errors by stage and kind</h3>",
            _table(
                ["Source", "Stage/kind", "Records"],
                [[s, k, f"{n:,}"] for s, e in funnel["sources"].items() for k, n in e["errors"].items()],
            ),
            "<h3>Skipped on purpose by reason</h3>",
            '<p class="note">Records a reader left out by design (not articles, request records, subreddits '
            "outside the allow-list ...): never documents, so not in Read; counted here.</p>",
            _table(["Source", "Reason", "Records"], S.skipped_rows(funnel)),
            f'<p class="note">{S.lost_note(funnel)}</p>',
        ]

    # Languages.
    parts.append('<h2 id="languages">Languages identified (all extracted documents)</h2>')
    seen = stats.get("languages_identified")
    kept = stats["distributions"][S.ALL]["languages"]
    if seen is None:
        parts.append(_na("Identified languages are not available without a manifest; kept documents only."))
        langs = list(kept)
    else:
        langs = list(seen) + [k for k in kept if k not in seen]
    parts.append(
        _table(
            ["Language", "Identified", "Kept"],
            [[k, "–" if seen is None else f"{seen.get(k, 0):,}", f"{kept.get(k, 0):,}"] for k in langs],
        )
    )
    parts.append(_img(pngs, "languages", "Languages"))

    # Distributions.
    parts += [
        '<h2 id="distributions">Distributions</h2>',
        '<p class="note">Percentiles from Beam\'s approximate quantiles (exact on small corpora); histograms use '
        "fixed bins (lengths: 4 log bins per decade). Lengths in characters and cl100k tokens.</p>",
        _table(
            [
                "Source",
                "Docs",
                "Chars p10",
                "p50",
                "p90",
                "max",
                "Tokens p10",
                "p50",
                "p90",
                "max",
                "Quality p10",
                "p50",
                "Mean lang conf.",
            ],
            S.distribution_rows(stats),
            [r[0] == "**all**" for r in S.distribution_rows(stats)],
        ),  # fmt: skip
        _img(pngs, "lengths", "Document length"),
        _img(pngs, "scores", "Quality score, language confidence and domain score"),
    ]
    if not stats["distributions"][S.ALL]["domain_score"]["docs"]:
        parts.append(_na('Domain score: no document carries metadata["domain_score"] in this corpus.'))
    else:
        rows = S.domain_rows(stats)
        parts += [
            "<h3>Domain scores</h3>",
            _table(S.domain_header(stats), rows, [r[0] == "**all**" for r in rows]),
        ]
    parts += [
        _img(pngs, "signals", "Quality signals"),
        "<h3>Dedup cluster sizes (kept documents)</h3>",
        _img(pngs, "clusters", "Dedup cluster sizes"),
        _table(
            ["Cluster size", "Docs"],
            [[k, f"{n:,}"] for k, n in stats["distributions"][S.ALL]["dedup_cluster_sizes"].items()],
        ),
        "<h3>Dates</h3>",
        f"<p>{escape(S.dates_sentence(stats))}</p>",
        _img(pngs, "dates", "Dates"),
        '<h3 id="time">Point in time (leakage audit)</h3>',
        "<ul>" + "".join(f"<li>{escape(t)}</li>" for t in S.time_sentences(stats)) + "</ul>",
        _img(pngs, "time", "available_at per source"),
    ]
    if S.leak_rows(stats):
        parts.append(_table(["Document", "available_at", "Later years", "Excerpt"], S.leak_rows(stats)))

    # Top values.
    parts += ['<h2 id="top">Top values</h2>', _img(pngs, "top", "Top values")]
    for kind, ktitle in S.TOP_TITLES.items():
        per_source = stats["top"][kind]
        if not per_source.get(S.ALL):
            parts.append(f"<h3>{escape(ktitle)}</h3>" + _na("None in this corpus."))
            continue
        entry = per_source[S.ALL]
        by_source = ", ".join(f"{s}: {v['distinct']:,}" for s, v in per_source.items() if s != S.ALL)
        parts += [
            f"<h3>{escape(ktitle)}</h3>",
            f'<p class="note">{entry["distinct"]:,} distinct (per source: {escape(by_source)}).</p>',
            _table([ktitle, "Docs"], [[t["value"], f"{t['docs']:,}"] for t in entry["top"][:15]]),
        ]

    # Decontamination.
    parts.append('<h2 id="decontam">Decontamination</h2>')
    dlines = [line for line in S.decontam_lines(stats.get("decontam")) if line]
    parts.append("<ul>" + "".join(f"<li>{_code_spans(line.lstrip('- '))}</li>" for line in dlines) + "</ul>")

    # Mixture.
    parts.append('<h2 id="mixture">Mixture</h2>')
    mixture = stats.get("mixture")
    if not mixture:
        parts.append(_na("Not available: no mixture in the manifest."))
    else:
        mrows = S.mixture_rows(mixture)
        parts += [
            _table(
                ["Source", "Domain", "Raw tokens", "Weight", "Target %", "Achieved %"],
                mrows,
                [r[0].startswith("**") for r in mrows],
            ),  # fmt: skip
            _img(pngs, "mixture", "Mixture"),
        ]
        parts += [f"<blockquote>{escape(n)}</blockquote>" for n in mixture.get("notes", [])]

    if stats.get("training_data"):
        parts.append('<h2 id="training">Training data</h2>')
    for t in stats.get("training_data") or []:
        parts += [
            f"<p>{escape(S.training_sentence(t).replace('`', ''))}</p>",
            _table(S.TRAINING_HEADER, S.training_rows(t)),
        ]

    # Comparison.
    cmp = stats.get("compare")
    if cmp:
        crows = S.compare_rows(cmp)
        parts += [
            f'<h2 id="compare">Compared with {escape(cmp["other_run_name"])}</h2>',
            f'<p class="note">Other run: <code>{escape(cmp["other_run"])}</code> (config hash '
            f"<code>{escape(str(cmp['other_config_hash'] or 'n/a'))}</code>). Δ = this run − other.</p>",
            _table(S.COMPARE_HEADER, crows, [r[0] == "total" for r in crows]),
            _img(pngs, "compare", "Comparison"),
        ]

    # Samples.
    parts += [
        '<h2 id="samples">Samples</h2>',
        f'<p class="note">Seeded random documents per source (the same on every run), the first '
        f"{S.SAMPLE_CHARS} characters, PII redacted.</p>",
    ]
    if not stats["samples"]:
        parts.append(_na("None (--samples 0)."))
    for source, kinds in stats["samples"].items():
        srows = [
            ["kept", s["id"], S.short_label(s["title"]) or s["url"], s["text"]] for s in kinds["kept"]
        ] + [
            [
                f"rejected: {s['stage']}/{s['reason']}",
                s["id"],
                S.short_label(s["title"]) or s["url"],
                s["text"],
            ]
            for s in kinds["rejected"]
        ]
        parts += [f"<h3>{escape(source)}</h3>", _sample_table(srows)]

    # Reproducibility.
    parts += ['<h2 id="reproducibility">Reproducibility</h2>', "<table>"]
    parts += [f"<tr><th>{escape(k)}</th><td>{_code_spans(v)}</td></tr>" for k, v in S.repro_items(stats)]
    parts.append("</table>")
    repro = stats["reproducibility"]
    if repro.get("available"):
        inputs = repro.get("inputs") or []
        parts += [
            f"<details><summary>Input files ({len(inputs)})</summary>",
            _table(
                ["Input", "Kind", "Path", "Bytes"],
                [
                    [
                        i.get("input", ""),
                        i.get("kind", ""),
                        i.get("path", ""),
                        f"{int(i.get('bytes') or 0):,}",
                    ]
                    for i in inputs
                ],
            ),  # fmt: skip
            "</details>",
            "<details><summary>Config</summary><pre>"
            + escape(json.dumps(repro.get("config"), indent=2, sort_keys=True))
            + "</pre></details>",
        ]
    parts.append("</body></html>")
    return "\n".join(p for p in parts if p) + "\n"


def _sample_table(rows: list[list[str]]) -> str:
    # Fixed column widths: a long URL wraps inside its column instead of squeezing the text to one word a line.
    out = [
        '<table class="samples"><colgroup><col style="width:15%"><col style="width:16%"><col style="width:21%">'
        '<col style="width:48%"></colgroup>',
        "<tr><th>Fate</th><th>Id</th><th>Title / URL</th><th>Text</th></tr>",
    ]
    for fate, doc_id, title, text in rows:
        out.append(
            f"<tr><td>{escape(fate)}</td><td><code>{escape(doc_id)}</code></td>"
            f'<td class="wrap">{escape(title)}</td><td class="sample">{escape(text)}</td></tr>'
        )
    out.append("</table>")
    return "\n".join(out)

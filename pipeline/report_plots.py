"""The report's plots: matplotlib (Agg backend) figures rendered to PNG bytes from ``stats.json`` content.

Each function takes the stats dict and returns PNG bytes, or None when there is nothing to draw. Lengths
are drawn on log axes (a tweet and a 10-K differ by four orders of magnitude); every axis says its unit.
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter  # noqa: E402

from pipeline.profiles import DEFAULT_DOMAIN  # noqa: E402

ALL = "all"
STAGE_COLOURS = {
    "kept": "#2ca02c",
    "read": "#7f7f7f",
    "extract": "#ff7f0e",
    "language": "#9467bd",
    "quality": "#d62728",
    "pii": "#e377c2",
    "exact_dedup": "#1f77b4",
    "near_dedup": "#17becf",
    "decontam": "#8c564b",
    "boilerplate": "#bcbd22",
    "domain": "#aec7e8",
    "errors": "#000000",
}
DPI = 110


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


# One colour per source in every report (not by position: a report with no c4 must not shift the others), none
# of them the green of "kept", the red of "quality" or the black of "errors" in the funnel plots.
SOURCE_COLOURS = {
    "filings": "#1f4e79",
    "press": "#e69f00",
    "news": "#56b4e9",
    "web": "#8c6d31",
    "social": "#a05195",
    "wikipedia": "#7f7f7f",
    "c4": "#cc79a7",
    "pubmed": "#d55e00",
    "pmc": "#009e73",
}
# none of them a fixed source's colour, so a source of a new profile never looks like web or filings
_FALLBACK_COLOURS = ["#393b79", "#637939", "#843c39", "#7b4173", "#5254a3", "#6b6ecf", "#bd9e39", "#17becf"]


def _source_colours(sources: list[str]) -> dict[str, Any]:
    """Fixed colour per source name; unknown names get a fallback chosen by the name itself (stable)."""
    import zlib

    return {
        s: SOURCE_COLOURS.get(s) or _FALLBACK_COLOURS[zlib.crc32(s.encode()) % len(_FALLBACK_COLOURS)]
        for s in sources
    }


def _plain_number(x: float, _pos: int) -> str:
    """Tick label on a log axis: 10, 300, 1,000, 0.5 (not matplotlib's "6x10^1")."""
    if x >= 1:
        return f"{x:,.0f}"
    return f"{x:g}"


def _log_axis(ax, which: str = "x") -> None:
    """Log scale with plain-number labels on the decades and unlabelled minor ticks."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    (ax.set_xscale if which == "x" else ax.set_yscale)("log")
    axis.set_major_locator(LogLocator(base=10))
    axis.set_major_formatter(FuncFormatter(_plain_number))
    axis.set_minor_formatter(NullFormatter())


def _thousands(x: float, _pos: int) -> str:
    return f"{x:,.0f}"


def composition_plot(stats: dict[str, Any]) -> bytes | None:
    """Share of tokens per source (raw and after mixing) beside the profile's reference share (FinPile's)."""
    rows = [r for d in stats["composition"]["domains"] for r in d["sources"]]
    if not rows:
        return None
    names = [f"{d['domain']}/{r['name']}" for d in stats["composition"]["domains"] for r in d["sources"]]
    fig, ax = plt.subplots(figsize=(8, 0.55 * len(rows) + 1.6))
    y = range(len(rows))
    h = 0.27
    ax.barh(
        [i - h for i in y],
        [r["token_share_pct"] for r in rows],
        h,
        label="this corpus (raw)",
        color="#1f77b4",
    )
    ax.barh(
        list(y),
        [r["weighted_token_share_pct"] for r in rows],
        h,
        label="this corpus (after mixing)",
        color="#aec7e8",
    )
    published = [r.get("reference_share_pct") for r in rows]
    reference = stats.get("reference") or {}
    ax.barh(
        [i + h for i in y], [p or 0 for p in published], h, label=f"published ({reference.get('title', 'reference')})",
        color="#ff7f0e",
    )  # fmt: skip
    for i, p in enumerate(published):
        if p is None:
            ax.text(0.3, i + h, "no published share", va="center", fontsize=7, color="#888888")
    ax.set_yticks(list(y), names)
    ax.invert_yaxis()
    ax.set_xlabel("share of tokens (%)")
    ax.set_title(f"Composition: share of tokens per source ({stats['tokenizer']})")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def funnel_plot(stats: dict[str, Any]) -> bytes | None:
    """Per source, what became of the documents and tokens read: kept, rejected per stage, errors (100% bars)."""
    ft = stats.get("funnel_tokens")
    funnel = stats.get("funnel")
    if not ft or not funnel:
        return None
    sources = list(funnel["sources"])
    stages = [s for s in STAGE_COLOURS if s not in ("kept", "errors", "read")]
    extra = sorted({k.split("/")[0] for e in funnel["sources"].values() for k in e["rejected"]} - set(stages))
    stages += extra
    fig, axes = plt.subplots(1, 2, figsize=(13, 0.6 * len(sources) + 2.4))
    for ax, unit in zip(axes, ("documents", "tokens"), strict=True):
        labels = []
        for i, source in enumerate(sources):
            e, t = funnel["sources"][source], ft[source]
            if unit == "documents":
                total = e["read"]
                parts = [("kept", e["kept"])]
                for stage in stages:
                    parts.append(
                        (stage, sum(n for k, n in e["rejected"].items() if k.split("/")[0] == stage))
                    )
                parts.append(("errors", e["errors_total"]))
            else:
                parts = [("kept", t["kept_tokens"])]
                for stage in stages:
                    parts.append(
                        (
                            stage,
                            sum(
                                v["tokens"]
                                for k, v in t["rejected_by_reason"].items()
                                if k.split("/")[0] == stage
                            ),
                        )
                    )
                total = sum(n for _, n in parts)
            labels.append(f"{source}\n({total:,} {'read' if unit == 'documents' else 'tokens'})")
            left = 0.0
            for name, n in parts:
                if not n or not total:
                    continue
                width = 100 * n / total
                ax.barh(i, width, left=left, color=STAGE_COLOURS.get(name, "#bcbd22"), edgecolor="white")
                if width >= 7:
                    ax.text(
                        left + width / 2,
                        i,
                        f"{width:.0f}%",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white",
                    )
                left += width
        ax.set_yticks(range(len(sources)), labels, fontsize=8)
        ax.set_xlim(0, 100)
        ax.set_xlabel(f"share of {unit} read (%)" if unit == "documents" else "share of tokens (%)")
        ax.set_title(f"{unit.capitalize()}: kept vs dropped by stage")
        ax.grid(axis="x", alpha=0.3)
        ax.invert_yaxis()
    used = ["kept", *stages, "errors"]
    handles = [plt.Rectangle((0, 0), 1, 1, color=STAGE_COLOURS.get(s, "#bcbd22")) for s in used]
    fig.legend(handles, [s if s != "kept" else "kept" for s in used], loc="lower center", ncol=len(used), fontsize=8,
               bbox_to_anchor=(0.5, -0.06), title="rejected at stage")  # fmt: skip
    fig.suptitle("Funnel per source (tokens of errors are unknown: they have no text)", fontsize=11)
    fig.tight_layout()
    return _png(fig)


def _step(ax, edges: list[float], counts: list[int], label: str, colour, normalise: bool = True) -> None:
    total = sum(counts)
    if not total:
        return
    values = [c / total * 100 if normalise else c for c in counts]
    ax.stairs(values, edges, label=f"{label} ({total:,})", color=colour, linewidth=1.6)


def lengths_plot(stats: dict[str, Any]) -> bytes | None:
    """Document length in characters and tokens: stacked log-bin histogram and percentile ranges per source."""
    dist = stats["distributions"]
    sources = [s for s in dist if s != ALL and dist[s]["docs"]]
    if not sources:
        return None
    colours = _source_colours(sources)
    fig, axes = plt.subplots(2, 2, figsize=(13, 4.2 + 0.45 * len(sources) + 1.5),
                             gridspec_kw={"height_ratios": [4.2, 0.45 * len(sources) + 1.0]})  # fmt: skip
    for col, (field, unit) in enumerate((("n_chars", "characters"), ("n_tokens", "tokens"))):
        ax = axes[0][col]
        edges = [
            max(e, 0.5) for e in dist[ALL][field]["histogram"]["edges"]
        ]  # [0, 1) drawn from 0.5 on log x
        widths = [b - a for a, b in zip(edges[:-1], edges[1:], strict=True)]
        bottom = [0] * len(widths)
        for s in sources:
            counts = dist[s][field]["histogram"]["counts"]
            ax.bar(edges[:-1], counts, widths, bottom=bottom, align="edge", color=colours[s],
                   label=f"{s} ({dist[s]['docs']:,})", edgecolor="white", linewidth=0.4)  # fmt: skip
            bottom = [a + b for a, b in zip(bottom, counts, strict=True)]
        _log_axis(ax, "x")
        ax.set_xlabel(f"document length ({unit}, log scale)")
        ax.set_ylabel("documents")
        ax.set_title(f"Document length in {unit} (4 bins per decade)")
        ax.grid(alpha=0.3)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        _trim_x(ax, [dist[ALL][field]["histogram"]])
        ax = axes[1][col]
        for i, s in enumerate(sources):
            p = dist[s][field]["percentiles"]
            if not p:
                continue
            c = colours[s]
            ax.plot([max(p["p0"], 0.5), max(p["p100"], 0.5)], [i, i], color=c, linewidth=1)
            ax.plot([max(p["p10"], 0.5), max(p["p90"], 0.5)], [i, i], color=c, linewidth=4, alpha=0.5)
            ax.plot([max(p["p25"], 0.5), max(p["p75"], 0.5)], [i, i], color=c, linewidth=8)
            ax.plot([max(p["p50"], 0.5)], [i], marker="|", color="black", markersize=14, markeredgewidth=2)
        ax.set_yticks(range(len(sources)), sources)
        ax.set_ylim(len(sources) - 0.5, -0.5)
        _log_axis(ax, "x")
        ax.set_xlim(*axes[0][col].get_xlim())
        ax.set_xlabel(f"{unit} (log scale): thin line min–max, light p10–p90, thick p25–p75, black median")
        ax.grid(axis="x", alpha=0.3)
    axes[0][1].legend(fontsize=8, title="source (docs)")
    fig.tight_layout()
    return _png(fig)


def _trim_x(ax, histograms: list[dict[str, Any]]) -> None:
    """Limit the x axis to the occupied bins of any histogram."""
    lo, hi = None, None
    for h in histograms:
        for i, c in enumerate(h["counts"]):
            if c:
                lo = i if lo is None else min(lo, i)
                hi = i if hi is None else max(hi, i)
    if lo is not None:
        edges = histograms[0]["edges"]
        if ax.get_xscale() == "log":
            ax.set_xlim(max(edges[lo], 0.5) / 1.5, edges[hi + 1] * 1.5)
        else:  # at least a tenth of the full range, so a single occupied bin is not a full-width block
            span = edges[-1] - edges[0]
            lo_x, hi_x = edges[max(lo - 1, 0)], edges[min(hi + 2, len(edges) - 1)]
            if hi_x - lo_x < span / 10:
                lo_x = max(edges[0], hi_x - span / 10)
            ax.set_xlim(lo_x, hi_x)


def scores_plot(stats: dict[str, Any]) -> bytes | None:
    """Quality score, language-identification confidence and domain score per source."""
    dist = stats["distributions"]
    sources = [s for s in dist if s != ALL and dist[s]["docs"]]
    if not sources:
        return None
    colours = _source_colours(sources)
    panels = [
        ("quality_score", "quality score (mean margin inside the rules, 0-1)"),
        ("lang_score", "language confidence"),
    ]
    if dist[ALL]["domain_score"]["docs"]:
        panels.append(("domain_score", f"{stats.get('domain') or DEFAULT_DOMAIN}-domain score"))
    fig, axes = plt.subplots(1, len(panels), figsize=(5 * len(panels), 4))
    for ax, (field, label) in zip(axes, panels, strict=True):
        for s in sources:
            h = dist[s][field]["histogram"]
            _step(ax, h["edges"], h["counts"], s, colours[s])
        ax.set_xlabel(f"{label} (0–1)")
        ax.set_ylabel("% of the source's documents")
        ax.set_title(label.split(" (")[0].capitalize())
        ax.grid(alpha=0.3)
        _trim_x(ax, [dist[s][field]["histogram"] for s in sources])
    axes[0].legend(fontsize=8, title="source (docs)")
    fig.tight_layout()
    return _png(fig)


SIGNAL_LABELS = {
    "mean_word_length": "mean word length (characters)",
    "frac_alpha_words": "fraction of words with a letter",
    "symbol_ratio": "non-alphanumeric share of non-space chars",
    "numeric_token_ratio": "fraction of numeric tokens",
    "dup_line_frac": "fraction of duplicated lines",
}


def signals_plot(stats: dict[str, Any]) -> bytes | None:
    """The main quality signals (Gopher/C4/finance ratios) per source, small multiples."""
    dist = stats["distributions"]
    sources = [s for s in dist if s != ALL and dist[s]["docs"]]
    names = [n for n in dist[ALL]["signals"] if dist[ALL]["signals"][n]["docs"]]
    if not sources or not names:
        return None
    colours = _source_colours(sources)
    cols = 3
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(14, 3.6 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        for s in sources:
            h = dist[s]["signals"][name]["histogram"]
            _step(ax, h["edges"], h["counts"], s, colours[s])
        ax.set_xlabel(SIGNAL_LABELS.get(name, name))
        ax.set_ylabel("% of documents")
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
        _trim_x(ax, [dist[s]["signals"][name]["histogram"] for s in sources])
    for ax in list(axes.flat)[len(names) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, title="source (docs)")
    fig.suptitle("Quality signals of kept documents", fontsize=11)
    fig.tight_layout()
    return _png(fig)


def languages_plot(stats: dict[str, Any]) -> bytes | None:
    """Documents per language: all identified (funnel) and kept."""
    seen = stats.get("languages_identified") or {}
    kept = stats["distributions"][ALL]["languages"]
    langs = sorted(set(seen) | set(kept), key=lambda k: -(seen.get(k) or kept.get(k, 0)))[:15]
    if not langs:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(langs) + 1.5))
    y = list(range(len(langs)))
    if seen:
        ax.barh([i - 0.2 for i in y], [seen.get(k, 0) for k in langs], 0.4, label="identified (all extracted)",
                color="#c7c7c7")  # fmt: skip
    ax.barh(
        [i + 0.2 if seen else i for i in y],
        [kept.get(k, 0) for k in langs],
        0.4,
        label="kept",
        color="#2ca02c",
    )
    ax.set_yticks(y, langs)
    ax.invert_yaxis()
    _log_axis(ax, "x")
    ax.set_xlabel("documents (log scale)")
    ax.set_title("Languages (top 15)")
    ax.legend(fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def clusters_plot(stats: dict[str, Any]) -> bytes | None:
    """Kept documents by the size of the near-duplicate cluster they stood for."""
    sizes = stats["distributions"][ALL]["dedup_cluster_sizes"]
    if not sizes:
        return None
    keys = sorted(sizes, key=int)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    ax.bar([str(k) for k in keys], [sizes[k] for k in keys], color="#1f77b4")
    _log_axis(ax, "y")
    ax.set_xlabel("dedup cluster size (documents in the cluster, kept one included)")
    ax.set_ylabel("kept documents (log scale)")
    ax.set_title("Dedup cluster sizes")
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def dates_plot(stats: dict[str, Any]) -> bytes | None:
    """Documents per year (stacked by source) and per month."""
    dist = stats["distributions"]
    sources = [s for s in dist if s != ALL and dist[s]["dates"]["by_year"]]
    if not sources:
        return None
    colours = _source_colours([s for s in dist if s != ALL])
    years = sorted({y for s in sources for y in dist[s]["dates"]["by_year"]})
    months = sorted(dist[ALL]["dates"]["by_month"])
    fig, axes = plt.subplots(1, 2, figsize=(13, 4))
    bottom = [0] * len(years)
    for s in sources:
        values = [dist[s]["dates"]["by_year"].get(y, 0) for y in years]
        axes[0].bar(years, values, bottom=bottom, label=s, color=colours[s])
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    axes[0].set_xlabel("year of publication / filing")
    axes[0].set_ylabel("documents")
    ref = stats.get("reference") or {}
    span = ref.get("span")
    spans = f" ({ref.get('span_name')} spans {span[0]}–{span[1]})" if span else ""
    axes[0].set_title(f"Documents per year{spans}; undated: {dist[ALL]['dates']['undated']:,}")
    axes[0].legend(fontsize=8)
    axes[0].tick_params(axis="x", rotation=45)
    axes[0].yaxis.set_major_formatter(FuncFormatter(_thousands))
    xs = [int(m[:4]) + (int(m[5:7]) - 1) / 12 for m in months]
    axes[1].bar(xs, [dist[ALL]["dates"]["by_month"][m] for m in months], width=1 / 12, align="edge",
                color="#1f77b4")  # fmt: skip
    if span:
        axes[1].axvspan(
            span[0],
            span[1] + 1,
            color="#ff7f0e",
            alpha=0.08,
            label=f"{ref.get('span_name')} span {span[0]}–{span[1]}",
        )
    axes[1].set_xlim(min(xs) - 0.5, max(xs) + 0.6)
    _log_axis(axes[1], "y")
    if span:  # the only labelled artist of this panel
        axes[1].legend(fontsize=8)
    axes[1].set_xlabel("month (each bar one calendar month)")
    axes[1].set_ylabel("documents (log scale)")
    axes[1].set_title("Documents per month (all sources)")
    axes[1].grid(alpha=0.3)
    fig.tight_layout()
    return _png(fig)


def _year_fraction(iso: str) -> float:
    """2024-01-20... -> 2024.05 (month and day; enough for a timeline)."""
    day = int(iso[8:10]) if len(iso) >= 10 else 1
    return int(iso[:4]) + (int(iso[5:7]) - 1) / 12 + (day - 1) / 365


def time_plot(stats: dict[str, Any]) -> bytes | None:
    """Leakage audit: one timeline per source, a dot per month of ``available_at`` sized by its documents,
    the documents without a time in the label, and the cut-off as a line."""
    audit = stats.get("time") or {}
    by_source = audit.get("by_source") or {}
    if not any(v["by_month"] for v in by_source.values()):
        return None
    colours = _source_colours(list(by_source))
    names = list(by_source)
    fig, ax = plt.subplots(figsize=(13, 1.2 + 0.6 * len(names)))
    biggest = max(n for v in by_source.values() for n in v["by_month"].values())
    xs_all = []
    for row, source in enumerate(names):
        months = by_source[source]["by_month"]
        xs = [_year_fraction(m) for m in months]
        xs_all += xs
        sizes = [12 + 300 * (n / biggest) ** 0.5 for n in months.values()]
        ax.scatter(xs, [row] * len(xs), s=sizes, color=colours[source], alpha=0.75, edgecolors="none")
    if audit.get("as_of"):
        cut = _year_fraction(audit["as_of"])
        xs_all.append(cut)
        ax.axvline(cut, color="#d62728", linestyle="--", label=f"as_of {audit['as_of']}")
        ax.legend(fontsize=8, loc="upper left")
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels([f"{s} ({by_source[s]['without_time']:,} without a time)" for s in names])
    ax.set_ylim(-0.7, len(names) - 0.3)
    ax.set_xlim(min(xs_all) - 0.5, max(xs_all) + 0.5)
    ax.set_xlabel("available_at (UTC); one dot per calendar month, area ~ documents")
    ax.set_title(
        f"When the kept documents became public, per source; without a time: {audit['without_time']:,}"
    )
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    return _png(fig)


TOP_TITLES = {
    "web_domains": "Web domains (web, news, press, c4)",
    "companies": "EDGAR companies",
    "form_types": "EDGAR form types",
    "subreddits": "Subreddits",
    "cashtags": "Cashtags",
}


def top_plot(stats: dict[str, Any]) -> bytes | None:
    """Top values (all sources): web domains, EDGAR companies and form types, subreddits, cashtags."""
    kinds = [k for k in TOP_TITLES if stats["top"][k].get(ALL)]
    if not kinds:
        return None
    cols = min(len(kinds), 3)
    rows = (len(kinds) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 4.6 * rows), squeeze=False)
    for ax, kind in zip(axes.flat, kinds, strict=False):
        entry = stats["top"][kind][ALL]
        top = entry["top"][:12]
        labels = [t["value"] if len(t["value"]) <= 34 else t["value"][:33] + "…" for t in top]
        ax.barh(range(len(top)), [t["docs"] for t in top], color="#1f77b4")
        ax.set_yticks(range(len(top)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("documents")
        ax.set_title(f"{TOP_TITLES[kind]} ({entry['distinct']:,} distinct)", fontsize=10)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
        ax.set_ylim(11.6, -0.6)  # twelve slots, so a short list keeps thin bars
        ax.grid(axis="x", alpha=0.3)
    for ax in list(axes.flat)[len(kinds) :]:
        ax.axis("off")
    fig.tight_layout()
    return _png(fig)


def mixture_plot(stats: dict[str, Any]) -> bytes | None:
    """Target vs achieved share of tokens per source after mixing."""
    mixture = stats.get("mixture")
    if not mixture or not mixture.get("sources"):
        return None
    sources = list(mixture["sources"])
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(sources) + 1.6))
    y = list(range(len(sources)))
    ax.barh([i - 0.2 for i in y], [100 * mixture["sources"][s]["target_share"] for s in sources], 0.4,
            label="target", color="#c7c7c7")  # fmt: skip
    ax.barh([i + 0.2 for i in y], [100 * mixture["sources"][s]["achieved_share"] for s in sources], 0.4,
            label="achieved", color="#2ca02c")  # fmt: skip
    for i, s in enumerate(sources):
        m = mixture["sources"][s]
        note = f"weight {m['weight']:.2f}" + (" (capped)" if m.get("capped") else "")
        ax.text(
            max(100 * m["target_share"], 100 * m["achieved_share"]) + 0.5, i, note, va="center", fontsize=7
        )
    ax.set_yticks(y, sources)
    ax.invert_yaxis()
    ax.set_xlabel("share of tokens after mixing (%)")
    ax.set_title("Mixture: target vs achieved share per source")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def compare_plot(stats: dict[str, Any]) -> bytes | None:
    """Tokens per source in this run and the compared run."""
    cmp = stats.get("compare")
    if not cmp:
        return None
    sources = list(cmp["sources"])
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(sources) + 1.6))
    y = list(range(len(sources)))
    ax.barh([i - 0.2 for i in y], [cmp["sources"][s]["other_tokens"] for s in sources], 0.4,
            label=f"other: {cmp['other_run_name']}", color="#c7c7c7")  # fmt: skip
    ax.barh([i + 0.2 for i in y], [cmp["sources"][s]["tokens"] for s in sources], 0.4,
            label=f"this: {stats['run_name']}", color="#1f77b4")  # fmt: skip
    ax.set_yticks(y, sources)
    ax.invert_yaxis()
    ax.set_xscale("symlog")
    ax.set_xlabel("tokens (log scale)")
    ax.set_title("Tokens per source: this run vs the other")
    ax.legend(fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


PLOTS = {
    "composition": composition_plot,
    "funnel": funnel_plot,
    "languages": languages_plot,
    "lengths": lengths_plot,
    "scores": scores_plot,
    "signals": signals_plot,
    "clusters": clusters_plot,
    "dates": dates_plot,
    "time": time_plot,
    "top": top_plot,
    "mixture": mixture_plot,
    "compare": compare_plot,
}


def make_plots(stats: dict[str, Any]) -> dict[str, bytes]:
    """PNG bytes per plot name (plots without data are left out)."""
    out = {}
    for name, fn in PLOTS.items():
        png = fn(stats)
        if png is not None:
            out[name] = png
    return out

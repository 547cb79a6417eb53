"""AssignDomainAndMix: token counts, then a per-document mixing weight that hits the domain and source targets.

``mix_weight`` is the number of epochs a trainer should take of a document (a sampling rate when below 1). The
mixture is computed per (domain, source) pair, because a source can sit in both domains: ClassifyDomain moves
financially relevant ``web`` pages to the financial domain and leaves the rest general. The domain a document
arrives with is kept (Extract sets it from ``source_domains``, ClassifyDomain may change it).

Targets
-------
``mix.domain_targets`` (default FinPile's 51% financial / 49% general: BloombergGPT, Wu et al. 2023, Table 1,
51.27% / 48.73%, rounded as in the paper's text) split the tokens between domains. ``mix.source_targets[d]``
gives relative shares of the sources inside domain ``d``; the default is BloombergGPT's Table 1 (percent of all
training tokens), mapped onto our sources:

- financial: web 42.01, news 5.31, filings 2.04, press 1.21 (Table 1). Table 1's "Bloomberg" (0.70: Bloomberg's
  own authored news and documents) has no counterpart here and is left out, which spreads it proportionally.
  FinPile has no social-media category; we give ``social`` 1.00, about the size of press releases: enough to
  keep the register in the mix, small enough that short, noisy posts cannot dominate.
- general: c4 19.48, wikipedia 3.35 (Table 1's "Wikipedia (7/1/22)"), web 25.90. The 25.90 is all of The Pile:
  our general web crawl is the stand-in for The Pile's diverse public text (Pile-CC, OpenWebText2 and the rest);
  The Pile's own components (books, code, papers) have no source here. This mapping is our choice, not the paper's.

A domain given as ``natural`` (``source_targets: {financial: natural}``) keeps the sources' natural split.
Shares of sources absent from a run are redistributed over the present ones in proportion to their targets;
a present source with no target in a configured domain gets weight 0 (and a note).

Weights
-------
The weighted corpus has as many tokens as the raw one (``total_raw_tokens``): domain d is allotted
``domain_target[d] * total`` tokens, and each of its sources its share of that. Up-sampling is capped at
``mix.max_weight`` epochs: a source that would need more is capped, and the tokens it cannot supply go to the
other sources of its domain in proportion to their targets (water-filling), so the domain split still holds.
Only when every source of a domain is capped does the domain miss its target; it is then smaller, and the
weighted corpus is smaller than the raw one. Every target that is not met is named in ``notes``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import apache_beam as beam

from core.schema import Document
from filters.tokens import count_tokens
from pipeline.config import MixSettings

# What a config without ``mix:`` gets: the finance profile's mix (pipeline/profiles/finance.yaml: BloombergGPT
# Table 1, % of training tokens, mapped onto our sources; see the module docstring).
from pipeline.profiles import DEFAULT_DOMAIN_TARGETS, DEFAULT_SOURCE_TARGETS

DEFAULT_MAX_WEIGHT = 4.0
NATURAL = "natural"
MET_TOLERANCE = 0.001  # |achieved - target| within 0.1 percentage point counts as met


def add_token_count(doc: Document) -> Document:
    """Fill ``n_tokens`` (tiktoken cl100k_base) and ``n_chars``."""
    doc.n_tokens = count_tokens(doc.text)
    doc.n_chars = len(doc.text)
    return doc


def mix_key(domain: str, source: str) -> str:
    """The report's key of a (domain, source) pair, e.g. ``financial/web``."""
    return f"{domain}/{source}"


def _pairs(tokens: Mapping[Any, int], domain_of: Mapping[str, str]) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {}
    for key, n in tokens.items():
        pair = tuple(key) if isinstance(key, tuple) else (domain_of.get(key, "general"), key)
        out[pair] = out.get(pair, 0) + int(n)
    return out


def _within_shares(domain: str, present: dict[str, int], spec: Any, notes: list[str]) -> dict[str, float]:
    """Shares (summing to 1) of the present sources of one domain."""
    total = sum(present.values())
    if spec == NATURAL:
        return {s: n / total for s, n in present.items()}
    spec = {s: float(v) for s, v in (spec or {}).items()}
    raw = {s: spec.get(s, 0.0) for s in present}
    norm = sum(raw.values())
    if norm <= 0:
        notes.append(
            f"domain '{domain}': none of its sources ({', '.join(sorted(present))}) has a target in "
            f"mix.source_targets.{domain}: kept their natural split."
        )
        return {s: n / total for s, n in present.items()}
    for s in sorted(present):
        if raw[s] <= 0:
            notes.append(
                f"{mix_key(domain, s)} has no target in mix.source_targets.{domain}: weight 0 "
                f"({present[s]:,} tokens unused). Give it a target to use it."
            )
    absent = sorted(s for s, v in spec.items() if v > 0 and s not in present)
    if absent:
        notes.append(
            f"domain '{domain}': no data for {', '.join(absent)}; their target shares were redistributed over "
            f"{', '.join(s for s in sorted(present) if raw[s] > 0)} in proportion to their targets."
        )
    return {s: v / norm for s, v in raw.items()}


def compute_mixture(
    tokens_by_source: Mapping[Any, int],
    domain_of: Mapping[str, str],
    settings: MixSettings | Mapping[str, Any],
) -> dict[str, Any]:
    """Weights per (domain, source) and the mixture report.

    ``tokens_by_source`` maps ``(domain, source)`` pairs (or bare source names, placed with ``domain_of``) to
    token counts. The report's ``sources`` is keyed ``"<domain>/<source>"``; each entry has domain, source,
    raw_tokens, target_share, weight, effective_tokens, achieved_share, capped and met.
    """
    mix = MixSettings.of(settings)
    domain_targets = dict(mix.domain_targets) or dict(DEFAULT_DOMAIN_TARGETS)
    given = {d: NATURAL if spec is None else dict(spec) for d, spec in mix.source_targets.items()}
    source_targets = {**DEFAULT_SOURCE_TARGETS, **given}
    cap = mix.max_weight
    tokens = {p: n for p, n in _pairs(tokens_by_source, domain_of).items() if n > 0}
    total = sum(tokens.values())
    notes: list[str] = []

    domain_tokens = {d: 0 for d in domain_targets}
    for (d, _), n in tokens.items():
        domain_tokens[d] = domain_tokens.get(d, 0) + n
    # Domains with no data cannot take their share: the others split it in proportion to their targets.
    present_domains = {d: float(t) for d, t in domain_targets.items() if domain_tokens.get(d, 0) > 0}
    norm = sum(present_domains.values()) or 1.0
    for d, t in domain_targets.items():
        if t > 0 and domain_tokens.get(d, 0) == 0:
            notes.append(f"domain '{d}' has no documents: its target {t:.0%} cannot be met.")

    entries: dict[tuple[str, str], dict[str, Any]] = {}
    for d in sorted(domain_tokens):
        present = {s: n for (dd, s), n in tokens.items() if dd == d}
        if not present:
            continue
        d_target = present_domains.get(d, 0.0) / norm
        shares = _within_shares(d, present, source_targets.get(d), notes)
        weights = _water_fill(present, shares, d_target * total, cap)
        for s in sorted(present):
            n = present[s]
            target = d_target * shares[s]
            wanted = target * total / n
            entries[(d, s)] = {
                "domain": d,
                "source": s,
                "raw_tokens": n,
                "target_share": round(target, 6),
                "weight": round(weights[s], 6),
                "capped": wanted > cap + 1e-9,
            }
        if all(entries[(d, s)]["capped"] or shares[s] == 0 for s in present) and d_target > 0:
            supply = sum(cap * n for s, n in present.items() if shares[s] > 0)
            if supply < d_target * total - 0.5:
                notes.append(
                    f"domain '{d}' cannot reach its target {d_target:.1%}: all its sources are capped at "
                    f"{cap:g} epochs (mix.max_weight), giving {supply:,.0f} of the {d_target * total:,.0f} tokens "
                    f"it needs. Add more {d} data, lower its target or raise mix.max_weight."
                )

    effective_total = sum(e["raw_tokens"] * e["weight"] for e in entries.values()) or 1.0
    for e in entries.values():
        e["effective_tokens"] = round(e["raw_tokens"] * e["weight"], 1)
        e["achieved_share"] = round(e["raw_tokens"] * e["weight"] / effective_total, 6)
        e["met"] = abs(e["achieved_share"] - e["target_share"]) <= MET_TOLERANCE
        key = mix_key(e["domain"], e["source"])
        if e["capped"]:
            need = e["target_share"] * total / e["raw_tokens"]
            notes.append(
                f"{key} would need weight {need:.2f} to reach {e['target_share']:.2%} of tokens; capped at "
                f"{cap:g} (mix.max_weight): achieved {e['achieved_share']:.2%}. Add more {e['source']} data "
                f"or lower its target."
            )
        elif not e["met"] and e["target_share"] > 0:
            notes.append(
                f"{key}: achieved {e['achieved_share']:.2%} instead of its target {e['target_share']:.2%} "
                f"(it takes up the share of capped sources of its domain)."
            )

    domains = {}
    for d in dict.fromkeys([*domain_targets, *sorted(domain_tokens)]):
        eff = sum(e["raw_tokens"] * e["weight"] for e in entries.values() if e["domain"] == d)
        target = present_domains.get(d, 0.0) / norm if d in present_domains else domain_targets.get(d, 0.0)
        domains[d] = {
            "raw_tokens": domain_tokens.get(d, 0),
            "target_share": round(float(domain_targets.get(d, 0.0)), 6),
            "effective_tokens": round(eff, 1),
            "achieved_share": round(eff / effective_total, 6),
            "met": abs(eff / effective_total - target) <= MET_TOLERANCE,
        }
    return {
        "total_raw_tokens": total,
        "total_effective_tokens": round(sum(e["effective_tokens"] for e in entries.values()), 1),
        "max_weight": cap,
        "domains": domains,
        "sources": {mix_key(d, s): entries[(d, s)] for d, s in sorted(entries)},
        "notes": notes,
    }


def _water_fill(
    present: dict[str, int], shares: dict[str, float], budget: float, cap: float
) -> dict[str, float]:
    """Weights giving each source ``share * budget`` tokens; capped sources' shortfall goes to the others."""
    weights = {s: 0.0 for s in present}
    open_ = {s for s in present if shares[s] > 0}
    remaining = budget
    while open_:
        norm = sum(shares[s] for s in open_)
        wanted = {s: remaining * shares[s] / norm / present[s] for s in open_}
        over = {s for s, w in wanted.items() if w > cap}
        if not over:
            weights.update(wanted)
            break
        for s in over:
            weights[s] = cap
            remaining -= cap * present[s]
            open_.discard(s)
    return weights


def tokens_key(doc: Document) -> tuple[tuple[str, str], int]:
    """((domain, source), tokens) of a counted document."""
    return (doc.domain, doc.source), doc.n_tokens


def assign_weight(doc: Document, mix: dict[str, Any]) -> Document:
    """Give the document its (domain, source) pair's weight; its domain is kept as it arrived."""
    doc.mix_weight = float(mix["sources"][mix_key(doc.domain, doc.source)]["weight"])
    return doc


class AssignDomainAndMix(beam.PTransform):
    """Count tokens, total them per (domain, source), and give each document its pair's mixing weight.

    Returns (documents, mixture report as a one-element PCollection). ``domain_of`` places only documents that
    arrive without a domain; a domain set upstream (Extract, ClassifyDomain) is kept.
    """

    def __init__(self, domain_of: dict[str, str], settings: MixSettings | dict[str, Any] | None = None):
        super().__init__()
        self._domain_of = domain_of
        self._settings = MixSettings.of(settings)

    def expand(self, docs):
        domain_of, settings = self._domain_of, self._settings

        def count(doc: Document) -> Document:
            doc.domain = doc.domain or domain_of.get(doc.source, "general")
            return add_token_count(doc)

        counted = docs | "CountTokens" >> beam.Map(count)
        mixture = (
            counted
            | "TokensByDomainSource" >> beam.Map(tokens_key)
            | "SumTokens" >> beam.CombinePerKey(sum)
            | "AsDict" >> beam.combiners.ToDict()
            | "Mixture" >> beam.Map(compute_mixture, domain_of, settings)
        )
        weighted = counted | "AssignWeights" >> beam.Map(assign_weight, mix=beam.pvalue.AsSingleton(mixture))
        return weighted, mixture

"""AssignDomainAndMix: token counts, then a per-document mixing weight that hits the domain targets.

``mix_weight`` is the number of epochs a trainer should take of a document (a sampling rate when below 1):
with weights w_s per source and T_s tokens of source s, the weighted corpus has the same size T as the raw one,
and domain d gets the share ``mix.domain_targets[d]`` (default FinPile's 51% financial / 49% general). Within a
domain, ``mix.source_targets[d]`` (shares that sum to 1) may set the sources' split; by default each source keeps
its natural share. Up-sampling is capped at ``mix.max_weight``; a capped source misses its target, and the
mixture report says so instead of over-sampling.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import apache_beam as beam

from filters.tokens import count_tokens
from pipeline.schema import DOMAINS, Document

DEFAULT_DOMAIN_TARGETS = {"financial": 0.51, "general": 0.49}
DEFAULT_MAX_WEIGHT = 4.0


def add_token_count(doc: Document) -> Document:
    """Fill ``n_tokens`` (tiktoken cl100k_base) and ``n_chars``."""
    doc.n_tokens = count_tokens(doc.text)
    doc.n_chars = len(doc.text)
    return doc


def compute_mixture(
    tokens_by_source: Mapping[str, int], domain_of: Mapping[str, str], settings: Mapping[str, Any]
) -> dict[str, Any]:
    """Weights per source and the mixture report: raw tokens, weight, effective tokens, target and achieved share."""
    domain_targets = dict(settings.get("domain_targets") or DEFAULT_DOMAIN_TARGETS)
    source_targets = settings.get("source_targets") or {}
    cap = float(settings.get("max_weight", DEFAULT_MAX_WEIGHT))
    total = sum(tokens_by_source.values())
    domain_tokens = {d: 0 for d in DOMAINS}
    for source, n in tokens_by_source.items():
        domain_tokens[domain_of.get(source, "general")] += n
    # Domains with no data cannot take their share: the others split it in proportion to their targets.
    present = {d: t for d, t in domain_targets.items() if domain_tokens.get(d, 0) > 0}
    norm = sum(present.values()) or 1.0

    sources: dict[str, dict[str, Any]] = {}
    for source in sorted(tokens_by_source):
        n = tokens_by_source[source]
        domain = domain_of.get(source, "general")
        d_target = present.get(domain, 0.0) / norm
        within = source_targets.get(domain, {})
        if within:
            s_share = float(within.get(source, 0.0))
        else:
            s_share = n / domain_tokens[domain] if domain_tokens[domain] else 0.0
        target = d_target * s_share
        wanted = target * total / n if n else 0.0
        weight = min(wanted, cap)
        sources[source] = {
            "domain": domain,
            "raw_tokens": n,
            "target_share": round(target, 6),
            "weight": round(weight, 6),
            "capped": wanted > cap,
        }
    effective_total = sum(s["raw_tokens"] * s["weight"] for s in sources.values()) or 1.0
    notes = []
    for source, s in sources.items():
        s["effective_tokens"] = round(s["raw_tokens"] * s["weight"], 1)
        s["achieved_share"] = round(s["effective_tokens"] / effective_total, 6)
        if s["capped"]:
            notes.append(
                f"source '{source}' would need weight {s['target_share'] * total / s['raw_tokens']:.2f} "
                f"to reach {s['target_share']:.1%} of tokens; capped at {cap:g} (mix.max_weight): "
                f"achieved {s['achieved_share']:.1%}. Add more {source} data or lower its target."
            )
    missing = [d for d, t in domain_targets.items() if t > 0 and domain_tokens.get(d, 0) == 0]
    for d in missing:
        notes.append(f"domain '{d}' has no documents: its target {domain_targets[d]:.0%} cannot be met.")
    domains = {}
    for d in DOMAINS:
        eff = sum(s["effective_tokens"] for s in sources.values() if s["domain"] == d)
        domains[d] = {
            "raw_tokens": domain_tokens.get(d, 0),
            "target_share": domain_targets.get(d, 0.0),
            "achieved_share": round(eff / effective_total, 6),
        }
    return {
        "total_raw_tokens": total,
        "max_weight": cap,
        "domains": domains,
        "sources": sources,
        "notes": notes,
    }


class AssignDomainAndMix(beam.PTransform):
    """Count tokens, total them per source, and give each document its source's mixing weight.

    Returns (documents, mixture report as a one-element PCollection).
    """

    def __init__(self, domain_of: dict[str, str], settings: dict[str, Any]):
        super().__init__()
        self._domain_of = domain_of
        self._settings = settings

    def expand(self, docs):
        domain_of, settings = self._domain_of, self._settings
        counted = docs | "CountTokens" >> beam.Map(add_token_count)
        mixture = (
            counted
            | "TokensBySource" >> beam.Map(lambda d: (d.source, d.n_tokens))
            | "SumTokens" >> beam.CombinePerKey(sum)
            | "AsDict" >> beam.combiners.ToDict()
            | "Mixture" >> beam.Map(lambda t: compute_mixture(t, domain_of, settings))
        )

        def assign(doc: Document, mix: dict[str, Any]) -> Document:
            doc.domain = domain_of.get(doc.source, "general")
            doc.mix_weight = float(mix["sources"][doc.source]["weight"])
            return doc

        weighted = counted | "AssignWeights" >> beam.Map(assign, mix=beam.pvalue.AsSingleton(mixture))
        return weighted, mixture

"""Mixing weights: the weighted token shares hit the domain targets unless the cap forbids it."""

from __future__ import annotations

import pytest

from pipeline.mix import compute_mixture

DOMAIN_OF = {"filings": "financial", "news": "financial", "wikipedia": "general", "web": "general"}


def _achieved_domain(mix, domain):
    return mix["domains"][domain]["achieved_share"]


def test_weights_hit_domain_targets():
    tokens = {"filings": 1000, "news": 3000, "wikipedia": 5000, "web": 1000}
    mix = compute_mixture(tokens, DOMAIN_OF, {"domain_targets": {"financial": 0.51, "general": 0.49}})
    assert _achieved_domain(mix, "financial") == pytest.approx(0.51, abs=1e-4)
    assert _achieved_domain(mix, "general") == pytest.approx(0.49, abs=1e-4)
    # Within a domain the natural split is kept: filings:news stays 1:3.
    assert mix["sources"]["filings"]["weight"] == pytest.approx(mix["sources"]["news"]["weight"])
    # 4000 financial tokens must become 0.51 * 10000: weight 1.275.
    assert mix["sources"]["filings"]["weight"] == pytest.approx(1.275)
    assert mix["notes"] == []


def test_cap_is_reported_not_exceeded():
    tokens = {"filings": 100, "wikipedia": 9900}
    mix = compute_mixture(tokens, DOMAIN_OF, {"max_weight": 4.0})
    assert mix["sources"]["filings"]["weight"] == 4.0
    assert mix["sources"]["filings"]["capped"] is True
    assert _achieved_domain(mix, "financial") < 0.51
    assert any("capped at 4" in n and "filings" in n for n in mix["notes"])


def test_source_targets_within_domain():
    tokens = {"filings": 1000, "news": 1000, "wikipedia": 2000}
    mix = compute_mixture(
        tokens,
        DOMAIN_OF,
        {
            "domain_targets": {"financial": 0.5, "general": 0.5},
            "source_targets": {"financial": {"filings": 0.25, "news": 0.75}},
        },
    )
    assert mix["sources"]["filings"]["achieved_share"] == pytest.approx(0.125, abs=1e-4)
    assert mix["sources"]["news"]["achieved_share"] == pytest.approx(0.375, abs=1e-4)


def test_missing_domain_is_named():
    mix = compute_mixture({"wikipedia": 100}, DOMAIN_OF, {})
    assert mix["sources"]["wikipedia"]["weight"] == pytest.approx(1.0)
    assert any("domain 'financial' has no documents" in n for n in mix["notes"])

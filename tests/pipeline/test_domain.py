"""ClassifyDomain: web pages get domain_score and a domain from a real (tiny) model; other sources pass."""

from __future__ import annotations

import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter
from apache_beam.testing.test_pipeline import TestPipeline
from apache_beam.testing.util import assert_that, equal_to

from filters.domain import DomainClassifier
from pipeline.domain import ClassifyDomain, DomainConfig, classify, default_model_path
from pipeline.errors import ConfigError
from pipeline.schema import Document
from tests.filters.test_domain import train_tiny_model

FIN_PAGE = "The bank raised its quarterly dividend after earnings beat estimates and shares rose."
GEN_PAGE = "Plant garlic in autumn beside the roses; frogs in the garden pond keep the slugs away."


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> str:
    return train_tiny_model(str(tmp_path_factory.mktemp("domain") / "tiny.bin"))


def counter_value(result, name: str) -> int:
    return sum(c.committed for c in result.metrics().query(MetricsFilter().with_name(name))["counters"])


def test_classify_sets_score_and_domain_at_the_threshold():
    doc = classify(Document(id="a", text="x", source="web"), 0.5, 0.5)
    assert (doc.domain, doc.metadata["domain_score"]) == ("financial", "0.5000")
    doc = classify(Document(id="b", text="x", source="web", domain="financial"), 0.49994, 0.5)
    assert (doc.domain, doc.metadata["domain_score"]) == ("general", "0.4999")


def test_config_defaults_and_errors(model_path):
    cfg = DomainConfig.from_settings({})
    assert cfg.model_path == default_model_path()
    assert (cfg.threshold, cfg.sources) == (0.5, ("web",))
    assert DomainConfig.from_settings({"model_path": model_path, "sources": ["news"]}).sources == ("news",)
    with pytest.raises(
        ConfigError, match=r"domain.sources: must be a list, not the string .news.: write \[news\]"
    ):
        DomainConfig.from_settings({"sources": "news"})
    with pytest.raises(ConfigError, match="domain.threshold"):
        DomainConfig.from_settings({"threshold": 1.5})
    with pytest.raises(ConfigError, match="model file not found"):
        DomainConfig.from_settings({"model_path": "/nonexistent/domain.ftz"})


def test_shipped_model_separates_finance_from_gardening():
    clf = DomainClassifier(default_model_path())
    fin, gen = clf.score_many(
        [
            "The central bank raised interest rates; bond yields rose and bank shares fell after earnings.",
            "Tides are caused by the gravity of the Moon and the Sun acting on the oceans of the Earth.",
        ]
    )
    assert fin > 0.5 > gen


def test_classify_domain_stage(model_path):
    docs = [
        Document(id="w-fin", text=FIN_PAGE, source="web"),
        Document(id="w-gen", text=GEN_PAGE, source="web", domain="general"),
        Document(id="news", text=GEN_PAGE, source="news", domain="financial"),  # not a classified source
    ]
    p = TestPipeline()
    kept, rejected, errors = p | beam.Create(docs) | ClassifyDomain({"model_path": model_path})
    assert_that(
        kept | beam.Map(lambda d: (d.id, d.source, d.domain, "domain_score" in d.metadata)),
        equal_to(
            [
                ("w-fin", "web", "financial", True),
                ("w-gen", "web", "general", True),
                ("news", "news", "financial", False),
            ]
        ),
        label="Kept",
    )
    assert_that(rejected, equal_to([]), label="Rejected")
    assert_that(errors, equal_to([]), label="Errors")
    result = p.run()
    result.wait_until_finish()
    assert counter_value(result, "domain:financial") == 1
    assert counter_value(result, "domain:general") == 1
    assert counter_value(result, "domain:kept") == 3

"""Parity of our one-pass quality scorer with datatrove's blocks on the real pages and filings.

The reference runs datatrove 0.10.1's ``GopherQualityFilter``, ``GopherRepetitionFilter``, ``C4QualityFilter``
and ``FineWebQualityFilter`` one after another, with our policy's thresholds, in our order, on a datatrove
``Document`` (so FineWeb sees C4's cleaned text, as in FineWeb's pipeline); the first failing block's reason
is mapped to ours. Our basic rules (``basic:*``) have no datatrove counterpart: the reference takes them
from our signals and runs the blocks only when they pass. On every document the decision, the reason and,
for kept documents, the C4-cleaned text (``c4_cleaned_text``, what FineWeb sees) must be equal; so must the word lists of our memoising tokenizer and
datatrove's ``split_into_words``.

Corpus (``benchmarks/quality/corpus.py``): every HTML page in ``web/html`` (trafilatura), every EDGAR
document of ``edgar/{10-K,10-Q,8-K,full-submission}``, the first 20 Wikipedia articles, every tweet.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import pytest
from datatrove.data import Document as DtDocument
from datatrove.pipeline.filters import (
    C4QualityFilter,
    FineWebQualityFilter,
    GopherQualityFilter,
    GopherRepetitionFilter,
)
from datatrove.utils.text import split_into_words

from benchmarks.quality.corpus import load_corpus
from core.schema import Document
from core.textshape import split_table_lines
from filters.quality import (
    QualityConfig,
    QualityScorer,
    SourcePolicy,
    c4_cleaned_text,
    c4_shaped_text,
    evaluate_rules,
    first_failure,
    word_tokenizer,
)

# datatrove's reason strings -> ours (the group prefix comes from the block).
GOPHER_QUALITY_REASONS = {
    "gopher_short_doc": "gopher:short_doc",
    "gopher_long_doc": "gopher:long_doc",
    "gopher_below_avg_threshold": "gopher:mean_word_length",
    "gopher_above_avg_threshold": "gopher:mean_word_length",
    "gopher_too_many_hashes": "gopher:hash_word_ratio",
    "gopher_too_many_ellipsis": "gopher:ellipsis_word_ratio",
    "gopher_too_many_bullets": "gopher:frac_lines_bullet",
    "gopher_too_many_end_ellipsis": "gopher:frac_lines_ellipsis",
    "gopher_below_alpha_threshold": "gopher:frac_alpha_words",
    "gopher_enough_stop_words": "gopher:stop_words",
}
GOPHER_REPETITION_REASONS = {
    "dup_para_frac": "gopher:dup_para_frac",
    "dup_para_char_frac": "gopher:dup_para_char_frac",
    "dup_line_frac": "gopher:dup_line_frac",
    "dup_line_char_frac": "gopher:dup_line_char_frac",
    **{f"top_{n}_gram": f"gopher:top_{n}gram_frac" for n in range(2, 5)},
    **{f"duplicated_{n}_n_grams": f"gopher:dup_{n}gram_frac" for n in range(5, 11)},
}
C4_REASONS = {r: f"c4:{r}" for r in ("lorem_ipsum", "curly_bracket", "too_few_sentences")}
FINEWEB_REASONS = {
    r: f"fineweb:{r}"
    for r in ("empty", "line_punct_ratio", "short_line_ratio", "char_dup_ratio", "list_ratio")
}


def datatrove_blocks(policy: SourcePolicy) -> list[tuple[Any, dict[str, str]]]:
    """datatrove's blocks for ``policy``'s groups, in our evaluation order, with its thresholds."""
    blocks = []
    for group in policy.groups:
        if group == "gopher_quality":
            blocks.append(
                (GopherQualityFilter(**dataclasses.asdict(policy.gopher_quality)), GOPHER_QUALITY_REASONS)
            )
        elif group == "gopher_repetition":
            blocks.append(
                (
                    GopherRepetitionFilter(**dataclasses.asdict(policy.gopher_repetition)),
                    GOPHER_REPETITION_REASONS,
                )
            )
        elif group == "c4":
            c4 = dataclasses.asdict(policy.c4)
            assert c4.pop("keep_cleaned_text")
            blocks.append((C4QualityFilter(**c4), C4_REASONS))
        elif group == "fineweb":
            blocks.append((FineWebQualityFilter(**dataclasses.asdict(policy.fineweb)), FINEWEB_REASONS))
    return blocks


def reference_decision(text: str, basic_failure: str, blocks) -> tuple[bool, str, str]:
    """(keep, reason, text after the blocks): our basic rules' first failure, else datatrove's blocks."""
    if basic_failure:
        return False, basic_failure, text
    dt_doc = DtDocument(text=text, id="ref", metadata={})
    for block, reasons in blocks:
        result = block.filter(dt_doc)
        keep, reason = result if isinstance(result, tuple) else (result, None)
        if not keep:
            return False, reasons[reason], text
    return True, "", dt_doc.text


@pytest.fixture(scope="module")
def corpus(shared_data) -> dict[str, list[Document]]:
    return load_corpus(shared_data, wiki_limit=20)


def _compare(docs: list[Document], config: QualityConfig, as_source: str | None) -> Counter:
    """Decide every document both ways; returns counts of outcomes. Asserts equality document by document."""
    scorer = QualityScorer(config)
    blocks_by_source: dict[str, Any] = {}
    outcomes: Counter = Counter()
    for doc in docs:
        source = as_source or doc.source
        policy = config.policy_for(source)
        if source not in blocks_by_source:
            blocks_by_source[source] = datatrove_blocks(policy)
        if doc.text.strip():
            assert word_tokenizer().words(doc.text) == split_into_words(doc.text), doc.id
        ours = Document(id=doc.id, text=doc.text, source=source)
        scorer.score(ours)
        basic = [
            (name, ok)
            for name, ok in evaluate_rules(ours.quality_signals, policy)
            if name.startswith("basic:")
        ]
        # Rules judge the prose (Markdown table lines aside, see "Tables" in filters/quality.py): datatrove's
        # blocks get the text without its table lines, and our cleaned text without them must be theirs.
        prose = split_table_lines(doc.text)[0]
        expected = reference_decision(prose, first_failure(basic), blocks_by_source[source])
        keep, reason = scorer.decide(ours)
        assert (keep, reason) == expected[:2], doc.id
        if keep and "c4" in policy.groups:
            assert c4_cleaned_text(doc.text, policy.c4) == expected[2], doc.id  # what FineWeb saw
            assert ours.text == c4_shaped_text(doc.text, policy.c4), doc.id  # what the document keeps
        elif keep:
            assert ours.text == doc.text and split_table_lines(doc.text)[0] == expected[2], doc.id
        outcomes[reason or "kept"] += 1
    return outcomes


def test_web_policy_matches_datatrove_on_every_document(corpus):
    """The default (web) policy applied to every real document, whatever its source."""
    config = QualityConfig()
    assert config.engine == "signals"
    docs = [d for kind_docs in corpus.values() for d in kind_docs]
    outcomes = _compare(docs, config, as_source="web")
    assert sum(outcomes.values()) == len(docs) > 1900
    # The corpus exercises keeps and several different reasons (a parity test on all-drops would prove little).
    assert outcomes["kept"] > 40
    assert len(outcomes) >= 6, outcomes


@pytest.mark.parametrize("kind", ["web", "filings", "social"])
def test_source_policies_match_datatrove(corpus, kind):
    """Each document under its own source's policy (filings, press, social, and web pages as news; web and
    wikipedia use the default policy, covered above). Filings: basic numeric-token rule and relaxed Gopher
    repetition; news and press: Gopher's letter rule at 0.65; social: basic rules only."""
    docs = corpus[kind]
    if kind == "web":  # the same pages judged as news (Gopher's letter rule at 0.65, as for press)
        docs = [dataclasses.replace(d, source="news") for d in docs]
    outcomes = _compare(docs, QualityConfig(), as_source=None)
    assert sum(outcomes.values()) == len(docs)
    assert outcomes["kept"] > 0


def test_corpus_covers_every_document_type(corpus):
    sources = Counter(d.source for docs in corpus.values() for d in docs)
    assert sources["web"] == 36
    assert sources["filings"] > 10 and sources["press"] > 3
    assert sources["wikipedia"] == 20
    assert sources["social"] > 1800

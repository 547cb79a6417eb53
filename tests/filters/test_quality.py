"""Quality: exact drop reasons and signal values, thresholds just inside/outside, per-source policies,
C4 cleaning, config handling, and agreement of the datatrove and signals engines."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import pickle
import random
from itertools import accumulate

import numpy as np
import pytest

import filters.quality as quality_module
from core.errors import ConfigError
from core.schema import Document
from core.textshape import split_table_lines
from filters.quality import (
    ChunkTokenizer,
    GopherQualityThresholds,
    QualityConfig,
    QualityScorer,
    SourcePolicy,
    _at_least,
    _at_most,
    _dup_ngram_chars,
    _SubstringHashes,
    _top_ngram_chars,
    compute_signals,
    evaluate_rules,
    rule_checks,
)

GOOD = """Shares of regional banks rose on Tuesday after the central bank signalled that it would keep interest rates unchanged for the rest of the year.
Analysts said the decision removed a source of uncertainty that had weighed on lenders since the spring, when deposit outflows forced several of them to raise capital.
The index of bank stocks gained three percent, its largest daily advance in two months, while yields on short-dated government bonds fell slightly.
Investors will now turn to quarterly earnings, which begin next week with the largest lenders and are expected to show slower growth in net interest income.
Some strategists warned that credit quality remains the main risk, because commercial property loans are still being refinanced at much higher rates.
Others argued that valuations are low enough to absorb a modest rise in defaults without a lasting hit to profits or dividends."""

SHORT_LINES = [
    "Stocks rose on Monday.",
    "Bonds fell in Tokyo.",
    "Oil slipped after OPEC.",
    "Gold hit a new high.",
    "The dollar was flat.",
    "Copper gained in London.",
    "Wheat fell on rain.",
    "Bitcoin swung wildly.",
    "Tech shares led gains.",
    "Yields edged lower.",
    "Europe closed mixed.",
    "Retail sales beat views.",
    "Jobs data due Friday.",
]

TWEET = "$AAPL beats on revenue and EPS, shares up 3% after hours https://t.co/abc123"

FILING = """Item 7. Management's Discussion and Analysis of Financial Condition and Results of Operations
The following table shows net sales by segment for fiscal 2024, 2023 and 2022 (in millions):
2024 2023 2022
Industrial $ 12,408 $ 11,872 $ 10,954
Consumer 8,215 8,407 7,996
Services 4,377 3,902 3,311
Total net sales $ 25,000 $ 24,181 $ 22,261
Total net sales increased 3% or $819 million during 2024 compared to 2023, driven by higher sales of industrial equipment and growth in services revenue.
Consumer net sales decreased because of lower unit volumes in North America, partially offset by favorable pricing in Europe and Asia.
The Company believes that its existing balances of cash and marketable securities will be sufficient to satisfy its working capital needs over the next 12 months."""

NUMBER_DUMP = "Fiscal data\n" + "\n".join(
    " ".join(f"{(i * 37 + j * 11) % 9000 + 1000:,}" for j in range(8)) for i in range(30)
)

GOPHER_ONLY = {"default": {"groups": ["gopher_quality"]}}
WORDS3 = ["the", "and", "big", "run", "cat", "sun", "red", "box", "map", "cup"]  # all 3 letters, 2 stop words
WORDS_LONG = ["the", "and", "market", "banks", "rates", "growth", "credit", "shares", "bonds", "yields"]


def _words(pool: list[str], n: int) -> str:
    return " ".join(pool[i % len(pool)] for i in range(n))


def _decide(text: str, source: str = "web", config: dict | None = None, engine: str = "datatrove"):
    cfg = QualityConfig.from_dict({**(config or {}), "engine": engine})
    scorer = QualityScorer(cfg)
    doc = Document(id="d", text=text, source=source)
    scorer.score(doc)
    return scorer.decide(doc), doc


# (case id, text, source, config, expected decision, {signal: exact value})
CASES = [
    ("good-web", GOOD, "web", None, (True, ""), {}),
    ("tweet-social", TWEET, "social", None, (True, ""), {"n_words": 12.0}),
    ("tweet-web", TWEET, "web", None, (False, "gopher:short_doc"), {"n_words": 12.0}),
    ("tweet-news", TWEET, "news", None, (False, "gopher:short_doc"), {}),
    ("two-words-social", "Witch Hunt!", "social", None, (False, "basic:min_words"), {"n_words": 2.0}),
    ("three-words-social", "Witch Hunt again!", "social", None, (True, ""), {"n_words": 3.0}),
    ("emoji-spam-social", "$TSLA " + "🚀" * 12, "social", None, (False, "basic:symbol_ratio"), {}),
    ("empty-web", "", "web", None, (False, "basic:empty"), {"empty": 1.0}),
    ("blank-filings", " \n\t ", "filings", None, (False, "basic:empty"), {}),
    ("blank-social", "\n", "social", None, (False, "basic:empty"), {}),
    # Gopher quality, thresholds just inside / outside (only that group applies)
    ("50-words", _words(WORDS_LONG, 50), "web", GOPHER_ONLY, (True, ""), {"n_words": 50.0}),
    ("49-words", _words(WORDS_LONG, 49), "web", GOPHER_ONLY, (False, "gopher:short_doc"), {"n_words": 49.0}),
    ("mean-len-3.0", _words(WORDS3, 60), "web", GOPHER_ONLY, (True, ""), {"mean_word_length": 3.0}),
    (
        "mean-len-2.98",
        _words(WORDS3, 59) + " up",
        "web",
        GOPHER_ONLY,
        (False, "gopher:mean_word_length"),
        {"mean_word_length": 179 / 60},
    ),
    (
        "alpha-0.80",
        _words(WORDS_LONG, 80) + " 1234" * 20,
        "web",
        GOPHER_ONLY,
        (True, ""),
        {"frac_alpha_words": 0.8},
    ),
    (
        "alpha-0.79",
        _words(WORDS_LONG, 79) + " 1234" * 21,
        "web",
        GOPHER_ONLY,
        (False, "gopher:frac_alpha_words"),
        {"frac_alpha_words": 0.79},
    ),
    (
        "one-stop-word",
        _words(["the", "market", "banks", "rates", "growth"], 60),
        "web",
        GOPHER_ONLY,
        (False, "gopher:stop_words"),
        {"stop_words": 1.0},
    ),
    (
        "hashtags",
        _words(WORDS_LONG, 60) + " #stocks" * 8,
        "web",
        GOPHER_ONLY,
        (False, "gopher:hash_word_ratio"),
        {},
    ),
    # Gopher repetition
    (
        "dup-paragraph",
        GOOD + "\n\n" + GOOD,
        "web",
        None,
        (False, "gopher:dup_para_frac"),
        {"dup_para_frac": 0.5},
    ),
    # C4
    (
        "lorem",
        GOOD + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit.",
        "web",
        None,
        (False, "c4:lorem_ipsum"),
        {"c4_lorem_ipsum": 1.0},
    ),
    (
        "curly",
        GOOD + "\nThe function returns {value} for each input row.",
        "web",
        None,
        (False, "c4:curly_bracket"),
        {"c4_curly_bracket": 1.0},
    ),
    (
        "4-sentences",
        "\n".join(GOOD.splitlines()[:4]),
        "web",
        None,
        (False, "c4:too_few_sentences"),
        {"c4_sentences": 4.0},
    ),
    # FineWeb
    (
        "no-terminal-punct",
        "\n".join(line.rstrip(".") for line in GOOD.splitlines()),
        "web",
        None,
        (False, "fineweb:line_punct_ratio"),
        {"fw_line_punct_ratio": 0.0},
    ),
    (
        "short-lines-12",
        GOOD + "\n" + "\n".join(SHORT_LINES[:12]),
        "web",
        None,
        (True, ""),
        {"fw_short_line_ratio": 12 / 18},
    ),
    (
        "short-lines-13",
        GOOD + "\n" + "\n".join(SHORT_LINES[:13]),
        "web",
        None,
        (False, "fineweb:short_line_ratio"),
        {"fw_short_line_ratio": 13 / 19},
    ),
    # Filings: tables are fine, a bare number dump is not
    ("filing", FILING, "filings", None, (True, ""), {}),
    ("filing-as-web", FILING, "web", None, (False, "gopher:frac_alpha_words"), {}),
    ("number-dump", NUMBER_DUMP, "filings", None, (False, "basic:numeric_token_ratio"), {}),
]


@pytest.mark.parametrize("engine", ["datatrove", "signals"])
@pytest.mark.parametrize(
    ("text", "source", "config", "expected", "signals"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_decision_and_signals(engine, text, source, config, expected, signals):
    decision, doc = _decide(text, source, config, engine)
    assert decision == expected
    for name, value in signals.items():
        assert doc.quality_signals[name] == pytest.approx(value), name
    assert 0.0 <= doc.quality_score <= 1.0
    assert doc.quality_score < 1.0  # no real text sits far inside every threshold


def test_quality_score_is_the_mean_margin_inside_the_thresholds():
    # gopher_quality only: basic:empty + 9 Gopher rules; the 49-word text fails short_doc (margin 0).
    _, doc = _decide(_words(WORDS_LONG, 49), config=GOPHER_ONLY)
    checks = rule_checks(doc.quality_signals, QualityConfig.from_dict(GOPHER_ONLY).policy_for("web"))
    assert len(checks) == 10
    assert dict((n, m) for n, _, m in checks)["gopher:short_doc"] == 0.0
    assert doc.quality_score == pytest.approx(sum(m for _, _, m in checks) / 10, abs=1e-6)
    # web: 1 basic + 9 Gopher quality + 13 repetition + 3 C4 + 5 FineWeb rules = 31
    _, doc = _decide(GOOD + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit.")
    assert len(evaluate_rules(doc.quality_signals, QualityConfig().policy_for("web"))) == 31


def test_margins_at_and_around_a_threshold():
    assert _at_most("r", 0.2, 0.2) == ("r", True, 0.0)  # at the threshold: passes with no room left
    assert _at_most("r", 0.05, 0.2) == ("r", True, pytest.approx(0.75))
    assert _at_most("r", 0.3, 0.2)[1:] == (False, 0.0)
    assert _at_least("r", 50, 50) == ("r", True, 0.0)
    assert _at_least("r", 75, 50) == ("r", True, 0.5)
    assert _at_least("r", 500, 50) == ("r", True, 1.0)  # capped


def test_a_clean_article_outranks_a_borderline_one():
    # Both pass every rule; the borderline one has more than half of its lines short (FineWeb allows 67 %)
    # and fewer words and sentences, so it sits nearer several thresholds.
    borderline = "\n".join(GOOD.splitlines()[:3] + SHORT_LINES[:4])
    (keep_clean, _), clean = _decide(GOOD)
    (keep_border, _), border = _decide(borderline)
    assert keep_clean and keep_border
    assert clean.quality_score > border.quality_score + 0.03
    # the signals engine gives the same score
    assert _decide(borderline, engine="signals")[1].quality_score == border.quality_score


def test_c4_cleaning_applies_to_kept_documents_only():
    noisy = (
        GOOD + "\nPlease enable JavaScript to view the comments on this page."
        "\nThis site uses cookies to improve your experience, see our cookie policy."
        "\nShort line"
        "\nThe bank [1] said profits rose in the quarter [edit]."
    )
    scorer = QualityScorer()
    doc = Document(id="d", text=noisy, source="web")
    scorer.score(doc)
    assert doc.text == noisy  # tagging never changes the text
    assert doc.quality_signals["c4_lines_removed_frac"] == pytest.approx(3 / 10)
    assert scorer.decide(doc) == (True, "")
    # Content lines C4 removes are gone; the short line (a heading, say) stays: a signal, not a cut.
    assert doc.text == GOOD + "\nShort line\nThe bank said profits rose in the quarter ."

    signals_engine = QualityScorer(QualityConfig(engine="signals"))
    doc2 = Document(id="d", text=noisy, source="web")
    assert signals_engine.decide(doc2) == (True, "")
    assert doc2.text == doc.text

    keep_raw = QualityScorer(QualityConfig.from_dict({"default": {"c4": {"keep_cleaned_text": False}}}))
    doc3 = Document(id="d", text=noisy, source="web")
    assert keep_raw.decide(doc3) == (True, "")
    assert doc3.text == noisy

    dropped = Document(id="d", text=noisy + "\nLorem ipsum dolor sit amet, consectetur elit.", source="web")
    assert scorer.decide(dropped) == (False, "c4:lorem_ipsum")
    assert dropped.text.endswith("consectetur elit.")  # the rejected record keeps its original text


def test_decide_scores_unscored_documents():
    scorer = QualityScorer()
    doc = Document(id="d", text=TWEET, source="web")
    assert scorer.decide(doc) == (False, "gopher:short_doc")
    assert doc.quality_signals["n_words"] == 12.0


def test_builtin_policies():
    cfg = QualityConfig()
    for source in ("web", "news", "press", "wikipedia", "c4", "some-new-source"):
        assert cfg.policy_for(source).groups == ("gopher_quality", "gopher_repetition", "c4", "fineweb")
    filings = cfg.policy_for("filings")
    assert filings.groups == ("gopher_repetition",)
    assert filings.basic.max_numeric_token_ratio == 0.5
    assert filings.gopher_repetition.dup_n_grams[0] == (5, 0.30)
    assert filings.gopher_repetition.dup_line_char_frac == 0.2  # character fractions stay at Gopher's
    social = cfg.policy_for("social")
    assert social.groups == ()
    assert (social.basic.min_words, social.basic.max_symbol_ratio) == (3, 0.5)


def test_config_from_dict_overrides():
    cfg = QualityConfig.from_dict(
        {
            "default": {"gopher_quality": {"min_doc_words": 30}, "groups": ["fineweb", "gopher_quality"]},
            "sources": {
                "social": {"basic": {"min_words": 5}},
                "news": {"fineweb": {"stop_chars": [".", "!", "?", '"']}},
                "filings": {"gopher_repetition": {"dup_n_grams": [[5, 0.5]]}},
            },
        }
    )
    assert cfg.default.groups == ("gopher_quality", "fineweb")  # evaluation order is fixed
    assert cfg.policy_for("web").gopher_quality.min_doc_words == 30
    assert cfg.policy_for("news").gopher_quality.min_doc_words == 30  # source policies start from the default
    assert cfg.policy_for("news").fineweb.stop_chars == (".", "!", "?", '"')
    social = cfg.policy_for("social")
    assert (social.basic.min_words, social.basic.max_symbol_ratio, social.groups) == (5, 0.5, ())
    assert cfg.policy_for("filings").gopher_repetition.dup_n_grams == ((5, 0.5),)
    assert cfg.policy_for("filings").basic.max_numeric_token_ratio == 0.5
    assert QualityConfig.from_dict(None) == QualityConfig()


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"defaults": {}}, "unknown key"),
        ({"default": {"groups": ["gopher"]}}, "unknown quality rule group"),
        ({"default": {"groups": "c4"}}, "list of group names"),
        ({"default": {"gopher_quality": {"min_words": 3}}}, "unknown threshold"),
        ({"sources": {"social": {"basic": 3}}}, "mapping of thresholds"),
        ({"sources": {"social": {"minwords": 3}}}, "unknown key"),
        ({"engine": "fast"}, "engine"),
    ],
)
def test_config_errors(config, message):
    with pytest.raises(ConfigError, match=message):
        QualityConfig.from_dict(config)


def test_scorer_pickles_before_and_after_use():
    scorer = QualityScorer(QualityConfig(engine="datatrove"))
    clone = pickle.loads(pickle.dumps(scorer))
    assert clone.decide(Document(id="d", text=GOOD, source="web")) == (True, "")
    assert scorer.decide(Document(id="d", text=TWEET, source="web")) == (False, "gopher:short_doc")
    assert scorer._blocks  # datatrove blocks built and used ...
    again = pickle.loads(pickle.dumps(scorer))  # ... and still the scorer pickles
    assert again._blocks == {}
    assert again.decide(Document(id="d", text=TWEET, source="web")) == (False, "gopher:short_doc")


def test_signals_do_not_depend_on_engine():
    policy = SourcePolicy()
    signals, _ = compute_signals(GOOD, policy)
    assert len(GOOD.split()) == 145
    assert signals["n_words"] == 146.0  # spaCy words: "short-dated" is "short", "-", "dated"
    assert signals["stop_words"] == 6.0  # the, to, of, and, that, with (case-sensitive, as in Gopher)
    assert signals["url_ratio"] == 0.0
    tweet_signals, _ = compute_signals(TWEET, policy)
    assert tweet_signals["cashtag_ratio"] == pytest.approx(1 / 12)
    assert tweet_signals["url_ratio"] == pytest.approx(1 / 12)
    assert tweet_signals["numeric_token_ratio"] == pytest.approx(1 / 12)  # "3%"


def _tweets(shared_data) -> list[str]:
    raw = (shared_data / "social" / "tweets" / "twitter_financial_news_sentiment_valid_subset.csv").read_text(
        encoding="utf-8"
    )
    texts = [row["text"] for row in csv.DictReader(io.StringIO(raw))]
    for path in sorted((shared_data / "social" / "tweets").glob("stocknet_raw_*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line]
    return texts


def test_real_tweets_survive_social_policy_only(shared_data):
    tweets = _tweets(shared_data)
    assert len(tweets) > 1500
    scorer = QualityScorer()
    social = [scorer.decide(Document(id=str(i), text=t, source="social")) for i, t in enumerate(tweets)]
    kept = sum(keep for keep, _ in social) / len(tweets)
    assert kept > 0.98  # what goes: URL-only tweets, bare tickers, "[removed]" (basic:min_words)
    assert {reason for keep, reason in social if not keep} <= {"basic:min_words", "basic:symbol_ratio"}
    web = [scorer.decide(Document(id=str(i), text=t, source="web")) for i, t in enumerate(tweets[:300])]
    assert sum(keep for keep, _ in web) == 0


def test_engines_agree_on_real_news(shared_data):
    """The signals engine reproduces datatrove's blocks exactly on 299 real news articles."""
    docs = (shared_data / "general" / "lee_background.cor").read_text(encoding="utf-8").splitlines()
    blocks = QualityScorer(QualityConfig(engine="datatrove"))
    signals = QualityScorer(QualityConfig(engine="signals"))
    dropped = 0
    for i, text in enumerate(docs):
        a, b = Document(id=str(i), text=text, source="news"), Document(id=str(i), text=text, source="news")
        decision = blocks.decide(a)
        assert signals.decide(b) == decision, i
        assert a.text == b.text
        dropped += not decision[0]
    assert 0 < dropped < len(docs) / 2


# Every rule at its threshold: a text whose signal sits exactly on the threshold passes (inside), and the same
# text with the threshold moved by one float step past the signal fails with that rule's reason (outside).
BOUNDARY_TEXT = (
    GOOD
    + "\n- Rates rose again...\n- Rates rose again...\n- Bonds fell #rates #bonds\n\n"
    + "\n".join(GOOD.splitlines()[:2])
    + "\n\nCookie policy\nSee $AAPL at https://example.com in 2024 🚀\n\nThe end of the report.\n\nThe end of the report."
)
_QUALITY_OFF = {f.name: None for f in dataclasses.fields(GopherQualityThresholds)}
_REPETITION_OFF = {
    "dup_line_frac": None,
    "dup_para_frac": None,
    "dup_line_char_frac": None,
    "dup_para_char_frac": None,
    "top_n_grams": [],
    "dup_n_grams": [],
}
_FINEWEB_OFF = {
    "line_punct_thr": 0.0,
    "short_line_thr": 1.0,
    "char_duplicates_ratio": 1.0,
    "new_line_ratio": 1e9,
}

# (reason, group, threshold, signal, "max" = signal <= threshold passes | "min" = signal >= threshold passes)
BOUNDARY_RULES = [
    ("basic:min_words", "basic", "min_words", "n_words", "min"),
    ("basic:symbol_ratio", "basic", "max_symbol_ratio", "symbol_ratio", "max"),
    ("basic:numeric_token_ratio", "basic", "max_numeric_token_ratio", "numeric_token_ratio", "max"),
    ("basic:url_ratio", "basic", "max_url_ratio", "url_ratio", "max"),
    ("basic:cashtag_ratio", "basic", "max_cashtag_ratio", "cashtag_ratio", "max"),
    ("basic:emoji_ratio", "basic", "max_emoji_ratio", "emoji_ratio", "max"),
    ("basic:boilerplate_ratio", "basic", "max_boilerplate_ratio", "boilerplate_ratio", "max"),
    ("gopher:short_doc", "gopher_quality", "min_doc_words", "n_words", "min"),
    ("gopher:long_doc", "gopher_quality", "max_doc_words", "n_words", "max"),
    ("gopher:mean_word_length", "gopher_quality", "min_avg_word_length", "mean_word_length", "min"),
    ("gopher:mean_word_length", "gopher_quality", "max_avg_word_length", "mean_word_length", "max"),
    ("gopher:hash_word_ratio", "gopher_quality", "max_symbol_word_ratio", "hash_word_ratio", "max"),
    ("gopher:frac_lines_bullet", "gopher_quality", "max_bullet_lines_ratio", "frac_lines_bullet", "max"),
    (
        "gopher:frac_lines_ellipsis",
        "gopher_quality",
        "max_ellipsis_lines_ratio",
        "frac_lines_ellipsis",
        "max",
    ),
    ("gopher:frac_alpha_words", "gopher_quality", "max_non_alpha_words_ratio", "frac_alpha_words", "min"),
    ("gopher:stop_words", "gopher_quality", "min_stop_words", "stop_words", "min"),
    ("gopher:dup_para_frac", "gopher_repetition", "dup_para_frac", "dup_para_frac", "max"),
    ("gopher:dup_para_char_frac", "gopher_repetition", "dup_para_char_frac", "dup_para_char_frac", "max"),
    ("gopher:dup_line_frac", "gopher_repetition", "dup_line_frac", "dup_line_frac", "max"),
    ("gopher:dup_line_char_frac", "gopher_repetition", "dup_line_char_frac", "dup_line_char_frac", "max"),
    *[
        (f"gopher:top_{k}gram_frac", "gopher_repetition", ("top_n_grams", k), f"top_{k}gram_frac", "max")
        for k in (2, 3, 4)
    ],
    *[
        (f"gopher:dup_{k}gram_frac", "gopher_repetition", ("dup_n_grams", k), f"dup_{k}gram_frac", "max")
        for k in range(5, 11)
    ],
    ("c4:too_few_sentences", "c4", "min_num_sentences", "c4_sentences", "min"),
    ("fineweb:line_punct_ratio", "fineweb", "line_punct_thr", "fw_line_punct_ratio", "min"),
    ("fineweb:short_line_ratio", "fineweb", "short_line_thr", "fw_short_line_ratio", "max"),
    ("fineweb:char_dup_ratio", "fineweb", "char_duplicates_ratio", "fw_char_dup_ratio", "max"),
    ("fineweb:list_ratio", "fineweb", "new_line_ratio", "fw_list_ratio", "max"),
]
INTEGER_THRESHOLDS = {"min_words", "min_doc_words", "max_doc_words", "min_stop_words", "min_num_sentences"}


def _boundary_config(group: str, threshold, value) -> dict:
    if group == "basic":
        return {"default": {"groups": [], "basic": {threshold: value}}}
    off = {"gopher_quality": _QUALITY_OFF, "gopher_repetition": _REPETITION_OFF, "fineweb": _FINEWEB_OFF}.get(
        group, {}
    )
    if isinstance(threshold, tuple):
        name, k = threshold
        settings = {**off, name: [[k, value]]}
    else:
        settings = {**off, threshold: value}
    return {"default": {"groups": [group], group: settings}}


def _outside(value, direction: str, integer: bool):
    if integer:
        return int(value) + 1 if direction == "min" else int(value) - 1
    return math.nextafter(value, math.inf if direction == "min" else 0.0)


def test_boundary_rules_cover_every_reason():
    policy_rules = {
        name for name, _ in evaluate_rules(compute_signals(BOUNDARY_TEXT, SourcePolicy())[0], SourcePolicy())
    }
    tested = {rule[0] for rule in BOUNDARY_RULES}
    # empty, lorem_ipsum, curly_bracket, fineweb:empty and ellipsis_word_ratio are yes/no or share a threshold:
    # covered by CASES (and ellipsis by test_ellipsis_word_ratio_boundary).
    assert policy_rules - tested == {
        "basic:empty",
        "gopher:ellipsis_word_ratio",
        "c4:lorem_ipsum",
        "c4:curly_bracket",
        "fineweb:empty",
    }


@pytest.mark.parametrize("engine", ["datatrove", "signals"])
@pytest.mark.parametrize(
    ("reason", "group", "threshold", "signal", "direction"),
    BOUNDARY_RULES,
    ids=[f"{r[0]}-{r[2] if isinstance(r[2], str) else r[2][0]}" for r in BOUNDARY_RULES],
)
def test_rule_just_inside_and_just_outside(engine, reason, group, threshold, signal, direction):
    groups = [] if group == "basic" else [group]
    value = compute_signals(BOUNDARY_TEXT, SourcePolicy(groups=tuple(groups)))[0][signal]
    assert value > 0  # a zero threshold would disable the rule in datatrove
    integer = (threshold if isinstance(threshold, str) else "") in INTEGER_THRESHOLDS
    inside = int(value) if integer else value
    assert _decide(BOUNDARY_TEXT, config=_boundary_config(group, threshold, inside), engine=engine)[0] == (
        True,
        "",
    )
    outside = _outside(value, direction, integer)
    decision, _ = _decide(BOUNDARY_TEXT, config=_boundary_config(group, threshold, outside), engine=engine)
    assert decision == (False, reason)


@pytest.mark.parametrize("engine", ["datatrove", "signals"])
def test_ellipsis_word_ratio_boundary(engine):
    # Hash and ellipsis ratios share Gopher's limit 0.1 (tokens: spaCy words incl. "..."); the line must not end
    # in an ellipsis (that is frac_lines_ellipsis). 5 / 50 tokens inside, 6 / 51 outside.
    config = {"default": {"groups": ["gopher_quality"], "gopher_quality": {"min_doc_words": 45}}}
    inside = _words(WORDS_LONG, 44) + " ..." * 5 + " end"
    outside = _words(WORDS_LONG, 44) + " ..." * 6 + " end"
    assert compute_signals(inside, SourcePolicy())[0]["ellipsis_word_ratio"] == 0.1
    assert compute_signals(outside, SourcePolicy())[0]["ellipsis_word_ratio"] == pytest.approx(6 / 51)
    assert _decide(inside, config=config, engine=engine)[0] == (True, "")
    assert _decide(outside, config=config, engine=engine)[0] == (False, "gopher:ellipsis_word_ratio")


def test_source_aware_signals_exact():
    text = "$AAPL $TSLA up 3% 🚀🚀 https://t.co/x www.example.com 1,234.5 Copyright © 2024 Acme"
    s = compute_signals(text + "\nAll rights reserved\nReal content line here.", SourcePolicy())[0]
    assert s["cashtag_ratio"] == pytest.approx(2 / 19)  # 19 whitespace tokens
    assert s["url_ratio"] == pytest.approx(2 / 19)
    assert s["numeric_token_ratio"] == pytest.approx(3 / 19)  # "3%", "1,234.5", "2024"
    assert s["boilerplate_ratio"] == pytest.approx(2 / 3)
    non_space = sum(map(len, (text + " All rights reserved Real content line here.").split()))
    assert s["emoji_ratio"] == pytest.approx(2 / non_space)


# ---------------------------------------------------------------------------------------------------------
# The fast paths of the one-pass engine against their plain definitions (no shared data needed).


def _repetitive_words(seed: int, n_words: int = 900) -> list[str]:
    """Words with repeated runs, and word pairs whose concatenations collide ("ab c" vs "a bc")."""
    rng = random.Random(seed)
    vocab = [
        "the",
        "of",
        "revenue",
        "in",
        "millions",
        "except",
        "per",
        "share",
        "ab",
        "c",
        "a",
        "bc",
        "$",
        "1,2",
    ]
    words: list[str] = []
    while len(words) < n_words:
        if words and rng.random() < 0.3:
            start = rng.randrange(len(words))
            words += words[start : start + rng.randint(3, 15)]  # a repeat of an earlier run
        else:
            words += rng.choices(vocab, k=rng.randint(1, 8))
    return words


@pytest.mark.parametrize("seed", range(6))
def test_hashed_ngram_counts_equal_plain_counts(seed):
    words = _repetitive_words(seed)
    offsets = list(accumulate(map(len, words), initial=0))
    glued = "".join(words)
    spaced, spaced_offsets = " ".join(words) + " ", [o + i for i, o in enumerate(offsets)]
    glued_hashes = _SubstringHashes(glued, offsets)
    spaced_hashes = _SubstringHashes(spaced, spaced_offsets)
    for n in range(5, 11):
        plain = _dup_ngram_chars(glued, offsets, n)
        assert plain > 0
        assert _dup_ngram_chars(glued, offsets, n, glued_hashes) == plain
    for n in (2, 3, 4):
        plain = _top_ngram_chars(spaced, spaced_offsets, n)
        assert _top_ngram_chars(spaced, spaced_offsets, n, spaced_hashes) == plain


class _CollidingHashes(_SubstringHashes):
    """Every substring gets the same hash: the worst case of a collision."""

    def __call__(self, starts, ends):
        return np.zeros(len(starts), dtype=np.uint64)


def test_hash_collisions_fall_back_to_exact_counts():
    words = _repetitive_words(7)
    offsets = list(accumulate(map(len, words), initial=0))
    glued = "".join(words)
    spaced, spaced_offsets = " ".join(words) + " ", [o + i for i, o in enumerate(offsets)]
    for n in range(5, 11):
        expected = _dup_ngram_chars(glued, offsets, n)
        assert _dup_ngram_chars(glued, offsets, n, _CollidingHashes(glued, offsets)) == expected
        array = np.array(offsets)  # as compute_signals passes them
        assert _dup_ngram_chars(glued, array, n, _CollidingHashes(glued, array)) == expected
    for n in (2, 3, 4):
        expected = _top_ngram_chars(spaced, spaced_offsets, n)
        assert (
            _top_ngram_chars(spaced, spaced_offsets, n, _CollidingHashes(spaced, spaced_offsets)) == expected
        )
        array = np.array(spaced_offsets)
        assert _top_ngram_chars(spaced, array, n, _CollidingHashes(spaced, array)) == expected


def test_long_document_signals_use_hashes_and_match_short_path(monkeypatch):
    text = "\n".join(" ".join(_repetitive_words(seed, 120)) + "." for seed in range(8))
    assert len(text.split()) >= quality_module._HASH_MIN_WORDS
    hashed = compute_signals(text, SourcePolicy())[0]
    monkeypatch.setattr(quality_module, "_HASH_MIN_WORDS", 10**9)
    assert compute_signals(text, SourcePolicy())[0] == hashed


TRICKY_CHUNKS = [
    "can't",
    "U.S.",
    "Inc.",
    "(NASDAQ:AAPL)",
    "$AAPL",
    "3.5%",
    "1,234.56",
    "https://t.co/x?y=1",
    "e-mail",
    "—",
    "...",
    "“Hello,”",
    "🚀🚀",
    "don't!",
    "10-K",
    "'s",
    "U.K.-based",
    "a/b",
    "[1]",
    "etc.)",
    "ünïcödé",
    "x",
]


def test_batched_tokenizer_equals_one_spacy_call_per_chunk(monkeypatch):
    import spacy

    monkeypatch.setattr(quality_module, "_FILL_BATCH", 5)  # several batches, one ending on each kind of chunk
    tokenizer = ChunkTokenizer()
    tokenizer._fill(TRICKY_CHUNKS)
    reference = spacy.blank("en").tokenizer
    for chunk in TRICKY_CHUNKS:
        assert tokenizer.tokens(chunk) == tuple(t.text for t in reference(chunk)), chunk


@pytest.mark.parametrize(
    "line",
    [
        "No sentence end here",
        "One. Two! Three? Four",
        "Revenue rose 3.5% to $1.2 billion. Margins fell.",
        "Trailing dot.",
        "Dots ... inside ... and out ...",
        "Quote: “Yes.” Then more.  Double  spaces. Here",
        "U.S. stocks rose. The S&P 500 gained 1.2%. (Source: Reuters.)",
        "Mid-word.punct and e.g. abbreviations; a!b?c",
    ],
)
def test_sentence_count_equals_datatrove(line):
    from datatrove.utils.text import split_into_sentences

    assert ChunkTokenizer().count_sentences(line) == len(split_into_sentences(line))


def test_boilerplate_lines_counted_once_each():
    text = "\n".join(
        [
            "We use Cookies and JavaScript on this site; see our Privacy Policy.",  # three phrases, one line
            "   Click here to read the full report",  # a phrase at the start, after spaces
            "Analysts say you should subscribe to nothing.",  # "subscribe" not at the start: content
            "Page 3 of 12",
            "42",
            "TABLE OF CONTENTS",
            "",  # blank lines are not lines here
            "   ",
            "Revenue rose 4% on higher deposits.",
            "© 2024 Example Corp.",
        ]
    )
    s = compute_signals(text, SourcePolicy())[0]
    assert s["boilerplate_ratio"] == pytest.approx(6 / 8)


# --- Markdown tables (issue 15): the rules judge the prose, tables stay in the text

STATEMENT_ROWS = [
    ("Products", "$66,613", "$61,564", "$233,287", "$224,908"),
    ("Services", "27,423", "24,213", "80,408", "71,197"),
    ("Total net sales", "94,036", "85,777", "313,695", "296,105"),
    ("Cost of sales", "(50,318)", "(46,099)", "(166,835)", "(159,301)"),
    ("Gross margin", "43,718", "39,678", "146,860", "136,804"),
    ("Operating income", "28,202", "25,352", "100,623", "93,625"),
    ("Net income", "$23,434", "$21,448", "$84,544", "$79,000"),
    ("Basic", "$1.57", "$1.40", "$5.64", "$5.13"),
    ("Diluted", "$1.57", "$1.40", "$5.62", "$5.11"),
]


def _statement(title: str) -> str:
    rows = [f"| {' | '.join(row)} |" for row in STATEMENT_ROWS]
    header = "| | Q3 2025 | Q3 2024 | 9M 2025 | 9M 2024 |\n| --- | ---: | ---: | ---: | ---: |"
    return f"{title}\n\n(In millions, except per-share amounts)\n\n{header}\n" + "\n".join(rows)


TABLE_HEAVY = "\n\n".join(
    [GOOD.replace("\n", "\n\n"), _statement("Statements of Operations"), _statement("Segment Results")]
)


def test_table_heavy_release_is_judged_on_its_prose_and_keeps_its_tables():
    scorer = QualityScorer(QualityConfig())
    doc = Document(id="r", text=TABLE_HEAVY, source="press")
    scorer.score(doc)
    s = doc.quality_signals
    assert 0.5 < s["table_char_share"] < 0.8
    prose_signals = compute_signals(split_table_lines(TABLE_HEAVY)[0], QualityConfig().policy_for("press"))[0]
    for name in (
        "frac_alpha_words",
        "stop_words",
        "fw_line_punct_ratio",
        "fw_char_dup_ratio",
        "dup_5gram_frac",
    ):
        assert s[name] == prose_signals[name], name
    assert scorer.decide(doc) == (True, "")
    assert "| Net income | $23,434 | $21,448 | $84,544 | $79,000 |" in doc.text  # C4 left the tables in place
    assert doc.text.index("Statements of Operations") < doc.text.index("| Products |")


def test_the_same_tables_judged_as_prose_would_drop_the_release():
    """What the prose view prevents: the rows read as lines of text fail Gopher's letter rule and FineWeb's
    duplicated-line rule (the separator and per-share rows repeat between statements)."""
    disguised = "\n".join(("~" + line) if line.startswith("|") else line for line in TABLE_HEAVY.split("\n"))
    policy = QualityConfig().policy_for("press")
    failing = [name for name, ok in evaluate_rules(compute_signals(disguised, policy)[0], policy) if not ok]
    assert "gopher:frac_alpha_words" in failing and "fineweb:char_dup_ratio" in failing


def test_signals_of_a_text_without_tables_are_unchanged_by_the_table_view():
    signals = compute_signals(GOOD, SourcePolicy())[0]
    assert signals["table_char_share"] == 0.0
    assert (
        compute_signals(GOOD + "\n| a | b |", SourcePolicy())[0]["frac_alpha_words"]
        == signals["frac_alpha_words"]
    )


def test_max_table_char_share_is_an_optional_basic_rule():
    config = QualityConfig.from_dict({"sources": {"press": {"basic": {"max_table_char_share": 0.5}}}})
    scorer = QualityScorer(config)
    assert scorer.decide(Document(id="r", text=TABLE_HEAVY, source="press")) == (
        False,
        "basic:table_char_share",
    )
    assert QualityScorer().decide(Document(id="r", text=TABLE_HEAVY, source="press")) == (True, "")


def test_datatrove_engine_also_judges_the_prose():
    scorer = QualityScorer(QualityConfig(engine="datatrove"))
    doc = Document(id="r", text=TABLE_HEAVY, source="press")
    assert scorer.decide(doc) == (True, "")
    assert "| Net income | $23,434 |" in doc.text


def test_kept_text_keeps_short_headings_and_paragraph_breaks():
    """C4's "fewer than 3 words" rule is a signal, not a cut: the headings of a press release or a Wikipedia
    article stay, and so do the blank lines between paragraphs (they used to be deleted / joined)."""
    history = (
        "The bank was founded in 1850 by a group of merchants who wanted a safe place for their deposits, "
        "and it grew with the trade of the port over the following decades."
    )
    table = "| Year | Branches |\n| --- | ---: |\n| 1850 | 1 |\n| 1900 | 12 |"
    text = f"Management Commentary\n\n{GOOD}\n\nEarly history\n\n{history}\n\n{table}\n\n- Revenue up\n- Margin flat"
    for engine in ("signals", "datatrove"):
        doc = Document(id="d", text=text, source="press")
        assert QualityScorer(QualityConfig(engine=engine)).decide(doc) == (True, ""), engine
        assert doc.text == text, engine


# ------------------------------------------------------------------ issue 21: faster cores, same signals

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from filters.quality import _run_starts  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=60))
def test_run_starts_give_what_np_unique_gives(values):
    ordered = np.sort(np.array(values, dtype=np.uint64))
    starts = _run_starts(ordered)
    uniq, first, counts = np.unique(ordered, return_index=True, return_counts=True)
    assert (starts == first).all() and (ordered[starts] == uniq).all()
    assert (np.diff(starts, append=len(ordered)) == counts).all()


def _plain_ngram_signals(words: list[str]) -> tuple[list[int], list[int]]:
    offsets = [0]
    for w in words:
        offsets.append(offsets[-1] + len(w))
    glued = "".join(words)
    spaced, spaced_offsets = " ".join(words) + " ", [o + i for i, o in enumerate(offsets)]
    return (
        [_top_ngram_chars(spaced, spaced_offsets, n) for n in (2, 3, 4)],
        [_dup_ngram_chars(glued, offsets, n) for n in range(5, 11)],
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "ab", "c", "bc", "the", "of", "$", "1"]), min_size=1, max_size=80))
def test_hashed_ngram_counts_equal_plain_counts_on_any_words(words):
    offsets = list(accumulate(map(len, words), initial=0))
    glued = "".join(words)
    spaced, spaced_offsets = " ".join(words) + " ", [o + i for i, o in enumerate(offsets)]
    top, dup = _plain_ngram_signals(words)
    spaced_hashes = _SubstringHashes(spaced, np.array(spaced_offsets))
    glued_hashes = _SubstringHashes(glued, np.array(offsets))
    assert [_top_ngram_chars(spaced, spaced_offsets, n, spaced_hashes) for n in (2, 3, 4)] == top
    assert [_dup_ngram_chars(glued, offsets, n, glued_hashes) for n in range(5, 11)] == dup
    # compute_signals passes the offsets as the hashes' array
    assert [_top_ngram_chars(spaced, spaced_hashes.offsets, n, spaced_hashes) for n in (2, 3, 4)] == top
    assert [_dup_ngram_chars(glued, glued_hashes.offsets, n, glued_hashes) for n in range(5, 11)] == dup


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["Yes.", "no", "U.S.", "“Hi.”", "!", "a?b", "。", "end.", " ", "  ", "\t", "\u00a0"]),
        max_size=25,
    )
)
def test_sentence_count_equals_datatrove_with_any_spacing(pieces):
    from datatrove.utils.text import split_into_sentences

    line = " ".join(pieces).replace("\n", " ")
    assert ChunkTokenizer().count_sentences(line) == len(split_into_sentences(line))


def test_generational_memo_stays_bounded_and_gives_the_same_signals(monkeypatch):
    """A memo far smaller than the texts' vocabulary starts new generations often; every signal is still
    what a fresh large memo gives, and it never holds more than two generations (it grew to 500k chunks and,
    once full, was cleared with its frequent chunks: ~250 MB on a 100k-document run)."""
    rng = random.Random(7)
    vocab = [f"w{i}.{rng.choice('abc')}" for i in range(400)] + ["U.S.", "(1,234)", "3.5%", "don't", "e.g."]
    texts = [
        "\n".join(
            " ".join(rng.choice(vocab) + rng.choice(["", ".", ",", "!"]) for _ in range(rng.randint(5, 30)))
            for _ in range(rng.randint(1, 6))
        )
        for _ in range(60)
    ] + [GOOD, TWEET]
    policy = SourcePolicy()
    monkeypatch.setattr(quality_module, "_TOKENIZER", ChunkTokenizer())
    expected = [compute_signals(text, policy)[0] for text in texts]
    small = ChunkTokenizer(max_entries=50)
    monkeypatch.setattr(quality_module, "_TOKENIZER", small)
    rotations = 0
    last = None
    biggest = max(len(set(text.split())) for text in texts)
    distinct = len({chunk for text in texts for chunk in text.split()})
    assert distinct > 4 * (50 + biggest)  # what one memo of everything would hold
    for _ in range(2):  # a second pass meets chunks that left with a dropped generation
        for text, want in zip(texts, expected, strict=True):
            assert compute_signals(text, policy)[0] == want
            # each generation holds at most the cap plus the chunks of the call that filled it
            assert len(small) <= 2 * (50 + biggest)
            rotations += small._old_tokens is not last
            last = small._old_tokens
    assert rotations > 10
    assert small.count_sentences("One. Two! Three") == 3


# ---------------------------------------------------------------------------------------------------------
# c4_shaped_text splits a line into words only when it is long enough to fail max_word_length (issue 21).

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from filters import quality as _q  # noqa: E402


def _c4_shaped_reference(text: str, t: _q.C4Thresholds) -> str:
    """``c4_shaped_text`` as it was: every non-blank prose line split into words first."""
    lines = text.split("\n")
    in_table = _q.table_line_mask(lines) if "|" in text else [False] * len(lines)
    out: list[str] = []
    for raw, is_table in zip(lines, in_table, strict=True):
        line = raw.strip()
        if not line or is_table:
            out.append(line)
            continue
        words = line.split()
        if (
            t.max_word_length != -1
            and len(line) > t.max_word_length
            and max(map(len, words)) > t.max_word_length
        ):
            continue
        if t.remove_citations and "[" in line:
            line = _q._SPACES.sub(" ", _q._CITATION.sub("", line)).strip()
            if not line:
                continue
        if t.filter_no_terminal_punct and (not line.endswith(_q._C4_END_PUNCTUATION) or line.endswith("...")):
            continue
        lower = line.lower()
        if t.filter_javascript and "javascript" in lower:
            continue
        if t.filter_policy and any(p in lower for p in _q._C4_POLICY_SUBSTRINGS):
            continue
        out.append(line)
    return _q._BLANK_RUN.sub("\n\n", "\n".join(out)).strip("\n")


_WORD = st.sampled_from(["a", "Revenue", "rose.", "[1]", "javascript", "cookies", "|", "---", "x" * 12, "\t"])
_SHAPE_LINE = st.lists(_WORD, max_size=8).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_SHAPE_LINE, max_size=12).map("\n".join),
    st.sampled_from([-1, 1, 5, 11, 12, 1000]),
    st.booleans(),
)
def test_c4_shaped_text_equals_the_split_every_line_reference(text, max_word_length, terminal):
    t = _q.C4Thresholds(max_word_length=max_word_length, filter_no_terminal_punct=terminal)
    assert _q.c4_shaped_text(text, t) == _c4_shaped_reference(text, t)

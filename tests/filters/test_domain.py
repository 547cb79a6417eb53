"""DomainClassifier: normalisation, scores from a real (tiny) fastText model trained here, lazy loading;
the shipped model's scores do not depend on case or punctuation."""

from __future__ import annotations

import pickle

import pytest

from filters.domain import DomainClassifier, normalise
from pipeline.stages.domain import default_model_path
from pipeline.train_domain import TrainParams, fit

LABEL_FINANCIAL = "__label__financial"
LABEL_GENERAL = "__label__general"

FINANCIAL = [
    "The company reported quarterly revenue of $4.2 billion and raised its full-year earnings guidance.",
    "Shares fell after the bank said net interest income would decline as deposit costs rise.",
    "The board declared a quarterly cash dividend and authorized a share repurchase program.",
    "Bond yields climbed as investors priced in another interest rate increase by the central bank.",
    "Operating profit rose to 13 million euros while net sales increased by 8 percent.",
    "Analysts expect earnings per share to beat estimates on strong loan growth and fee revenue.",
]
GENERAL = [
    "Garlic is planted in autumn and harvested the following summer when the leaves turn brown.",
    "The river rises in the mountains and flows through forests and meadows to the sea.",
    "The cathedral was built in the twelfth century and its towers dominate the old town.",
    "Tulips, roses and daffodils bloom in the garden beside a small pond with frogs.",
    "The tide rises and falls twice a day under the pull of the moon and the sun.",
    "The novel follows a young painter who travels across the countryside in search of light.",
]


def train_tiny_model(path: str, labels: tuple[str, str] = (LABEL_FINANCIAL, LABEL_GENERAL)) -> str:
    """Train a small supervised fastText model on the inline texts (the project's trainer: one thread, seeded)."""
    lines = [f"{labels[0]} {normalise(t)}" for t in FINANCIAL] + [
        f"{labels[1]} {normalise(t)}" for t in GENERAL
    ]
    train_file = path + ".txt"
    with open(train_file, "w", encoding="utf-8") as f:
        f.write("\n".join(lines * 5) + "\n")
    model = fit(train_file, TrainParams(dim=20, epoch=50, lr=0.1))
    model.save_model(path)
    return path


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> str:
    return train_tiny_model(str(tmp_path_factory.mktemp("domain") / "tiny.bin"))


def test_normalise_casefolds_drops_punctuation_stop_words_and_masks_numbers():
    assert (
        normalise("Revenue ROSE 12.5%,\nto $4.2bn!") == "revenue rose 0 bn"
    )  # "to" is a stop word: the two numbers become one run
    assert normalise("The company's 1,000,000 shares") == "companys 0 shares"
    assert normalise("one two three four", max_words=2) == "one two"
    assert normalise("  \n\t ") == ""
    assert normalise("Über-Straße, after-hours") == "überstrasse afterhours"  # hyphens inside words join


@pytest.mark.parametrize(
    "variant",
    [
        str.lower,
        str.upper,
        # what a punctuation stripper leaves: every non-alphanumeric character removed, apostrophes joined
        lambda t: " ".join("".join(c for c in w if c.isalnum()) for w in t.split()),
    ],
    ids=["lower", "upper", "no-punctuation"],
)
def test_surface_form_does_not_change_the_line_or_the_score(variant):
    text = (
        "Apple's Q3 revenue ROSE 12.5% to $94.8 billion, and the company's board declared a dividend of "
        "$0.25 per share; shares of AAPL rose 3% in after-hours trading."
    )
    assert normalise(variant(text)) == normalise(text)
    clf = DomainClassifier(default_model_path(), label="financial")
    assert clf.score(variant(text)) == clf.score(text)
    assert clf.score(variant(GENERAL[0])) == clf.score(GENERAL[0])


def test_financial_text_scores_high_and_general_low(model_path):
    clf = DomainClassifier(model_path, label="financial")
    fin = clf.score("The bank raised its dividend after quarterly earnings beat analysts' estimates.")
    gen = clf.score("Frogs live beside the garden pond among the roses and the tulips.")
    assert fin > 0.5 > gen
    assert 0.0 <= gen and fin <= 1.0


def test_score_many_matches_score_and_keeps_order(model_path):
    clf = DomainClassifier(model_path, label="financial")
    texts = [FINANCIAL[0], "", GENERAL[0], "!!! ---"]
    scores = clf.score_many(texts)
    assert scores == pytest.approx([clf.score(t) for t in texts])
    assert scores[1] == 0.0 and scores[3] == 0.0  # no words: not financial
    assert scores[0] > 0.5 > scores[2]


def test_model_loads_lazily_and_is_not_pickled(model_path):
    clf = DomainClassifier(model_path, label="financial")
    assert clf._model_obj is None
    clf.setup()
    assert clf._model_obj is not None
    clone = pickle.loads(pickle.dumps(clf))
    assert clone._model_obj is None
    assert clone.score(FINANCIAL[1]) == pytest.approx(clf.score(FINANCIAL[1]))


def test_a_model_without_the_financial_label_is_refused(tmp_path):
    other = train_tiny_model(str(tmp_path / "other.bin"), labels=("__label__a", "__label__b"))
    with pytest.raises(ValueError, match="not a domain model"):
        DomainClassifier(other, label="financial").score("anything at all")

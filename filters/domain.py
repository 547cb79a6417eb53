"""Domain relevance: a fastText supervised classifier, financial vs general, scores a page's financial relevance.

FinPile's "Web" category (BloombergGPT, Wu et al. 2023, Table 1: 42.01% of all training tokens) is the financially
relevant part of the general web. We pick it out the same way CCNet / FineWeb-Edu pick out their subsets: a small
linear classifier over bag-of-words (fastText, Joulin et al. 2017) trained on text whose label we already know
from its source (filings, press, news, finance subreddits are financial; Wikipedia and general web are general).

The text the model sees (training and prediction alike, see ``normalise``): lower-cased, every run of characters
other than letters, digits, ``$`` and ``%`` becomes one space (so "prices," and "prices" are one word and newlines,
which fastText rejects, disappear), every digit run becomes ``0`` (amounts and dates are signal as a class, not as
values), then the first ``MAX_WORDS`` words. A few hundred words give a stable average of word vectors and keep
the cost flat on 1-MB filings.

``score(text)`` is the model's probability of ``__label__financial`` in [0, 1]; empty text scores 0.0.
"""

from __future__ import annotations

import re
from typing import Any

from filters.fasttext_model import LazyFastTextModel

MAX_WORDS = 400
LABEL_FINANCIAL = "__label__financial"
LABEL_GENERAL = "__label__general"
LABELS = {"financial": LABEL_FINANCIAL, "general": LABEL_GENERAL}

_NON_WORD = re.compile(r"[^0-9a-z$%]+")
_DIGITS = re.compile(r"[0-9]+")


def normalise(text: str, max_words: int = MAX_WORDS) -> str:
    """The single line fastText sees: lower-cased words (digit runs as ``0``), the first ``max_words`` of them."""
    # Cut before the regexes (cheap on 1-MB texts): ~12 characters per word is ample slack.
    head = text[: max_words * 12].lower()
    words = _DIGITS.sub("0", _NON_WORD.sub(" ", head)).split()
    return " ".join(words[:max_words])


class DomainClassifier(LazyFastTextModel):
    """Probability that a text is financial, from a fastText model file; loads the model lazily, pickles without it."""

    def __init__(self, model_path: str, max_words: int = MAX_WORDS, label: str = "financial"):
        self.model_path = model_path
        self.max_words = max_words
        self.positive = f"__label__{label}"  # the profile's domain (financial, medical)
        self._model_obj: Any = None

    def _check(self, model: Any) -> None:
        if self.positive not in model.get_labels():
            raise ValueError(
                f"{self.model_path} is not a domain model of this profile: it has no {self.positive} label"
            )

    def score(self, text: str) -> float:
        """Probability in [0, 1] that ``text`` is financial (0.0 for text without words)."""
        return self.score_many([text])[0]

    def score_many(self, texts: list[str]) -> list[float]:
        """``score`` for a batch in one fastText call (numpy 2 requires the list form anyway)."""
        lines = [normalise(t, self.max_words) for t in texts]
        todo = [i for i, line in enumerate(lines) if line]
        scores = [0.0] * len(lines)
        if not todo:
            return scores
        # k=-1: every label with its probability, so the financial one is there even when it is not the top.
        labels, probs = self._model.predict([lines[i] for i in todo], k=-1)
        for i, labs, ps in zip(todo, labels, probs, strict=True):
            by_label = dict(zip(labs, ps, strict=True))
            scores[i] = min(1.0, max(0.0, float(by_label.get(self.positive, 0.0))))
        return scores

"""Domain relevance: a fastText supervised classifier, financial vs general, scores a text's financial relevance.

FinPile's "Web" category (BloombergGPT, Wu et al. 2023, Table 1: 42.01% of all training tokens) is the financially
relevant part of the general web. We pick it out the way CCNet / FineWeb-Edu pick out their subsets: a small
linear classifier over bag-of-words (fastText, Joulin et al. 2017) trained on labelled text (AG News Business vs
World/Sports/Sci-Tech, Financial PhraseBank) and on text whose label its source gives (filings, financial tweets
and finance subreddits are financial; Wikipedia and general news are general). See ``pipeline/train_domain.py``.

The text the model sees (training and prediction alike, see ``normalise``) depends on the words only, never on
their surface form, because some corpora arrive lower-cased or with punctuation stripped:

- Unicode NFKC, then case-folded;
- apostrophes and hyphens inside a word are removed ("company's" and "companys", "after-hours" and "afterhours"
  are one word each, as a punctuation stripper leaves them);
- every number, with its decimal and thousands separators, becomes ``0``, and a run of numbers one ``0``
  (amounts and dates are signal as a class, not as values; "12.5" and a stripped "12 5" agree);
- every other run of characters that are not letters or digits (punctuation, ``$``, ``%``, newlines, which
  fastText rejects) becomes one space;
- English function words (``STOP_WORDS``) are dropped;
- the first ``MAX_WORDS`` words are kept: enough for a stable average over a long article, with a flat cost on
  1-MB filings.

So "Revenue ROSE 12.5%" and "revenue rose 12 5" are the same line and get the same score.
``score(text)`` is the model's probability of ``__label__financial`` in [0, 1]; empty text scores 0.0.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from filters.fasttext_model import LazyFastTextModel

MAX_WORDS = 1000
LABEL_PREFIX = "__label__"  # fastText's: a profile's model has __label__<its domain> and __label__general

# English function words (articles, pronouns, auxiliaries, prepositions, conjunctions), dropped: their rate tells
# the style and length of a text (a tweet, a headline, an encyclopedia article), not its subject, and the training
# sources differ in style along with their labels. Content words only, so a long general article is not judged
# financial or general by how often it says "the".
STOP_WORDS = frozenset(
    """
    a an the and or but nor so yet if then than that this these those there here
    i me my mine we us our ours you your yours he him his she her hers it its they them their theirs
    who whom whose which what when where why how
    is are was were be been being am do does did done doing have has had having
    will would shall should can could may might must
    of to in on at by for with from into onto upon about above below over under between through during
    before after against among around without within along across toward towards off out up down via
    as not no also just very too only own same such both each few more most other some any all
    im ive id youre youve weve theyre theyve hes shes isnt arent wasnt werent dont doesnt didnt
    wont wouldnt cant couldnt shouldnt hasnt havent hadnt lets thats theres whats
    s t d ll m re ve
    """.split()
)

# Apostrophes and hyphens inside a word are removed, as a punctuation stripper removes them.
_JOINERS = re.compile(r"(?<=\w)['\u2019\u02bc`\-\u2010\u2011](?=\w)")
_NUMBERS = re.compile(r"\d+(?:[.,]\d+)*")
_NON_WORD = re.compile(r"[\W_]+")


def _words(head: str, max_words: int, cut: bool) -> list[str]:
    head = unicodedata.normalize("NFKC", head).casefold()
    head = _NUMBERS.sub(" 0 ", _JOINERS.sub("", head))
    raw = _NON_WORD.sub(" ", head).split()
    if cut and raw:
        raw.pop()  # the text was cut here: its last token may be half a word
    words: list[str] = []
    for word in raw:
        if word in STOP_WORDS:
            continue
        # A run of numbers is one number: "12.5" and a stripped "12 5" give the same line.
        if word != "0" or not words or words[-1] != "0":
            words.append(word)
            if len(words) == max_words:
                break
    return words


def normalise(text: str, max_words: int = MAX_WORDS) -> str:
    """The single line fastText sees: case-folded words, numbers as ``0``, no punctuation or stop words; the first
    ``max_words`` of them."""
    # Work on a head of the text (cheap on 1-MB texts), longer until it holds max_words words or is all the text.
    limit = max_words * 12 + 64
    while True:
        cut = limit < len(text)
        words = _words(text[:limit], max_words, cut)
        if len(words) >= max_words or not cut:
            return " ".join(words)
        limit *= 2


class DomainClassifier(LazyFastTextModel):
    """Probability that a text is in the profile's domain ``label`` (financial, medical), from a fastText model
    file; loads the model lazily, pickles without it."""

    def __init__(self, model_path: str, label: str, max_words: int = MAX_WORDS):
        self.model_path = model_path
        self.max_words = max_words
        self.positive = f"{LABEL_PREFIX}{label}"  # the profile's domain
        self._model_obj: Any = None

    def _check(self, model: Any) -> None:
        if self.positive not in model.get_labels():
            raise ValueError(
                f"{self.model_path} is not a domain model of this profile: it has no {self.positive} label"
            )

    def score(self, text: str) -> float:
        """Probability in [0, 1] that ``text`` is in the profile's domain (0.0 for text without words)."""
        return self.score_many([text])[0]

    def score_many(self, texts: list[str]) -> list[float]:
        """``score`` for a batch in one fastText call (numpy 2 requires the list form anyway)."""
        lines = [normalise(t, self.max_words) for t in texts]
        todo = [i for i, line in enumerate(lines) if line]
        scores = [0.0] * len(lines)
        if not todo:
            return scores
        # k=-1: every label with its probability, so the domain's is there even when it is not the top.
        labels, probs = self._model.predict([lines[i] for i in todo], k=-1)
        for i, labs, ps in zip(todo, labels, probs, strict=True):
            by_label = dict(zip(labs, ps, strict=True))
            scores[i] = min(1.0, max(0.0, float(by_label.get(self.positive, 0.0))))
        return scores

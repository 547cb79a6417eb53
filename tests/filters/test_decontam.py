"""Decontaminator: normalised word n-grams, short examples matched whole, encodings, real PhraseBank."""

from __future__ import annotations

import csv

import pytest

from filters.decontam import MIN_WORDS, Decontaminator, EvalSet, decode, words

LONG = (
    "Basware targets a long-term net sales growth in the range of 20 % -40 % with an operating profit margin"
)
SHORT = "The company has no plans to move production to Russia"  # 10 words: matched whole
TINY = "Operating profit rose to EUR 13 mn"  # 7 normalised words: below MIN_WORDS, not checked


def test_words_are_lowercased_and_punctuation_free():
    assert words("Company 's 20 % -40 % growth, EUR13.1mn!") == [
        "company",
        "s",
        "20",
        "40",
        "growth",
        "eur13",
        "1mn",
    ]
    assert words("company's 20%-40% growth") == ["company", "s", "20", "40", "growth"]


def test_decode_falls_back_to_cp1252_then_latin1():
    assert decode("Citigroup Ã¤".encode()) == "Citigroup Ã¤"
    assert decode("caf\xe9 \u2019".encode("cp1252")) == "caf\xe9 \u2019"
    assert decode(b"\x81\xe9") == "\x81\xe9"  # 0x81 is undefined in cp1252: latin-1 takes it


def test_thirteen_gram_is_found_through_tokenisation_differences():
    dec = Decontaminator([EvalSet.from_texts("pb", [LONG])])
    page = "Intro text. Basware targets a long-term net sales growth in the range of 20%-40% with more."
    # The page shares words 1..15 of the example, i.e. 3 of its 13-grams.
    assert dec.check(page) == {"pb": 3}
    # Twelve shared words are not enough.
    assert dec.check("Basware targets a long-term net sales growth in the range of twenty percent") == {}


def test_short_examples_match_whole_and_tiny_ones_only_whole_documents():
    sets = [EvalSet.from_texts("pb", [SHORT, TINY])]
    dec = Decontaminator(sets)
    assert sets[0].whole_doc_only == 1 and len(words(TINY)) == MIN_WORDS - 1
    assert dec.check(f"He said: {SHORT.lower()}, despite growth.") == {"pb": 1}
    assert dec.check("The company has no plans to move production to Poland") == {}
    assert dec.check(f"Quarterly: {TINY}.") == {}
    # ... but a document that is the tiny item, re-cased and re-punctuated, is caught whole.
    assert dec.check("OPERATING PROFIT ROSE TO EUR 13 MN!") == {"pb": 1}


def test_hits_are_counted_per_eval_set():
    dec = Decontaminator([EvalSet.from_texts("a", [LONG]), EvalSet.from_texts("b", [LONG, SHORT])], n=13)
    # LONG has 19 words: 7 thirteen-grams; SHORT is one whole-sentence match.
    assert dec.check(f"{LONG}. {SHORT}.") == {"a": 7, "b": 8}
    assert Decontaminator([]).check(LONG) == {}


def test_load_csv_cp1252_and_jsonl(tmp_path):
    path = tmp_path / "pb.csv"
    with open(path, "w", encoding="cp1252", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["label", "news"])
        writer.writerow(["neutral", "Fiskars \u2019s sales in Hämeenlinna rose"])
    es = EvalSet.load("pb", str(path), "news")
    assert es.texts == ["Fiskars \u2019s sales in Hämeenlinna rose"]
    jl = tmp_path / "fiqa.jsonl"
    jl.write_text('{"text": "first"}\n\n{"text": "second", "x": 1}\n{"other": "no text"}\n', encoding="utf-8")
    assert EvalSet.load("fiqa", str(jl)).texts == ["first", "second"]
    with pytest.raises(ValueError, match="no column 'sentence'"):
        EvalSet.load("pb", str(path), "sentence")


def test_real_phrasebank_sentence_is_caught_and_paraphrase_is_not(shared_data):
    path = shared_data / "labeled" / "financial_phrasebank_50agree_subset.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    pb = EvalSet.load("phrasebank", str(path), "news")
    assert len(pb.texts) > 3000
    dec = Decontaminator([pb])
    sentence = next(t for t in pb.texts if t.startswith("Technopolis plans to develop in stages"))
    page = f"Helsinki, 2008. {sentence.replace(' ,', ',').replace(' .', '.')} Shares were unchanged."
    assert dec.check(page).get("phrasebank", 0) >= 1
    paraphrase = (
        "Helsinki, 2008. Technopolis intends to build, step by step, at least 100,000 square metres of space "
        "for computer-technology and telecoms firms, according to the statement. Shares were unchanged."
    )
    assert dec.check(paraphrase) == {}
    # The file is not UTF-8 (byte 0xC6 in "Sepp+\xc6l+\xc6", the dataset's own mangled "Seppälä"): cp1252 reads it.
    assert any("Sepp+\xc6l+\xc6" in t for t in pb.texts)

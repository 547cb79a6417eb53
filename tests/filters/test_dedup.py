"""Dedup cores: normalization, exact keys, MinHash equal to datasketch, LSH banding behaviour."""

from __future__ import annotations

import pickle
import random
import sys
import unicodedata

import datasketch
import numpy as np
import pytest
import xxhash

from filters import dedup
from filters.dedup import (
    HASHES,
    MinHashConfig,
    band_keys,
    estimated_jaccard,
    exact_key,
    jaccard,
    ngrams,
    normalize_for_exact,
    shingles,
    signature,
)

DATASKETCH_2 = int(datasketch.__version__.split(".")[0]) >= 2 if hasattr(datasketch, "__version__") else True


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("Hello,  World!", "hello world"),
        ("  Don't\tSTOP\n\nbelieving… ", "dont stop believing"),
        ("U.S. e-mail — “quoted” (x)", "us email quoted x"),
        ("ﬁnance ＡＢＣ １２３", "finance abc 123"),  # NFKC: ligature, full-width letters and digits
        ("Straße STRASSE", "strasse strasse"),  # casefold, not lower()
        ("$5 + 3% = €8 #1", "$5 + 3 = €8 1"),  # symbols (S*) stay, % and # are punctuation (P*)
        ("", ""),
    ],
)
def test_normalize_for_exact(text, normalized):
    assert normalize_for_exact(text) == normalized


def test_exact_key():
    assert exact_key("Hello, World!") == exact_key("hello world")
    assert exact_key("Hello, World!") != exact_key("Hello, Word!")
    assert len(exact_key("x")) == 40 and int(exact_key("x"), 16) >= 0


@pytest.mark.parametrize("num_perm", [16, 64, 128, 250])
def test_lsh_params_choose_datasketchs_bands_and_rows_without_scipy(num_perm):
    """Gauss-Legendre quadrature picks the same (bands, rows) as datasketch's scipy ``quad`` over a grid of
    thresholds; a quadrature that is not exact for the polynomial (too few nodes) picks other pairs."""
    from datasketch.lsh import _optimal_param

    thresholds = [i / 20 for i in range(1, 20)] + [0.33, 0.66, 0.72, 0.85, 0.97]
    for threshold in thresholds:
        assert dedup._lsh_params.__wrapped__(threshold, num_perm) == _optimal_param(
            threshold, num_perm, 0.5, 0.5
        )


def test_building_a_minhash_config_does_not_import_scipy():
    """scipy's import (~0.5 s) was paid by every process that built a config, for datasketch's LSH parameters."""
    import subprocess

    code = (
        "import sys; from filters.dedup import MinHashConfig; MinHashConfig(threshold=0.77, num_perm=96); "
        "print('scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_config_derives_bands_rows_and_identity():
    cfg = MinHashConfig()
    assert (cfg.ngram, cfg.num_perm, cfg.threshold, cfg.seed, cfg.unit) == (5, 128, 0.8, 1, "word")
    assert (cfg.bands, cfg.rows) == (9, 13)
    assert cfg.identity == "minhash-v1:word5:p128:t0.8:b9r13:s1:affine32:xxh32"
    other = MinHashConfig(
        ngram=3, num_perm=256, threshold=0.7, seed=7, unit="char", scheme="legacy", hash="sha1"
    )
    assert (other.bands, other.rows) == (25, 10)
    assert other.identity == "minhash-v1:char3:p256:t0.7:b25r10:s7:legacy:sha1"
    assert pickle.loads(pickle.dumps(cfg)) == cfg
    for bad in ({"unit": "token"}, {"scheme": "affine64"}, {"hash": "md5"}, {"threshold": 1.0}, {"ngram": 0}):
        with pytest.raises(ValueError):
            MinHashConfig(**bad)


def test_ngrams_and_short_documents():
    cfg = MinHashConfig(ngram=3)
    assert ngrams("The quick, brown fox jumps!", cfg) == [
        "the quick brown",
        "quick brown fox",
        "brown fox jumps",
    ]
    assert ngrams("Two words", cfg) == ["two words"]  # shorter than n: one shingle of the whole text
    assert ngrams("", cfg) == [""]
    assert ngrams("Abcd!", MinHashConfig(ngram=3, unit="char")) == ["abc", "bcd"]
    hashes = shingles("The quick, brown fox jumps!", cfg)
    assert hashes.dtype == np.uint64 and hashes.shape == (3,)
    assert int(hashes[0]) == xxhash.xxh32_intdigest(b"the quick brown")
    sha = shingles("The quick, brown fox jumps!", MinHashConfig(ngram=3, hash="sha1"))
    assert int(sha[0]) == datasketch.hashfunc.sha1_hash32(b"the quick brown")


def _random_text(rng: random.Random, n_words: int) -> str:
    return " ".join(
        "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 9))) for _ in range(n_words)
    )


def _datasketch(cfg: MinHashConfig, grams: list[str]) -> np.ndarray:
    kwargs = {"hashfunc": xxhash.xxh32_intdigest} if cfg.hash == "xxh32" else {}
    if DATASKETCH_2:
        kwargs["scheme"] = cfg.scheme
    elif cfg.scheme != "legacy":
        pytest.skip("datasketch < 2.0 has only the legacy scheme")
    m = datasketch.MinHash(num_perm=cfg.num_perm, seed=cfg.seed, **kwargs)
    m.update_batch([g.encode("utf-8") for g in grams])
    return m.hashvalues


@pytest.mark.parametrize(
    "cfg",
    [
        MinHashConfig(),
        MinHashConfig(hash="sha1"),
        MinHashConfig(scheme="legacy", hash="sha1"),
        MinHashConfig(scheme="legacy", num_perm=64, seed=42),
        MinHashConfig(ngram=3, unit="char", num_perm=256, seed=3),
    ],
    ids=lambda c: c.identity,
)
@pytest.mark.parametrize("n_words", [0, 3, 1000, 9000])  # 9,000 words: more than one block of shingles
def test_signature_equals_datasketch(cfg, n_words):
    text = _random_text(random.Random(n_words), n_words)
    grams = ngrams(text, cfg)
    sig = signature(shingles(text, cfg), cfg)
    assert sig.dtype == np.uint64 and sig.shape == (cfg.num_perm,)
    np.testing.assert_array_equal(sig, _datasketch(cfg, grams))
    if n_words == 9000 and cfg.unit == "word":
        assert len(grams) > dedup._CHUNK


def test_signature_of_no_shingles_is_datasketchs_empty_minhash():
    for cfg in (MinHashConfig(), MinHashConfig(scheme="legacy")):
        np.testing.assert_array_equal(signature(np.array([], dtype=np.uint64), cfg), _datasketch(cfg, []))


def test_band_keys_shape():
    cfg = MinHashConfig()
    sig = signature(shingles("some text " * 20, cfg), cfg)
    keys = band_keys(sig, cfg)
    assert len(keys) == cfg.bands == 9
    assert all(isinstance(k, bytes) and len(k) == 18 for k in keys)
    assert [int.from_bytes(k[:2], "big") for k in keys] == list(range(9))
    with pytest.raises(ValueError):
        band_keys(sig[:64], cfg)


def _edit(words: list[str], rng: random.Random, n_edits: int) -> list[str]:
    out = list(words)
    for pos in rng.sample(range(len(words)), n_edits):
        out[pos] = "edited" + str(pos)
    return out


def test_near_duplicates_share_a_band_unrelated_do_not():
    cfg = MinHashConfig()
    rng = random.Random(5)
    words = _random_text(rng, 300).split()
    text = " ".join(words)
    near = " ".join("changed" if i in (50, 150, 250) else w for i, w in enumerate(words))
    exact = jaccard(set(ngrams(text, cfg)), set(ngrams(near, cfg)))
    assert exact == pytest.approx(281 / 311)  # 3 substitutions: 15 of 296 shingles replaced on each side
    sig_a, sig_b = signature(shingles(text, cfg), cfg), signature(shingles(near, cfg), cfg)
    assert abs(estimated_jaccard(sig_a, sig_b) - exact) < 0.1
    assert set(band_keys(sig_a, cfg)) & set(band_keys(sig_b, cfg))

    unrelated = _random_text(random.Random(6), 300)
    sig_c = signature(shingles(unrelated, cfg), cfg)
    assert estimated_jaccard(sig_a, sig_c) < 0.05
    assert not set(band_keys(sig_a, cfg)) & set(band_keys(sig_c, cfg))


@pytest.mark.parametrize(("n_edits", "low", "high"), [(2, 0.85, 1.0), (4, 0.4, 0.7), (30, 0.0, 0.02)])
def test_lsh_candidate_rate_follows_the_s_curve(n_edits, low, high):
    """Over many pairs, the share that collides in a band matches 1 - (1 - s**r)**b for their Jaccard s."""
    cfg = MinHashConfig()
    rng = random.Random(n_edits)
    hits, expected = 0, 0.0
    pairs = 150
    for _ in range(pairs):
        words = _random_text(rng, 200).split()
        a, b = " ".join(words), " ".join(_edit(words, rng, n_edits))
        s = jaccard(set(ngrams(a, cfg)), set(ngrams(b, cfg)))
        expected += 1 - (1 - s**cfg.rows) ** cfg.bands
        keys_a = band_keys(signature(shingles(a, cfg), cfg), cfg)
        keys_b = band_keys(signature(shingles(b, cfg), cfg), cfg)
        hits += bool(set(keys_a) & set(keys_b))
    rate, expected_rate = hits / pairs, expected / pairs
    assert low <= expected_rate <= high  # the scenario is what the parameters say
    assert abs(rate - expected_rate) < 0.1


def test_jaccard_helpers():
    assert jaccard({1, 2, 3}, {2, 3, 4}) == 0.5
    assert jaccard(set(), set()) == 1.0
    assert jaccard({1}, set()) == 0.0
    a = np.array([1, 2, 3, 4], dtype=np.uint64)
    assert estimated_jaccard(a, np.array([1, 2, 0, 0], dtype=np.uint64)) == 0.5
    with pytest.raises(ValueError):
        estimated_jaccard(a, a[:2])


def _every_punctuation_code_point() -> list[int]:
    return [cp for cp in range(sys.maxunicode + 1) if unicodedata.category(chr(cp)).startswith("P")]


def test_punctuation_deletion_matches_every_unicode_code_point():
    """Both paths of delete_punctuation (ASCII bytes, numpy mask) delete exactly the P* code points."""
    punctuation = _every_punctuation_code_point()
    assert max(punctuation) < dedup._PUNCTUATION_SCAN_END
    assert np.flatnonzero(dedup._punctuation_mask()).tolist() == punctuation
    ascii_text = "".join(chr(cp) for cp in range(128)) * 2
    assert dedup.delete_punctuation(ascii_text) == "".join(c for c in ascii_text if ord(c) not in punctuation)
    rng = random.Random(3)
    some = [chr(rng.randrange(sys.maxunicode + 1)) for _ in range(20_000)] + [chr(cp) for cp in punctuation]
    rng.shuffle(some)
    text = "".join(c for c in some if not 0xD800 <= ord(c) <= 0xDFFF)  # no lone surrogates
    assert dedup.delete_punctuation(text) == "".join(c for c in text if unicodedata.category(c)[0] != "P")
    assert normalize_for_exact("Mixed ascii — and “unicode”, e-mail!") == "mixed ascii and unicode email"


def test_normalize_lines_equals_per_line_normalisation():
    text = "First LINE, with “quotes”.\n\n  ﬁne Ｆｕｌｌ width \u00a0 spaces \nCafe\u0301\n\u0301 starts with a mark\n\t\n"
    assert dedup.normalize_lines(text) == [normalize_for_exact(line) for line in text.split("\n")]
    # No code point normalises or folds to something holding a line feed, so lines never merge or split.
    for cp in range(sys.maxunicode + 1):
        if cp != 0x0A and not 0xD800 <= cp <= 0xDFFF:
            assert "\n" not in unicodedata.normalize("NFKC", chr(cp)).casefold(), hex(cp)


@pytest.mark.parametrize("hash_name", HASHES)
def test_word_shingles_equal_hashes_of_ngrams(hash_name):
    """The byte-slice fast path of ``shingles`` hashes exactly the strings ``ngrams`` returns."""
    rng = random.Random(4)
    vocab = ["alpha", "Beta,", "ça", "naïve", "東京", "x", "—", "U.S.", "e-mail", "€5", "\u00a0", "ﬁne"]
    hasher = xxhash.xxh32_intdigest if hash_name == "xxh32" else dedup._sha1_hash32
    for length in (0, 1, 4, 5, 6, 50):
        text = " ".join(rng.choice(vocab) for _ in range(length))
        for n in (1, 3, 5):
            cfg = MinHashConfig(ngram=n, hash=hash_name)
            expected = [hasher(g.encode("utf-8")) for g in ngrams(text, cfg)]
            assert shingles(text, cfg).tolist() == expected


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# NFKC forms and not: compatibility characters (ligature, full width, no-break space, superscript), composed and
# decomposed accents, combining marks to reorder or to start a line with, Hangul jamo and syllables, CJK, ASCII,
# line feeds (the fast path normalises line by line)
_NFKC_ALPHABET = "aZ 1.\n\n\xa0ﬁ１²éÅe\u0301\u0301\u0323A\u030a\u1100\u1161\uac00\u11a8東京ß…Ω\u2126"


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=_NFKC_ALPHABET, max_size=40))
def test_nfkc_fast_path_equals_unicodedata(text):
    """``_nfkc`` skips texts already in NFKC; it must give exactly ``unicodedata.normalize("NFKC", ...)``."""
    assert dedup._nfkc(text) == unicodedata.normalize("NFKC", text)
    assert normalize_for_exact(text) == " ".join(
        dedup.delete_punctuation(unicodedata.normalize("NFKC", text).casefold()).split()
    )


def test_nfkc_fast_path_returns_an_nfkc_text_as_is():
    text = "Caf\u00e9 東京 déjà vu"  # composed accents: NFKC already
    assert dedup._nfkc(text) is text
    assert dedup._nfkc("Cafe\u0301 ﬁne") == "Caf\u00e9 fine"


# Whitespace of every kind str.split() knows (line feeds, tabs, NEL, no-break and ideographic spaces, line and
# paragraph separators, information separators), punctuation, symbols, letters folded by NFKC and casefold.
_WS_ALPHABET = "ab Z.,|-'$\n\n\t\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2003\u2028\u2029\u202f\u3000ﬁÉß東—“”…"
_WS_TEXT = st.text(alphabet=_WS_ALPHABET, max_size=80)


def _reference_exact(text: str) -> str:
    return " ".join(dedup.delete_punctuation(unicodedata.normalize("NFKC", text).casefold()).split())


@settings(max_examples=1000, deadline=None)
@given(_WS_TEXT)
def test_normalisation_fast_paths_equal_split_and_join(text):
    """The numpy whitespace collapse (non-ASCII texts) gives exactly the split/join of the reference, for the
    whole text and line by line."""
    assert normalize_for_exact(text) == _reference_exact(text)
    assert dedup.normalize_lines(text) == [_reference_exact(line) for line in text.split("\n")]
    folded = unicodedata.normalize("NFKC", text).casefold() + "é"  # the numpy path even when ASCII
    assert dedup._collapse_spaces(folded) == " ".join(dedup.delete_punctuation(folded).split())
    assert dedup._collapse_line_spaces(folded).split("\n") == [
        " ".join(line.split()) for line in dedup.delete_punctuation(folded).split("\n")
    ]


def test_character_classes_match_every_unicode_code_point():
    """``_classes`` marks exactly the code points ``str.split()`` splits on, and the punctuation."""
    spaces = [cp for cp in range(sys.maxunicode + 1) if chr(cp).isspace()]
    assert max(spaces) < dedup._PUNCTUATION_SCAN_END
    classes = dedup._classes()
    assert np.flatnonzero(classes == dedup._SPACE).tolist() == spaces
    assert np.flatnonzero(classes == dedup._PUNCT).tolist() == _every_punctuation_code_point()
    assert classes[-1] == 0  # the class of every code point above the table
    assert "".join(chr(cp) + "x" for cp in spaces).split() == ["x"] * len(spaces)

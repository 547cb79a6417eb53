"""Evaluation-set parsers and the cache, on small files written here in each set's published format.

``FIXTURES`` are the recorded responses the fetch tests replay (tests/pipeline/test_fetch.py): a PhraseBank
v1.0 zip (``sentence@label`` lines, Latin-1), the Twitter CSV, Hub Parquet files with the published columns,
FinQA/ConvFinQA/TAT-QA JSON, FinanceBench JSONL and PubMedQA JSON (shaped like ../shared/data/medical/evalsets).
"""

from __future__ import annotations

import io
import json
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from core.errors import ConfigError
from sources import evalsets as E

PB_LINES = [
    "According to Gran , the company has no plans to move all production to Russia , although that is where "
    "the company is growing .@neutral",
    "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn in the corresponding period in 2007 representing "
    "7.7 % of net sales .@positive",
    "Sales in Finland decreased by 10.5 % in January , while sales outside Finland dropped by 17 % .@negative",
    "Componenta 's net sales doubled to EUR 131m from EUR 76m .@positive",
]
HEADLINE = "gold futures edge up after two-session slide as dollar weakens"  # 10 words


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _parquet(columns: dict[str, list]) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()


def build_fixtures() -> dict[str, bytes]:
    """Name -> the bytes a set's public URL serves (small, hand-written, in the published format)."""
    pb = "\n".join(PB_LINES).replace("Gran", "Gr\xe4n").encode("latin-1")
    return {
        "phrasebank": _zip(
            {
                "FinancialPhraseBank-v1.0/Sentences_50Agree.txt": pb,
                "FinancialPhraseBank-v1.0/Sentences_AllAgree.txt": b"x@neutral\n",
                "FinancialPhraseBank-v1.0/README.txt": b"Financial Phrase Bank v1.0",
            }
        ),
        "fiqa_sentiment": _parquet(
            {
                "sentence": [
                    "Royal Mail chairman Donald Brydon set to step down",
                    "$AAPL breaking out, loading up more calls before earnings",
                ],
                "snippets": ["['set to step down']", "['breaking out']"],
                "target": ["Royal Mail", "AAPL"],
                "sentiment_score": [-0.374, 0.52],
                "aspects": ["['Corporate/Appointment']", "['Stock/Technical Analysis']"],
                "format": ["headline", "post"],
                "label": [0, 2],
            }
        ),
        "twitter_financial_news_sentiment": (
            b"text,label\n"
            b"$ALLY - Ally Financial pulls outlook https://t.co/G9Zdi1boy5,0\n"
            b'"$DELL $HPE - Dell, HPE targets trimmed on compute headwinds https://t.co/YRUHZw7cYl",0\n'
            b"Stocks rally as Fed signals pause in rate hikes,1\n"
            b"Markets await jobs report on Friday,2\n"
        ),
        "finqa": json.dumps(
            [
                {
                    "pre_text": ["the company 's revenue grew ."],
                    "post_text": ["."],
                    "table": [["", "2019", "2018"], ["revenue", "100", "90"]],
                    "id": "ADI/2009/page_49.pdf-1",
                    "qa": {"question": "what is the percentage change in revenue from 2018 to 2019?"},
                }
            ]
        ).encode(),
        "convfinqa": _zip(
            {
                "data/dev.json": json.dumps(
                    [
                        {
                            "id": "Single_JKHY/2009/page_28.pdf-3",
                            "pre_text": ["..."],
                            "annotation": {
                                "dialogue_break": [
                                    "what is the net cash from operating activities in 2009?",
                                    "what about in 2008?",
                                ],
                                "turn_program": ["206588", "181001"],
                            },
                        }
                    ]
                ).encode(),
                "data/train.json": b"[]",
            }
        ),
        "tatqa": json.dumps(
            [
                {
                    "table": {"uid": "t1", "table": [["", "2019"], ["Revenue", "1,568.6"]]},
                    "paragraphs": [{"uid": "p1", "order": 1, "text": "We adopted Topic 606 in fiscal 2019."}],
                    "questions": [
                        {
                            "uid": "q1",
                            "order": 1,
                            "question": "What method did the company use when Topic 606 in fiscal 2019 was adopted?",
                            "answer": ["the modified retrospective method"],
                        }
                    ],
                }
            ]
        ).encode(),
        "financebench": (
            json.dumps(
                {
                    "financebench_id": "financebench_id_03029",
                    "company": "3M",
                    "question": "What is the FY2018 capital expenditure amount (in USD millions) for 3M?",
                    "answer": "$1577.00",
                    "evidence": [{"evidence_text": "Purchases of property, plant and equipment (1,577)"}],
                }
            )
            + "\n"
        ).encode(),
        "headlines": _parquet(
            {
                "input": [HEADLINE, HEADLINE, "gold slips as stronger dollar dents appeal"],
                "output": ["Yes", "No", "Yes"],
                "instruction": [
                    "Does the news headline talk about price?",
                    "Does the news headline talk about price going down?",
                    "Does the news headline talk about price?",
                ],
            }
        ),
        "pubmedqa": json.dumps(
            {
                "21645374": {
                    "QUESTION": "Do mitochondria play a role in remodelling lace plant leaves during programmed cell death?",
                    "CONTEXTS": [
                        "Programmed cell death (PCD) is the regulated death of cells within an organism."
                    ],
                    "LABELS": ["BACKGROUND"],
                    "final_decision": "yes",
                    "LONG_ANSWER": "Results depicted mitochondrial dynamics in vivo as PCD progresses.",
                }
            },
            indent=4,
        ).encode(),
        "medqa": _parquet(
            {
                "question": [
                    "A 23-year-old pregnant woman at 22 weeks gestation presents with burning upon urination."
                ],
                "answer": ["Nitrofurantoin"],
                "options": [[{"key": "A", "value": "Ampicillin"}]],
                "meta_info": ["step2&3"],
                "answer_idx": ["E"],
            }
        ),
        "medmcqa": _parquet(
            {
                "id": ["e9ad821a"],
                "question": ["Which of the following is not true for myelinated nerve fibers:"],
                "opa": ["Impulse through myelinated fibers is slower than non-myelinated fibers"],
                "cop": [0],
            }
        ),
    }


FIXTURES = build_fixtures()


def test_every_registered_set_has_a_fixture_and_parses():
    assert set(FIXTURES) == set(E.REGISTRY)
    counts = {name: len(E.REGISTRY[name].parser(data)) for name, data in FIXTURES.items()}
    assert counts == {
        "phrasebank": 4,
        "fiqa_sentiment": 2,
        "twitter_financial_news_sentiment": 4,
        "finqa": 1,
        "convfinqa": 2,
        "tatqa": 1,
        "financebench": 2,  # question and free-text answer
        "headlines": 2,  # distinct headlines (the file repeats each with nine questions)
        "pubmedqa": 3,  # question, long answer and context (the test input: indexed for the medical profile)
        "medqa": 1,
        "medmcqa": 1,
    }


def test_label_mappings():
    pb = E.parse_phrasebank_zip(FIXTURES["phrasebank"])
    assert [i.label for i in pb] == ["neutral", "positive", "negative", "positive"]
    assert pb[0].text.startswith("According to Gr\xe4n ,")  # Latin-1 decoded
    fiqa = E.parse_fiqa_parquet(FIXTURES["fiqa_sentiment"])
    assert [(i.label, i.kind) for i in fiqa] == [("negative", "news"), ("positive", "tweet")]
    assert [E.fiqa_label(x) for x in (-0.11, -0.1, 0.0, 0.099, 0.1)] == [
        "negative",
        "neutral",
        "neutral",
        "neutral",
        "positive",
    ]
    tw = E.parse_twitter_csv(FIXTURES["twitter_financial_news_sentiment"])
    assert [i.label for i in tw] == ["negative", "negative", "positive", "neutral"]
    assert E.map_label("twitter_financial_news_sentiment", "1") == "positive"
    assert E.map_label("phrasebank", "Neutral") == "neutral"
    with pytest.raises(ValueError, match="cannot be mapped"):
        E.map_label("phrasebank", "bullish")


def test_wrong_formats_are_format_errors():
    with pytest.raises(E.FormatError, match="not a zip"):
        E.parse_phrasebank_zip(b"<html>rate limited</html>")
    with pytest.raises(E.FormatError, match="no member"):
        E.parse_phrasebank_zip(_zip({"other.txt": b"x"}))
    with pytest.raises(E.FormatError, match="not a Parquet"):
        E.parse_fiqa_parquet(FIXTURES["finqa"])
    with pytest.raises(E.FormatError, match="no column 'sentiment_score'"):
        E.parse_fiqa_parquet(_parquet({"sentence": ["x"]}))
    with pytest.raises(E.FormatError, match="want text,label"):
        E.parse_twitter_csv(b"sentence,label\nx,0\n")
    with pytest.raises(E.FormatError, match="expected a JSON list"):
        E.parse_finqa_json(FIXTURES["pubmedqa"])
    with pytest.raises(E.FormatError, match="expected"):
        E.parse_pubmedqa_json(FIXTURES["finqa"])


def test_real_pubmedqa_file_parses(shared_data):
    path = shared_data / "medical" / "evalsets" / "pubmedqa_ori_pqal.json"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    items = E.parse_pubmedqa_json(path.read_bytes())
    questions = [i for i in items if i.label is not None]
    assert len(questions) == 1000
    assert {i.label for i in questions} == {"yes", "no", "maybe"}
    data = json.loads(path.read_text())
    contexts = {" ".join(v["CONTEXTS"]) for v in data.values()}
    assert len(contexts) == 1000 and contexts <= {i.text for i in items}  # every context is indexed


def test_cache_roundtrip_checksum_and_corruption(tmp_path):
    cache = str(tmp_path / "cache")
    manifest: dict = {}
    src = E.REGISTRY["twitter_financial_news_sentiment"]

    class Replay:  # a client answering from the fixtures: the cache logic alone, no network
        def get(self, url):
            class R:
                content = FIXTURES[src.name]

            return R()

    outcome = E.fetch_set(src, cache, Replay(), manifest)
    assert (outcome.status, outcome.rows) == ("fetched", 4)
    E.write_manifest(cache, manifest)
    assert E.cached_names(cache, ["twitter_financial_news_sentiment", "finqa"]) == (
        ["twitter_financial_news_sentiment"],
        ["finqa"],
    )
    items, entry = E.load_cached(cache, src.name)
    assert (
        len(items) == 4
        and entry["licence"] == "MIT"
        and entry["labels"]
        == {
            "negative": 2,
            "neutral": 1,
            "positive": 1,
        }
    )
    (tmp_path / "cache" / "evalsets" / "twitter_financial_news_sentiment.csv").write_bytes(b"text,label\n")
    with pytest.raises(ConfigError, match="does not match its sha256"):
        E.load_cached(cache, src.name)

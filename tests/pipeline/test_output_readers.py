"""A run's output opens the way people open a folder of Parquet: pandas, pyarrow, DuckDB, Polars, datasets.

Each reader is called with its defaults on ``<run>/data``. Until schema 2.0 the ``domain=``/``source=`` folder
names made pandas and pyarrow infer dictionary partition columns that clashed with the stored string columns,
and the Arrow map columns had no ``datasets`` type.
"""

from __future__ import annotations

import json

import pytest

from core.schema import entries_to_dict


@pytest.fixture(scope="module")
def run_data(sample_run):
    run_dir, _ = sample_run
    manifest = json.loads((run_dir / "manifest.json").read_text())
    return run_dir / "data", sum(s["rows"] for s in manifest["shards"])


def test_pandas_reads_the_folder(run_data):
    pd = pytest.importorskip("pandas")
    data, rows = run_data
    frame = pd.read_parquet(data)
    assert len(frame) == rows
    assert set(frame["domain"]) <= {"financial", "general"}
    first = frame.iloc[0]
    assert isinstance(entries_to_dict(list(first["metadata"])), dict)


def test_pyarrow_reads_the_folder(run_data):
    import pyarrow.parquet as pq

    data, rows = run_data
    table = pq.read_table(data)
    assert table.num_rows == rows
    assert table.schema.field("domain").type == "string"


def test_duckdb_reads_the_folder(run_data):
    duckdb = pytest.importorskip("duckdb")
    data, rows = run_data
    con = duckdb.connect()
    count = con.sql(f"select count(*) from read_parquet('{data}/**/*.parquet')").fetchall()[0][0]
    assert count == rows
    # the key/value columns turn into maps in one call
    sources = con.sql(
        f"select map_from_entries(metadata) as m, source from read_parquet('{data}/**/*.parquet') limit 1"
    ).fetchall()
    assert sources


def test_polars_reads_the_folder(run_data):
    pl = pytest.importorskip("polars")
    data, rows = run_data
    assert pl.read_parquet(data).height == rows


def test_datasets_loads_the_folder(run_data, tmp_path, monkeypatch):
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    data, rows = run_data
    dataset = datasets.load_dataset("parquet", data_dir=str(data), cache_dir=str(tmp_path / "hf"))
    split = dataset["train"]
    assert split.num_rows == rows
    assert {"text", "domain", "source", "metadata"} <= set(split.column_names)

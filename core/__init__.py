"""The bottom layer: what every other package shares, importing nothing of the project above it.

- ``core.schema``: the data model (``RawRecord``, ``Document``, ``Rejected``, ``RecordError``, ``Skipped``,
  ``doc_id``, ``SOURCES``, ``SCHEMA_VERSION``, the Parquet schema and its ``{key, value}`` entries).
- ``core.errors``: the exception hierarchy (``ConfigError``, ``RecordFailure``, ``RetryableSourceError``).
- ``core.textshape``: the one text shape every extractor produces (``normalize_text`` and the block helpers).
- ``core.timeinfo``: point-in-time parsing (``available_at``, the ``--as_of`` cut's pure core, periods).
- ``core.argtypes``: argparse value types shared by every command (a bad value is one line, exit 2).

``sources`` and ``filters`` build on this package, ``pipeline`` on all three (``tests/test_layout.py``).
"""

"""A small exception hierarchy that tells callers what to do.

- ``ConfigError``: fatal bad user input (config, flags, paths). Stop at once with one clear line.
- ``RecordFailure``: one record is broken. Count it, route it to ``errors/``, go on.
- ``RetryableSourceError``: a fetch failed in a way worth retrying (429, 5xx, timeout). Back off and retry.
"""


class FinPileError(Exception):
    """Base of the project's exceptions."""


class ConfigError(FinPileError):
    """Fatal: the configuration, a flag or an input path is wrong. The message says how to fix it."""


class RecordFailure(FinPileError):
    """Per-record: this record cannot be read or extracted. ``kind`` names the failure for counters."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class RetryableSourceError(FinPileError):
    """A source request failed in a retryable way; ``retry_after`` (seconds) if the server said."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after

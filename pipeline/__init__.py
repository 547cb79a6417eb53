"""FinPile Builder: a Beam pipeline that builds FinPile-style pretraining corpora."""

__version__ = "0.1.0"

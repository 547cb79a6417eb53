"""FinPile Builder: a Beam pipeline that builds FinPile-style pretraining corpora."""

__version__ = "0.2.0"

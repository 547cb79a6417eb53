"""A fastText model that loads lazily and never pickles: the shared base of language ID and domain scoring.

Beam pickles a DoFn with everything it holds; the fastText model is a C++ object, so it is dropped from the
pickle and reloaded on the worker, in ``setup`` (``DoFn.setup``) or on first use.
"""

from __future__ import annotations

from typing import Any


class LazyFastTextModel:
    """Holds ``model_path`` (a subclass may compute it) and loads the model on first use."""

    model_path: str
    _model_obj: Any = None

    @property
    def _model(self) -> Any:
        if self._model_obj is None:
            import fasttext

            # _FastText directly: fasttext.load_model prints a deprecation warning for every load.
            model = fasttext.FastText._FastText(model_path=self.model_path)
            self._check(model)
            self._model_obj = model
        return self._model_obj

    def _check(self, model: Any) -> None:
        """Refuse a model file that is not of the expected kind (raise ValueError); default: accept."""

    def setup(self) -> None:
        """Load the model now (for ``DoFn.setup``) instead of on the first prediction."""
        _ = self._model

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_model_obj"] = None
        return state

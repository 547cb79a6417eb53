"""The funnel's per-bundle counts (``pipeline.run.CountFn``) and the construction-time type-check default."""

from __future__ import annotations

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, TypeOptions
from apache_beam.testing.util import assert_that, equal_to

from pipeline.run import CountFn, _count
from pipeline.runner import fast_construction


def _bundle(fn: CountFn, elements) -> list:
    fn.start_bundle()
    for e in elements:
        assert list(fn.process(e)) == []  # nothing per element: counts leave only when the bundle ends
    return [wv.value for wv in fn.finish_bundle()]


def test_count_fn_emits_one_count_per_key_and_bundle():
    fn = CountFn(lambda s: ("len", len(s)))
    assert sorted(_bundle(fn, ["ab", "cd", "e", "fg"])) == [(("len", 1), 1), (("len", 2), 3)]
    # the next bundle starts from zero (a retried or later bundle never re-sends earlier counts)
    assert _bundle(fn, ["x"]) == [(("len", 1), 1)]
    assert _bundle(fn, []) == []


def test_count_fn_flat_and_weighted_modes():
    flat = CountFn(lambda s: [("ch", c) for c in s], "flat")
    assert sorted(_bundle(flat, ["aba", "b"])) == [(("ch", "a"), 2), (("ch", "b"), 2)]
    weighted = CountFn(lambda s: [(("bytes",), len(s)), (("docs",), 1)], "weighted")
    assert sorted(_bundle(weighted, ["abc", "de"])) == [(("bytes",), 5), (("docs",), 2)]


def test_counts_of_several_branches_sum_in_one_combine():
    with beam.Pipeline() as p:
        words = p | "Words" >> beam.Create(["a", "bb", "a", "ccc", "bb", "a"])
        lengths = _count(words, "Len", lambda w: ("len", len(w)))
        letters = _count(words, "Letters", lambda w: [("letter", c) for c in w], flat=True)
        total = (lengths, letters) | beam.Flatten() | beam.CombinePerKey(sum)
        assert_that(
            total,
            equal_to(
                [
                    (("len", 1), 3),
                    (("len", 2), 2),
                    (("len", 3), 1),
                    (("letter", "a"), 3),
                    (("letter", "b"), 4),
                    (("letter", "c"), 3),
                ]
            ),
        )


def test_construction_type_checks_off_unless_asked():
    assert PipelineOptions([]).view_as(TypeOptions).pipeline_type_check  # Beam's default: on
    assert not fast_construction(PipelineOptions([])).view_as(TypeOptions).pipeline_type_check
    assert fast_construction(PipelineOptions([]), type_check=True).view_as(TypeOptions).pipeline_type_check

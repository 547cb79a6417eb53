"""``Spread``: work shared out over local workers by weight, not by count."""

from __future__ import annotations

import os
import random

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing.util import assert_that, equal_to

from pipeline.runner import choose_runner
from pipeline.stages.base import Spread, balanced_bins


def test_balanced_bins_heaviest_first_to_the_lightest_bin():
    bins = balanced_bins(list("abcdef"), [10, 1, 1, 1, 1, 6], 2)
    assert bins == [["a"], ["f", "b", "c", "d", "e"]]
    assert sorted(x for b in bins for x in b) == list("abcdef")  # every item once


@pytest.mark.parametrize("seed", range(20))
def test_balanced_bins_within_the_heaviest_item_of_each_other(seed):
    rng = random.Random(seed)
    n = rng.randint(1, 60)
    weights = [rng.choice([1, 2, 5, 50, 400]) * rng.random() for _ in range(n)]
    k = rng.randint(1, 6)
    bins = balanced_bins(list(range(n)), weights, k)
    assert sorted(i for b in bins for i in b) == list(range(n))
    loads = [sum(weights[i] for i in b) for b in bins]
    assert max(loads) - min(loads) <= max(weights) + 1e-9
    assert bins == balanced_bins(list(range(n)), weights, k)  # the same input, the same bins


def _pid_and_weight(x: tuple[str, int]) -> tuple[int, int]:
    return os.getpid(), x[1]


def test_spread_gives_each_local_worker_the_same_work():
    # one heavy part and ten light ones, as a bundle's full parts and short last parts: shared out by
    # count (Reshuffle), one worker would get ~15 of the 20; by weight, each gets 10
    items = [("heavy", 10)] + [(f"light{i}", 1) for i in range(10)]
    options = PipelineOptions(["--direct_running_mode=multi_processing", "--direct_num_workers=2"])
    runner, _ = choose_runner(options)
    with beam.Pipeline(runner=runner, options=options) as p:
        per_worker = (
            p
            | beam.Create(items)
            | Spread(lambda x: x[1], 2)
            | beam.Map(_pid_and_weight)
            | beam.CombinePerKey(sum)
            | beam.Values()
        )
        assert_that(per_worker, equal_to([10, 10]))


def test_spread_keeps_every_element_once_on_one_worker_and_remote():
    for workers in (None, 1, 3):
        with beam.Pipeline() as p:
            out = p | beam.Create(range(50)) | Spread(lambda x: x % 7 + 1, workers)
            assert_that(out, equal_to(list(range(50))))


def test_spill_bytes_of_a_part_under_a_folder_with_glob_characters(tmp_path):
    from pipeline.spill import SpillWriter, spill_bytes

    folder = tmp_path / "runs [2024]*"
    folder.mkdir()
    writer = SpillWriter(str(folder), "docs", 1 << 30, 1 << 30)
    writer.add("some text " * 100)
    path = writer.close()
    assert spill_bytes(path) == os.path.getsize(path) > 0  # a glob match would find nothing: weight 0
    assert spill_bytes(str(folder / "missing.spill")) == 0

"""Segments of stages: split where the kind of resource changes, overridable per stage."""

from __future__ import annotations

import pytest

from synth.config import PipelineConfig
from synth.pools import Pool, SetupError, plan_segments, worker_count
from synth.stage import Resources, Stage


class Decode(Stage):
    name = "decode"


class Model(Stage):
    name = "model"
    keeps_model = True
    resources = Resources(cpus=1, gpus=0.25)


class Head(Stage):
    name = "head"
    keeps_model = True
    resources = Resources(cpus=2, gpus=0.5)


class Release(Stage):
    name = "release"
    light = True


class Write(Stage):
    name = "write"


STAGES = [Decode(), Model(), Head(), Release(), Write()]


def cfg(**stages) -> PipelineConfig:
    return PipelineConfig(pipeline="t", runtime={"stages": stages})


def test_a_cluster_without_gpus_runs_every_stage_in_one_segment():
    (seg,) = plan_segments(STAGES, cfg(), has_gpus=False)
    assert seg.names == ("decode", "model", "head", "release", "write")
    assert (seg.cpus, seg.gpus, seg.actors) == (2, 0.0, True)


def test_gpu_stages_get_a_pool_of_their_own_and_light_stages_stay_with_the_one_before():
    segs = plan_segments(STAGES, cfg(), has_gpus=True)
    assert [s.names for s in segs] == [("decode",), ("model", "head", "release"), ("write",)]
    assert [(s.cpus, s.gpus, s.actors) for s in segs] == [(1, 0, False), (2, 0.5, True), (1, 0, False)]
    assert [(s.first, s.stop) for s in segs] == [(0, 1), (1, 4), (4, 5)]


def test_runtime_stages_override_a_declaration():
    segs = plan_segments(STAGES, cfg(decode={"cpus": 4}, head={"gpus": 0}), has_gpus=True)
    assert [s.names for s in segs] == [("decode",), ("model",), ("head", "release", "write")]
    assert segs[0].cpus == 4 and segs[1].gpus == 0.25 and segs[2].gpus == 0


def test_resources_for_a_stage_that_does_not_exist_are_an_error_naming_the_stages():
    with pytest.raises(SetupError, match=r"\['clp'\].*decode, model, head, release, write"):
        plan_segments(STAGES, cfg(clp={"gpus": 1}), has_gpus=True)


def test_pool_capacity_and_least_loaded_actor():
    class Actor:
        def __init__(self):
            self.calls = 0

            class Run:
                @staticmethod
                def remote(unit, payload):
                    self.calls += 1
                    return object()

            self.run = Run()

    actors = [Actor(), Actor()]
    pool = Pool(2, actors=actors)
    pool.per_actor = 2
    assert pool.capacity == 4
    slots = [pool.submit(None, None)[1] for _ in range(3)]
    assert slots == [0, 1, 0] and pool.in_flight() == 3
    pool.done(0)
    assert pool.submit(None, None)[1] == 0  # actor 0 has 1 in flight again, actor 1 has 1: lowest index
    assert Pool(3, make=lambda u, p: object()).capacity == 6  # tasks: twice the concurrent ones


def test_worker_count_leaves_no_actor_waiting():
    assert worker_count(None, 1.0, 0.25, {"CPU": 12.0, "GPU": 1.0}, 100) == 4
    assert worker_count(None, 0.0, 0.0, {"CPU": 2.0}, 5) == 5  # asks for no CPU: one per unit
    assert worker_count(None, 1.0, 0.0, {"CPU": 2.0}, 0) == 1


def test_a_unit_whose_last_stages_run_on_gpus_is_written_by_a_cpu_segment():
    segs = plan_segments([Decode(), Model(), Release()], cfg(), has_gpus=True)
    assert [s.names for s in segs] == [("decode",), ("model", "release"), ("commit",)]
    assert (segs[-1].first, segs[-1].stop, segs[-1].gpus, segs[-1].actors) == (3, 3, 0.0, False)
    (one,) = plan_segments([Decode(), Model(), Release()], cfg(), has_gpus=False)
    assert one.names == ("decode", "model", "release")

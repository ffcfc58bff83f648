"""What a domain pipeline is: a typed config, a source of rows for a unit, and its stages in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from synth import __version__
from synth.config import PipelineConfig
from synth.identity import sample_id, sample_seed
from synth.schema import COLUMNS
from synth.stage import Row, Stage, check_flow

if TYPE_CHECKING:
    from synth.decision import Decision

#: What :func:`generated_rows` gives every row before the first stage.
GENERATED_KEYS = ("sample_id", "seed", "generator", "_index")


class PinError(RuntimeError):
    """What a run recorded to draw from (its font set) cannot be honoured on this machine."""


@dataclass(frozen=True)
class Unit:
    """A fixed slice of the work: global sample indices ``[start, end)``. A curation unit also
    carries the slices of its input files (``synth.inputs.Slice``), so a worker reads only its own."""

    index: int
    start: int
    end: int
    inputs: tuple = ()


@dataclass(frozen=True)
class RunIdentity:
    """What every sample id of a run derives from."""

    pipeline: str
    content_hash: str
    seed: int
    split: str

    @property
    def generator(self) -> str:
        return f"unisynth {__version__} / {self.pipeline}"


@dataclass(frozen=True)
class Pipeline:
    """A domain: ``name`` is the CLI word and ``configs/<name>.yaml``."""

    name: str
    domain: str
    summary: str
    config_model: type[PipelineConfig]
    build_stages: Callable[[PipelineConfig], list[Stage]]
    source: Callable[[PipelineConfig, RunIdentity, Unit], list[Row]] | None = None
    #: Pipelines that transform inputs (curation) plan their units from the inputs, not from --num:
    #: cfg -> (units, {"digest": ..., ...}), or None where this config has no inputs (then --num
    #: plans the units); a rerun with other inputs is refused.
    plan_inputs: Callable[[PipelineConfig], tuple[list[Unit], dict[str, Any]] | None] | None = None
    #: Whether the CLI command is driven by --input alone (curation), not --num.
    inputs_required: bool = False
    #: A dataset-wide second pass (near-duplicate grouping): the stages commit their units to
    #: ``OUT/<work_dir>`` in ``work_schema``, then ``finalize(cfg, out, plan, progress)`` decides
    #: and writes ``data/`` and ``rejected/``; it returns (failed units, stats for run.json).
    finalize: Callable[..., tuple[dict[int, str], dict[str, Any]]] | None = None
    work_schema: pa.Schema | None = None
    #: Where the stages commit their units when ``finalize`` writes ``data/`` (curate: ``_work/score``).
    work_dir: str | None = None
    #: Transforms earlier outputs through an LLM server (caption, translate, rewrite): the demo,
    #: which has no server, leaves it out.
    needs_llm: bool = False
    #: Runs a model checkpoint (``--checkpoint``): the demo runs it on the tiny random one.
    needs_model: bool = False
    #: What run.json and the console should say about the config (model filters on/off, weights).
    describe: Callable[[PipelineConfig], dict[str, Any]] | None = None
    #: Keeps what the stages choose from (the font set) fixed for every invocation and worker of a
    #: run: ``pin(cfg, recorded)`` gets what run.json holds under ``pinned`` (None for a new run)
    #: and returns (what to record there, the config the stages get, which carries it in a key
    #: outside the content hash); it raises :class:`PinError` when the record cannot be honoured.
    pin: Callable[[PipelineConfig, Any], tuple[Any, PipelineConfig]] | None = None

    #: The decision step of a generator (:class:`synth.decision.Decision`): its last stage
    #: applies it in the unit, and ``--rethreshold`` re-applies it to committed units from their
    #: stored scores. Curation decides dataset-wide in ``finalize`` instead.
    decide: Decision | None = None
    #: The columns and private keys the source gives each row before the first stage (checked
    #: against the stages' ``reads``), for this config. Default: :data:`GENERATED_KEYS` for
    #: generated rows; every schema column for another source (rows read from earlier outputs).
    source_keys: Callable[[PipelineConfig], tuple[str, ...]] | None = None

    def rows_for(self, cfg: PipelineConfig, ident: RunIdentity, unit: Unit) -> list[Row]:
        return (self.source or generated_rows)(cfg, ident, unit)

    def stages(self, cfg: PipelineConfig) -> list[Stage]:
        """``build_stages(cfg)`` with what each stage reads checked against what the source and
        the stages before it write: a pipeline that would read a missing column fails here, when
        it is built, naming the stage and the column, not mid-run."""
        stages = self.build_stages(cfg)
        if self.source_keys:
            provided = self.source_keys(cfg)
        else:
            provided = tuple(COLUMNS) if self.source else GENERATED_KEYS
        check_flow(stages, provided, f"the source of {self.name}")
        return stages


def generated_rows(cfg: PipelineConfig, ident: RunIdentity, unit: Unit) -> list[Row]:
    """The seed rows of a generator: identity only; the stages draw everything else."""
    return [
        {
            "sample_id": sample_id(ident.pipeline, ident.content_hash, ident.seed, ident.split, i),
            "seed": sample_seed(ident.seed, ident.split, i),
            "generator": ident.generator,
            "_index": i,
        }
        for i in range(unit.start, unit.end)
    ]


def plan_units(existing: list[list[int]], num: int, unit_size: int) -> list[Unit]:
    """Keep the recorded plan; append units of ``unit_size`` from its end up to ``num``."""
    plan = [Unit(i, s, e) for i, (s, e) in enumerate(existing)]
    end = plan[-1].end if plan else 0
    if num < end:
        raise ValueError(
            f"this folder already plans {end} samples; --num {num} would drop some. "
            f"Use --num {end} or more, or --overwrite to start again."
        )
    while end < num:
        stop = min(end + unit_size, num)
        plan.append(Unit(len(plan), end, stop))
        end = stop
    return plan

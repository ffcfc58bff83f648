"""Where ``synth sample``'s rows come from (earlier outputs, or a prompt file), how its units are
planned, and what a run pins: the checkpoint's digest and its drawing defaults."""

from __future__ import annotations

from typing import Any

from pipelines.sample.config import SampleConfig
from synth.config import ConfigError
from synth.identity import digest, sample_id, sample_seed
from synth.inputs import InputError, plan_run_inputs, read_file, read_range, reopened_rows
from synth.internvlu.fetch import CheckpointSourceError, checkpoint_digest, read_json_file
from synth.pipeline import PinError, RunIdentity, Unit

NEEDS_CHECKPOINT = (
    "synth sample needs --checkpoint: a folder (or s3:// URI) in the official InternVL-U layout; "
    "`synth model tiny out/ivu-tiny` writes a small random one to try the pipeline with"
)


def prompt_lines(data: bytes) -> list[tuple[int, int, str]]:
    """The prompts of a text file's bytes, one a line, blank lines skipped, surrounding spaces
    removed: (start, end) of each line's bytes, and its text."""
    out, start = [], 0
    for raw in data.split(b"\n"):
        end = start + len(raw)
        text = raw.decode("utf-8", errors="replace").strip()
        if text:
            out.append((start, end, text))
        start = end + 1
    return out


def plan_sample(cfg: SampleConfig) -> tuple[list[Unit], dict[str, Any]]:
    """Units over the input rows, or over the lines of ``prompts``. Checks the checkpoint is
    given first, so a run without one stops before anything starts."""
    if not cfg.checkpoint:
        raise ConfigError(NEEDS_CHECKPOINT)
    if cfg.prompts and cfg.inputs:
        raise ConfigError("give --input (earlier outputs) or --prompts (a text file), not both")
    if cfg.prompts:
        lines = prompt_lines(read_file(cfg.prompts))
        size = cfg.runtime.unit_size
        units = []
        for i, s in enumerate(range(0, len(lines), size)):
            e = min(s + size, len(lines))  # the unit's bytes, so a worker reads only its own lines
            units.append(Unit(i, s, e, (lines[s][0], lines[e - 1][1])))
        texts = [t for _, _, t in lines]
        return units, {"entries": 1, "planned": len(lines), "digest": digest(cfg.prompts, texts)}
    if not cfg.inputs:
        raise ConfigError(
            "synth sample samples earlier outputs (--input RUN) or a prompt file (--prompts FILE)"
        )
    return plan_run_inputs(cfg.inputs, cfg.runtime.unit_size)


def sample_rows(cfg: SampleConfig, ident: RunIdentity, unit: Unit) -> list[dict[str, Any]]:
    """``Pipeline.source``: the input rows as they are (same sample ids), or one text-to-image row
    per prompt line, with ids from the run like any generator's."""
    if not cfg.prompts:
        return reopened_rows(unit)
    first, end = unit.inputs
    lines = [t for _, _, t in prompt_lines(read_range(cfg.prompts, first, end - first))]
    if len(lines) != unit.end - unit.start:
        raise InputError(f"{cfg.prompts} changed since the run was planned: start it again with --overwrite")
    return [
        {
            "sample_id": sample_id(ident.pipeline, ident.content_hash, ident.seed, ident.split, i),
            "seed": sample_seed(ident.seed, ident.split, i),
            "generator": ident.generator,
            "domain": "prompts",
            "subdomain": "prompts",
            "task": "t2i",
            cfg.prompt_column: lines[i - unit.start],
            "meta": {"prompt_line": i},
        }
        for i in range(unit.start, unit.end)
    ]


def checkpoint_defaults(uri: str) -> dict[str, Any]:
    """What the checkpoint's configs say about drawing: its default size and the generation
    processor's pixel range (read on the driver from two small files, so rows are sized before any
    model loads; the workers check the whole checkpoint when they load it)."""
    dec = read_json_file(uri, "generation_decoder/config.json")
    gen = read_json_file(uri, "processor/processor_config.json").get("image_gen_processor_kwargs") or {}
    patch = int(gen.get("vae_downsample_factor", 8))
    return {
        "height": int(dec.get("gen_image_height", 512)),
        "width": int(dec.get("gen_image_width", 512)),
        "factor": patch * int(1 / gen.get("gen_down_sample_ratio", 0.5)),
        "min_pixels": int(gen.get("min_dynamic_patch", 4096)) * patch**2,
        "max_pixels": int(gen.get("max_dynamic_patch", 16384)) * patch**2,
    }


def pin_checkpoint(cfg: SampleConfig, recorded: dict[str, Any] | None) -> tuple[dict[str, Any], SampleConfig]:
    """``Pipeline.pin``: a new run records the checkpoint's digest and drawing defaults; a resume
    refuses a checkpoint whose digest changed (other weights would mix into one output)."""
    if not cfg.checkpoint:
        raise ConfigError(NEEDS_CHECKPOINT)
    try:
        found = checkpoint_digest(cfg.checkpoint)
        record = recorded or {"digest": found, "defaults": checkpoint_defaults(cfg.checkpoint)}
    except CheckpointSourceError as e:
        raise ConfigError(str(e)) from None
    if recorded and recorded.get("digest") != found:
        raise PinError(
            f"the checkpoint {cfg.checkpoint} is not the one the run started with (digest "
            f"{found[:16]}, recorded {str(recorded.get('digest'))[:16]}); sample with it into another "
            "--out, or --overwrite to start again"
        )
    return record, cfg.model_copy(update={"pinned": record})

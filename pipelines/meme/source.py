"""Where a meme run's rows come from, and which rows each template gives.

A *template* is one picture: an input meme (a file, a Parquet or tar row), a template row of an
earlier ``synth meme`` run (its clean template and original), or, with ``--num``, a photo of the
pool that is first captioned with a bundled plan (a meme whose captions and clean picture are
known). Each template gives ``captions_per_template`` humour plans, and each plan a row of every
kind in ``rows`` (``add``, ``t2i``, ``replace``); with ``stages: [detect, remove]`` it gives one
``template`` row. The rows of a template are adjacent and share the key ``_group``, so the stages
detect, erase, plan and draw once per template and plan, not once per row.
"""

from __future__ import annotations

from typing import Any

from pipelines.meme.config import MemeConfig
from synth.identity import digest, sample_id, sample_seed
from synth.inputs import InputError, plan_run_inputs, read_rows, read_unit, run_shards
from synth.inputs import plan_inputs as plan_input_files
from synth.pipeline import GENERATED_KEYS, RunIdentity, Unit
from synth.schema import meta_of
from synth.stage import Row, mark

#: What every row gets from the source (besides ``sample_id``, ``seed``, ``generator``).
SOURCE_KEYS = (
    *GENERATED_KEYS,
    "domain",
    "subdomain",
    "task",
    "meta",
    "_group",
    "_group_seed",
    "_kind",
    "_plan_index",
    "_input",
)


def kinds(cfg: MemeConfig) -> list[tuple[str, int]]:
    """The (row kind, plan index) of each row a template gives, in order."""
    if cfg.templates_only:
        return [("template", 0)]
    return [(kind, c) for c in range(cfg.captions_per_template) for kind in cfg.rows]


def is_run_input(cfg: MemeConfig) -> bool:
    """Whether ``--input`` names earlier meme runs (folders with run.json), not meme images."""
    runs = [run_shards([arg]) != [arg] for arg in cfg.inputs]
    if any(runs) and not all(runs):
        raise InputError("--input: give meme images or earlier meme runs (their template folders), not both")
    return all(runs)


def plan_inputs(cfg: MemeConfig) -> tuple[list[Unit], dict[str, Any]] | None:
    """Units over the input templates (``--input``), or None to plan ``--num`` photo templates."""
    if not cfg.inputs:
        return None
    if is_run_input(cfg):
        return plan_run_inputs(cfg.inputs, cfg.runtime.unit_size)
    return plan_input_files(cfg.inputs, cfg.image_column, cfg.runtime.unit_size)


def _expand(cfg: MemeConfig, base: Row, group_id: str, group_seed: int) -> list[Row]:
    """The rows of one template: its id and seed derive from the template's and the row's kind."""
    out = []
    for kind, c in kinds(cfg):
        rid = group_id if kind == "template" else digest(group_id, kind, c)
        out.append({
            **base,
            "sample_id": rid,
            "seed": int(digest(group_seed, kind, c)[:15], 16),
            "domain": "humor",
            "subdomain": f"meme/{kind}",
            "task": {"template": "image", "t2i": "t2i"}.get(kind, "edit"),
            "meta": dict(base["meta"]),
            "_group": group_id,
            "_group_seed": group_seed,
            "_kind": kind,
            "_plan_index": c,
        })  # fmt: skip
    return out


def rows(cfg: MemeConfig, ident: RunIdentity, unit: Unit) -> list[Row]:
    if not cfg.inputs:
        return _photo_rows(cfg, ident, unit)
    if is_run_input(cfg):
        return _template_rows(cfg, ident, unit)
    out: list[Row] = []
    for raw in read_unit(unit, cfg.image_column, "caption", cfg.detect.max_bytes):
        gid = raw.sample_id
        base = {"generator": ident.generator, "meta": {"input": raw.root, "key": raw.key},
                "_input": {"kind": "meme", "bytes": raw.data, "ref": raw.ref, "caption": raw.caption}}  # fmt: skip
        group = _expand(cfg, base, gid, int(gid[:15], 16))
        for row in group:
            row["_index"] = unit.start + len(out) // len(group)
        if raw.error:
            for row in group:
                mark(row, *raw.error)
        out += group
    return out


def _template_rows(cfg: MemeConfig, ident: RunIdentity, unit: Unit) -> list[Row]:
    """Rows from template rows of earlier meme runs: the original meme and its clean template."""
    out = []
    for key, row, problem in read_rows(unit):
        gid = row["sample_id"] if row else digest("unreadable", key)
        meta = meta_of(row) if row else {}
        base = {"generator": ident.generator, "meta": {"input": meta.get("input"), "key": meta.get("key", key),
                                                      "template": gid},
                "_input": {"kind": "template", "row": row}}  # fmt: skip
        group = _expand(cfg, base, digest(gid, "template-input"), int(gid[:15], 16) if row else 0)
        for r in group:
            r["_index"] = unit.start + len(out) // len(group)
            if problem:
                mark(r, "io_error", problem)
            elif row.get("subdomain") != "meme/template" or not row.get("target_image"):
                mark(
                    r,
                    "unsafe_input",
                    f"{key}: not a template row of synth meme (subdomain {row.get('subdomain')!r})",
                )
        out += group
    return out


def _photo_rows(cfg: MemeConfig, ident: RunIdentity, unit: Unit) -> list[Row]:
    """``--num``: sample index i is row ``i % R`` of template ``i // R`` (R rows per template), so a
    sample's content depends on its index only, whatever the unit size."""
    per = len(kinds(cfg))
    out = []
    for i in range(unit.start, unit.end):
        t, k = divmod(i, per)
        group_seed = sample_seed(ident.seed, ident.split, t)
        gid = digest(ident.pipeline, ident.content_hash, ident.seed, ident.split, "template", t)
        base = {"generator": ident.generator, "meta": {"template": t}, "_input": {"kind": "photo"}}
        row = _expand(cfg, base, gid, group_seed)[k]
        row["sample_id"] = sample_id(ident.pipeline, ident.content_hash, ident.seed, ident.split, i)
        row["_index"] = i
        out.append(row)
    return out

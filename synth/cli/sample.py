"""``synth sample``: the model over earlier outputs or a prompt file (the pipeline is
``pipelines/sample``; this is its command line)."""

from __future__ import annotations

import json

import click

from synth.config import default_config_path
from synth.pipeline import Pipeline


def sample_command(pipeline: Pipeline) -> click.Command:
    from synth.cli.domains import _common_options, _run, _runtime_sets

    help_text = f"""{pipeline.summary}

    \b
    Examples:
      synth sample --checkpoint /models/InternVL-U --input out/text --out out/gen --steps 20
      synth sample --checkpoint /models/InternVL-U --prompts prompts.txt --out out/gen --size 1024x1024 --set noise_seed=42
      synth sample --checkpoint /models/InternVL-U --input out/text_edit --mode edit --out out/edited
      synth sample --checkpoint runs/s3/final --input out/physics --mode text_image --out out/gen_cot
      synth sample --checkpoint /models/InternVL-U --input out/cs --mode text --out out/answers
      synth model tiny out/ivu-tiny   # a small random checkpoint to try it with (it draws noise)

    Each row keeps its sample_id; the image goes to target_image (an edit keeps its source_image),
    an answer to response, reasoning to cot, the sampling settings to meta.sample. A row's noise
    comes from its own seed, drawn as the official pipeline draws it, so a row gives the same image
    alone or batched, on any number of workers.

    Defaults: {default_config_path(pipeline.name)}"""

    @click.command(name="sample", help=help_text)
    @click.option(
        "--checkpoint",
        required=True,
        help="InternVL-U checkpoint in the official layout: a folder or s3:// URI.",
    )
    @click.option(
        "--input",
        "inputs",
        multiple=True,
        help="Earlier outputs: run folders or .parquet shards (globs quoted). Repeatable.",
    )
    @click.option("--prompts", default=None, help="A text file, one prompt a line (instead of --input).")
    @click.option(
        "--mode",
        type=click.Choice(["auto", "image", "edit", "text_image", "text"]),
        default=None,
        help="auto (default): by each row's task, t2i -> image, edit -> edit, und -> text; text_image: reasoning, then the image.",
    )
    @click.option("--steps", type=int, default=None, help="Denoising steps (default 20).")
    @click.option(
        "--size",
        default=None,
        help="WxH, 'auto' (each row's own size; an edit's source size) or 'default' (the checkpoint's).",
    )
    @click.option(
        "--seed", type=int, default=None, help="Run seed: the rows' noise seeds derive from it (default 0)."
    )
    @_common_options
    def command(checkpoint, inputs, prompts, mode, steps, size, seed, **common):
        if common["out"] is None:
            raise click.UsageError("--out is required, e.g. --out out/gen")
        if bool(inputs) == bool(prompts):
            raise click.UsageError(
                "give --input (earlier outputs) or --prompts (a text file), one of the two"
            )
        sets = [f"checkpoint={json.dumps(checkpoint)}", *_runtime_sets(common)]
        if inputs:
            sets.append(f"inputs={json.dumps(list(inputs))}")
        if prompts:
            sets.append(f"prompts={json.dumps(prompts)}")
        for key, value in (("mode", mode), ("steps", steps), ("size", size), ("seed", seed)):
            if value is not None:
                sets.append(f"{key}={json.dumps(value)}")
        _run(pipeline, common, sets)

    return command

"""``synth model``: InternVL-U checkpoints in the official layout (``synth.internvlu``)."""

from __future__ import annotations

import click


@click.group()
def model() -> None:
    """InternVL-U checkpoints: check and describe one, or make a tiny random one."""


@model.command(name="info")
@click.argument("checkpoint", type=click.Path(exists=True, file_okay=False))
def model_info(checkpoint: str) -> None:
    """Components, parameter counts by part, dtypes and the layout check of CHECKPOINT.

    Exits 1 when the layout check finds a problem (each is printed). Nothing is loaded: the
    sizes come from the configs on the meta device and the dtypes from the safetensors headers.

    \b
    Example:
      synth model info /models/InternVL-U
    """
    from collections import Counter
    from pathlib import Path

    import torch

    from synth.internvlu.checkpoint import WEIGHTS, safetensors_header, weight_files
    from synth.internvlu.model import InternVLU, build_components, check_checkpoint
    from synth.internvlu.presets import describe

    root = Path(checkpoint)
    configs, problems = check_checkpoint(root)
    if configs is not None:
        for key, value in describe(configs).items():
            click.echo(f"{key}: {value}")
        if not problems:
            with torch.device("meta"):
                counts = InternVLU(configs, build_components(configs), {}).parameter_counts()
            click.echo("parameters by part:")
            for part, n in counts.items():
                click.echo(f"  {part:42s} {n:>15,}")
            click.echo(f"  {'total':42s} {sum(counts.values()):>15,}")
            for name, stem in WEIGHTS.items():
                dtypes = Counter(
                    d for p in weight_files(root / name, stem) for d, _ in safetensors_header(p).values()
                )
                click.echo(f"dtypes {name}: {dict(dtypes)}")
    if problems:
        click.echo(f"layout check: {len(problems)} problem(s)")
        for p in problems:
            click.echo(f"  - {p}")
        raise SystemExit(1)
    click.echo("layout check: OK")


@model.command(name="tiny")
@click.argument("out", type=click.Path(file_okay=False))
@click.option("--seed", default=0, show_default=True, help="Same seed, same bytes.")
def model_tiny(out: str, seed: int) -> None:
    """Write a tiny random InternVL-U checkpoint (about 5 MB) in the official layout to OUT.

    \b
    Example:
      synth model tiny out/ivu-tiny --seed 0 && synth model info out/ivu-tiny
    """
    from synth.internvlu.presets import make_tiny

    click.echo(f"wrote {make_tiny(out, seed)}")

"""Commands on an output folder: ``inspect``, ``validate``, ``preview`` and ``migrate``."""

from __future__ import annotations

import json
import sys

import click

import synth
from synth.migrate import migrate
from synth.report import summary_line
from synth.runner import PHASES
from synth.writer import OutputDir


@click.command()
@click.argument("out")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def inspect(out: str, as_json: bool) -> None:
    """Counts by status and reason, throughput and schema of an output folder."""
    info = synth.inspect(out)
    if as_json:
        click.echo(json.dumps(info, indent=2, ensure_ascii=False))
        return
    click.echo(
        f"{info['pipeline']} at {info['out']} ({info['status']}, seed {info['seed']}, {info['split']}, config {info['content_hash']})"
    )
    click.echo(f"units: {info['units_done']}/{info['units_planned']} committed; inputs {info['inputs']}")
    click.echo(summary_line(info))
    for reason, n in info["reasons"].items():
        click.echo(f"  {reason:<22} {n}")
    if info["samples_per_second"]:
        click.echo(f"throughput (last run): {info['samples_per_second']:.2f} samples/s")
    if info["phase_seconds"]:  # in the order they run (run.json stores keys sorted)
        phases = sorted(info["phase_seconds"].items(), key=lambda kv: PHASES.index(kv[0]))
        click.echo("wall time (last run): " + ", ".join(f"{k} {v:.1f} s" for k, v in phases))
    if info["stage_seconds"]:
        total = sum(info["stage_seconds"].values()) or 1
        click.echo(
            "worker time by stage: "
            + ", ".join(f"{k} {v / total:.0%}" for k, v in info["stage_seconds"].items())
        )
    click.echo(
        "columns (non-null in data/): " + ", ".join(f"{k}={v}" for k, v in info["schema"].items() if v)
    )


@click.command(name="validate")
@click.argument("out")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--no-images", is_flag=True, help="Skip decoding every image (faster).")
def validate_cmd(out: str, as_json: bool, no_images: bool) -> None:
    """Exit 0 only if every shard matches the schema, images decode, ids are unique and counts add up."""
    result = synth.validate(out, check_images=not no_images)
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        c = result.counts
        click.echo(
            f"{'OK' if result.ok else 'INVALID'}: {result.rows} rows ({c['kept']} kept, {c['rejected']} rejected, {c['error']} error), {result.images_checked} images decoded"
        )
        for p in result.problems:
            click.echo(f"  - {p}")
    sys.exit(0 if result.ok else 1)


@click.command()
@click.argument("out")
@click.option("--kept", default=36, help="Kept rows to show.")
@click.option("--rejected", default=12, help="Rejected/error rows to show.")
def preview(out: str, kept: int, rejected: int) -> None:
    """Write OUT/preview/index.html, a gallery a person can open in a browser."""
    click.echo(synth.preview(out, kept, rejected))


@click.command(name="migrate")
@click.argument("out")
def migrate_cmd(out: str) -> None:
    """Rewrite OUT's shards of an older schema version (1.x: scores as a map) in the current one.

    Unit by unit, each committed atomically like a run's units; shards already current are left as
    they are, so running it twice is safe, and a stopped migrate finishes when run again."""
    from tqdm import tqdm

    bar = tqdm(unit="unit", desc="migrate", dynamic_ncols=True)

    def step(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    result = migrate(out, step)
    bar.close()
    click.echo(
        f"{OutputDir(out).uri}: {result.units_rewritten} units rewritten ({result.shards_rewritten} shards), "
        f"{result.units_current} already current"
    )
    for why in result.skipped:
        click.echo(f"  - left alone: {why}; rerun its pipeline to redo that unit")

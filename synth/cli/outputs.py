"""Commands that read an output folder: ``inspect``, ``validate`` and ``preview``."""

from __future__ import annotations

import json
import sys

import click

from synth.preview import write_preview
from synth.report import collect, summary_line
from synth.runner import PHASES
from synth.validate import validate
from synth.writer import OutputDir


@click.command()
@click.argument("out")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def inspect(out: str, as_json: bool) -> None:
    """Counts by status and reason, throughput and schema of an output folder."""
    folder = OutputDir(out)
    run = folder.read_json("run.json")
    if run is None:
        raise FileNotFoundError(f"{folder.uri} has no run.json: not a synth output folder")
    report = collect(folder, run)
    last = (run.get("invocations") or [{}])[-1]
    info = {
        "out": folder.uri,
        "pipeline": run["pipeline"],
        "status": run.get("status"),
        "content_hash": run["content_hash"],
        "seed": run["seed"],
        "split": run["split"],
        **report,
        "samples_per_second": last.get("samples_per_second"),
        "phase_seconds": last.get("phase_seconds"),
        "schema": _schema_summary(folder),
    }
    if as_json:
        click.echo(json.dumps(info, indent=2, ensure_ascii=False))
        return
    click.echo(
        f"{info['pipeline']} at {info['out']} ({info['status']}, seed {info['seed']}, {info['split']}, config {info['content_hash']})"
    )
    click.echo(
        f"units: {report['units_done']}/{report['units_planned']} committed; inputs {report['inputs']}"
    )
    click.echo(summary_line(report))
    for reason, n in report["reasons"].items():
        click.echo(f"  {reason:<22} {n}")
    if info["samples_per_second"]:
        click.echo(f"throughput (last run): {info['samples_per_second']:.2f} samples/s")
    if last.get("phase_seconds"):  # in the order they run (run.json stores keys sorted)
        phases = sorted(last["phase_seconds"].items(), key=lambda kv: PHASES.index(kv[0]))
        click.echo("wall time (last run): " + ", ".join(f"{k} {v:.1f} s" for k, v in phases))
    if report["stage_seconds"]:
        total = sum(report["stage_seconds"].values()) or 1
        click.echo(
            "worker time by stage: "
            + ", ".join(f"{k} {v / total:.0%}" for k, v in report["stage_seconds"].items())
        )
    click.echo(
        "columns (non-null in data/): " + ", ".join(f"{k}={v}" for k, v in info["schema"].items() if v)
    )


def _schema_summary(out: OutputDir) -> dict[str, int]:
    """Non-null counts per column over data/, from Parquet footers only."""
    import pyarrow.parquet as pq

    counts: dict[str, int] = {}
    for shard in out.list("data", ".parquet"):
        with out.fs.open_input_file(out.path(shard)) as f:
            meta = pq.ParquetFile(f).metadata
        for g in range(meta.num_row_groups):
            group = meta.row_group(g)
            for c in range(group.num_columns):
                col = group.column(c)
                top = col.path_in_schema.split(".")[0]
                stats = col.statistics
                if stats is not None and stats.has_null_count and "." not in col.path_in_schema:
                    counts[top] = counts.get(top, 0) + group.num_rows - stats.null_count
                else:
                    counts.setdefault(top, 0)
    return counts


@click.command(name="validate")
@click.argument("out")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--no-images", is_flag=True, help="Skip decoding every image (faster).")
def validate_cmd(out: str, as_json: bool, no_images: bool) -> None:
    """Exit 0 only if every shard matches the schema, images decode, ids are unique and counts add up."""
    result = validate(out, check_images=not no_images)
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
    click.echo(write_preview(out, kept, rejected))

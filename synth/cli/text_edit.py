"""``synth text-edit export``: a run as a TextEdit benchmark folder (``synth eval text-edit``,
in ``eval.py``, scores a model's outputs on one)."""

from __future__ import annotations

import click


@click.command(name="export")
@click.argument("run_dir")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["textedit"]),
    default="textedit",
    show_default=True,
    help="textedit: the open-compass/TextEdit benchmark layout.",
)
@click.option("--out", required=True, help="Folder for the benchmark files.")
@click.option(
    "--single-line",
    is_flag=True,
    help="Leave out the rows whose text spans lines (edits that rewrap); they are marked multi_line.",
)
def text_edit_export(run_dir: str, fmt: str, out: str, single_line: bool) -> None:
    """Export the kept triplets of RUN_DIR as a benchmark folder (one <category>.jsonl per edit
    operation, one row per edited line, images under <category>/image/{original,gt,mask}/,
    categories.json)."""
    from pipelines.text_edit.bench import export_textedit

    counts, left_out = export_textedit(run_dir, out, single_line)
    note = f"; {left_out} multi-line rows left out" if single_line else ""
    click.echo(f"wrote {sum(counts.values())} rows in {len(counts)} categories to {out}{note}: {counts}")

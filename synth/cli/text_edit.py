"""``synth text-edit export`` (a run as a TextEdit benchmark folder) and ``synth eval text-edit``
(a model's outputs scored on one)."""

from __future__ import annotations

import json
from pathlib import Path

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


@click.group(name="eval")
def eval_group() -> None:
    """Score a model's outputs on a benchmark folder."""


@eval_group.command(name="text-edit")
@click.option(
    "--pred",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="Model outputs: <pred>/<category>/<basename of original_image>.",
)
@click.option(
    "--bench",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="A TextEdit-layout folder: `synth text-edit export` output or the released benchmark.",
)
@click.option("--out", "report_path", default=None, help="Write the full JSON report here.")
@click.option(
    "--ocr",
    "backend",
    type=click.Choice(["rapidocr", "paddleocr", "tesseract"]),
    default="rapidocr",
    show_default=True,
    help="OCR engine (TextEdit's own evaluator uses PaddleOCR).",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def eval_text_edit(pred: str, bench: str, report_path: str | None, backend: str, quiet: bool) -> None:
    """Text-editing metrics: TextEdit's OA, OP, OR, F1 and ROI-NED, plus (on our exports) the
    verifier's correctness at the known text places and PSNR outside the edit mask; overall, per
    scene type and per operation."""
    from pipelines.text_edit.bench import evaluate, table
    from synth.ocr import OcrConfig

    report = evaluate(bench, pred, OcrConfig(backend=backend), progress=not quiet)
    click.echo(table(report))
    if report_path:
        Path(report_path).parent.mkdir(parents=True, exist_ok=True)
        Path(report_path).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        click.echo(f"report: {report_path}")

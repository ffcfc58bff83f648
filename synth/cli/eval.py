"""``synth eval``: score a model's outputs. ``text-edit`` on a TextEdit-layout benchmark,
``generation`` on a run folder of generated images. Both run on Ray across every core and
resume: a rerun of the same command scores only the units not yet committed."""

from __future__ import annotations

import json
from pathlib import Path

import click

OCR_CHOICE = click.Choice(["rapidocr", "paddleocr", "tesseract"])


def _run_options(f):
    """--workers, --address, --work, --overwrite, --quiet: how an evaluator runs."""
    for option in reversed(
        [
            click.option(
                "--workers",
                type=click.IntRange(min=0),
                default=None,
                help="Ray actors, one CPU each [default: every free CPU]; 0 scores in this process.",
            ),
            click.option(
                "--address", default=None, help="Ray cluster to join (or RAY_ADDRESS); default: a local Ray."
            ),
            click.option(
                "--work",
                default=None,
                help="Folder of committed units, for resuming [default: <--out>.work, else the user's cache].",
            ),
            click.option(
                "--overwrite", is_flag=True, help="Start again where --work holds another evaluation."
            ),
            click.option("--quiet", is_flag=True, help="No progress bar."),
        ]
    ):
        f = option(f)
    return f


@click.group(name="eval")
def eval_group() -> None:
    """Score a model's outputs: on a TextEdit benchmark folder, or a run folder of generated images."""


@eval_group.command(name="text-edit")
@click.option(
    "--pred",
    required=True,
    type=click.Path(exists=True, file_okay=False),
    help="Model outputs: <pred>/<category>/<basename of original_image>, or a run folder of our "
    "schema (`synth sample --mode edit` of a text-edit run; rows matched by sample_id).",
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
    type=OCR_CHOICE,
    default="rapidocr",
    show_default=True,
    help="OCR engine (TextEdit's own evaluator uses PaddleOCR).",
)
@_run_options
def eval_text_edit(
    pred: str, bench: str, report_path: str | None, backend: str, workers, address, work, overwrite, quiet
) -> None:
    """Text-editing metrics: TextEdit's OA, OP, OR, F1 and ROI-NED, plus (on our exports) the
    verifier's correctness at the known text places and PSNR outside the edit mask; overall, per
    scene type and per operation."""
    from pipelines.text_edit.bench_eval import evaluate, table
    from synth.ocr import OcrConfig

    if work is None and report_path:
        work = f"{report_path}.work"
    report = evaluate(
        bench, pred, OcrConfig(backend=backend), progress=not quiet, workers=workers, address=address,
        work=work, overwrite=overwrite,
    )  # fmt: skip
    click.echo(table(report))
    if report_path:
        Path(report_path).parent.mkdir(parents=True, exist_ok=True)
        Path(report_path).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
        click.echo(f"report: {report_path}")


@eval_group.command(name="generation")
@click.option(
    "--pred",
    required=True,
    help="Run folder of generated rows (`synth sample` output; any of our runs scores its own "
    "targets), local or s3://; its kept rows (data/) are scored.",
)
@click.option("--out", "report_path", required=True, help="Write the JSON report here (e.g. report.json).")
@click.option("--ocr", "backend", type=OCR_CHOICE, default="rapidocr", show_default=True, help="OCR engine.")
@click.option("--clip", "clip_weights", default=None, help="Local open_clip checkpoint: turns CLIPScore on.")
@click.option(
    "--clip-model",
    default="ViT-L-14-quickgelu",
    show_default=True,
    help="open_clip architecture of --clip (OpenAI ViT-L/14 weights need ViT-L-14-quickgelu).",
)
@click.option("--clip-json", default=None, help="open_clip JSON config, for a custom --clip-model.")
@click.option(
    "--judge-url",
    default=None,
    help="OpenAI-compatible VLM server (e.g. http://127.0.0.1:8000/v1 from `synth llm serve`): turns the judge on.",
)
@click.option("--judge-model", default=None, help="Model name on that server [default: its first model].")
@click.option(
    "--unit-rows", type=click.IntRange(min=1), default=8, show_default=True, help="Rows per unit of work."
)
@_run_options
def eval_generation(
    pred, report_path, backend, clip_weights, clip_model, clip_json, judge_url, judge_model, unit_rows,
    workers, address, work, overwrite, quiet,
) -> None:  # fmt: skip
    """Score generated images row by row: OCR of the texts the prompt asks for (word accuracy and
    NED, per language), CLIPScore (with --clip), PSNR outside the edit mask and the text-edit
    metrics on edit rows, and a VLM judge (with --judge-url). Prints a table per domain, subdomain,
    task and language; the JSON report holds every row's figures.

    \b
    Example:
      synth eval generation --pred out/gen --out report.json
      synth eval generation --pred out/gen --out report.json --clip /models/clip/open_clip_pytorch_model.bin \\
          --judge-url http://127.0.0.1:8000/v1
    """
    from synth.evaluate.generation import ClipScoreConfig, GenerationEvalConfig, evaluate_run
    from synth.evaluate.summary import table
    from synth.llm import LlmConfig
    from synth.ocr import OcrConfig

    cfg = GenerationEvalConfig(
        ocr=OcrConfig(backend=backend),
        clip=ClipScoreConfig(weights=clip_weights, model=clip_model, model_json=clip_json) if clip_weights else None,
        judge=LlmConfig(base_url=judge_url, model=judge_model) if judge_url else None,
        unit_rows=unit_rows, workers=workers, address=address,
    )  # fmt: skip
    report = evaluate_run(pred, report_path, cfg, work=work, overwrite=overwrite, progress=not quiet)
    click.echo(table(report))
    click.echo(f"report: {report_path}")

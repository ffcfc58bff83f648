"""``synth train``: the InternVL-U trainer (``synth.internvlu.train``) from the command line."""

from __future__ import annotations

import json

import click


@click.command(name="train")
@click.option(
    "--config",
    "config",
    required=True,
    help="A training config: a YAML file or a shipped name (stage1, stage2, stage3, tiny, tiny_stage3).",
)
@click.option("--data", "data", multiple=True,
              help="Our outputs to train on: run folders or .parquet shards, local or s3:// (repeatable; "
                   "several after one --data also work). A resume may leave it out.")  # fmt: skip
@click.option("--init", default=None, help="Starting checkpoint in the official layout (folder or s3://).")
@click.option(
    "--out", required=True, help="Run folder: checkpoints/, log.jsonl, tb/, final/. Rerun to resume."
)
@click.option("--set", "sets", multiple=True, help="Override a config key, e.g. --set train.steps=200.")
@click.option("--ray", "use_ray", is_flag=True, help="Run on Ray (Ray Train's TorchTrainer).")
@click.option("--num-workers", type=int, default=1, show_default=True, help="With --ray: training processes.")
@click.option("--gpus-per-worker", type=float, default=0.0, show_default=True,
              help="With --ray: GPUs per process (0: CPU processes over gloo).")  # fmt: skip
@click.option("--address", default=None, help="With --ray: the cluster (default RAY_ADDRESS or a local Ray).")
@click.argument("more_data", nargs=-1)
def train(config, data, init, out, sets, use_ray, num_workers, gpus_per_worker, address, more_data):
    """Train InternVL-U on synth outputs: the paper's three-stage curriculum, one config a stage.

    \b
    Examples:
      synth model tiny out/ivu-tiny
      synth train --config tiny --data out/demo/text_render --init out/ivu-tiny --out runs/tiny
      synth train --config stage1 --data out/text out/physics out/cs out/text_edit --init /models/InternVL-U --out runs/s1
      synth train --config stage2 --data out/text out/text_edit --init runs/s1/final --out runs/s2
      torchrun --nproc-per-node 8 -m synth.internvlu.train --config stage3 --data out/text --init runs/s2/final --out runs/s3
      synth train --config stage3 --data s3://bucket/out/text --init runs/s2/final --out /shared/runs/s3 \\
          --ray --num-workers 16 --gpus-per-worker 1

    \b
    Stages (configs/train/):
      stage1  the generation decoder only (VLM frozen), 512 px, T2I:edit 4:1, lr 3e-4, clip 0.2
      stage2  512 to 1024 px in aspect buckets, edits with VAE reference latents, 3:4, lr 1e-4, clip 0.2
      stage3  everything but the VAE, T2I:edit:und 1:1:2 and CoT rows, NTP:FM 1:20, lr 1e-5, clip 1.0
      tiny, tiny_stage3  the same at a size the CPU trains in minutes (with synth model tiny)

    The run folder holds log.jsonl and TensorBoard events (tb/: tensorboard --logdir runs/tiny/tb),
    atomic checkpoints every train.save_every steps (a rerun into the same --out resumes from the
    newest at the exact data position), and final/, the whole model in the official layout, which
    synth sample --checkpoint runs/tiny/final and the official InternVLUPipeline load. Rows the loader
    cannot use (no image, undecodable, too long) are skipped and counted by reason in the log.
    """
    from synth.internvlu.train.launch import Launch, run, run_on_ray

    launch = Launch(config, [*data, *more_data], out, init, list(sets))
    result = run_on_ray(launch, num_workers, gpus_per_worker, address) if use_ray else run(launch)
    last = result.get("last") or {}
    click.echo(json.dumps({k: last[k] for k in ("step", "loss", "loss_fm", "loss_ntp") if k in last}))
    if result.get("final"):
        click.echo(f"final checkpoint (official layout): {result['final']}")
        click.echo(f"try it: synth sample --checkpoint {result['final']} --prompts prompts.txt --out out/gen")

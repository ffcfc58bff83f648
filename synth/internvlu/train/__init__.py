"""Training InternVL-U on our Parquet outputs: the three-stage curriculum of the paper.

    batch.py        Example and Batch: what the loader hands the step
    data.py         the loader: shards -> per-kind streams -> mixed global batches -> this rank's rows
    rows.py         one row of our schema -> an Example (templates, dropout, buckets, skips)
    losses.py       flow matching and next-token prediction, per-sample noise
    step.py         TrainModule: one forward from a Batch to the loss terms
    loop.py         train(): micro-batches, AdamW, schedule, clipping, logs, checkpoints, export
    state.py        atomic checkpoints (safetensors + JSON) and the official-layout export
    distributed.py  one process, torchrun (FSDP2) or Ray Train; activation checkpointing
    metrics.py      FLOPs, MFU, JSONL and TensorBoard logs
    launch.py       the command line shared by ``synth train`` and ``python -m synth.internvlu.train``

``python -m synth.internvlu.train`` is the ``torchrun`` entry point.
"""

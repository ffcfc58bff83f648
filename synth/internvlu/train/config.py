"""``synth train``'s config: one YAML per curriculum stage (``configs/train/``), validated here.

Sections: ``data`` (the loader: batch, mixing, sizes, dropout; ``data.DataConfig``), ``model``
(what trains), ``loss`` (weights of the two terms), ``optim`` (AdamW and its schedule) and
``train`` (steps, micro-batches, checkpoints, logs, precision)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from synth.config import ConfigError, Overrides, Strict, config_dir, load_config


class ModelSection(Strict):
    trainable: list[str] = Field(
        default_factory=lambda: ["generation_decoder"],
        description="parameter name prefixes that train (e.g. generation_decoder, vlm.language_model, "
        "vlm.mlp1, vlm); every other parameter is frozen: no gradient, no optimizer state. The VAE "
        "never trains",
    )
    activation_checkpointing: bool = Field(
        False, description="recompute each transformer block in the backward pass (less memory)"
    )


class LossSection(Strict):
    fm: float = Field(1.0, ge=0, description="weight of flow matching on the VAE latents")
    ntp: float = Field(0.0, ge=0, description="weight of next-token prediction on text targets")
    logit_mean: float | None = Field(None, description="logit-normal t: mean (None: the checkpoint's)")
    logit_std: float | None = Field(None, gt=0, description="logit-normal t: std (None: the checkpoint's)")
    flow_shift: float | None = Field(
        None, gt=0, description="t shifted as the sampler's schedule is (None: the checkpoint's, 3.0)"
    )

    @model_validator(mode="after")
    def _some_loss(self) -> LossSection:
        if self.fm == 0 and self.ntp == 0:
            raise ValueError("loss.fm and loss.ntp are both 0: nothing to train")
        return self


class OptimSection(Strict):
    lr: float = Field(1e-4, gt=0)
    betas: tuple[float, float] = (0.9, 0.95)
    weight_decay: float = Field(0.0, ge=0)
    eps: float = Field(1e-8, gt=0)
    warmup_steps: int = Field(0, ge=0, description="linear warmup from 0")
    schedule: Literal["constant", "cosine"] = "constant"
    min_lr_ratio: float = Field(0.0, ge=0, le=1, description="cosine ends at lr * min_lr_ratio")
    grad_clip: float = Field(1.0, gt=0, description="max global gradient norm")


class TrainSection(Strict):
    steps: int = Field(1000, ge=1, description="optimizer steps")
    micro_batch: int = Field(4, ge=1, description="rows per forward on one rank (gradient accumulation)")
    seed: int = 0
    save_every: int = Field(500, ge=1, description="steps between checkpoints")
    keep: int = Field(2, ge=1, description="checkpoints kept (older ones deleted)")
    export_every_checkpoint: bool = Field(
        False, description="also write each kept checkpoint in the official layout (final/ always is)"
    )
    log_every: int = Field(10, ge=1)
    precision: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="auto: bf16 autocast on GPUs, float32 on CPUs"
    )
    export_dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="dtype of the official-layout export; auto: that of --init's weights"
    )
    peak_tflops: float | None = Field(
        None, gt=0, description="device peak for MFU; None: known GPUs by name, else MFU is not reported"
    )


class TrainConfig(Strict):
    stage: str = "custom"
    data: dict[str, Any] = Field(default_factory=dict)
    model: ModelSection = Field(default_factory=ModelSection)
    loss: LossSection = Field(default_factory=LossSection)
    optim: OptimSection = Field(default_factory=OptimSection)
    train: TrainSection = Field(default_factory=TrainSection)


def shipped_configs() -> list[str]:
    return sorted(p.stem for p in (config_dir() / "train").glob("*.yaml"))


def resolve_path(path: str | Path) -> Path:
    """A config path as given, or the name of a shipped one (``stage1``, ``tiny``)."""
    p = Path(path)
    if p.is_file():
        return p
    shipped = config_dir() / "train" / f"{p.stem}.yaml"
    if p.parent == Path(".") and shipped.is_file():
        return shipped
    raise ConfigError(f"no training config {path}; shipped ones: {', '.join(shipped_configs())}")


def load_train_config(path: str | Path, overrides: Overrides | None = None) -> TrainConfig:
    """The YAML at ``path`` (or a shipped name) with ``--set`` overrides, validated, the data
    section included."""
    from synth.internvlu.train.data import DataConfig

    path = resolve_path(path)
    cfg = load_config(TrainConfig, path, overrides)
    try:
        DataConfig.from_dict(cfg.data)
    except (TypeError, ValueError) as e:
        raise ConfigError(f"invalid config ({path}): data: {e}") from None
    return cfg

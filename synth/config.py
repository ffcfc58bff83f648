"""Typed pipeline configs: YAML in, pydantic models out, with readable errors and stable hashes.

A config has three kinds of keys. *Content* keys change what is drawn and enter the content hash
(and so every sample id). ``runtime`` keys (Ray address, unit size, workers) never do.
``thresholds`` are decision keys: they change only which rows are kept, and have their own hash.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from synth import __version__
from synth.identity import digest

#: Overrides as ``--set`` gives them (``["render.min_contrast=7"]``, values parsed as YAML) or as
#: Python passes them (``{"render.min_contrast": 7}``, values as they are).
Overrides = Sequence[str] | Mapping[str, Any]
M = TypeVar("M", bound=BaseModel)


class ConfigError(ValueError):
    """A config that cannot be used; the message names the key and what is allowed."""


class Strict(BaseModel):
    """Base for every config section: unknown keys are errors, values are validated on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class StageResources(Strict):
    """What one stage asks of the cluster, overriding its declaration (``runtime.stages.<name>``)."""

    cpus: float | None = Field(None, gt=0, le=256, description="CPUs per worker of the stage")
    gpus: float | None = Field(None, ge=0, le=8, description="GPU share per worker where there are GPUs")


class RuntimeConfig(Strict):
    address: str | None = Field(None, description="Ray address; None starts an embedded local Ray")
    unit_size: int = Field(64, ge=1, description="samples per work unit (the scheduling grain)")
    workers: int | None = Field(None, ge=1, description="actors or concurrent tasks; None = all CPUs")
    batch_size: int = Field(16, ge=1, description="rows per stage call inside a unit")
    gpus_per_worker: float = Field(
        0.25, ge=0, le=8, description="GPU share of each model actor when the cluster has GPUs"
    )
    stages: dict[str, StageResources] = Field(
        default_factory=dict,
        description="per-stage resources by stage name, e.g. {clip: {gpus: 0.5}}; stages that ask for "
        "different kinds (CPU, GPU) run on pools of their own",
    )


class PipelineConfig(Strict):
    pipeline: str
    seed: int = 0
    split: Literal["train", "test"] = "train"
    runtime: RuntimeConfig = RuntimeConfig()

    #: Dotted keys that only decide which rows are kept (thresholds): not in the content hash.
    decision_keys: ClassVar[tuple[str, ...]] = ("thresholds",)
    #: Dotted keys outside ``runtime`` that change how, not what (``llm.base_url``): in neither hash.
    runtime_keys: ClassVar[tuple[str, ...]] = ()

    def _partition(self) -> tuple[dict[str, Any], dict[str, Any]]:
        content = self.model_dump(mode="json", exclude={"runtime", "seed", "split"})

        def pop(key: str) -> tuple[bool, Any]:
            *parents, last = key.split(".")
            node = content
            for part in parents:
                node = node.get(part) or {}
            return (True, node.pop(last)) if last in node else (False, None)

        for key in self.runtime_keys:
            pop(key)
        decision: dict[str, Any] = {}
        for key in self.decision_keys:
            found, value = pop(key)
            if found:
                decision[key] = value
        return content, decision

    def content_hash(self) -> str:
        """Hash of what changes the samples: the toolkit version (its drawing code) and the content
        keys (not runtime, not decision keys; seed and split are checked on their own)."""
        return digest(__version__, self._partition()[0], length=16)

    def decision_hash(self) -> str:
        return digest(self._partition()[1], length=16)

    def decisions(self) -> dict[str, Any]:
        """The decision keys and their values, for messages and run.json."""
        return self._partition()[1]


def parse_override(item: str) -> tuple[list[str], Any]:
    """``a.b=value`` -> (["a", "b"], yaml-parsed value). ``--set kinds=[bst,heap]`` gives a list;
    ``--set tasks={edit:1,und:2}`` a mapping, though YAML wants a space after each colon."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set render.min_contrast=4.5")
    key, raw = item.split("=", 1)
    try:
        value = _spaced(yaml.safe_load(raw)) if raw != "" else ""
    except yaml.YAMLError as e:
        raise ConfigError(f"--set {key}: value {raw!r} is not valid YAML ({e})") from None
    return key.strip().split("."), value


_UNSPACED = re.compile(r"^([A-Za-z_][\w.-]*):([^/\s].*)$")  # not a URL: http://...


def _spaced(value: Any) -> Any:
    """YAML reads ``{edit:1}`` as {"edit:1": None}; typed in a shell it means {"edit": 1}. Keys
    of that form whose value is null are split, recursively; anything else is left as it is."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            m = _UNSPACED.match(k) if isinstance(k, str) and v is None else None
            if m:
                k, v = m.group(1), yaml.safe_load(m.group(2))
            out[k] = _spaced(v)
        return out
    if isinstance(value, list):
        return [_spaced(v) for v in value]
    return value


def _override_items(overrides: Overrides | None) -> Iterable[tuple[list[str], Any]]:
    if not overrides:
        return []
    if isinstance(overrides, Mapping):
        return [(str(key).split("."), value) for key, value in overrides.items()]
    if isinstance(overrides, str):  # one KEY=VALUE, not a sequence of one-letter overrides
        raise ConfigError(
            f"overrides: expected a list of KEY=VALUE or a mapping, got the string {overrides!r}"
        )
    return [parse_override(item) for item in overrides]


def apply_overrides(data: dict[str, Any], overrides: Overrides | None) -> dict[str, Any]:
    """Set each dotted key of ``overrides`` in ``data`` (sections are created as needed), in order."""
    for path, value in _override_items(overrides):
        node = data
        for part in path[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise ConfigError(f"--set {'.'.join(path)}: {part!r} is a value, not a section")
            node = nxt
        node[path[-1]] = value
    return data


def _allowed_keys(model: type[BaseModel], loc: tuple) -> list[str]:
    """Walk the model along ``loc`` (minus the last part) to list the keys allowed there."""
    current: Any = model
    for part in loc[:-1]:
        field = getattr(current, "model_fields", {}).get(part) if isinstance(part, str) else None
        if field is None:
            return []
        current = field.annotation
    return sorted(getattr(current, "model_fields", {}))


def format_errors(model: type[BaseModel], err: ValidationError, source: str) -> str:
    lines = [f"invalid config ({source}):"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, e["loc"])
            lines.append(f"  unknown key '{key}'; allowed here: {', '.join(allowed)}")
        else:
            lines.append(f"  {key}: {e['msg']} (got {e.get('input')!r})")
    return "\n".join(lines)


def load_config(model: type[M], path: str | Path, overrides: Overrides | None = None) -> M:
    """Read a YAML config, apply overrides (``--set`` strings or a mapping) and validate into ``model``."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except OSError as e:
        raise ConfigError(f"cannot read config {path}: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"config {path} is not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a mapping of keys, got {type(data).__name__}")
    data = apply_overrides(data, overrides)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise ConfigError(format_errors(model, e, str(path))) from None


def config_dir() -> Path:
    """The folder of the shipped YAML: the ``configs`` package's own, in a checkout and in an
    installed wheel alike (package data, found through ``importlib.resources``)."""
    return Path(str(resources.files("configs")))


def default_config_path(pipeline: str) -> Path:
    """``configs/<pipeline>.yaml``, the defaults a run of ``pipeline`` starts from."""
    path = config_dir() / f"{pipeline}.yaml"
    if not path.is_file():
        shipped = sorted(p.stem for p in config_dir().glob("*.yaml"))
        raise ConfigError(
            f"no shipped config {path.name} for pipeline {pipeline!r}; shipped: {', '.join(shipped)}"
        )
    return path

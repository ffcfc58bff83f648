"""Typed configs: the shipped YAML loads, errors name keys and allowed values, hashes are stable."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.text_render.config import TextRenderConfig
from synth.config import (
    ConfigError,
    apply_overrides,
    default_config_path,
    load_config,
    parse_override,
)

YAML = default_config_path("text_render")


def load(*overrides: str) -> TextRenderConfig:
    cfg = load_config(TextRenderConfig, YAML, list(overrides))
    assert isinstance(cfg, TextRenderConfig)
    return cfg


def test_shipped_yaml_loads():
    assert YAML.exists()
    cfg = load()
    assert cfg.pipeline == "text_render"
    assert cfg.split == "train"
    assert cfg.render.min_contrast == 4.5
    assert cfg.render.sizes[0] == (1024, 1024)
    assert cfg.verify.ocr.backend == "rapidocr"
    assert cfg.thresholds.max_ned == 0.2
    assert cfg.runtime.unit_size == 50
    assert "Math" in cfg.fonts.exclude


def test_overrides_are_applied_and_validated():
    cfg = load("render.min_contrast=7", "runtime.unit_size=8", "fonts.dirs=[/a,/b]", "seed=3")
    assert cfg.render.min_contrast == 7.0
    assert cfg.runtime.unit_size == 8
    assert cfg.fonts.dirs == ["/a", "/b"]
    assert cfg.seed == 3


def test_unknown_top_level_key_names_key_and_allowed_keys():
    with pytest.raises(ConfigError) as exc:
        load("bogus=1")
    msg = str(exc.value)
    assert "'bogus'" in msg
    for allowed in ("render", "fonts", "thresholds", "runtime", "seed"):
        assert allowed in msg


def test_unknown_nested_key_names_key_and_allowed_keys():
    with pytest.raises(ConfigError) as exc:
        load("render.min_contrst=5")
    msg = str(exc.value)
    assert "render.min_contrst" in msg
    assert "min_contrast" in msg and "warp_max" in msg and "backgrounds" in msg
    # allowed keys are those of the section, not of the top level
    allowed_line = next(line for line in msg.splitlines() if "min_contrst" in line)
    assert "thresholds" not in allowed_line


def test_unknown_deeply_nested_key():
    with pytest.raises(ConfigError) as exc:
        load("verify.ocr.engine=x")
    msg = str(exc.value)
    assert "verify.ocr.engine" in msg
    assert "backend" in msg and "rec_batch" in msg


def test_bad_literal_value_names_allowed_values():
    with pytest.raises(ConfigError) as exc:
        load("verify.ocr.backend=easyocr")
    msg = str(exc.value)
    assert "verify.ocr.backend" in msg
    assert "easyocr" in msg
    for allowed in ("rapidocr", "paddleocr", "tesseract"):
        assert allowed in msg


def test_bad_split_names_allowed_values():
    with pytest.raises(ConfigError) as exc:
        load("split=dev")
    assert "train" in str(exc.value) and "test" in str(exc.value)


def test_out_of_range_value_is_an_error():
    with pytest.raises(ConfigError, match="render.min_contrast"):
        load("render.min_contrast=30")
    with pytest.raises(ConfigError, match="runtime.unit_size"):
        load("runtime.unit_size=0")


def test_bad_weights_are_an_error():
    with pytest.raises(ConfigError, match="render.backgrounds"):
        load("render.backgrounds={solid: 0, photo: 0}")


def test_missing_file_and_non_mapping(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(TextRenderConfig, tmp_path / "nope.yaml")
    bad = tmp_path / "list.yaml"
    bad.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(TextRenderConfig, bad)
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(TextRenderConfig, broken)


@pytest.mark.parametrize(
    ("item", "path", "value"),
    [
        ("seed=3", ["seed"], 3),
        ("render.min_contrast=4.5", ["render", "min_contrast"], 4.5),
        ("a.b.c=true", ["a", "b", "c"], True),
        ("kinds=[a,b]", ["kinds"], ["a", "b"]),
        ("sizes=[[1,2],[3,4]]", ["sizes"], [[1, 2], [3, 4]]),
        ("w={x: 1}", ["w"], {"x": 1}),
        ("tasks={edit:1,und:2.5}", ["tasks"], {"edit": 1, "und": 2.5}),  # no space after the colon
        ("a={b:{c:[x,y]}}", ["a"], {"b": {"c": ["x", "y"]}}),
        ("m={k: null, http://h: null}", ["m"], {"k": None, "http://h": None}),
        ("address=null", ["address"], None),
        ("name=", ["name"], ""),
        ("url=a=b", ["url"], "a=b"),
        ("text=hello world", ["text"], "hello world"),
    ],
)
def test_parse_override(item, path, value):
    assert parse_override(item) == (path, value)


def test_parse_override_errors():
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_override("render.min_contrast")
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_override("kinds=[a,b")


def test_apply_overrides_nested():
    data = {"a": {"x": 1}}
    out = apply_overrides(data, ["a.b.c=2", "a.x=5", "top=[1]"])
    assert out == {"a": {"x": 5, "b": {"c": 2}}, "top": [1]}
    with pytest.raises(ConfigError, match="not a section"):
        apply_overrides({"a": 1}, ["a.b=2"])


def test_apply_overrides_from_a_mapping_keeps_python_values():
    data = {"a": {"x": 1}}
    out = apply_overrides(data, {"a.b.c": "[1, 2]", "a.x": 5, "top": [1]})
    assert out == {"a": {"x": 5, "b": {"c": "[1, 2]"}}, "top": [1]}  # a str stays a str: no YAML
    with pytest.raises(ConfigError, match="not a section"):
        apply_overrides({"a": 1}, {"a.b": 2})
    with pytest.raises(ConfigError, match="list of KEY=VALUE or a mapping"):
        apply_overrides({}, "seed=1")


def test_mapping_and_set_strings_load_the_same_config():
    as_sets = load("render.sizes=[[512,512]]", "fonts.exclude=[Math]")
    as_map = load_config(TextRenderConfig, YAML, {"render.sizes": [[512, 512]], "fonts.exclude": ["Math"]})
    assert as_map == as_sets and as_map.content_hash() == as_sets.content_hash()


def test_shipped_configs_are_package_data():
    """They load through importlib.resources from the ``configs`` package, as in a wheel."""
    from importlib import resources

    assert Path(str(resources.files("configs"))) / "text_render.yaml" == YAML
    with pytest.raises(ConfigError, match="shipped: .*curate.*text_render"):
        default_config_path("text-render")  # the CLI word is not the pipeline's name


def test_content_hash_ignores_runtime_thresholds_seed():
    base = load().content_hash()
    assert len(base) == 16
    assert load().content_hash() == base  # stable across loads
    for override in (
        "runtime.unit_size=7",
        "runtime.workers=3",
        "runtime.batch_size=2",
        "runtime.address=ray://x:10001",
        "thresholds.max_ned=0.5",
        "seed=42",
    ):
        assert load(override).content_hash() == base, override


def test_content_hash_changes_with_content_keys():
    base = load().content_hash()
    assert load("render.min_contrast=7").content_hash() != base
    assert load("render.warp_max=0.1").content_hash() != base
    assert load("fonts.exclude=[Math]").content_hash() != base


def test_decision_hash():
    base = load().decision_hash()
    assert load("render.min_contrast=7").decision_hash() == base
    assert load("runtime.unit_size=7").decision_hash() == base
    assert load("thresholds.max_ned=0.3").decision_hash() != base
    assert load("thresholds.max_ned=0.2").decision_hash() == base


def test_bad_literal_dict_key_names_allowed_values():
    with pytest.raises(ConfigError) as exc:
        load("render.backgrounds={video: 1}")
    msg = str(exc.value)
    assert "video" in msg
    for allowed in ("solid", "gradient", "texture", "photo"):
        assert allowed in msg

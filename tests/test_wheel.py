"""The built wheel works where the repository is not: its configs and package data ship inside it.

The wheel is built from the package sources (``pip wheel --no-deps``), installed with ``--no-deps
--target`` beside this environment's dependencies (nothing reinstalled: torch stays), and
``synth text-render`` then runs from it in a folder outside the repository, with Python's site
hooks off in the driver, so this checkout's editable install cannot lend it the files it lacks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["pyproject.toml", "README.md", "synth", "pipelines", "renderers", "filters", "configs"]
DATA_SUFFIXES = (".yaml", ".tsv", ".txt", ".json", ".html")


def _source_files() -> list[str]:
    """Tracked and new (not ignored) files of the packages: what a fresh clone holds."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *SOURCES],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    return [f for f in listed if (ROOT / f).is_file()]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(target folder, wheel path): the wheel built from a copy of the sources and installed."""
    base = tmp_path_factory.mktemp("wheel")
    src = base / "src"
    for name in _source_files():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(base / "dist"), str(src)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (wheel,) = (base / "dist").glob("unisynth-*.whl")
    target = base / "site"
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return target, wheel


def test_wheel_holds_every_config_and_data_file(installed):
    _, wheel = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    data = [f for f in _source_files() if f.endswith(DATA_SUFFIXES) and "/" in f]
    assert data and any(f.startswith("configs/") for f in data)
    assert sorted(set(data) - names) == []


def test_installed_wheel_runs_outside_the_repository(installed, tmp_path):
    target, _ = installed
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "PYTHONPATH")}
    # -S: no site hooks in the driver (so no editable-install finder); the dependencies come from
    # this environment's site-packages, after the installed wheel.
    env["PYTHONPATH"] = os.pathsep.join([str(target), sysconfig.get_paths()["purelib"]])
    synth = [sys.executable, "-S", str(target / "bin" / "synth")]
    out = tmp_path / "run"
    probe = "import synth; from synth.config import default_config_path as d; print(synth.__file__, d('text_render'))"
    where = subprocess.run(
        [sys.executable, "-S", "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert where.returncode == 0, where.stderr
    assert all(Path(p).is_relative_to(target) for p in where.stdout.split()), where.stdout
    proc = subprocess.run(
        [*synth, "text-render", "--num", "4", "--out", str(out), "--quiet", "--no-preview",
         "--set", "render.sizes=[[512,512]]", "--set", "runtime.unit_size=2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert "4 rows" in proc.stdout
    check = subprocess.run(
        [*synth, "validate", str(out)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert check.returncode == 0 and check.stdout.startswith("OK: 4 rows"), check.stdout + check.stderr

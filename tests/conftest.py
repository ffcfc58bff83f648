"""One local Ray per test session, shared by every test that runs a pipeline."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
# Fake credentials for the moto S3 server in tests/test_s3.py; set before Ray starts so workers see them.
for _key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ[_key] = "testing"


@pytest.fixture(scope="session")
def ray_session():
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR")
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="session")
def text_cfg_sets():
    """Small, fast settings for text-render runs in tests (real fonts, real OCR, real photos)."""
    return ["runtime.unit_size=6", "render.sizes=[[512,512],[640,480]]", "verify.full_pass_every=4"]

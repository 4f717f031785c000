"""The container image, built once per run with podman (tests/deploy/test_container.py).

On CI (``CI=true``) a missing podman fails these tests: ``.ci/run`` installs it and builds the
base image (``.ci/base-image.sh``). Elsewhere they are skipped with a message.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Final

import pytest

from tests.conftest import ON_CI
from tests.e2e.workers import ROOT

BASE_IMAGE: Final = os.environ.get("CASEBOT_TEST_BASE_IMAGE", "localhost/debian-python:bookworm")
IMAGE: Final = "localhost/casebot:test"
CA_BUNDLE: Final = Path("/etc/ssl/certs/ca-certificates.crt")


def podman(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    # This machine's podman settings (runc, cgroupfs, ulimits) unless the caller chose others.
    env = {"CONTAINERS_CONF": str(ROOT / ".ci" / "containers.conf"), **os.environ}
    return subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, check=False, env=env
    )


@pytest.fixture(scope="session")
def image() -> str:
    """The image of this tree (``Containerfile``), on the base image CI built."""
    if shutil.which("podman") is None or podman("image", "exists", BASE_IMAGE).returncode != 0:
        message = f"podman or its base image {BASE_IMAGE} is missing: bash .ci/base-image.sh"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    command = ["build", "--format", "docker", "-t", IMAGE, "-f", str(ROOT / "Containerfile"),
               "--build-arg", f"BASE_IMAGE={BASE_IMAGE}"]  # fmt: skip
    if CA_BUNDLE.is_file():  # this machine's CA, for pip and uv in the build only
        command += ["--secret", f"id=ca_bundle,src={CA_BUNDLE}"]
    built = podman(*command, str(ROOT), timeout=1200)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return IMAGE

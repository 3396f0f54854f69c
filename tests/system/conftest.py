"""Shared fixtures for the system suite: where the build is, and root-only tests."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "lab"))

BUILD = Path(os.environ.get("VIGIL_BUILD_DIR", REPO / "build"))

BINARIES = {
    "vigild": BUILD / "mgmt" / "vigild",
    "vigil-dp": BUILD / "dataplane" / "vigil-dp",
    "vigil-l7": BUILD / "l7proxy" / "vigil-l7",
    "vigil": BUILD / "mgmt" / "cli" / "vigil",
}


@pytest.fixture(scope="session")
def binaries() -> dict[str, Path]:
    missing = [str(p) for p in BINARIES.values() if not p.exists()]
    if missing:
        pytest.fail(f"not built: {', '.join(missing)} (run meson setup build && ninja -C build)")
    return BINARIES


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (network namespaces)")

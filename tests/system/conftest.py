"""Shared fixtures for the system suite: where the build is, and root-only tests."""

from __future__ import annotations

import contextlib
import grp
import os
import subprocess
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


def _start_time(pid: int | str) -> int:
    """When a process started, in clock ticks since boot (/proc/PID/stat field 22)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[19])


def _leftover_daemons() -> list[tuple[int, str]]:
    """Processes from this build's binaries started after this pytest (not a developer's own
    lab running beside it)."""
    since = _start_time("self")
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            exe = os.readlink(entry / "exe")
            started = _start_time(entry.name)
        except (OSError, ValueError):
            continue
        if exe.startswith(str(BUILD.resolve()) + "/") and started >= since:
            out.append((int(entry.name), exe))
    return out


@pytest.fixture(scope="session", autouse=True)
def no_daemon_outlives_the_suite():
    """A failing test once left a vigild running after the suite ended: whatever a test's own
    cleanup missed is killed here, and said, so the next run starts clean."""
    yield
    import signal
    import warnings
    for pid, exe in _leftover_daemons():
        warnings.warn(f"killing {exe} (pid {pid}), left running by a test")
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@contextlib.contextmanager
def local_users(users: dict[str, bool]):
    """Creates group `vigil` (if missing) and the users named, each in that group when its
    value is True; removes them, and the group if it was made here, afterwards. A run killed
    before its cleanup may have left a user behind: it is replaced."""
    created_group = False
    try:
        grp.getgrnam("vigil")
    except KeyError:
        subprocess.run(["groupadd", "--system", "vigil"], check=True)
        created_group = True
    try:
        for user, in_group in users.items():
            subprocess.run(["userdel", user], capture_output=True)
            subprocess.run(["useradd", "--no-create-home", *(["-G", "vigil"] if in_group else []),
                            user], check=True)
        yield
    finally:
        for user in users:
            subprocess.run(["userdel", user], capture_output=True)
        if created_group:
            subprocess.run(["groupdel", "vigil"], capture_output=True)

"""Crash safety of `commit confirmed`: vigild is killed (SIGKILL, from a fault point compiled
into test builds) at each step of a confirmed commit and of its automatic rollback, then
started again on the same state directory. Whatever the step, the site must end on the
previous config, never on an empty config and never stuck pending."""

from __future__ import annotations

import json

import pytest
from conftest import BUILD

from test_commit import CHANGED, INITIAL, lab, wait_until  # noqa: F401 (lab is a fixture)


def _fault_points_built() -> bool:
    options = BUILD / "meson-info" / "intro-buildoptions.json"
    return options.exists() and any(o["name"] == "fault_points" and o["value"] is True
                                    for o in json.loads(options.read_text()))


pytestmark = pytest.mark.skipif(
    not _fault_points_built(),
    reason="needs a build with -Dfault_points=true (scripts/test configures build/ so)")

UNIT = 2  # seconds per "minute" of commit confirmed


def history(lab) -> dict:
    return json.loads(lab.cli("show", "system", "commit", "--json").stdout)


def settles_on_initial(lab, fake):
    """The running config, the component and the pending state all end where they began."""
    wait_until(lambda: lab.running() == INITIAL and history(lab)["pending_confirm"] is None,
               UNIT + 8, "the previous config with nothing pending")
    wait_until(lambda: fake.log_path.exists() and fake.calls().count("activate") > 0
               and fake.applied().get("system") == {"hostname": "edge1"}, 5,
               "the component to run the previous config")


def crash_at(lab, fake, point):
    return lab.vigild(fakes=[fake], unit_seconds=UNIT, env={"VIGIL_CRASH_AT": point})


@pytest.mark.parametrize("point", ["commit-confirmed:pending-saved", "commit:activated",
                                   "commit:recorded"])
def test_a_vigild_killed_during_commit_confirmed_still_falls_back(lab, point):
    fake = lab.fake("sysf", "system,interfaces")
    d = crash_at(lab, fake, point)
    lab.load(CHANGED)
    out = lab.cli("commit", "confirmed", "1", check=False)
    assert out.returncode != 0, "vigild died in the middle of the commit"
    assert d.proc.wait(timeout=5) == -9
    assert "dying at a fault point" in d.log() and point in d.log()

    lab.vigild(fakes=[fake], unit_seconds=UNIT)  # the same state directory, no fault point
    settles_on_initial(lab, fake)


def test_a_vigild_killed_while_rolling_back_finishes_the_rollback(lab):
    fake = lab.fake("sysf", "system,interfaces")
    d = crash_at(lab, fake, "rollback:recorded")
    lab.load(CHANGED)
    lab.cli("commit", "confirmed", "1")
    assert d.proc.wait(timeout=UNIT + 5) == -9, "dies at the deadline, after recording"
    lab.vigild(fakes=[fake], unit_seconds=UNIT)
    settles_on_initial(lab, fake)
    kinds = [c["kind"] for c in history(lab)["commits"]]
    assert kinds[0] == "confirm-timeout" and kinds.count("confirm-timeout") == 1, kinds

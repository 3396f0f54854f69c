"""Commits as an operator makes them over SSH: through the vigil CLI to a real vigild, which
commits to component processes (fakes that accept, reject or die), with commit confirmed,
rollback, restarts and roles."""

from __future__ import annotations

import contextlib
import grp
import json
import os
import re
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from conftest import local_users, needs_root

from vigil_lab import rpc
from vigil_lab.lab import Lab
from vigil_lab.topology import Topology
from test_daemons import Daemon

HERE = Path(__file__).parent
INITIAL = "system: {hostname: edge1}\n"
CHANGED = "system: {hostname: edge2}\ninterfaces:\n  wan1: {role: wan}\n"


class Fake:
    def __init__(self, tmp: Path, name: str, sections: str, *extra: str):
        self.socket = str(tmp / f"{name}.sock")
        self.log_path = tmp / f"{name}.calls"
        self.proc = subprocess.Popen([sys.executable, str(HERE / "fake_component.py"), "--socket",
                                      self.socket, "--sections", sections, "--log",
                                      str(self.log_path), *extra], stdout=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def calls(self) -> list[str]:
        if not self.log_path.exists():
            return []
        entries = [json.loads(line) for line in self.log_path.read_text().splitlines()]
        return [e["method"] for e in entries
                if "method" in e and e["method"] != "config.sections"]

    def applied(self) -> dict:
        entries = [json.loads(line) for line in self.log_path.read_text().splitlines()]
        return [e["applied"] for e in entries if "applied" in e][-1]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


@pytest.fixture
def lab(binaries, tmp_path):
    """vigild in tmp_path with fake components, and a CLI runner."""
    made: list = []

    class Lab:
        tmp = tmp_path

        def fake(self, name, sections, *extra):
            f = Fake(tmp_path, name, sections, *extra)
            made.append(f)
            return f

        def vigild(self, fakes=(), unit_seconds=60, config=INITIAL, env=None):
            args = ["--confirm-unit-seconds", str(unit_seconds)]
            for f in fakes:
                args += ["--component", f"{Path(f.socket).stem}={f.socket}"]
            if not fakes:
                args += ["--component", f"none={tmp_path / 'nobody.sock'}"]
            d = Daemon(binaries["vigild"], tmp_path, config_text=config, env=env,
                       extra_args=tuple(args))
            made.append(d)
            rpc.wait_for_socket(d.socket, proc=d.proc)
            self.d = d
            return d

        def cli(self, *args, check=True, user=None):
            argv = [str(binaries["vigil"]), "--socket", self.d.socket, *args]
            if user:
                argv = ["runuser", "-u", user, "--", *argv]
            out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
            if check:
                assert out.returncode == 0, out.stderr
            return out

        def load(self, text):
            path = tmp_path / "candidate.yaml"
            path.write_text(text)
            self.cli("load", "replace", str(path))

        def running(self):
            return self.cli("show", "configuration").stdout

        def audit(self):
            return (tmp_path / "audit.log").read_text()

    yield Lab()
    for m in made:
        if isinstance(m, Fake):
            m.stop()
        elif m.proc.poll() is None:
            m.proc.kill()
            m.proc.wait()


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.monotonic()
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_commit_reaches_the_components_whose_sections_changed(lab):
    sysf = lab.fake("sysf", "system")
    routef = lab.fake("routef", "routing")
    lab.vigild([sysf, routef])
    lab.load(CHANGED.replace("interfaces:\n  wan1: {role: wan}\n", ""))
    out = lab.cli("commit", "-m", "rename the box")
    assert "commit 2 complete; changed: system" in out.stdout
    assert sysf.calls()[-2:] == ["prepare", "activate"]
    assert sysf.applied() == {"system": {"hostname": "edge2"}}
    assert routef.calls() == [] or "prepare" not in routef.calls()
    assert lab.running() == "system: {hostname: edge2}\n"
    history = lab.cli("show", "system", "commit").stdout
    assert "rename the box" in history and "imported from" in history
    assert "msg=commit user=root result=ok seq=2" in lab.audit()


def test_rejected_prepare_fails_the_commit_and_running_is_unchanged(lab):
    f = lab.fake("sysf", "system", "--reject", "hostname edge2 is reserved")
    lab.vigild([f])
    lab.load(CHANGED)
    out = lab.cli("commit", check=False)
    assert out.returncode == 70  # a component failed the commit
    assert out.stderr == ("vigil: commit: commit failed: sysf rejected the change: hostname edge2 "
                          "is reserved\n")
    assert f.calls() == ["prepare", "abort"]
    assert lab.running() == INITIAL
    assert "result=failed" in lab.audit()


def test_component_killed_mid_commit_aborts_and_nothing_is_applied(lab):
    good = lab.fake("good", "system")
    doomed = lab.fake("doomed", "interfaces", "--die-on-prepare")
    lab.vigild([good, doomed])
    lab.load(CHANGED)
    out = lab.cli("commit", check=False)
    assert out.returncode == 70
    assert "commit failed: doomed rejected the change:" in out.stderr
    doomed.proc.wait(timeout=5)
    assert good.calls() == ["prepare", "abort"], "good must never activate"
    assert lab.running() == INITIAL


def test_invalid_candidate_is_refused_with_its_errors(lab):
    lab.vigild()
    lab.load("interfaces:\n  lan0: {role: dmz}\n")
    out = lab.cli("commit", check=False)
    assert out.returncode == 65  # the input, not a component, is wrong
    assert ("commit failed: the candidate has 1 error(s):\n"
            "interfaces.lan0.role (2:16): must be lan or wan, got \"dmz\"") in out.stderr
    assert lab.running() == INITIAL


# commit confirmed: --confirm-unit-seconds makes a "minute" last 2 s here, so the test checks
# the real timer path without waiting a minute (docs/operations.md says so).
def test_unconfirmed_commit_rolls_back_by_itself(lab):
    f = lab.fake("sysf", "system")
    lab.vigild([f], unit_seconds=2)
    lab.load(CHANGED)
    start = time.monotonic()
    out = lab.cli("commit", "confirmed", "1", "-m", "risky")
    assert "confirm with `vigil confirm` within" in out.stdout
    assert "edge2" in lab.running()
    done = wait_until(lambda: lab.running() == INITIAL, 2 + 5, "the automatic rollback")
    assert done - start <= 2 + 5
    history = lab.cli("show", "system", "commit").stdout
    assert "confirm-timeout" in history and "was not confirmed in time" in history
    assert f.applied() == {"system": {"hostname": "edge1"}}
    assert "msg=rollback reason=\"commit confirmed not confirmed in time\"" in lab.audit()


def test_confirm_keeps_the_commit(lab):
    lab.vigild(unit_seconds=1)
    lab.load(CHANGED)
    lab.cli("commit", "confirmed", "1")
    assert "must be confirmed within" in lab.cli("show", "system", "commit").stdout
    lab.cli("confirm")
    time.sleep(2.5)
    assert "edge2" in lab.running()
    assert "msg=confirm user=root" in lab.audit()


def test_pending_confirm_survives_a_vigild_restart(lab):
    lab.vigild(unit_seconds=3)
    lab.load(CHANGED)
    lab.cli("commit", "confirmed", "1")
    first = lab.d
    assert first.stop()[0] == 0
    lab.vigild(unit_seconds=3)  # same state dir
    assert "edge2" in lab.running()
    wait_until(lambda: lab.running() == INITIAL, 3 + 5, "the rollback after restart")


def test_rollback_loads_an_earlier_config_and_compare_shows_it(lab):
    lab.vigild()
    lab.load(CHANGED)
    lab.cli("commit")
    lab.cli("rollback", "1")
    diff = lab.cli("compare").stdout
    assert diff.startswith("--- running\n+++ candidate\n")
    # compare shows canonical YAML on both sides: meaning, not layout.
    assert "-  hostname: edge2\n" in diff and "+  hostname: edge1\n" in diff
    lab.cli("discard")
    assert lab.cli("compare").stdout == "no differences\n"
    lab.cli("rollback", "1")
    lab.cli("commit", "-m", "back")
    assert lab.running() == INITIAL
    assert lab.cli("rollback", "9", check=False).stderr.startswith(
        "vigil: cannot roll back: no rollback 9: 3 committed configs are kept (0 to 2)")


VIEWER = "vigiltestviewer"


@needs_root
def test_viewer_can_look_but_not_commit(binaries, tmp_path):
    # A directory the viewer can reach: pytest's tmp_path is private to root.
    run = Path(tempfile.mkdtemp(prefix="vigil-roles-"))
    os.chmod(run, 0o755)
    with local_users({VIEWER: True}), contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, run, ignore_errors=True)
        config = f"system:\n  hostname: edge1\n  users:\n    {VIEWER}: {{role: viewer}}\n"
        d = Daemon(binaries["vigild"], run, config_text=config,
                   extra_args=("--component", f"none={run / 'none.sock'}"))
        rpc.wait_for_socket(d.socket, proc=d.proc)
        assert grp.getgrgid(os.stat(d.socket).st_gid).gr_name == "vigil"
        vigil = [str(binaries["vigil"]), "--socket", d.socket]

        def as_viewer(*args):
            return subprocess.run(["runuser", "-u", VIEWER, "--", *vigil, *args],
                                  capture_output=True, text=True, timeout=30)

        assert as_viewer("show", "configuration").stdout.startswith("system:")
        out = as_viewer("commit")
        assert out.returncode == 77  # not allowed for the role
        assert out.stderr == (f"vigil: commit: permission denied: {VIEWER} (role viewer) may not "
                              "call commit, which needs admin\n")
        assert f"msg=denied user={VIEWER} role=viewer method=commit" in (
            run / "audit.log").read_text()
        d.proc.send_signal(signal.SIGTERM)
        d.proc.wait(timeout=5)


def test_a_component_that_starts_later_gets_the_running_config(lab, binaries):
    late_socket = str(lab.tmp / "late.sock")
    vigild = Daemon(binaries["vigild"], lab.tmp, config_text=INITIAL,
                    extra_args=("--component", f"late={late_socket}"))
    lab.d = vigild
    try:
        rpc.wait_for_socket(vigild.socket, proc=vigild.proc)
        lab.load(CHANGED)
        assert "late is not running" in lab.cli("commit").stdout
        late = Fake(lab.tmp, "late", "system,interfaces")
        try:
            wait_until(lambda: "activate" in late.calls(), 5, "the running config to reach it")
            assert late.applied() == {"system": {"hostname": "edge2"},
                                      "interfaces": {"wan1": {"role": "wan"}}}
        finally:
            late.stop()
    finally:
        vigild.proc.kill()
        vigild.proc.wait()


def test_supervised_component_is_restarted_and_stopped(lab, binaries):
    sock = str(lab.tmp / "l7.sock")
    from test_daemons import Daemon as D
    vigild = D(binaries["vigild"], lab.tmp, config_text=INITIAL,
               extra_args=("--component", f"vigil-l7={sock}",
                           "--supervise", f"vigil-l7={binaries['vigil-l7']}"))
    lab.d = vigild
    try:
        rpc.wait_for_socket(vigild.socket, proc=vigild.proc)
        rpc.wait_for_socket(sock)
        first = rpc.call(sock, "status")["pid"]
        table = lab.cli("show", "system", "processes").stdout
        assert table.splitlines()[1].split()[:5] == ["vigil-l7", "running", str(first), "root",
                                                     "0"]
        os.kill(first, signal.SIGKILL)

        def restarted():
            try:
                return rpc.call(sock, "status")["pid"] != first
            except (OSError, rpc.RpcError):
                return False
        wait_until(restarted, 10, "vigil-l7 to be restarted")
        row = lab.cli("show", "system", "processes").stdout.splitlines()[1]
        assert " 1 " in row and "signal KILL" in row, row
        second = rpc.call(sock, "status")["pid"]
        assert vigild.stop()[0] == 0
        wait_until(lambda: not Path(f"/proc/{second}").exists(), 5, "vigil-l7 to stop with vigild")
    finally:
        if vigild.proc.poll() is None:
            vigild.proc.kill()
            vigild.proc.wait()


# kill -9 vigild used to orphan its components: the next vigild could not start its own
# ("already listening") and backed off for up to 30 s.
def test_a_restarted_vigild_adopts_the_components_still_running(lab, binaries):
    sock = str(lab.tmp / "l7.sock")
    from test_daemons import Daemon as D
    args = ("--component", f"vigil-l7={sock}", "--supervise", f"vigil-l7={binaries['vigil-l7']}")
    first_vigild = D(binaries["vigild"], lab.tmp, config_text=INITIAL, extra_args=args)
    lab.d = first_vigild
    second_vigild = None
    try:
        rpc.wait_for_socket(first_vigild.socket, proc=first_vigild.proc)
        rpc.wait_for_socket(sock)
        l7 = rpc.call(sock, "status")["pid"]
        first_vigild.proc.kill()
        first_vigild.proc.wait()
        assert rpc.call(sock, "status")["pid"] == l7, "the component outlives vigild"

        second_vigild = D(binaries["vigild"], lab.tmp, config_text=INITIAL, extra_args=args)
        lab.d = second_vigild
        rpc.wait_for_socket(second_vigild.socket, proc=second_vigild.proc)
        assert "adopted a component that was already running" in second_vigild.log()
        row = lab.cli("show", "system", "processes").stdout.splitlines()[1].split()
        assert row[:5] == ["vigil-l7", "running", str(l7), "root", "0"], row
        assert rpc.call(sock, "status")["pid"] == l7, "adopted, not replaced"

        os.kill(l7, signal.SIGKILL)  # an adopted component is still supervised

        def restarted():
            try:
                return rpc.call(sock, "status")["pid"] != l7
            except (OSError, rpc.RpcError):
                return False
        wait_until(restarted, 10, "the adopted vigil-l7 to be restarted")
        assert "exited (adopted: status unknown)" in lab.cli("show", "system", "processes").stdout
        replacement = rpc.call(sock, "status")["pid"]
        assert second_vigild.stop()[0] == 0
        wait_until(lambda: not Path(f"/proc/{replacement}").exists(), 5,
                   "vigil-l7 to stop with vigild")
    finally:
        for d in (first_vigild, second_vigild):
            if d is not None and d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()
        try:
            os.kill(rpc.call(sock, "status")["pid"], signal.SIGKILL)
        except (OSError, rpc.RpcError, KeyError):
            pass


def test_set_and_delete_through_the_cli(lab):
    lab.vigild()
    lab.cli("set", "interfaces", "lan0", "role", "lan")
    lab.cli("set", "interfaces", "lan0", "addresses", "10.1.1.1/24")
    lab.cli("set", "interfaces", "lan0", "addresses", "fd00:1:1::1/64")
    lab.cli("set", "system", "hostname", "edge9")
    diff = lab.cli("compare").stdout
    assert "-  hostname: edge1" in diff
    assert "+  hostname: edge9" in diff and "+      - 10.1.1.1/24" in diff, diff
    bad = lab.cli("set", "interfaces", "lan0", "speed", "10g", check=False)
    assert bad.returncode == 65
    assert bad.stderr == ('vigil: set: "speed" is not valid after "interfaces lan0"; expected one '
                          'of: role, device, enabled, mtu, addresses, vlans, xdp, neighbours, '
                          'allow_martians\n')
    lab.cli("delete", "interfaces", "lan0", "addresses", "fd00:1:1::1/64")
    # As sshd runs a login shell for `ssh box 'commit -m "..."'`: split as a shell would.
    lab.cli("-c", 'commit -m "by hand, over ssh"')
    assert "by hand, over ssh" in lab.cli("show", "system", "commit").stdout
    # Options come through -c too, as `ssh box '-j show configuration'` sends them.
    assert json.loads(lab.cli("-c", "-j show configuration").stdout)["config"]["system"] == \
        {"hostname": "edge9"}
    unterminated = lab.cli("-c", 'commit -m "by hand', check=False)
    assert unterminated.returncode == 64, unterminated.stderr
    running = lab.running()
    assert "hostname: edge9" in running and "10.1.1.1/24" in running
    assert "fd00:1:1::1/64" not in running
    # A value that does not fit its type is refused at set, by its path, and changes nothing.
    out = lab.cli("set", "interfaces", "lan0", "mtu", "99999", check=False)
    assert out.returncode != 0 and out.stderr.startswith("vigil: set: interfaces.lan0.mtu: "), \
        out.stderr
    assert lab.cli("compare").stdout == "no differences\n"
    # What is only incomplete is accepted, reported, and cannot be committed.
    out = lab.cli("set", "routing", "static", "10.9.0.0/16")
    assert "candidate error: routing.static[0]" in out.stdout, out.stdout
    assert lab.cli("commit", check=False).returncode == 65


def test_pipes_json_errors_and_empty_commits_as_a_script_sees_them(lab):
    lab.vigild()
    lab.cli("set", "interfaces", "lan0", "role", "lan")
    lab.cli("set", "routing", "static", "10.9.0.0/16", "next_hops", "10.1.1.9")
    lab.cli("commit", "-m", "a route")
    # Over ssh, as the login shell gets it: the set commands that build the config, filtered.
    shown = lab.cli("-c", "show configuration | display set | match static").stdout
    assert shown == "set routing static 10.9.0.0/16 next_hops 10.1.1.9\n", shown
    assert lab.cli("-c", "show configuration routing | count").stdout == "Count: 5 lines\n"
    # What the last commit changed, and any two commits compared.
    diff = lab.cli("-c", "show configuration | compare rollback 1").stdout
    assert "+    - prefix: 10.9.0.0/16" in diff and "rollback 1" in diff, diff
    assert lab.cli("show", "system", "rollback", "1", "compare", "0").stdout == diff
    # Errors in JSON, with the path the command addressed and an exit code of their own.
    bad = lab.cli("--json", "set", "interfaces", "lan0", "mtu", "abc", check=False)
    assert bad.returncode == 65 and bad.stderr == "", bad.stderr
    error = json.loads(bad.stdout)["error"]
    assert error["kind"] == "invalid" and error["path"] == "interfaces lan0 mtu abc", error
    assert error["message"].startswith("set: interfaces.lan0.mtu: "), error
    # A commit that changes nothing is refused (exit 2) and spends no rollback slot.
    before = lab.cli("show", "system", "commit").stdout
    empty = lab.cli("commit", check=False)
    assert empty.returncode == 2 and "nothing to commit" in empty.stderr, empty.stderr
    assert lab.cli("show", "system", "commit").stdout == before
    assert lab.cli("confirm", check=False).returncode == 2
    # Edited and edited back: the candidate is the running config again, not "modified".
    lab.cli("set", "interfaces", "lan0", "mtu", "1400")
    assert rpc.call(lab.d.socket, "candidate.show", {})["modified"] is True
    lab.cli("delete", "interfaces", "lan0", "mtu")
    shown = rpc.call(lab.d.socket, "candidate.show", {})
    assert shown["modified"] is False, shown


def test_keyed_lists_are_edited_entry_by_entry_and_merged_by_key(lab):
    lab.vigild()
    lab.load(INITIAL + """interfaces:
  lan0: {role: lan, addresses: [10.1.1.1/24]}
routing:
  static:
    - {prefix: 0.0.0.0/0, next_hops: [{via: 10.1.1.254}]}
    - {prefix: 0.0.0.0/0, distance: 10, next_hops: [{via: 10.1.1.253}]}
filter:
  acl:
    - {name: allow-all, action: allow}
""")
    lab.cli("commit", "-m", "routes")
    # Issue 23's first finding: a file with one static route replaced the whole list.
    one = lab.tmp / "one-route.yaml"
    one.write_text("routing:\n  static:\n    - {prefix: 10.9.0.0/16, next_hops: [{via: 10.1.1.9}]}\n")
    lab.cli("load", "merge", str(one))
    lab.cli("set", "routing", "static", "0.0.0.0/0", "distance", "10", "next_hops", "10.1.1.252")
    lab.cli("set", "filter", "acl", "deny-doc", "source", "192.0.2.0/24")
    lab.cli("set", "filter", "acl", "deny-doc", "action", "deny")
    lab.cli("insert", "filter", "acl", "deny-doc", "before", "allow-all")
    ambiguous = lab.cli("delete", "routing", "static", "0.0.0.0/0", check=False)
    assert ambiguous.returncode != 0 and "names 2 entries" in ambiguous.stderr, ambiguous.stderr
    lab.cli("commit", "-m", "keyed edits")
    config = yaml.safe_load(lab.running())
    routes = [(r["prefix"], r.get("distance", 1), [h["via"] for h in r["next_hops"]])
              for r in config["routing"]["static"]]
    assert routes == [("0.0.0.0/0", 1, ["10.1.1.254"]),
                      ("0.0.0.0/0", 10, ["10.1.1.253", "10.1.1.252"]),
                      ("10.9.0.0/16", 1, ["10.1.1.9"])], routes
    assert [r["name"] for r in config["filter"]["acl"]] == ["deny-doc", "allow-all"]
    lab.cli("delete", "filter", "acl", "deny-doc")
    lab.cli("delete", "routing", "static", "0.0.0.0/0", "distance", "10")
    lab.cli("commit", "-m", "removed by key")
    config = yaml.safe_load(lab.running())
    assert [r["name"] for r in config["filter"]["acl"]] == ["allow-all"]
    assert [r["prefix"] for r in config["routing"]["static"]] == ["0.0.0.0/0", "10.9.0.0/16"]


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
def test_interactive_cli_completes_and_shows_a_diff(lab, binaries):
    lab.vigild(config="system: {hostname: edge1}\ninterfaces:\n  lan0: {role: lan}\n")
    session = f"vigil-test-{os.getpid()}"
    env = {**os.environ, "HOME": str(lab.tmp)}
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "50",
                    f"{binaries['vigil']} --socket {lab.d.socket}"], check=True, env=env)

    def keys(*k):
        subprocess.run(["tmux", "send-keys", "-t", session, *k], check=True)

    def screen():
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], check=True,
                              capture_output=True, text=True).stdout

    try:
        wait_until(lambda: "@edge1>" in screen(), 5, "the prompt")  # capture-pane trims blanks
        keys("configure", "Enter")
        wait_until(lambda: "@edge1#" in screen(), 5, "configure mode")
        keys("set interfaces l", "Tab")  # completes the interface name from the candidate
        keys("mt", "Tab")                # completes the key from the schema
        keys("9000", "Enter")
        # `?` shows what comes next, with types, and leaves the line as it was.
        keys("set interfaces lan0 mtu ")
        keys("?")
        wait_until(lambda: "integer 68-9216" in screen(), 5, "the help for ?")
        assert re.search(r"@edge1# set interfaces lan0 mtu\s*$", screen().rstrip() + " "), screen()
        # Ctrl-C abandons the line, not the CLI.
        keys("C-c")
        wait_until(lambda: screen().rstrip().endswith("@edge1#"), 5, "a fresh prompt after Ctrl-C")
        # Values of a fixed set are offered by `?` and by Tab.
        keys("set interfaces lan0 role ")
        keys("?")
        wait_until(lambda: re.search(r"^\s+wan\s+value", screen(), re.M), 5, "the roles")
        keys("C-c")
        keys("set interfaces lan0 enab", "Tab")
        keys("f", "Tab", "Enter")
        keys("show interfaces | display set | no-more", "Enter")
        wait_until(lambda: "set interfaces lan0 enabled false" in screen(), 5, "display set")
        keys("delete interfaces lan0 enabled", "Enter")
        keys("show | compare", "Enter")
        wait_until(lambda: "+    mtu: 9000" in screen(), 5, "the diff")
        assert re.search(r"@edge1# set interfaces lan0 +mtu 9000", screen()), screen()
        keys("commit -m interactive", "Enter")
        wait_until(lambda: "commit 2 complete" in screen(), 10, "the commit")
        # An operational command from configure mode, abbreviated as Junos users type it.
        keys("run sh sys com", "Enter")
        wait_until(lambda: "interactive" in screen().split("run sh sys com")[-1], 5,
                   "the commit history through run")
        # Leaving with uncommitted changes warns first; commit and-quit commits and leaves.
        keys("set system hostname edge7", "Enter")
        keys("exit", "Enter")
        wait_until(lambda: "changed but not committed" in screen(), 5, "the warning")
        assert screen().rstrip().endswith("@edge1#"), screen()
        keys("commit and-quit", "Enter")
        wait_until(lambda: "commit 3 complete" in screen(), 10, "the commit and-quit")
        wait_until(lambda: screen().rstrip().endswith("@edge1>"), 5, "operational mode")
        # Output longer than the terminal goes through less until q; `| no-more` never pages.
        subprocess.run(["tmux", "resize-window", "-t", session, "-y", "12"], check=True)
        keys("help", "Enter")
        wait_until(lambda: screen().rstrip().endswith("---(more)---"), 5, "less's prompt")
        keys("q")
        wait_until(lambda: screen().rstrip().endswith("@edge1>"), 5, "the prompt after less")
        keys("clear", "Enter")  # not a command: only a line to find the next output after
        keys("help | no-more", "Enter")
        # The whole of help scrolls by, its last row (whatever command that is) just above the
        # prompt on the 12-line screen: no pager in between.
        last_row = subprocess.run([str(binaries["vigil"]), "--help"], capture_output=True,
                                  text=True, check=True).stdout.rstrip().splitlines()[-1]
        wait_until(lambda: screen().rstrip().endswith("@edge1>")
                   and "(more)" not in screen()
                   and last_row.strip()[:30] in screen(), 5,
                   "help printed without the pager")
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False)
    assert "mtu: 9000" in lab.running() and "hostname: edge7" in lab.running()
    assert "commit -m interactive" in (lab.tmp / ".vigil_history").read_text().replace("\\040", " ")


# A real activate failure: two vigil-dp processes (as vigild's components "dp-a" and "dp-b")
# race for one port. Both prepare the commit that turns the classifier on for lan0 (the
# device exists), dp-a activates first and attaches it, and the kernel refuses dp-b's attach
# (the port has an XDP link already). vigild must fail the commit naming dp-b and the reason,
# put dp-a back on the old config, and record nothing.
ACTIVATE_RACE_INITIAL = "system: {hostname: box}\ninterfaces:\n  lan0: {role: lan}\n"
ACTIVATE_RACE_XDP = "system: {hostname: box}\ninterfaces:\n  lan0: {role: lan, xdp: true}\n"


@needs_root
def test_failed_activate_fails_the_commit_and_restores_the_component_that_activated(binaries):
    topo = Topology("activate_race")
    topo.add_node("box")
    topo.add_node("peer")
    topo.link("box", "lan0", "peer", "eth0", a_addrs=("10.30.0.1/24",))
    with Lab(topo) as lab:
        run = lab.log_dir
        config = run / "vigil.yaml"
        config.write_text(ACTIVATE_RACE_INITIAL)
        bpffs = lab.mount_bpffs(run / "bpffs")
        sockets = {}
        for dp in ("dp-a", "dp-b"):
            sockets[dp] = str(run / f"{dp}.sock")
            lab.spawn("box", [str(binaries["vigil-dp"]), "--config", str(config), "--socket",
                              sockets[dp], "--pin-root", str(bpffs / dp)], name=dp)
        vigild_socket = str(run / "vigild.sock")
        lab.spawn("box", [str(binaries["vigild"]), "--config", str(config), "--socket",
                          vigild_socket, "--state-dir", str(run / "state"), "--audit-log",
                          str(run / "audit.log"), "--component", f"dp-a={sockets['dp-a']}",
                          "--component", f"dp-b={sockets['dp-b']}"], name="vigild")
        for s in (*sockets.values(), vigild_socket):
            rpc.wait_for_socket(s)
        lab.wait_for(lambda: all(p["reachable"] for p in rpc.call(vigild_socket,
                                                                   "show.processes")),
                     timeout=10, what="vigild giving both vigil-dp the running config")

        def cli(*args):
            return lab.run("box", [str(binaries["vigil"]), "--socket", vigild_socket, *args],
                           check=False)

        history = cli("show", "system", "commit").stdout
        candidate = run / "candidate.yaml"
        candidate.write_text(ACTIVATE_RACE_XDP)
        assert cli("load", "replace", str(candidate)).returncode == 0
        out = cli("commit", "-m", "classifier on lan0")
        assert out.returncode == 70, out.stdout
        assert out.stderr.startswith(
            "vigil: commit: commit failed: dp-b failed to activate: XDP classifier: lan0: "
            "cannot attach XDP to lan0: "), out.stderr
        assert out.stderr.endswith("; previous config restored on dp-a\n"), out.stderr

        # dp-a attached the classifier, then was given the old config back: it detached.
        assert rpc.call(sockets["dp-a"], "classifier.show") == []
        assert rpc.call(sockets["dp-b"], "classifier.show") == []
        link = json.loads(lab.run("box", ["ip", "-j", "link", "show", "dev", "lan0"]).stdout)[0]
        assert "xdp" not in link, link
        # Nothing recorded: running and the rollback history are as they were; the audit says
        # why the commit failed.
        assert cli("show", "configuration").stdout == ACTIVATE_RACE_INITIAL
        assert cli("show", "system", "commit").stdout == history
        audit = (run / "audit.log").read_text()
        assert "msg=commit" in audit and "result=failed" in audit, audit
        assert "dp-b failed to activate" in audit, audit

        # Both components are on the config in force: the next commit applies on both.
        candidate.write_text(ACTIVATE_RACE_INITIAL.replace("box", "box2"))
        assert cli("load", "replace", str(candidate)).returncode == 0
        out = cli("commit")
        assert out.returncode == 0, out.stderr
        assert "changed: system" in out.stdout


def test_a_commit_made_underneath_a_candidate_is_not_silently_undone(lab):
    """Issue 23: a candidate made before bob committed put the old hostname back. Another
    session (as another user would) commits while the CLI's candidate is open."""
    lab.vigild()

    def other(method, **params):
        return rpc.call(lab.d.socket, method, {"session": "bob", **params})

    lab.cli("set", "interfaces", "lan0", "role", "lan")       # the CLI's candidate
    other("candidate.set", words=["system", "hostname", "edge-bob"])
    other("commit", comment="bob's hostname")
    refused = lab.cli("commit", "-m", "mine", check=False)
    assert refused.returncode == 75, refused.stderr
    assert "the running config changed since your candidate was made" in refused.stderr
    assert "+  hostname: edge-bob" in refused.stderr, refused.stderr   # what changed underneath
    assert "hostname: edge-bob" in lab.running()
    # The changes do not overlap: update merges bob's in, and the commit keeps both.
    assert "merged the commits made since" in lab.cli("update").stdout
    lab.cli("commit", "-m", "mine, after bob's")
    running = lab.running()
    assert "hostname: edge-bob" in running and "lan0" in running, running
    # Both change the hostname: update refuses, naming it; force commits (and is audited).
    lab.cli("set", "system", "hostname", "edge-alice")
    other("candidate.set", words=["system", "hostname", "edge-bob2"])
    other("commit")
    clash = lab.cli("update", check=False)
    assert clash.returncode == 75 and "system.hostname" in clash.stderr, clash.stderr
    lab.cli("commit", "force", "-m", "mine wins")
    assert "hostname: edge-alice" in lab.running()
    assert 'comment="mine wins" forced=true' in lab.audit()


def test_mesh_keygen_writes_a_private_key_file_and_shows_only_the_public_key(lab):
    key_file = lab.tmp / "keys" / "mesh.key"
    lab.vigild(config=INITIAL + f"mesh: {{private_key_file: {key_file}}}\n")
    out = lab.cli("mesh", "keygen")
    assert out.stdout.startswith("public key: "), out.stdout
    public = out.stdout.removeprefix("public key: ").strip()
    assert out.stderr.startswith(f"wrote {key_file} (mode 0600)."), out.stderr
    assert oct(os.stat(key_file).st_mode & 0o7777) == "0o600"
    assert oct(os.stat(key_file.parent).st_mode & 0o7777) == "0o700"
    private = key_file.read_text().strip()
    assert subprocess.run(["wg", "pubkey"], input=private + "\n", capture_output=True, text=True,
                          check=True).stdout.strip() == public

    again = lab.cli("mesh", "keygen", check=False)
    assert again.returncode == 65, again  # the request is refused as it is
    assert again.stderr == (
        f"vigil: cannot make a mesh key: {key_file} exists already and is this "
        "site's key: `vigil mesh keygen force` replaces it, and every peer must then be given "
        "the new public key\n")
    assert key_file.read_text().strip() == private

    as_json = json.loads(lab.cli("mesh", "keygen", "force", "--json").stdout)
    assert as_json["replaced"] is True and as_json["file"] == str(key_file)
    assert as_json["public_key"] != public
    replaced = key_file.read_text().strip()
    assert replaced != private
    for text in (lab.audit(), lab.running(), lab.cli("show", "system", "commit").stdout):
        assert private not in text and replaced not in text
    assert (f"msg=mesh-keygen user=root file={key_file} public_key=\"{as_json['public_key']}\" "
            "replaced=true") in lab.audit()

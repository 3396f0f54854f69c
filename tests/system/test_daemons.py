"""Each daemon as an operator meets it: starts from --config, answers on its socket, logs
structured lines, tells systemd it is ready, reloads nothing on SIGHUP (its config comes from
vigild's commits), stops on SIGTERM within 1 s.
No root needed: sockets live in a temporary directory."""

from __future__ import annotations

import json
import shutil
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import needs_root
from vigil_lab import rpc

DAEMONS = ["vigild", "vigil-dp", "vigil-l7"]


class Daemon:
    def __init__(self, binary: Path, tmp: Path, config_text: str = "system:\n  hostname: t\n",
                 env: dict | None = None, extra_args: tuple[str, ...] = ()):
        self.config = tmp / "vigil.yaml"
        self.config.write_text(config_text)
        self.socket = str(tmp / "run" / f"{binary.name}.sock")
        self.log_path = tmp / f"{binary.name}.log"
        argv = [str(binary), "--config", str(self.config), "--socket", self.socket]
        if binary.name == "vigild":
            # Never the machine's own /var/lib/vigil and /var/log/vigil.
            argv += ["--state-dir", str(tmp / "state"), "--audit-log", str(tmp / "audit.log")]
        argv += extra_args
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                argv,
                stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})

    def log(self) -> str:
        return self.log_path.read_text()

    def stop(self, sig=signal.SIGTERM, timeout=1.0) -> tuple[int, float]:
        start = time.monotonic()
        self.proc.send_signal(sig)
        rc = self.proc.wait(timeout=timeout)
        return rc, time.monotonic() - start


@pytest.fixture
def start(binaries, tmp_path):
    started: list[Daemon] = []

    def _start(name: str, **kwargs) -> Daemon:
        d = Daemon(binaries[name], tmp_path, **kwargs)
        started.append(d)
        return d

    yield _start
    for d in started:
        if d.proc.poll() is None:
            d.proc.kill()
            d.proc.wait()


@pytest.mark.parametrize("name", DAEMONS)
def test_starts_answers_status_and_stops_on_sigterm_within_1s(start, name):
    d = start(name)
    rpc.wait_for_socket(d.socket, proc=d.proc)
    status = rpc.call(d.socket, "status")
    assert status["name"] == name
    assert status["pid"] == d.proc.pid
    assert status["state"] == "running"
    assert status["config"] == str(d.config)
    assert status["config_sections"] == ["system"]
    assert "not_implemented" in status  # skeletons say so
    version = rpc.call(d.socket, "version")
    assert version["name"] == name and version["version"]
    assert oct(os.stat(d.socket).st_mode & 0o777) == "0o660"

    rc, elapsed = d.stop(signal.SIGTERM, timeout=1.0)
    assert rc == 0 and elapsed < 1.0
    assert not os.path.exists(d.socket), "socket file left behind"
    log = d.log()
    assert "msg=started" in log and "msg=stopped signal=TERM" in log
    for line in log.splitlines():
        assert line.startswith("ts=") and f" component={name} " in line, line


@pytest.mark.parametrize("name", DAEMONS)
def test_stops_on_sigint(start, name):
    d = start(name)
    rpc.wait_for_socket(d.socket, proc=d.proc)
    rc, _ = d.stop(signal.SIGINT)
    assert rc == 0
    assert "signal=INT" in d.log()


@pytest.mark.parametrize("name", DAEMONS)
def test_bad_config_is_rejected_with_line_and_column(start, name):
    d = start(name, config_text="system:\n  hostname: [edge1\n")
    assert d.proc.wait(timeout=5) == 78  # EX_CONFIG
    log = d.log()
    assert "level=error" in log and "vigil.yaml (3:1):" in log, log


# vigil-dp started by hand used to accept what vigild refused: one validator for all.
@pytest.mark.parametrize("name", DAEMONS)
def test_unknown_and_duplicate_keys_are_refused_by_every_daemon(start, name):
    for text, error in [("system:\n  hostname: a\n  colour: red\n", "system.colour"),
                        ("system:\n  hostname: a\n  hostname: b\n", "system.hostname")]:
        d = start(name, config_text=text)
        assert d.proc.wait(timeout=5) == 78, d.log()
        assert error in d.log(), d.log()


# The help went into a buffer that vigild's _Exit never flushed when stdout was a pipe.
@pytest.mark.parametrize("name", DAEMONS)
@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_reach_a_pipe(binaries, name, flag):
    out = subprocess.run([str(binaries[name]), flag], capture_output=True, text=True, timeout=5)
    assert out.returncode == 0
    assert out.stdout.startswith("Usage: " + name if flag == "--help" else name + " "), out.stdout


def test_missing_config_file_is_named(start, binaries, tmp_path):
    proc = subprocess.run([str(binaries["vigild"]), "--config", str(tmp_path / "nope.yaml"),
                           "--socket", str(tmp_path / "s.sock")], capture_output=True, text=True,
                          timeout=5)
    assert proc.returncode == 78
    assert f"cannot read {tmp_path / 'nope.yaml'}: No such file or directory" in proc.stderr


def test_bad_argument_exits_64(binaries):
    proc = subprocess.run([str(binaries["vigil-dp"]), "--bogus"], capture_output=True, text=True)
    assert proc.returncode == 64
    assert 'unknown argument "--bogus"' in proc.stderr


def test_notifies_systemd_when_ready(start, tmp_path):
    notify_path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        notify.bind(notify_path)
        notify.settimeout(5)
        d = start("vigil-dp", env={"NOTIFY_SOCKET": notify_path})
        message = notify.recv(4096).decode()
        assert "READY=1" in message and f"MAINPID={d.proc.pid}" in message
        # By the time systemd hears READY, the socket answers.
        assert rpc.call(d.socket, "status")["state"] == "running"
        d.stop()
        assert "STOPPING=1" in notify.recv(4096).decode()


def test_sighup_reloads_nothing_and_says_so(start):
    """A component's config is what vigild committed to it: SIGHUP (systemctl reload) must not
    read --config again behind vigild's back, and the log says what changes the config."""
    d = start("vigil-l7")
    rpc.wait_for_socket(d.socket, proc=d.proc)
    before = rpc.call(d.socket, "status")["config_sections"]
    d.config.write_text("system: {}\nmonitoring: {}\n")
    d.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while "SIGHUP: the config is not read again" not in d.log():
        assert time.monotonic() < deadline, d.log()
        time.sleep(0.05)
    assert "vigil commit" in d.log()
    status = rpc.call(d.socket, "status")
    assert status["state"] == "running" and status["config_sections"] == before, status
    assert "vigil_config_reloads_total" not in rpc.call(d.socket, "metrics")["text"]


def test_json_rpc_errors_on_the_wire(start):
    d = start("vigild")
    rpc.wait_for_socket(d.socket, proc=d.proc)
    with pytest.raises(rpc.RpcError) as e:
        rpc.call(d.socket, "reboot")
    assert e.value.code == -32601
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(d.socket)
        s.sendall(b"this is not json\n")
        reply = json.loads(s.recv(4096).split(b"\n")[0])
        assert reply["error"]["code"] == -32700 and reply["id"] is None


def test_refuses_to_steal_a_live_socket(start, binaries):
    first = start("vigild")
    rpc.wait_for_socket(first.socket, proc=first.proc)
    second = subprocess.run([str(binaries["vigild"]), "--config", str(first.config), "--socket",
                             first.socket, "--state-dir", str(first.config.parent / "state2")],
                            capture_output=True, text=True, timeout=5)
    assert second.returncode == 69
    assert "another process is already listening on" in second.stderr
    assert rpc.call(first.socket, "status")["pid"] == first.proc.pid


def test_cli_show_version_asks_vigild(start, binaries):
    d = start("vigild")
    rpc.wait_for_socket(d.socket, proc=d.proc)
    out = subprocess.run([str(binaries["vigil"]), "--socket", d.socket, "show", "version"],
                         capture_output=True, text=True, timeout=5)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["component", "version", "commit"]
    assert [line.split()[0] for line in lines[1:]] == ["vigil", "vigild"]
    as_json = subprocess.run([str(binaries["vigil"]), "--socket", d.socket, "--json", "show",
                              "version"], capture_output=True, text=True, timeout=5)
    names = [v["name"] for v in json.loads(as_json.stdout)]
    assert names == ["vigil", "vigild"]
    served = rpc.call(d.socket, "metrics")["text"]
    assert 'vigil_control_requests_total{method="version",result="ok"} 2' in served


def test_cli_reports_unreachable_vigild(binaries, tmp_path):
    out = subprocess.run([str(binaries["vigil"]), "--socket", str(tmp_path / "none.sock"), "show",
                          "version"], capture_output=True, text=True, timeout=5)
    assert out.returncode == 69
    assert "vigil: cannot get the version of vigild: cannot connect to" in out.stderr


def test_cli_unknown_command_suggests(binaries):
    out = subprocess.run([str(binaries["vigil"]), "show", "verzion"], capture_output=True,
                         text=True, timeout=5)
    assert out.returncode == 64
    assert 'unknown command "show verzion"' in out.stderr and "show version" in out.stderr


def test_vigil_l7_applies_only_its_section(start):
    d = start("vigil-l7")
    rpc.wait_for_socket(d.socket, proc=d.proc)
    assert rpc.call(d.socket, "config.sections") == ["l7"]
    with pytest.raises(rpc.RpcError) as e:
        rpc.call(d.socket, "prepare", {"txid": 1, "delta": {"routing": {}}})
    assert e.value.message == 'vigil-l7 does not apply the "routing" section'


def test_vigil_dp_applies_the_classifier_sections_and_refuses_unknown_devices(start):
    d = start("vigil-dp")
    rpc.wait_for_socket(d.socket, proc=d.proc)
    assert rpc.call(d.socket, "config.sections") == [
        "interfaces", "system", "monitoring", "filter", "l4", "routing", "dataplane", "mesh",
        "policies", "l7"]
    with pytest.raises(rpc.RpcError) as e:
        rpc.call(d.socket, "prepare", {"txid": 1, "delta": {"qos": {}}})
    assert e.value.message == 'vigil-dp does not apply the "qos" section'
    with pytest.raises(rpc.RpcError) as e:
        rpc.call(d.socket, "prepare", {"txid": 2, "delta": {
            "interfaces": {"wan9": {"role": "wan", "device": "nosuchdev0", "xdp": True}}}})
    assert ('interfaces.wan9.device: no kernel interface "nosuchdev0" to attach the XDP '
            'classifier to') in e.value.message
    assert rpc.call(d.socket, "classifier.show") == []


@needs_root
def test_a_failed_xdp_attach_leaves_no_pins_behind(start):
    # veth runs XDP natively and refuses it above a page of MTU: the attach itself fails,
    # after the maps were created and pinned.
    subprocess.run(["ip", "link", "del", "vgpin0"], capture_output=True)
    subprocess.run(["ip", "link", "add", "vgpin0", "mtu", "9000", "type", "veth", "peer", "name",
                    "vgpin1", "mtu", "9000"], check=True)
    try:
        d = start("vigil-dp", extra_args=("--pin-root", "/sys/fs/bpf/vigil-test-pins"))
        rpc.wait_for_socket(d.socket, proc=d.proc)
        rpc.call(d.socket, "prepare", {"txid": 1, "delta": {
            "interfaces": {"lan0": {"role": "lan", "device": "vgpin0", "xdp": True}}}})
        with pytest.raises(rpc.RpcError) as e:
            rpc.call(d.socket, "activate", {"txid": 1})
        assert "cannot attach XDP to vgpin0" in e.value.message, e.value.message
        assert not Path("/sys/fs/bpf/vigil-test-pins/vgpin0").exists(), list(
            Path("/sys/fs/bpf/vigil-test-pins/vgpin0").iterdir())
    finally:
        subprocess.run(["ip", "link", "del", "vgpin0"], capture_output=True)
        shutil.rmtree("/sys/fs/bpf/vigil-test-pins", ignore_errors=True)


def test_cli_as_a_login_shell_runs_the_command_sshd_passes(start, binaries):
    d = start("vigild")
    rpc.wait_for_socket(d.socket, proc=d.proc)
    # `ssh admin@box show version` makes sshd run: <login shell> -c "show version"
    out = subprocess.run([str(binaries["vigil"]), "-c", "show version"], capture_output=True,
                         text=True, timeout=5, env={**os.environ, "VIGIL_SOCKET": d.socket})
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[2].startswith("vigild")

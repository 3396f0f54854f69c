"""vigil-l7 as the appliance runs it: supervised by vigild with `--supervise-user
vigil-l7=vigil`, it binds its control socket as root, then runs as user `vigil` keeping only
CAP_NET_BIND_SERVICE. A commit still adds an HTTPS listener on a port below 1024; a key only
root may read, or an access log in a directory only root may write, fails the commit with words
that say whose it must be, nothing applied; SIGHUP reads a renewed certificate as `vigil`; a
restarted vigild adopts it though it no longer runs as root."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import local_users
from vigil_lab import pki, rpc
from test_commit import wait_until
from test_daemons import Daemon
from test_l7 import BACKENDS, Backend, free_port

HEADER = "system: {hostname: edge1}\n"


def low_port() -> int:
    """A TCP port below 1024 free on loopback."""
    for port in range(600, 1000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no port below 1024 is free on loopback")


def proc_status(pid: int) -> dict[str, str]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def serial(port: int) -> str:
    shown = subprocess.run(
        f"openssl s_client -connect 127.0.0.1:{port} -servername site.test </dev/null "
        "2>/dev/null | openssl x509 -noout -serial", shell=True, capture_output=True, text=True,
        timeout=10)
    return shown.stdout.strip()


@pytest.fixture
def vigil_user():
    try:
        return pwd.getpwnam("vigil")
    except KeyError:
        pytest.fail("no user vigil: scripts/install-deps creates it")


@pytest.fixture
def shared_dir():
    """A directory user vigil may enter (pytest's own are root's alone): the certificates and
    the access log live here, as they would under /etc/vigil and /var/log/vigil."""
    path = Path(tempfile.mkdtemp(prefix="vigil-l7-user-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_vigil_l7_runs_as_vigil_and_still_binds_a_low_port(binaries, tmp_path, vigil_user,
                                                          shared_dir):
    sock = str(tmp_path / "l7.sock")
    args = ("--component", f"vigil-l7={sock}", "--supervise", f"vigil-l7={binaries['vigil-l7']}",
            "--supervise-user", "vigil-l7=vigil")
    vigild = Daemon(binaries["vigild"], tmp_path, config_text=HEADER, extra_args=args)
    second = None
    try:
        rpc.wait_for_socket(vigild.socket, proc=vigild.proc)
        rpc.wait_for_socket(sock)
        status = rpc.call(sock, "status")
        assert status["user"] == "vigil"
        pid = status["pid"]
        kernel = proc_status(pid)
        assert kernel["Uid"].split() == [str(vigil_user.pw_uid)] * 4
        assert kernel["Gid"].split() == [str(vigil_user.pw_gid)] * 4
        assert kernel["Groups"].split() == [str(vigil_user.pw_gid)], "root's groups are gone"
        assert int(kernel["CapEff"], 16) == 1 << 10  # CAP_NET_BIND_SERVICE alone
        assert int(kernel["CapBnd"], 16) == 1 << 10
        assert kernel["NoNewPrivs"] == "1"

        def cli(*words, check=True):
            out = subprocess.run([str(binaries["vigil"]), "--socket", vigild.socket, *words],
                                 capture_output=True, text=True, timeout=60)
            assert not check or out.returncode == 0, out.stderr + out.stdout
            return out
        row = cli("show", "system", "processes").stdout.splitlines()[1].split()
        assert row[:4] == ["vigil-l7", "running", str(pid), "vigil"], row

        pki.make_ca(shared_dir)
        cert, key = pki.issue(shared_dir, "site", "site.test")
        backend = Backend("alpha")
        plain, secure = free_port(), low_port()

        def commit(access_log: Path) -> subprocess.CompletedProcess:
            candidate = tmp_path / "candidate.yaml"
            candidate.write_text(HEADER + f"""l7:
  workers: 1
  access_log: {{path: {access_log}}}
  certificates:
    site: {{certificate: {cert}, private_key: {key}}}
  listeners:
    web: {{address: "127.0.0.1:{plain}"}}
    secure: {{address: "127.0.0.1:{secure}", tls: {{certificates: [site]}}}}
  upstreams:
    app: {{targets: [{{address: "127.0.0.1:{backend.port}"}}]}}
  routes:
    all: {{upstream: app}}
""")
            cli("load", "replace", str(candidate))
            return cli("commit", check=False)

        # A key that is root's alone: the commit fails, saying whom vigil-l7 runs as.
        logs = shared_dir / "logs"
        logs.mkdir()
        refused = commit(logs / "access.log")
        assert refused.returncode != 0
        assert (f"cannot read {key}: Permission denied (this process runs as vigil)"
                in refused.stdout + refused.stderr), refused.stdout + refused.stderr
        assert "web" not in cli("show", "l7", "listeners").stdout, "nothing is half-applied"

        # The key made vigil's; the access log's directory still root's.
        os.chown(key, vigil_user.pw_uid, -1)
        refused = commit(logs / "access.log")
        assert refused.returncode != 0
        assert (f"access log {logs / 'access.log'}: Permission denied (this process runs as "
                "vigil)" in refused.stdout + refused.stderr), refused.stdout + refused.stderr

        os.chown(logs, vigil_user.pw_uid, -1)
        done = commit(logs / "access.log")
        assert done.returncode == 0, done.stdout + done.stderr
        fetched = subprocess.run(
            ["curl", "-sS", "-m", "5", "--cacert", str(shared_dir / "ca.pem"), "--resolve",
             f"site.test:{secure}:127.0.0.1", f"https://site.test:{secure}/"],
            capture_output=True, text=True, timeout=10)
        assert fetched.stdout == "alpha", fetched.stderr
        wait_until(lambda: (logs / "access.log").exists() and
                   (logs / "access.log").stat().st_size > 0, 5, "the access log line")
        assert (logs / "access.log").stat().st_uid == vigil_user.pw_uid

        # A renewed certificate, read again on SIGHUP by vigil.
        before = serial(secure)
        pki.issue(shared_dir, "site", "site.test")
        os.chown(key, vigil_user.pw_uid, -1)
        os.kill(pid, signal.SIGHUP)
        wait_until(lambda: "certificates read again" in vigild.log(), 5, "the reload")
        wait_until(lambda: serial(secure) not in ("", before), 5, "the renewed certificate")

        # vigild killed and started again adopts the vigil-l7 that now runs as vigil (its
        # socket's listener shows as root, who listened before the drop).
        vigild.proc.kill()
        vigild.proc.wait()
        second = Daemon(binaries["vigild"], tmp_path, config_text=HEADER, extra_args=args)
        rpc.wait_for_socket(second.socket, proc=second.proc)
        assert "adopted a component that was already running" in second.log()
        assert rpc.call(sock, "status")["pid"] == pid, "adopted, not replaced"
        second.stop()
        wait_until(lambda: not Path(f"/proc/{pid}").exists(), 5, "vigil-l7 to stop with vigild")
        # vigil-l7 could not remove its socket from a directory of root's; vigild did.
        assert not Path(sock).exists()
    finally:
        while BACKENDS:
            BACKENDS.pop().kill()
        for d in (vigild, second):
            if d is not None and d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()


def test_vigil_l7_refuses_to_run_as_a_member_of_the_operators_group(binaries, tmp_path):
    with local_users({"vigil-l7-op": True}):  # in group vigil, which opens every socket
        l7 = subprocess.run([str(binaries["vigil-l7"]), "--config", "/dev/null", "--socket",
                             str(tmp_path / "l7.sock"), "--user", "vigil-l7-op"],
                            capture_output=True, text=True, timeout=10)
    assert l7.returncode == 69, l7.stderr
    assert ("user vigil-l7-op is a member of group vigil, which opens every Vigil control socket"
            in l7.stderr), l7.stderr


@pytest.mark.parametrize("flag, why", [
    ("vigil-l7=no-such-vigil-user", "--supervise-user vigil-l7=no-such-vigil-user: no user "
                                    "no-such-vigil-user on this system"),
    ("vigil-dp=vigil", 'only vigil-l7 runs as another user, got "vigil-dp=vigil"'),
])
def test_a_user_vigild_cannot_give_stops_it_at_start(binaries, tmp_path, flag, why):
    sock = str(tmp_path / "l7.sock")
    vigild = Daemon(binaries["vigild"], tmp_path, config_text=HEADER, extra_args=(
        "--component", f"vigil-l7={sock}", "--supervise", f"vigil-l7={binaries['vigil-l7']}",
        "--supervise-user", flag))
    try:
        assert vigild.proc.wait(timeout=10) != 0
        assert why in vigild.log(), vigild.log()
        assert not Path(sock).exists(), "vigil-l7 was never started"
    finally:
        if vigild.proc.poll() is None:
            vigild.proc.kill()
            vigild.proc.wait()

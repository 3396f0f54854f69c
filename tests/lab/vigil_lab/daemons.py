"""Starting Vigil's own processes inside lab nodes, each with its config and sockets."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from . import rpc
from .lab import Lab, LabProcess

DAEMONS = {
    "vigild": "mgmt/vigild",
    "vigil-dp": "dataplane/vigil-dp",
    "vigil-l7": "l7proxy/vigil-l7",
}


def build_dir() -> Path:
    repo = Path(__file__).resolve().parents[3]
    return Path(os.environ.get("VIGIL_BUILD_DIR", repo / "build"))


@dataclass
class VigilNode:
    """The Vigil processes of one node and where their sockets are."""
    lab: Lab
    node: str
    run_dir: Path
    config: Path
    processes: dict[str, LabProcess] = field(default_factory=dict)
    _argv: dict[str, list[str]] = field(default_factory=dict)
    _commits: int = 0

    def socket(self, daemon: str) -> str:
        return str(self.run_dir / f"{daemon}.sock")

    def call(self, daemon: str, method: str, params=None):
        return rpc.call(self.socket(daemon), method, params)

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.lab.run(self.node, [str(build_dir() / "mgmt/cli/vigil"), "--socket",
                                        self.socket("vigild"), *args], check=check)

    def commit_text(self, text: str, message: str) -> None:
        """Loads `text` as the whole candidate and commits it; raises with the CLI's words
        when either step fails."""
        self._commits += 1
        path = self.run_dir / f"commit{self._commits}.yaml"
        path.write_text(text)
        for args in (("load", "replace", str(path)), ("commit", "-m", message)):
            done = self.cli(*args)
            if done.returncode != 0:
                raise RuntimeError(f"vigil {' '.join(args)}: {done.stderr}{done.stdout}")

    def restart(self, daemon: str, sig: int = 9) -> None:
        """Kills `daemon` (SIGKILL by default: a crash) and starts it again as it was."""
        self.kill(daemon, sig)
        self.start(daemon)

    def kill(self, daemon: str, sig: int = 9) -> None:
        """Stops `daemon` (SIGKILL by default: a crash); start() brings it back as it was."""
        proc = self.processes[daemon]
        self._argv[daemon] = list(proc.popen.args[4:])  # after "ip netns exec <ns>"
        proc.stop(sig=sig)

    def start(self, daemon: str) -> None:
        self.processes[daemon] = self.lab.spawn(self.node, self._argv[daemon], name=daemon)
        rpc.wait_for_socket(self.socket(daemon), proc=self.processes[daemon].popen)

    def stop(self) -> dict[str, int]:
        return {name: proc.stop() for name, proc in self.processes.items()}


def start_vigil(lab: Lab, node: str, config_text: str,
                daemons: tuple[str, ...] = tuple(DAEMONS),
                env: dict[str, str] | None = None, l7_user: str | None = None,
                vigild_args: tuple[str, ...] = ()) -> VigilNode:
    """Writes `config_text` and starts `daemons` in `node` (with `env` added to their
    environment); returns once all answer. With `l7_user`, vigil-l7 runs as that user once its
    control socket is bound, as the appliance runs it (its certificates must be readable by
    that user). `vigild_args` go to vigild's command line (--frr DIR)."""
    run_dir = lab.log_dir / node
    run_dir.mkdir(parents=True, exist_ok=True)
    config = run_dir / "vigil.yaml"
    config.write_text(config_text)
    vn = VigilNode(lab, node, run_dir, config)
    for name in daemons:
        binary = build_dir() / DAEMONS[name]
        if not binary.exists():
            raise FileNotFoundError(f"{binary} is not built (meson setup build && ninja -C build)")
        argv = [str(binary), "--config", str(config), "--socket", vn.socket(name)]
        if name == "vigil-dp":
            bpffs = vn.run_dir / "bpffs"
            if not bpffs.is_mount():
                lab.mount_bpffs(bpffs)
            argv += ["--pin-root", str(bpffs / "vigil")]
        if name == "vigil-l7" and l7_user:
            argv += ["--user", l7_user]
        if name == "vigild":
            argv += ["--state-dir", str(run_dir / "state"), "--audit-log",
                     str(run_dir / "audit.log"), "--component",
                     f"vigil-dp={vn.socket('vigil-dp')}", "--component",
                     f"vigil-l7={vn.socket('vigil-l7')}", *vigild_args]
        vn.processes[name] = lab.spawn(node, argv, name=name, env=env)
    for name in daemons:
        rpc.wait_for_socket(vn.socket(name), proc=vn.processes[name].popen)
    return vn

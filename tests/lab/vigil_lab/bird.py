"""BIRD 2 in a lab node: the second BGP implementation Vigil's FRR peers with (and the one
that speaks BFD from another code base), its control socket and config in a directory of its
own; birdc against it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

BIRD = Path("/usr/sbin/bird")
BIRDC = Path("/usr/sbin/birdc")


def bird_available() -> bool:
    return BIRD.exists() and BIRDC.exists()


class BirdNode:
    def __init__(self, lab, node: str, config: str):
        self.lab = lab
        self.node = node
        self.dir = Path(tempfile.mkdtemp(prefix=f"vigil-bird-{node}-"))
        (self.dir / "bird.conf").write_text(config)
        self.socket = self.dir / "bird.ctl"
        # -f: in the foreground; runs as root (no -u) inside the node's namespace.
        self.proc = lab.spawn(node, [str(BIRD), "-f", "-c", str(self.dir / "bird.conf"),
                                     "-s", str(self.socket), "-P", str(self.dir / "bird.pid")],
                              name="bird")
        lab.wait_for(lambda: self.socket.exists(), timeout=10, what=f"{node}'s BIRD socket")

    def birdc(self, command: str) -> str:
        """What birdc prints (it exits 1 for "Network not found": an answer too)."""
        done = self.lab.run(self.node, [str(BIRDC), "-s", str(self.socket), *command.split()],
                            check=False)
        return done.stdout + done.stderr

    def stop(self) -> None:
        self.proc.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

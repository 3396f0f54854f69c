"""FRRouting in a lab node: zebra, bfdd and bgpd started in the node's namespace with their
own config files, sockets and pid files in a directory of the lab's (FRR's -N pathspace keeps
nodes apart), and vtysh against them. The peer a user would pick instead of Vigil's path
probes: BGP over each WAN link with BFD deciding when a link is dead."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

FRR = Path("/usr/lib/frr")


def frr_available() -> bool:
    return all((FRR / d).exists() for d in ("zebra", "bfdd", "bgpd"))


class FrrNode:
    def __init__(self, lab, node: str, configs: dict[str, str],
                 zebra_modules: tuple[str, ...] = ()):
        """`configs`: daemon -> its config text (zebra, bfdd, bgpd); `zebra_modules`: what
        zebra loads (-M), e.g. dplane_fpm_nl to send its routes to vigil-dp over FPM."""
        self.lab = lab
        self.node = node
        # FRR's daemons drop to the frr user: their directory is one it can reach and write
        # (the lab's own is root's alone); its logs stay with the lab's.
        self.dir = Path(tempfile.mkdtemp(prefix=f"vigil-frr-{node}-"))
        self.dir.chmod(0o777)
        (self.dir / "vtysh.conf").write_text("")
        self.procs = []
        for daemon in ("zebra", "bfdd", "bgpd"):
            conf = self.dir / f"{daemon}.conf"
            conf.write_text(configs.get(daemon, "") + "\n")
            argv = [str(FRR / daemon), "-N", node, "-f", str(conf),
                    "--vty_socket", str(self.dir), "-z", str(self.dir / "zserv.api"),
                    "-i", str(self.dir / f"{daemon}.pid"), "--log", "stdout",
                    "--log-level", "warnings"]
            if daemon == "zebra":
                for module in zebra_modules:
                    argv += ["-M", module]
            if daemon == "bgpd":
                argv += ["-p", "179"]
            if daemon == "bfdd":
                argv += ["--bfdctl", str(self.dir / "bfdd.sock")]
            self.procs.append(lab.spawn(node, argv, name=f"frr-{daemon}"))
            if daemon == "zebra":
                lab.wait_for(lambda: (self.dir / "zserv.api").exists(), timeout=10,
                             what=f"{node}'s zebra socket")

    def vtysh(self, command: str) -> str:
        return self.lab.run(self.node, ["vtysh", "--config_dir", str(self.dir), "--vty_socket",
                                        str(self.dir), "-c", command]).stdout

    def stop(self) -> None:
        for p in reversed(self.procs):
            p.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

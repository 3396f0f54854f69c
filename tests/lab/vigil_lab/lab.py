"""Running a topology: namespaces, veths, addresses, routes, processes, impairments.

A Lab is a context manager. It always tears down what it made: on normal exit, on an
exception, on Ctrl-C or SIGTERM, and (through `cleanup_stale`) after a run that was killed
outright. Namespaces are named `vl-<pid>-<random>-<node>`, so runs never collide and a dead
run's leftovers are recognisable.
"""

from __future__ import annotations

import atexit
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .topology import Netem, Topology

NAME_RE = re.compile(r"^vl-(\d+)-([0-9a-f]+)-")


class LabError(RuntimeError):
    pass


def _ip(args: list[str], stdin: str | None = None) -> None:
    res = subprocess.run(["ip", *args], input=stdin, text=True, capture_output=True)
    if res.returncode != 0:
        raise LabError(f"ip {' '.join(args)} failed: {res.stderr.strip()}")


def _netns_list() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], text=True, capture_output=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def _delete_netns(ns: str) -> None:
    pids = subprocess.run(["ip", "netns", "pids", ns], text=True,
                          capture_output=True).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass
    subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def leftover_namespaces(prefix: str = "vl-") -> list[str]:
    return [ns for ns in _netns_list() if ns.startswith(prefix)]


def cleanup_stale() -> list[str]:
    """Deletes lab namespaces whose owning process is gone (a run killed with SIGKILL)."""
    removed = []
    for ns in _netns_list():
        m = NAME_RE.match(ns)
        if m and not Path(f"/proc/{m.group(1)}").exists():
            _delete_netns(ns)
            removed.append(ns)
    return removed


@dataclass
class LabProcess:
    node: str
    name: str
    popen: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 5.0) -> int:
        """Sends `sig`, waits up to `timeout`, then SIGKILLs. Returns the exit status."""
        if self.alive():
            self.popen.send_signal(sig)
            try:
                return self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
        return self.popen.wait()


class Lab:
    def __init__(self, topology: Topology, log_dir: str | os.PathLike | None = None,
                 keep_logs: bool = False):
        self.topology = topology
        self.run_id = f"{os.getpid()}-{secrets.token_hex(2)}"
        self.prefix = f"vl-{self.run_id}-"
        self._own_log_dir = log_dir is None
        self.log_dir = Path(log_dir or tempfile.mkdtemp(prefix=f"vigil-lab-{self.run_id}-"))
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.keep_logs = keep_logs
        self.processes: list[LabProcess] = []
        self._delay_lines: dict[tuple[str, str], LabProcess] = {}
        self._created: list[str] = []
        self._mounts: list[Path] = []
        self._old_handlers: dict[int, object] = {}
        self._up = False

    # ---- naming -------------------------------------------------------------------------
    def ns(self, node: str) -> str:
        if node not in self.topology.nodes:
            raise KeyError(f"no node {node!r} in {self.topology.name}")
        return self.prefix + node

    # ---- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> "Lab":
        self._install_signal_handlers()
        atexit.register(self.teardown)
        try:
            self.up()
        except BaseException:
            self.teardown(failed=True)
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.teardown(failed=exc_type is not None)

    def up(self) -> None:
        if os.geteuid() != 0:
            raise LabError("the lab needs root (network namespaces and veth pairs)")
        cleanup_stale()
        topo = self.topology
        for node in topo.nodes.values():
            ns = self.ns(node.name)
            _ip(["netns", "add", ns])
            self._created.append(ns)
            self.sysctl(node.name, {
                "net.ipv6.conf.all.accept_dad": "0",
                "net.ipv6.conf.default.accept_dad": "0",
                # Configured addresses survive a link going down, as on an appliance.
                "net.ipv6.conf.all.keep_addr_on_down": "1",
                "net.ipv6.conf.default.keep_addr_on_down": "1",
                **node.sysctls,
            })
            _ip(["-n", ns, "link", "set", "dev", "lo", "up"])
            if node.role == "switch":
                _ip(["-n", ns, "link", "add", "name", "br0", "type", "bridge"])
                _ip(["-n", ns, "link", "set", "dev", "br0", "up"])
        # Both ends of each veth are created straight inside their namespaces, so names only
        # need to be unique per node, never in the root namespace.
        batch = []
        for link in topo.links:
            batch.append(f"link add name {link.a.name} netns {self.ns(link.a.node)} type veth "
                         f"peer name {link.b.name} netns {self.ns(link.b.node)}")
        if batch:
            _ip(["-batch", "-"], stdin="\n".join(batch) + "\n")
        for node in topo.nodes.values():
            cmds = []
            for iface in topo.interfaces(node.name):
                for addr in iface.addresses:
                    extra = " nodad" if ":" in addr else ""
                    cmds.append(f"addr add {addr} dev {iface.name}{extra}")
                if node.role == "switch":
                    cmds.append(f"link set dev {iface.name} master br0")
                cmds.append(f"link set dev {iface.name} up")
            if cmds:
                _ip(["-n", self.ns(node.name), "-batch", "-"], stdin="\n".join(cmds) + "\n")
        for link in topo.links:
            if link.netem:
                for end in (link.a, link.b):
                    self.impair(end.node, end.name, link.netem)
        for node in topo.nodes:
            self._apply_routes(node)
        self._up = True

    def _apply_routes(self, node: str) -> None:
        for r in self.topology.routes:
            if r.node != node:
                continue
            args = ["-n", self.ns(r.node)]
            args += ["-6"] if ":" in r.via else []
            args += ["route", "replace", r.destination, "via", r.via]
            if r.metric is not None:
                args += ["metric", str(r.metric)]
            _ip(args)

    def teardown(self, failed: bool = False) -> None:
        """Stops every process and deletes every namespace. Safe to call more than once."""
        for proc in reversed(self.processes):
            proc.stop(timeout=2.0)
        if failed:
            self.dump_logs()
        for ns in reversed(self._created):
            _delete_netns(ns)
        for mount in reversed(self._mounts):
            subprocess.run(["umount", "-l", str(mount)], capture_output=True)
        self._mounts.clear()
        self._created.clear()
        self.processes.clear()
        self._restore_signal_handlers()
        if self._own_log_dir and not self.keep_logs and not failed:
            shutil.rmtree(self.log_dir, ignore_errors=True)
        self._up = False
        atexit.unregister(self.teardown)

    def _install_signal_handlers(self) -> None:
        def on_signal(signo, frame):
            # Unwinds through __exit__, which tears down.
            raise KeyboardInterrupt(f"signal {signo}")
        for signo in (signal.SIGINT, signal.SIGTERM):
            try:
                self._old_handlers[signo] = signal.signal(signo, on_signal)
            except ValueError:
                pass  # not the main thread; atexit still tears down

    def _restore_signal_handlers(self) -> None:
        for signo, handler in self._old_handlers.items():
            try:
                signal.signal(signo, handler)
            except ValueError:
                pass
        self._old_handlers.clear()

    # ---- inside nodes ---------------------------------------------------------------------
    def run(self, node: str, argv: list[str], check: bool = True, timeout: float = 30.0,
            **kwargs) -> subprocess.CompletedProcess:
        res = subprocess.run(["ip", "netns", "exec", self.ns(node), *argv], text=True,
                             capture_output=True, timeout=timeout, **kwargs)
        if check and res.returncode != 0:
            raise LabError(f"{node}: {' '.join(argv)} exited {res.returncode}: "
                           f"{(res.stderr or res.stdout).strip()}")
        return res

    def spawn(self, node: str, argv: list[str], name: str | None = None,
              env: dict[str, str] | None = None) -> LabProcess:
        """Starts a long-running process in `node`; its output goes to a log file."""
        name = name or Path(argv[0]).name
        log_path = self.log_dir / f"{node}.{name}.log"
        with open(log_path, "ab") as log:
            # `ip netns exec` execs the command, so the Popen pid is the process itself.
            popen = subprocess.Popen(["ip", "netns", "exec", self.ns(node), *argv],
                                     stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL,
                                     env={**os.environ, **(env or {})})
        proc = LabProcess(node, name, popen, log_path)
        self.processes.append(proc)
        return proc

    def mount_bpffs(self, path: Path) -> Path:
        """A bpffs that outlives the processes using it: `ip netns exec` remounts /sys for
        each command, so pins under /sys/fs/bpf would die with the process that made them.
        Mounted in the root mount namespace, unmounted at teardown."""
        path.mkdir(parents=True, exist_ok=True)
        subprocess.run(["mount", "-t", "bpf", "bpf", str(path)], check=True)
        self._mounts.append(path)
        return path

    def sysctl(self, node: str, values: dict[str, str]) -> None:
        script = "".join(f"echo {v} > /proc/sys/{k.replace('.', '/')}\n"
                         for k, v in values.items())
        self.run(node, ["sh", "-ec", script])

    def impair(self, node: str, ifname: str, netem: Netem) -> None:
        """Impairs traffic leaving `ifname`. Uses sch_netem when the kernel has it. Otherwise:
        delay (with jitter and rate) through a userspace delay line (vigil_lab.delayline),
        rate alone through a tbf qdisc, loss through a tc eBPF drop at the far end's
        ingress (at this end's egress when the far end runs XDP, which sees frames first)."""
        self.clear_impairment(node, ifname)
        res = self.run(node, ["tc", "qdisc", "replace", "dev", ifname, "root", "netem",
                              *netem.tc_args()], check=False)
        if res.returncode == 0:
            return
        if "unknown" not in res.stderr:
            raise LabError(f"{node}: netem on {ifname} failed: {res.stderr.strip()}")
        if netem.delay_ms is not None or netem.jitter_ms is not None:
            self._start_delay_line(node, ifname, netem)
        elif netem.rate_mbit is not None:
            self.run(node, ["tc", "qdisc", "replace", "dev", ifname, "root", "tbf", "rate",
                            f"{netem.rate_mbit}mbit", "burst", "32kb", "latency", "100ms"])
        if netem.loss_pct is not None:
            peer = self._peer(node, ifname)
            obj = self._random_drop_object(int(round(netem.loss_pct * 10000)))
            # At the far end's ingress, so the loss is silent to the sender; but an XDP program
            # there (Vigil's classifier, AF_XDP) sees frames before tc does, so then at this
            # end's egress.
            xdp = "xdp" in self.run(peer.node, ["ip", "-o", "link", "show", "dev",
                                                peer.name]).stdout
            at_node, at_dev, hook = ((node, ifname, "egress") if xdp
                                     else (peer.node, peer.name, "ingress"))
            self.run(at_node, ["tc", "qdisc", "replace", "dev", at_dev, "clsact"])
            # IP only: ARP and its retries would otherwise turn loss into queueing delay.
            for pref, proto in (("1", "ip"), ("2", "ipv6")):
                self.run(at_node, ["tc", "filter", "replace", "dev", at_dev, hook,
                                   "protocol", proto, "pref", pref, "bpf", "da", "obj",
                                   str(obj), "sec", "tc"])

    def clear_impairment(self, node: str, ifname: str) -> None:
        line = self._delay_lines.pop((node, ifname), None)
        if line is not None:
            line.stop()
        self.run(node, ["tc", "qdisc", "del", "dev", ifname, "clsact"], check=False)
        self.run(node, ["tc", "qdisc", "del", "dev", ifname, "root"], check=False)
        peer = self._peer(node, ifname)
        self.run(peer.node, ["tc", "qdisc", "del", "dev", peer.name, "clsact"], check=False)

    def _start_delay_line(self, node: str, ifname: str, netem: Netem) -> None:
        from .delayline import tap_name
        argv = [sys.executable, "-m", "vigil_lab.delayline", "--dev", ifname, "--delay-ms",
                str(netem.delay_ms or 0.0), "--jitter-ms", str(netem.jitter_ms or 0.0)]
        if netem.rate_mbit is not None:
            argv += ["--rate-mbit", str(netem.rate_mbit)]
        tap = tap_name(ifname)
        proc = self.spawn(node, argv, name=f"delayline-{ifname}",
                          env={"PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
        self._delay_lines[(node, ifname)] = proc
        self.wait_for(lambda: not proc.alive() or self.run(
            node, ["ip", "link", "show", "dev", tap], check=False).stdout.find("UP") >= 0,
            what=f"delay line on {node}:{ifname}")
        if not proc.alive():
            raise LabError(f"delay line on {node}:{ifname} failed: {proc.log().strip()}")
        self.run(node, ["tc", "qdisc", "replace", "dev", ifname, "clsact"])
        self.run(node, ["tc", "filter", "replace", "dev", ifname, "egress", "protocol", "all",
                        "pref", "1", "u32", "match", "u32", "0", "0", "action", "mirred",
                        "egress", "redirect", "dev", tap])

    def _peer(self, node: str, ifname: str):
        for link in self.topology.links:
            if (link.a.node, link.a.name) == (node, ifname):
                return link.b
            if (link.b.node, link.b.name) == (node, ifname):
                return link.a
        raise KeyError(f"no link at {node}:{ifname}")

    def _random_drop_object(self, ppm: int) -> Path:
        return self._bpf_object("random_drop", {"DROP_PPM": str(ppm)})

    def _bpf_object(self, name: str, defines: dict[str, str] | None = None) -> Path:
        tag = "".join(f"_{v}" for v in (defines or {}).values())
        obj = self.log_dir / f"{name}{tag}.o"
        if not obj.exists():
            src = Path(__file__).parent / "bpf" / f"{name}.bpf.c"
            arch = subprocess.run(["gcc", "-dumpmachine"], text=True,
                                  capture_output=True).stdout.strip() or "x86_64-linux-gnu"
            res = subprocess.run(["clang", "-O2", "-g", "-target", "bpf",
                                  f"-I/usr/include/{arch}",
                                  *[f"-D{k}={v}" for k, v in (defines or {}).items()],
                                  "-c", str(src), "-o", str(obj)], text=True, capture_output=True)
            if res.returncode != 0:
                raise LabError(f"cannot build {src.name}: {res.stderr.strip()}")
        return obj

    def allow_xdp_tx(self, node: str, ifname: str) -> None:
        """Lets XDP_TX from `node`:`ifname` reach the wire: veth delivers XDP_TX frames to its
        peer only when the peer runs NAPI, which an XDP program on the peer turns on."""
        peer = self._peer(node, ifname)
        self.run(peer.node, ["ip", "link", "set", "dev", peer.name, "xdp", "object",
                             str(self._bpf_object("xdp_pass")), "program", "lab_pass"])

    def forbid_xdp_tx(self, node: str, ifname: str) -> None:
        """Undoes allow_xdp_tx: veth then drops every XDP_TX frame from `node`:`ifname`, as a
        device with a full transmit ring would."""
        peer = self._peer(node, ifname)
        self.run(peer.node, ["ip", "link", "set", "dev", peer.name, "xdp", "off"])

    def set_link(self, node: str, ifname: str, up: bool) -> None:
        self.run(node, ["ip", "link", "set", "dev", ifname, "up" if up else "down"])
        if up:
            # Taking a link down flushes the routes through it; bring the node's declared
            # routes back, as its configuration would on a real box.
            self._apply_routes(node)

    def address(self, node: str, ifname: str, family: int = 4) -> str:
        return self.topology.interface(node, ifname).address(family)

    def ping(self, node: str, target: str, count: int = 3, interval: float = 0.2,
             timeout: float = 10.0) -> dict:
        """Pings and returns {"sent", "received", "loss_pct", "rtt_avg_ms"}."""
        res = self.run(node, ["ping", "-n", "-q", "-c", str(count), "-i", str(interval),
                              "-W", "2", target], check=False, timeout=timeout)
        return parse_ping(res.stdout)

    def dump_logs(self, tail: int = 40) -> None:
        for proc in self.processes:
            lines = proc.log().splitlines()[-tail:]
            print(f"----- {proc.node}/{proc.name} (pid {proc.pid}, log {proc.log_path}) -----",
                  file=sys.stderr)
            for line in lines:
                print(f"  {line}", file=sys.stderr)

    def wait_for(self, predicate, timeout: float = 5.0, interval: float = 0.05,
                 what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(interval)
        raise LabError(f"timed out after {timeout}s waiting for {what}")


_PING_STATS = re.compile(r"(\d+) packets transmitted, (\d+) received")
_PING_RTT = re.compile(r"= [\d.]+/([\d.]+)/")


def ping_stream(address: str, seconds: int) -> list[str]:
    """A ping every 10 ms for about `seconds`, to spawn. A count, not a deadline (-w): at a
    deadline ping stops at once and counts the echo still in flight as lost, which under load
    (a longer round trip) made a lossless stream look lossy."""
    return ["ping", "-n", "-q", "-i", "0.01", "-c", str(seconds * 100), address]


def parse_ping(output: str) -> dict:
    m = _PING_STATS.search(output)
    sent, received = (int(m.group(1)), int(m.group(2))) if m else (0, 0)
    rtt = _PING_RTT.search(output)
    return {
        "sent": sent,
        "received": received,
        "loss_pct": 100.0 * (sent - received) / sent if sent else 100.0,
        "rtt_avg_ms": float(rtt.group(1)) if rtt else None,
    }

"""Command line for developers:

    python3 -m vigil_lab up two_sites     bring a topology up with Vigil (vigild, vigil-dp,
                                          vigil-l7) on its edge boxes, print how to enter each
                                          node and reach each CLI, hold until Ctrl-C, then
                                          tear down (--bare: no Vigil)
    python3 -m vigil_lab cleanup          delete namespaces left by runs that were killed
    python3 -m vigil_lab list             show lab namespaces that exist now
"""

from __future__ import annotations

import argparse
import sys
import time

from . import Lab, cleanup_stale, leftover_namespaces, topologies
from .daemons import build_dir
from .fastpath import edge_configs, start_routing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vigil_lab")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="bring a topology up and hold it until Ctrl-C")
    up.add_argument("topology", choices=sorted(topologies.BY_NAME))
    up.add_argument("--seconds", type=float, default=None, help="tear down after this long")
    up.add_argument("--bare", action="store_true", help="the topology only, no Vigil")
    sub.add_parser("cleanup", help="delete namespaces of runs that no longer exist")
    sub.add_parser("list", help="list lab namespaces")
    args = parser.parse_args(argv)

    if args.command == "cleanup":
        for ns in cleanup_stale():
            print(f"deleted {ns}")
        return 0
    if args.command == "list":
        for ns in leftover_namespaces():
            print(ns)
        return 0

    with Lab(topologies.BY_NAME[args.topology]()) as lab:
        configs = {} if args.bare else edge_configs(args.topology)
        vigil = start_routing(lab, configs) if configs else {}
        print(f"lab {args.topology} is up; namespaces start with {lab.prefix}")
        for node in lab.topology.nodes:
            print(f"  ip netns exec {lab.ns(node)} bash")
        for node, vn in vigil.items():
            print(f"  {node}'s CLI: ip netns exec {lab.ns(node)} {build_dir() / 'mgmt/cli/vigil'}"
                  f" --socket {vn.socket('vigild')}")
        if not args.bare and not configs:
            print(f"  (no Vigil started: {args.topology}'s tests configure their own)")
        print("ready", flush=True)
        deadline = None if args.seconds is None else time.monotonic() + args.seconds
        try:
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.2)
        except KeyboardInterrupt:
            print("tearing down", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

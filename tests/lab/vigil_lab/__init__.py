"""The Vigil lab: network topologies of namespaces and veth pairs on one machine.

    from vigil_lab import Lab, topologies
    with Lab(topologies.two_sites()) as lab:
        lab.run("s1-client", ["ping", "-c1", "10.2.1.10"])

The same library serves the README demo and the system tests.
"""

from .lab import Lab, LabError, LabProcess, cleanup_stale, leftover_namespaces
from .topology import Interface, Link, Netem, Node, Route, Topology
from . import rpc, topologies

__all__ = [
    "Interface", "Lab", "LabError", "LabProcess", "Link", "Netem", "Node", "Route",
    "Topology", "cleanup_stale", "leftover_namespaces", "rpc", "topologies",
]

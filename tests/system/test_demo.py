"""The README's first command must keep working: run the demo end to end."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from conftest import BUILD, REPO, needs_root

from vigil_lab import leftover_namespaces


@needs_root
def test_demo_runs_and_tears_down(binaries):
    before = set(leftover_namespaces())
    res = subprocess.run([sys.executable, "-m", "vigil_lab.demo"], capture_output=True, text=True,
                         timeout=300,
                         env={**os.environ, "PYTHONPATH": str(REPO / "tests" / "lab"),
                              "VIGIL_BUILD_DIR": str(BUILD)})
    assert res.returncode == 0, res.stdout + res.stderr
    out = res.stdout
    assert "demo finished" in out
    assert out.count("clean exit") == 11  # three daemons on three edges, two on the fourth
    assert "joined the mesh as s4, admitted by s1" in out, out
    assert "site s4 joined (announced by s1)" in out, out
    assert "s2, s3 and s4 took s1's new key" in out and "rotate-key" in out, out
    assert "default route: wan1 -> wan2" in out
    assert "BGP router identifier 10.1.1.1, local AS 65001" in out, out  # vigild's FRR on s1
    assert "redirect_fast_path" in out  # the classifier steered transit to vigil-dp
    # The kernel fallback: the kernel's copy of s1-edge's default routes carried the traffic.
    assert "(ip -4 route show proto 250): default via 198.18.1.1 dev wan1" in out, out
    assert "across the crash:" in out
    # A dataplane commit restarts vigil-dp on it, same pid.
    assert "vigil-dp restarts to apply it" in out and "kept (re-executed)" in out, out
    # Fragments cross the fast paths: ping -s 3000, both families (a loss fails the demo).
    assert "fragments across the fast paths" in out
    # vigil-l7 publishes each site's backend; a killed backend costs no request.
    assert "vigil-l7: each site publishes its backend through its edge" in out
    # vigil-l7 runs as user vigil with CAP_NET_BIND_SERVICE alone (bit 10).
    assert re.search(r"s1-edge +vigil-l7 +\d+ +vigil +running", out), out
    assert "CapEff 0000000000000400 (CAP_NET_BIND_SERVICE alone" in out, out
    assert "https://s2.example:8443/ (TLS, verified, HTTP/2)" in out  # h2 chosen by ALPN
    assert "http://10.2.1.1:8080/ (HTTP/2, h2c)" in out
    # site 3's pool that speaks HTTP/2 to an nginx that speaks nothing else
    assert re.search(r"http://10\.3\.1\.1:8080/h2/ \(upstream over HTTP/2\) +s3-backend nginx, "
                     r"asked over HTTP/2\.0", out), out
    # Across the mesh: a client fetches another site's edge's own address through the tunnel.
    assert re.search(r"s1-client +https://s2\.example:8443/ \(at 10\.2\.1\.1, through the tunnel\)"
                     r" +s2-backend:8443", out), out
    assert re.search(r"s1-edge's own traffic to s2: 10\.2\.0\.0/16 proto 251 .*src 10\.1\.1\.1",
                     out), out
    assert "40/40 answered 200; after the kill all by s1-backend:8000" in out, out
    assert "unhealthy (connect failed)" in out, out  # and its health checks saw it
    assert "site: backend.s1.test:8000 -> 10.1.1.20 (TTL 30 s" in out, out  # a DNS target
    # s2-edge speaks TLS to its backend and verifies it.
    assert "s2-edge to its backend: site: TLS 1.2 or 1.3, certificates verified against" in out
    assert "https://s2.example:8443/ (TLS, verified, HTTP/2)  s2-backend:8443" in out, out
    assert "IPv4    10.2.1.20     5/5" in out and "IPv6    fd00:2:1::14  5/5" in out, out
    assert set(leftover_namespaces()) <= before

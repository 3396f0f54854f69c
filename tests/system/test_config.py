"""vigild and the config schema as an operator meets them: a bad file at start, SIGHUP,
`vigil validate`, and hostile documents that must get a clear answer while vigild keeps
serving."""

from __future__ import annotations

import random
import signal
import subprocess
import time

import pytest

from vigil_lab import rpc
from test_daemons import Daemon

GOOD = """system:
  hostname: edge1
  management: {addresses: [10.1.1.1]}
interfaces:
  lan0: {role: lan, addresses: [10.1.1.1/24]}
  wan1: {role: wan, addresses: [198.18.1.2/30]}
routing:
  static:
    - prefix: 0.0.0.0/0
      next_hops: [{via: 198.18.1.1, interface: wan1}]
"""


@pytest.fixture
def vigild(binaries, tmp_path):
    d = Daemon(binaries["vigild"], tmp_path, config_text=GOOD)
    rpc.wait_for_socket(d.socket, proc=d.proc)
    yield d
    if d.proc.poll() is None:
        d.proc.kill()
        d.proc.wait()


def timed_validate(d: Daemon, text: str) -> tuple[dict, float]:
    start = time.monotonic()
    result = rpc.call(d.socket, "validate", {"text": text, "origin": "candidate"}, timeout=5)
    return result, time.monotonic() - start


def test_bad_config_at_start_lists_every_error_and_exits_78(binaries, tmp_path):
    d = Daemon(binaries["vigild"], tmp_path,
               config_text="interfaces:\n  lan0: {role: dmz}\nqos: {}\n")
    assert d.proc.wait(timeout=5) == 78
    log = d.log()
    assert 'error="interfaces.lan0.role (2:16): must be lan or wan, got \\"dmz\\""' in log
    assert 'error="qos (3:1): \\"qos\\" is not supported yet by this build' in log
    assert f"config={d.config}" in log


def test_sighup_compares_the_file_and_applies_nothing(vigild):
    """vigild's config is the committed one: SIGHUP says whether --config is the running
    config, and when it is not, how to apply it and what the schema would refuse in it."""
    def logged(text: str) -> None:
        deadline = time.monotonic() + 5
        while text not in vigild.log():
            assert time.monotonic() < deadline, vigild.log()
            time.sleep(0.05)

    vigild.proc.send_signal(signal.SIGHUP)
    logged("SIGHUP: nothing reloaded; the config file is the running config")
    vigild.config.write_text(GOOD.replace("role: wan", "role: wna"))
    vigild.proc.send_signal(signal.SIGHUP)
    logged("the config file differs from the running config")
    logged("interfaces.wan1.role (6:16): must be lan or wan, got")
    assert "vigil load replace FILE, vigil commit" in vigild.log()
    assert rpc.call(vigild.socket, "status")["state"] == "running"
    shown = rpc.call(vigild.socket, "show.configuration", {})
    assert "role: wan," in shown["text"] and "wna" not in shown["text"], shown


def test_validate_reports_errors_in_document_order(vigild):
    result, _ = timed_validate(vigild, "qos: {}\nsystem: {hostname: -x}\n")
    assert result["valid"] is False
    assert [e["text"] for e in result["errors"]] == [
        'qos (1:1): "qos" is not supported yet by this build (arrives with the QoS issue)',
        'system.hostname (2:20): "-x" is not a valid host name (RFC 1123)',
    ]
    assert result["errors"][1] == {"path": "system.hostname", "line": 2, "column": 20,
                                   "message": '"-x" is not a valid host name (RFC 1123)',
                                   "text": result["errors"][1]["text"]}


def test_cli_validate(vigild, binaries, tmp_path):
    bad = tmp_path / "candidate.yaml"
    bad.write_text("interfaces:\n  lan0: {role: lan, mtu: 9999999}\n")
    out = subprocess.run([str(binaries["vigil"]), "--socket", vigild.socket, "validate", str(bad)],
                         capture_output=True, text=True, timeout=10)
    assert out.returncode == 1
    assert out.stdout == f"{bad}: interfaces.lan0.mtu (2:26): must be 68 to 9216, got 9999999\n"
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    out = subprocess.run([str(binaries["vigil"]), "--socket", vigild.socket, "validate",
                          str(good)], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0 and out.stdout == f"{good}: valid\n"


# Hostile documents. The issue asks for an answer within 1 s; the assertion allows 5 s so a
# noisy CI machine cannot fail it, and the measured time is printed (pytest -s shows it).
def _garbage(n: int) -> str:
    rng = random.Random(1)
    return "".join(chr(rng.randrange(1, 0x2FF)) for _ in range(n))


@pytest.mark.parametrize("name,text,expect", [
    ("1 MB of garbage", _garbage(1 << 20), "(document): candidate"),
    ("deep nesting", "a: " + "[" * 100000 + "]" * 100000, "nesting deeper than"),
    ("deep block nesting", "".join(" " * i + f"k{i}:\n" for i in range(2000)),
     "nesting deeper than"),
], ids=["garbage", "deep-flow", "deep-block"])  # ids: the texts would land in the environment
def test_hostile_documents_get_a_clear_error_and_vigild_keeps_serving(vigild, name, text, expect):
    result, elapsed = timed_validate(vigild, text)
    print(f"{name}: answered in {elapsed * 1000:.0f} ms")
    assert result["valid"] is False
    assert expect in result["errors"][0]["text"], result["errors"][0]
    assert elapsed < 5
    assert rpc.call(vigild.socket, "status")["state"] == "running"


def test_ten_thousand_routes_validate(vigild):
    routes = "".join(f"    - {{prefix: 10.{i // 256}.{i % 256}.0/24, next_hops: "
                     f"[{{via: 198.18.1.1}}]}}\n" for i in range(10000))
    text = GOOD.replace("routing:\n  static:\n", "routing:\n  static:\n" + routes)
    result, elapsed = timed_validate(vigild, text)
    print(f"10,000 routes: validated in {elapsed * 1000:.0f} ms")
    assert result["valid"] is True, result["errors"][:3]
    assert elapsed < 5

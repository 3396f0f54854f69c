"""Every `vigil ...` example in README.md and docs/ runs as written against a real vigild and
vigil-dp in a lab, so the docs cannot drift from the CLI:

- a fenced line that starts with `vigil` (or `$ vigil`) runs as one command, in document
  order, from a directory holding the files the examples name; it must exit 0, or the code
  its comment gives as `(exit N)`;
- lines shown under such a command are its output: each table header among them (a line of
  lowercase words) must be a line of the real output, word for word;
- a transcript of the interactive prompt (`user@host>` / `user@host#` lines) is typed into
  the real prompt, and every output line it shows (digits aside: commit numbers, counters)
  must appear in what the prompt printed.

docs/cli.md is generated from the CLI itself and checked by a unit test instead."""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import needs_root

from vigil_lab.daemons import build_dir
from vigil_lab.fastpath import ROUTED_EDGE_CONFIG, forwarding
from vigil_lab.lab import Lab
from vigil_lab.daemons import start_vigil
from vigil_lab.topologies import routed

pytestmark = needs_root

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted(p for p in (REPO / "docs").glob("*.md") if p.name != "cli.md")]
SHELL_BLOCKS = {"", "sh", "console", "shell"}
COMMAND = re.compile(r"^(\$ )?(build/mgmt/cli/)?vigil( |$)")
PROMPT = re.compile(r"^[a-z_][\w.-]*@[\w.-]+[>#] ")

# The box the examples describe: an edge with a LAN and a WAN port, vigil-dp forwarding, and
# the ACL rules the examples name.
CONFIG = ROUTED_EDGE_CONFIG.replace("system: {hostname: edge}", "system: {hostname: edge1}") + """\
filter:
  acl:
    - {name: deny-attacker, source: 192.0.2.66/32, action: deny}
    - {name: allow-all, action: allow}
    - {name: deny-doc, source: 198.51.100.0/24, action: deny}
"""
# The files the examples load: a new config (one more static route), and a fragment.
FILES = {
    "new.yaml": CONFIG.replace(
        "routing:\n  static:\n",
        "routing:\n  static:\n    - {prefix: 10.9.0.0/16, next_hops: [{via: 198.18.20.1}]}\n"),
    "fragment.yaml": "routing:\n  static:\n"
                     "    - {prefix: 10.8.0.0/16, next_hops: [{via: 198.18.20.1}]}\n",
}


@dataclass
class Example:
    where: str                   # file:line
    words: list[str]             # the command line, split as a shell would
    exit_code: int = 0
    shown: list[str] = field(default_factory=list)  # the output lines the docs show


@dataclass
class Transcript:
    where: str
    commands: list[str]
    shown: list[str]


def examples() -> tuple[list[Example], list[Transcript]]:
    commands: list[Example] = []
    transcripts: list[Transcript] = []
    for doc in DOCS:
        lines = doc.read_text().splitlines()
        i = 0
        while i < len(lines):
            fence = lines[i].strip()
            i += 1
            if not fence.startswith("```") or fence[3:].strip() not in SHELL_BLOCKS:
                if fence.startswith("```"):  # another language: skip to its end
                    while i < len(lines) and not lines[i].strip().startswith("```"):
                        i += 1
                    i += 1
                continue
            start = i
            block = []
            while i < len(lines) and not lines[i].strip().startswith("```"):
                block.append(lines[i])
                i += 1
            i += 1
            where = f"{doc.relative_to(REPO)}:{start}"
            if any(PROMPT.match(line) for line in block):
                transcripts.append(Transcript(
                    where, [PROMPT.sub("", line) for line in block if PROMPT.match(line)],
                    [line for line in block if not PROMPT.match(line)]))
                continue
            last: Example | None = None  # the block's last command: its output follows it
            for n, line in enumerate(block):
                if COMMAND.match(line):
                    text = COMMAND.sub("", line)
                    comment = re.search(r"\(exit (\d+)\)", line)
                    last = Example(f"{doc.relative_to(REPO)}:{start + n + 1}",
                                   shlex.split(text, comments=True),
                                   int(comment.group(1)) if comment else 0)
                    commands.append(last)
                elif last is not None and line.strip() and not line.startswith("#"):
                    last.shown.append(line)
    return commands, transcripts


def normalized(text: str) -> str:
    return " ".join(re.sub(r"\d+", "N", text).split())


def headers(lines: list[str]) -> list[str]:
    """The lines among `lines` that name table columns: lowercase words, nothing else."""
    return [line for line in lines
            if len(line.split()) >= 2 and re.fullmatch(r"[a-z_ ]+", line.strip())]


def test_the_docs_have_examples():
    commands, transcripts = examples()
    assert len(commands) >= 20 and transcripts, (commands, transcripts)
    assert any(e.words[:2] == ["show", "routes"] and e.shown for e in commands)


def test_every_example_in_the_docs_runs(binaries, tmp_path):
    commands, transcripts = examples()
    vigil = str(build_dir() / "mgmt/cli/vigil")
    with Lab(routed()) as lab:
        lab.sysctl("edge", {"net.ipv4.ip_forward": "0", "net.ipv6.conf.all.forwarding": "0"})
        vn = start_vigil(lab, "edge", CONFIG, daemons=("vigild", "vigil-dp"))
        lab.wait_for(lambda: forwarding(vn), timeout=30, what="the fast path forwarding")
        lab.wait_for(lambda: vn.call("vigild", "show.classifier"), timeout=10,
                     what="vigil-dp attaching the classifier")
        # Traffic for the counters the examples show: across the box, and from the attacker the
        # ACL names (at wan1, from the far side).
        lab.run("host", ["ping", "-c", "3", "-i", "0.2", "198.18.20.1"], check=False)
        lab.run("far", ["ip", "addr", "add", "192.0.2.66/32", "dev", "lo"])
        lab.run("far", ["ping", "-c", "3", "-i", "0.2", "-W", "1", "-I", "192.0.2.66",
                        "198.18.20.2"], check=False)
        work = tmp_path / "operator"
        work.mkdir()
        for name, text in FILES.items():
            (work / name).write_text(text)
        env = {**os.environ, "VIGIL_SOCKET": vn.socket("vigild")}

        failures = []
        for e in commands:
            done = lab.run("edge", [vigil, *e.words], check=False, cwd=work, env=env)
            if done.returncode != e.exit_code:
                failures.append(f"{e.where}: vigil {shlex.join(e.words)} exited "
                                f"{done.returncode}, not {e.exit_code}: {done.stderr}{done.stdout}")
                continue
            real = done.stdout.splitlines()
            for header in headers(e.shown):
                if header.split() not in [line.split() for line in real]:
                    failures.append(f"{e.where}: the docs show the header {header!r}; "
                                    f"vigil {shlex.join(e.words)} prints:\n{done.stdout}")

        for t in transcripts:
            done = lab.run("edge", [vigil], check=False, cwd=work, env=env,
                           input="".join(c + "\n" for c in t.commands))
            printed = normalized(done.stdout)
            if done.returncode != 0:
                failures.append(f"{t.where}: the prompt exited {done.returncode}: {done.stderr}")
            for line in t.shown:
                if line.strip() in ("", "...") or normalized(line) in printed:
                    continue
                failures.append(f"{t.where}: the docs show {line!r}; the prompt printed:\n"
                                f"{done.stdout}{done.stderr}")
        assert not failures, "\n".join(failures)

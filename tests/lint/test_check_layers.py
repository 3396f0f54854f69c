"""scripts/check-layers: an include that crosses the layers of docs/architecture.md fails."""

import pathlib
import subprocess

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "check-layers"


def check(tree: pathlib.Path, files: dict[str, str]) -> subprocess.CompletedProcess:
    for name, text in files.items():
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(text)
    return subprocess.run([str(SCRIPT), *files], cwd=tree, capture_output=True, text=True,
                          timeout=30, check=False)


def test_component_including_mgmt_fails_naming_file_and_line(tmp_path):
    r = check(tmp_path, {"dataplane/fib.h": '#pragma once\n#include "mgmt/roles.h"\n'})
    assert r.returncode == 1
    assert r.stdout == ("dataplane/fib.h:2: dataplane/ may not include mgmt/ "
                        "(layers: docs/architecture.md)\n")


def test_upward_includes_fail(tmp_path):
    r = check(tmp_path, {
        "config/config.h": '#include "ebpf/include/vigil/classifier_types.h"\n',
        "common/daemon.h": '#include "config/config.h"\n',
        "ebpf/loader/x.cc": '#  include "dataplane/fib.h"\n',
        "l7proxy/a.cc": '#include "sdwan/peer.h"\n',
    })
    assert r.returncode == 1
    assert sorted(r.stdout.splitlines()) == [
        "common/daemon.h:1: common/ may not include config/ (layers: docs/architecture.md)",
        "config/config.h:1: config/ may not include ebpf/ (layers: docs/architecture.md)",
        "ebpf/loader/x.cc:1: ebpf/ may not include dataplane/ (layers: docs/architecture.md)",
        "l7proxy/a.cc:1: l7proxy/ may not include sdwan/ (layers: docs/architecture.md)",
    ]


def test_downward_includes_and_system_headers_pass(tmp_path):
    r = check(tmp_path, {
        "dataplane/fib.cc": ('#include <rte_fib.h>\n#include "common/net/ip.h"\n'
                             '#include "config/config.h"\n#include "ebpf/loader/maglev.h"\n'
                             '#include "vigil/parse.h"\n'),
        "mgmt/vigild.cc": '#include "config/document.h"\n#include "mgmt/roles.h"\n',
        "tests/unit/x_test.cc": '#include "mgmt/roles.h"\n#include "dataplane/fib.h"\n',
        "ebpf/loader/classifier_config.cc": '#include "config/capacity_checks.h"\n',
    })
    assert r.returncode == 0, r.stdout
    assert r.stdout == ""

// ns/packet of the XDP classifier through BPF_PROG_TEST_RUN, side by side with the floor: a
// program that only returns XDP_PASS, loaded and run the same way in the same process.
//
//   xdp_bench [--runs N] [--repeat R] [--flows F] [--features MASK] [--smoke]
//
// --features loads the program with only those VIGIL_FEATURE_* bits (hex), to see what each
// stage costs.
//
// Paths: ACL drop (a bare SYN and an ACK, both to the VIP: only the ACK looks for its
// connection before the ACL), VIP with a connection-table hit, VIP with a miss (Maglev lookup
// and an insert: every call a new flow), and pass-to-kernel (a local service). Each run makes F
// calls per path; prints a Markdown table of medians (min, max) over N runs, the ratio to the
// floor, the program's own time above the floor and its Mpps-per-core equivalent, then the memory
// the kernel charges for every map at the default sizes.
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "ebpf/loader/classifier.h"
#include "tests/packet/packet_builder.h"
#include "tests/support/net_literals.h"

namespace vigil::ebpf {
namespace {

using test::PacketBuilder;
using Frame = std::vector<uint8_t>;

using vigil::test::ip;
using vigil::test::net;

ClassifierConfig bench_config() {
  ClassifierConfig c;
  c.gateway_mac = {0x02, 0, 0, 0, 0, 0xfe};
  c.encap_source4 = net("172.16.0.0/16");
  // The port's MAC, as vigil-dp writes it: the frame checks run as on a real port (the
  // builder's frames are addressed to it).
  c.port_mac = std::array<uint8_t, 6>{0x02, 0, 0, 0, 0, 0x02};
  Vip web{.name = "web", .address = ip("10.100.0.1"), .port = 80};
  for (int i = 1; i <= 16; ++i) {
    web.backends.push_back({ip(("10.200.0." + std::to_string(i)).c_str())});
  }
  c.vips = {web};
  for (int i = 0; i < 50; ++i) {  // a realistic ACL: 50 rules, the deny near the end
    c.acl.push_back({.name = "r" + std::to_string(i),
                     .source = net(("10." + std::to_string(50 + i) + ".0.0/16").c_str()),
                     .action = Action::kPass});
  }
  c.acl.push_back({.name = "deny-doc", .source = net("192.0.2.0/24")});
  c.rate_limits = {
      {.name = "other", .source = net("198.51.100.0/24"), .policer = {.packets_per_second = 1000}}};
  c.local_addresses = {ip("10.0.0.1")};
  c.local_ports = {{.protocol = 6, .port = 22}};
  return c;
}

// The floor: "return XDP_PASS" as two raw instructions.
int load_pass_program() {
  bpf_insn insns[2]{};
  insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
  insns[0].dst_reg = BPF_REG_0;
  insns[0].imm = XDP_PASS;
  insns[1].code = BPF_JMP | BPF_EXIT;
  return bpf_prog_load(BPF_PROG_TYPE_XDP, "vigil_floor", "GPL", insns, 2, nullptr);
}

double run_ns(int prog_fd, const Frame& frame, int repeat) {
  Frame out(frame.size() + 256);
  xdp_md ctx{};
  ctx.data_end = static_cast<uint32_t>(frame.size());
  ctx.ingress_ifindex = 1;
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = frame.data(), .data_out = out.data(),
              .data_size_in = static_cast<uint32_t>(frame.size()),
              .data_size_out = static_cast<uint32_t>(out.size()), .ctx_in = &ctx,
              .ctx_size_in = sizeof(ctx), .repeat = repeat);
  if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
    std::perror("BPF_PROG_TEST_RUN");
    std::exit(1);
  }
  return opts.duration;
}

// Mean ns over `frames`, each run once (for paths where a repeat would change the path).
double run_each_ns(int prog_fd, const std::vector<Frame>& frames) {
  double total = 0;
  for (const auto& f : frames) {
    total += run_ns(prog_fd, f, 1);
  }
  return total / static_cast<double>(frames.size());
}

struct Stats {
  double median, min, max;
};

Stats stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 2], v.front(), v.back()};
}

uint64_t memlock_of(int fd) {
  std::ifstream in("/proc/self/fdinfo/" + std::to_string(fd));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("memlock:", 0) == 0) {
      return std::stoull(line.substr(8));
    }
  }
  return 0;
}

int main(int argc, char** argv) {
  int runs = 11;
  int repeat = 1000000;
  int flows = 20000;
  uint32_t features = 0x3f;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) {
      runs = std::atoi(argv[++i]);
    } else if (a == "--repeat" && i + 1 < argc) {
      repeat = std::atoi(argv[++i]);
    } else if (a == "--flows" && i + 1 < argc) {
      flows = std::atoi(argv[++i]);
    } else if (a == "--features" && i + 1 < argc) {
      features = static_cast<uint32_t>(std::stoul(argv[++i], nullptr, 16));
    } else if (a == "--smoke") {
      runs = 3;
      repeat = 1000;
      flows = 100;
    } else {
      std::fprintf(
          stderr,
          "usage: xdp_bench [--runs N] [--repeat R] [--flows F] [--features MASK] [--smoke]\n");
      return 64;
    }
  }
  if (geteuid() != 0) {
    std::fprintf(stderr, "xdp_bench: needs root (BPF_PROG_TEST_RUN)\n");
    return 77;
  }
  // Every CPU has its own connection table and a test run goes on the caller's CPU: the hit
  // row's flow must meet its connection, as a flow on one receive queue does.
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(sched_getcpu(), &one);
  if (sched_setaffinity(0, sizeof(one), &one) != 0) {
    std::perror("xdp_bench: sched_setaffinity");
    return 1;
  }
  auto loaded = Classifier::load({.features = features});
  if (!loaded) {
    std::fprintf(stderr, "xdp_bench: %s\n", loaded.error().c_str());
    return 1;
  }
  auto& classifier = **loaded;
  if (auto s = classifier.apply(bench_config()); !s) {
    std::fprintf(stderr, "xdp_bench: %s\n", s.error().c_str());
    return 1;
  }
  const int floor_fd = load_pass_program();
  if (floor_fd < 0) {
    std::perror("xdp_bench: loading the floor program");
    return 1;
  }
  const int prog = classifier.program_fd();

  const Frame vip =
      PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(40000, 80, 0x10).payload(18).build();
  // From a source the ACL denies, to the VIP: a bare SYN (0x02) or an ACK (0x10).
  auto denied = [](uint8_t tcp_flags) {
    return PacketBuilder()
        .eth()
        .ipv4("192.0.2.7", "10.100.0.1")
        .tcp(40000, 80, tcp_flags)
        .payload(18)
        .build();
  };
  const Frame acl_drop_syn = denied(0x02);
  const Frame acl_drop = denied(0x10);
  const Frame local =
      PacketBuilder().eth().ipv4("10.5.0.2", "10.0.0.1").tcp(40000, 22, 0x10).payload(18).build();
  std::vector<Frame> new_flows;
  for (int i = 0; i < flows * runs; ++i) {
    const std::string src =
        "10.6." + std::to_string(i / 60000 % 250) + "." + std::to_string(i / 240 % 250 + 1);
    new_flows.push_back(PacketBuilder()
                            .eth()
                            .ipv4(src, "10.100.0.1")
                            .tcp(static_cast<uint16_t>(1024 + i % 60000), 80, 0x02)
                            .payload(18)
                            .build());
  }

  // BPF_PROG_TEST_RUN does not restore the frame between repetitions: with --repeat, a path
  // that rewrites the packet (a VIP's encapsulation) would measure the rewritten frame on
  // every run after the first. So every path is measured call by call (repeat=1, the frame
  // fresh each time), and so is the floor; the kernel times each call itself, which adds a
  // fixed cost of its own to every row alike (the floor is that cost plus one instruction).
  struct Row {
    const char* path;
    std::vector<Frame> frames;
    std::vector<double> ns;
  };
  std::vector<Row> rows = {
      {"XDP_PASS only (the floor)", std::vector<Frame>(flows, vip), {}},
      {"ACL drop (51 rules), bare SYN to the VIP", std::vector<Frame>(flows, acl_drop_syn), {}},
      {"ACL drop (51 rules), ACK to the VIP", std::vector<Frame>(flows, acl_drop), {}},
      {"VIP, connection-table hit (IPIP encapsulation)", std::vector<Frame>(flows, vip), {}},
      {"pass to kernel (local service)", std::vector<Frame>(flows, local), {}},
      {"VIP, connection-table miss (Maglev pick + insert)", {}, {}},
  };
  run_ns(prog, vip, 1);  // the hit row's flow is in the connection table from here on
  for (int r = 0; r < runs; ++r) {
    // Interleaved, so drift on a noisy machine hits every path alike.
    rows[0].ns.push_back(run_each_ns(floor_fd, rows[0].frames));
    for (size_t i = 1; i + 1 < rows.size(); ++i) {
      rows[i].ns.push_back(run_each_ns(prog, rows[i].frames));
    }
    const std::vector<Frame> fresh(new_flows.begin() + r * flows,
                                   new_flows.begin() + (r + 1) * flows);
    rows.back().ns.push_back(run_each_ns(prog, fresh));
  }
  const double floor = stats(rows[0].ns).median;
  std::printf("runs=%d, %d calls per path per run, %zu-byte frames\n\n", runs, flows, vip.size());
  std::printf(
      "| path | ns per call, median (min, max) | × floor | program ns above the floor "
      "| Mpps/core equivalent |\n");
  std::printf("|---|---|---|---|---|\n");
  for (const auto& row : rows) {
    const Stats st = stats(row.ns);
    const double above = st.median - floor;
    if (&row == &rows[0]) {
      std::printf("| %s | %.1f (%.1f, %.1f) | 1.00 | - | - |\n", row.path, st.median, st.min,
                  st.max);
      continue;
    }
    std::printf("| %s | %.1f (%.1f, %.1f) | %.2f | %.1f | %.1f |\n", row.path, st.median, st.min,
                st.max, st.median / floor, above, above > 0 ? 1000.0 / above : 0.0);
  }
  // Paths that leave the frame as it was can also be timed with repeat, without the per-call
  // cost: a cross-check of the "above the floor" column.
  std::printf(
      "\nWith --repeat %d (frame unchanged by these paths): floor %.1f ns, ACL drop (SYN) %.1f "
      "ns, ACL drop (ACK) %.1f ns, pass to kernel %.1f ns.\n",
      repeat, run_ns(floor_fd, vip, repeat), run_ns(prog, acl_drop_syn, repeat),
      run_ns(prog, acl_drop, repeat), run_ns(prog, local, repeat));

  std::printf("\n| map | kernel memory (memlock) |\n|---|---|\n");
  uint64_t total = 0;
  for (int i = 0; i < kMapCount; ++i) {
    auto& maps = static_cast<BpfMaps&>(classifier.maps());
    const uint64_t bytes = memlock_of(maps.fd(static_cast<MapId>(i)));
    total += bytes;
    std::printf("| %s | %.1f KiB |\n", map_name(static_cast<MapId>(i)), bytes / 1024.0);
  }
  std::printf("| **all maps** | **%.2f MiB** |\n", total / 1048576.0);
  return 0;
}

}  // namespace
}  // namespace vigil::ebpf

int main(int argc, char** argv) {
  return vigil::ebpf::main(argc, argv);
}

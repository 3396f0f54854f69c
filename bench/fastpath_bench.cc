// Mpps of vigil-dp's forwarding pipeline (parse, FIB, ECMP, TTL, neighbour, L2 rewrite) on one
// lcore, fed by DPDK's pcap PMD replaying 64-byte frames from memory (infinite_rx) and
// dropping what it is given to send, the same ports fastpath_compare.py gives dpdk-testpmd.
//
//   fastpath_bench --routes N [--seconds S] [--pcap FILE] [--write-pcap FILE] [--smoke]
//
// --write-pcap writes the frames (1,024 UDP flows to destinations inside the N routes) and
// exits; the comparison script writes one file and runs every contender on it.
#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_ether.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/runtime/eal.h"
#include "dataplane/runtime/fast_path.h"
#include "tests/packet/packet_builder.h"

namespace vigil::dp {
namespace {

constexpr size_t kFlows = 1024;
constexpr int kGateways = 4;

struct Options {
  size_t routes = 1000;
  double seconds = 5;
  std::string pcap;
  std::string write_pcap;
  bool smoke = false;
};

std::string dotted(uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string(a >> 16 & 255) + "." +
         std::to_string(a >> 8 & 255) + "." + std::to_string(a & 255);
}

// A prefix length drawn like an Internet table's: most are /24, a few longer than /24.
int table_like_length(std::mt19937& rng) {
  const unsigned r = rng() % 100;
  if (r < 15) {
    return 16 + static_cast<int>(rng() % 6);  // /16-/21
  }
  if (r < 35) {
    return 22 + static_cast<int>(rng() % 2);  // /22-/23
  }
  if (r < 95) {
    return 24;
  }
  return 25 + static_cast<int>(rng() % 4);  // /25-/28
}

// N distinct prefixes inside 16.0.0.0/4 (so none covers the gateways' 192.0.2/24), the same
// for every run (fixed seed).
std::vector<std::pair<uint32_t, int>> make_prefixes(size_t n) {
  std::mt19937 rng(42);
  std::vector<std::pair<uint32_t, int>> out;
  std::set<std::pair<uint32_t, int>> seen;
  while (out.size() < n) {
    const int len = table_like_length(rng);
    const uint32_t addr = (0x10000000u | (rng() & 0x0fffffffu)) & ~((1u << (32 - len)) - 1);
    if (seen.insert({addr, len}).second) {
      out.emplace_back(addr, len);
    }
  }
  return out;
}

Status write_frames(const std::string& path, size_t routes) {
  const auto prefixes = make_prefixes(routes);
  std::mt19937 rng(7);
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
  pcap_dumper_t* out = pcap_dump_open(dead, path.c_str());
  if (out == nullptr) {
    return fail("cannot write " + path + ": " + pcap_geterr(dead));
  }
  for (size_t i = 0; i < kFlows; ++i) {
    const auto& [addr, len] = prefixes[rng() % prefixes.size()];
    const uint32_t host = addr | (rng() & ((1u << (32 - len)) - 1));
    // 14 + 20 + 8 + 22 = 64 bytes, the size testpmd's figures are quoted at.
    const auto frame = test::PacketBuilder()
                           .eth("02:00:00:00:00:a0", "02:00:00:00:00:01")
                           .ipv4("10.1.0.5", dotted(host))
                           .udp(static_cast<uint16_t>(1024 + i), 53)
                           .payload(22)
                           .build();
    pcap_pkthdr h{};
    h.caplen = h.len = static_cast<bpf_u_int32>(frame.size());
    pcap_dump(reinterpret_cast<u_char*>(out), &h, frame.data());
  }
  pcap_dump_close(out);
  pcap_close(dead);
  return Ok{};
}

net::IpAddress gateway(int g) {
  return *net::IpAddress::parse("192.0.2." + std::to_string(10 + g));
}

int run(const Options& o) {
  auto eal = Eal::start({.main_lcore = 0,
                         .worker_lcores = {1},
                         .memory_mb = 2048,
                         .file_prefix = "vigil-bench-" + std::to_string(getpid()),
                         .log_level = "*:warning"});
  if (!eal) {
    std::fprintf(stderr, "%s\n", eal.error().c_str());
    return 1;
  }
  FastPathConfig config{.worker_lcores = {1}};
  for (int p = 0; p < 2; ++p) {
    config.ports.push_back(EthdevPortConfig{
        .name = "p" + std::to_string(p),
        .devargs = "net_pcap" + std::to_string(p) + ",rx_pcap=" + o.pcap + ",infinite_rx=1"});
  }
  auto fp = FastPath::create(config);
  if (!fp) {
    std::fprintf(stderr, "%s\n", fp.error().c_str());
    return 1;
  }
  FastPath& path = **fp;
  // Four next-hop groups of two gateways each, over both ports, as a two-uplink edge has.
  std::vector<NextHopGroup> groups;
  for (int g = 0; g < kGateways; ++g) {
    groups.push_back(make_forward_group({{.port = 0, .gateway = gateway(g)},
                                         {.port = 1, .gateway = gateway((g + 1) % kGateways)}}));
  }
  std::vector<Route> routes;
  size_t i = 0;
  for (const auto& [addr, len] : make_prefixes(o.routes)) {
    net::IpAddress a{.family = 4};
    a.bytes = {static_cast<uint8_t>(addr >> 24), static_cast<uint8_t>(addr >> 16),
               static_cast<uint8_t>(addr >> 8), static_cast<uint8_t>(addr)};
    routes.push_back({{a, len}, groups[i++ % groups.size()]});
  }
  // The frames are addressed to 02:00:00:00:00:a0: the ports take that MAC as theirs, so the
  // admit stage routes them as a router routes frames sent to it (the pcap devices' own MACs
  // are made up, and frames to another host's MAC are dropped, as on a switched LAN).
  std::vector<PortInfo> ports(2);
  for (PortId p = 0; p < 2; ++p) {
    rte_ether_unformat_addr("02:00:00:00:00:a0", &ports[p].mac);
  }
  if (Status ok = path.routes().apply(routes, ports); !ok) {
    std::fprintf(stderr, "%s\n", ok.error().c_str());
    return 1;
  }
  for (PortId p = 0; p < 2; ++p) {
    for (int g = 0; g < kGateways; ++g) {
      rte_ether_addr mac{{0x02, 0, 0, 0, static_cast<uint8_t>(p), static_cast<uint8_t>(g)}};
      if (Status ok = path.neighbours().set(NeighbourKey::from(p, gateway(g)), mac); !ok) {
        std::fprintf(stderr, "%s\n", ok.error().c_str());
        return 1;
      }
    }
  }
  if (Status ok = path.start(); !ok) {
    std::fprintf(stderr, "%s\n", ok.error().c_str());
    return 1;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(o.smoke ? 200 : 1000));  // warm up
  const LcoreCounters before = path.counters();
  const auto t0 = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  const LcoreCounters after = path.counters();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  path.stop();
  uint64_t tx = 0, rx = 0, dropped = 0;
  for (PortId p = 0; p < 2; ++p) {
    tx += after.ports[p].tx_packets - before.ports[p].tx_packets;
    rx += after.ports[p].rx_packets - before.ports[p].rx_packets;
  }
  for (size_t r = 0; r < after.drops.size(); ++r) {
    dropped += after.drops[r] - before.drops[r];
    if (after.drops[r] > 0) {
      std::fprintf(stderr, "drops %s: %lu\n", std::string(kDropReasonNames[r]).c_str(),
                   static_cast<unsigned long>(after.drops[r]));
    }
  }
  std::printf("routes=%zu rx_mpps=%.3f tx_mpps=%.3f dropped=%lu\n", o.routes, rx / elapsed / 1e6,
              tx / elapsed / 1e6, static_cast<unsigned long>(dropped));
  // A forwarding benchmark that forwards nothing measured nothing: fail loudly.
  return tx > 0 && dropped == 0 ? 0 : 2;
}

}  // namespace
}  // namespace vigil::dp

int main(int argc, char** argv) {
  vigil::dp::Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--routes") {
      o.routes = std::stoul(next());
    } else if (a == "--seconds") {
      o.seconds = std::stod(next());
    } else if (a == "--pcap") {
      o.pcap = next();
    } else if (a == "--write-pcap") {
      o.write_pcap = next();
    } else if (a == "--smoke") {
      o.smoke = true;
      o.seconds = 0.5;
    } else {
      std::fprintf(stderr,
                   "usage: fastpath_bench --routes N [--seconds S] [--pcap F] "
                   "[--write-pcap F] [--smoke]\n");
      return 64;
    }
  }
  if (!o.write_pcap.empty()) {
    vigil::Status ok = vigil::dp::write_frames(o.write_pcap, o.routes);
    if (!ok) {
      std::fprintf(stderr, "%s\n", ok.error().c_str());
    }
    return ok ? 0 : 1;
  }
  if (o.pcap.empty()) {
    o.pcap = "/tmp/vigil-fastpath-bench-" + std::to_string(getpid()) + ".pcap";
    if (vigil::Status ok = vigil::dp::write_frames(o.pcap, o.routes); !ok) {
      std::fprintf(stderr, "%s\n", ok.error().c_str());
      return 1;
    }
    const int rc = vigil::dp::run(o);
    unlink(o.pcap.c_str());
    return rc;
  }
  return vigil::dp::run(o);
}

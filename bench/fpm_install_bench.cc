// FPM decode + FIB install: a recorded-style stream of N IPv4 routes, as zebra 8.4's
// dplane_fpm_nl sends them with `no fpm use-next-hop-groups` (one RTM_NEWROUTE per frame,
// inline next hops: half the routes over one gateway, half over an ECMP pair), fed through
// the same code vigil-dp runs: FpmSession (frames, netlink, the store) in reads of 64 KiB,
// its changes taken after every 1 MiB (the listener's read budget per wakeup), each through
// fpm_route_target and RouteSelection into RouteTable::update on real rte_fib tables. One
// core, no lcores reading (the grace period is free, as on an idle box).
//
// Printed per repeat and as the median: routes/s for the whole path, and for the decode alone
// (the same stream into a session whose changes are dropped): the control that says where
// the time goes. Also the resident memory the FIB side added for N routes.
//
//   fpm_install_bench [--routes N] [--repeat R] [--smoke]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bgp/fpm/fpm_session.h"
#include "dataplane/forwarding/fpm_routes.h"
#include "dataplane/forwarding/route_selection.h"
#include "dataplane/forwarding/route_table.h"
#include "dataplane/runtime/eal.h"

namespace {

using namespace vigil;
using Clock = std::chrono::steady_clock;

struct Options {
  size_t routes = 1'000'000;
  int repeat = 5;
};

class NoReaders : public dp::Synchronizer {
 public:
  void wait_for_readers() override {}
};

void put16(std::vector<uint8_t>& b, uint16_t v) {
  b.insert(b.end(), {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8)});
}
void put32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) {
    b.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
}
void attr32(std::vector<uint8_t>& b, uint16_t type, uint32_t v) {
  put16(b, 8);
  put16(b, type);
  put32(b, v);
}
void attr_addr(std::vector<uint8_t>& b, uint16_t type, const uint8_t a[4]) {
  put16(b, 8);
  put16(b, type);
  b.insert(b.end(), a, a + 4);
}

// Route i: 1.0.0.0/24 onwards, one /24 each.
void append_route(std::vector<uint8_t>& stream, size_t i) {
  std::vector<uint8_t> m(16, 0);  // nlmsghdr, its length set below
  const uint16_t type = 24;       // RTM_NEWROUTE
  std::memcpy(m.data() + 4, &type, 2);
  m.insert(m.end(), {2, 24, 0, 0, 254, 186, 0, 1, 0, 0, 0, 0});  // rtmsg: AF_INET /24, bgp
  const auto net = static_cast<uint32_t>((i + 256) << 8);
  const uint8_t dst[4] = {static_cast<uint8_t>(net >> 24), static_cast<uint8_t>(net >> 16),
                          static_cast<uint8_t>(net >> 8), 0};
  attr_addr(m, 1, dst);  // RTA_DST
  attr32(m, 6, 20);      // RTA_PRIORITY
  const uint8_t gw_a[4] = {192, 0, 2, 10}, gw_b[4] = {192, 0, 2, 11};
  if (i % 2 == 0) {
    attr_addr(m, 5, gw_a);  // RTA_GATEWAY
    attr32(m, 4, 1);        // RTA_OIF
  } else {
    put16(m, 4 + 2 * 16);
    put16(m, 9);  // RTA_MULTIPATH: two rtnexthops with a gateway each
    for (int h = 0; h < 2; ++h) {
      put16(m, 16);
      m.push_back(0);  // flags
      m.push_back(0);  // hops (weight 1)
      put32(m, static_cast<uint32_t>(1 + h));
      attr_addr(m, 5, h == 0 ? gw_a : gw_b);
    }
  }
  const auto len = static_cast<uint32_t>(m.size());
  std::memcpy(m.data(), &len, 4);
  const auto frame_len = static_cast<uint16_t>(4 + m.size());
  stream.insert(stream.end(),
                {1, 1, static_cast<uint8_t>(frame_len >> 8), static_cast<uint8_t>(frame_len)});
  stream.insert(stream.end(), m.begin(), m.end());
}

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::stol(line.substr(6));
    }
  }
  return 0;
}

struct Run {
  double install_routes_per_s = 0;
  double decode_routes_per_s = 0;
  long fib_side_kib = 0;
  size_t installed = 0;
};

Run run_once(const std::vector<uint8_t>& stream, size_t routes, int index) {
  constexpr size_t kRead = size_t{64} * 1024, kBudget = size_t{1} << 20;
  Run out;
  // Decode alone: the control.
  {
    fpm::FpmSession session({.limits = {.max_routes = routes + 16}});
    session.connected(Clock::now());
    const auto start = Clock::now();
    for (size_t at = 0; at < stream.size(); at += kRead) {
      (void)session.receive({stream.data() + at, std::min(kRead, stream.size() - at)},
                            Clock::now());
      if ((at / kRead) % (kBudget / kRead) == 0) {
        (void)session.take_changes();
      }
    }
    (void)session.take_changes();
    const double s = std::chrono::duration<double>(Clock::now() - start).count();
    out.decode_routes_per_s = static_cast<double>(routes) / s;
  }
  // The whole path.
  NoReaders readers;
  const long rss_before = rss_kib();
  auto table = dp::RouteTable::create("fpmbench" + std::to_string(index),
                                      {.fib = {.max_routes4 = static_cast<uint32_t>(routes + 1024),
                                               .max_routes6 = 1024,
                                               .tbl8_groups4 = 1 << 12,
                                               .tbl8_groups6 = 1 << 8},
                                       .max_groups = 1024},
                                      readers);
  if (!table) {
    std::fprintf(stderr, "%s\n", table.error().c_str());
    std::exit(1);
  }
  (void)(*table)->apply({}, std::vector<dp::PortInfo>(2));
  const std::map<int, dp::PortId> ports = {{1, 0}, {2, 1}};
  dp::RouteSelection selection;
  fpm::FpmSession session({.limits = {.max_routes = routes + 16}});
  session.connected(Clock::now());
  size_t refused = 0;
  auto install = [&] {
    std::vector<dp::RouteUpdate> updates;
    for (const fpm::RouteChange& c : session.take_changes()) {
      std::optional<dp::NextHopGroup> target;
      if (c.route) {
        target = dp::fpm_route_target(*c.route, ports, {});
      }
      if (auto u = selection.set_bgp(c.prefix, std::move(target))) {
        updates.push_back(std::move(*u));
      }
    }
    if (!updates.empty() && !(*table)->update(updates)) {
      refused += updates.size();
    }
  };
  const auto start = Clock::now();
  for (size_t at = 0; at < stream.size(); at += kRead) {
    (void)session.receive({stream.data() + at, std::min(kRead, stream.size() - at)}, Clock::now());
    if ((at / kRead + 1) % (kBudget / kRead) == 0) {
      install();
    }
  }
  install();
  const double s = std::chrono::duration<double>(Clock::now() - start).count();
  out.install_routes_per_s = static_cast<double>(routes) / s;
  out.installed = (*table)->routes().size();
  out.fib_side_kib = rss_kib() - rss_before;
  if (refused != 0) {
    std::fprintf(stderr, "%zu route updates refused\n", refused);
  }
  return out;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--smoke") {
      o.routes = 20'000;
      o.repeat = 1;
    } else if (a == "--routes" && i + 1 < argc) {
      o.routes = std::stoul(argv[++i]);
    } else if (a == "--repeat" && i + 1 < argc) {
      o.repeat = std::stoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: fpm_install_bench [--routes N] [--repeat R] [--smoke]\n");
      return 2;
    }
  }
  auto eal = dp::Eal::start({.main_lcore = 0,
                             .memory_mb = 4096,
                             .file_prefix = "vigil-fpmbench-" + std::to_string(getpid()),
                             .log_level = "*:warning"});
  if (!eal) {
    std::fprintf(stderr, "%s\n", eal.error().c_str());
    return 1;
  }
  std::vector<uint8_t> stream;
  stream.reserve(o.routes * 80);
  for (size_t i = 0; i < o.routes; ++i) {
    append_route(stream, i);
  }
  std::printf("stream: %zu routes, %zu bytes (%zu frames)\n", o.routes, stream.size(), o.routes);
  std::vector<double> install, decode;
  long fib_kib = 0;
  for (int r = 0; r < o.repeat; ++r) {
    const Run run = run_once(stream, o.routes, r);
    if (run.installed != o.routes) {
      std::fprintf(stderr, "only %zu of %zu routes installed\n", run.installed, o.routes);
      return 1;
    }
    std::printf(
        "run %d: decode+install %.0f routes/s, decode alone %.0f routes/s, FIB side "
        "+%ld MiB RSS\n",
        r + 1, run.install_routes_per_s, run.decode_routes_per_s, run.fib_side_kib / 1024);
    install.push_back(run.install_routes_per_s);
    decode.push_back(run.decode_routes_per_s);
    fib_kib = std::max(fib_kib, run.fib_side_kib);
  }
  std::printf(
      "median: decode+install %.0f routes/s, decode alone %.0f routes/s, FIB side %ld MiB "
      "for %zu routes\n",
      median(install), median(decode), fib_kib / 1024, o.routes);
  return 0;
}

// dataplane: whether vigil-dp forwards transit traffic in its DPDK fast path, on which lcores,
// with how much memory and how large a FIB. Read when vigil-dp starts its fast path.
#include <set>

#include "config/sections.h"

namespace vigil::config {
namespace {

// RTE_MAX_LCORE in Debian's DPDK build.
constexpr int64_t kMaxLcore = 127;

constexpr Field kDataplaneFields[] = {
    {.key = "forwarding",
     .type = "boolean",
     .description = "Route transit traffic in vigil-dp's fast path; false leaves it to the "
                    "kernel and runs only the XDP classifier",
     .default_value = "false"},
    {.key = "mode",
     .type = "af_xdp | dpdk",
     .description = "af_xdp: ports are kernel interfaces the classifier feeds over AF_XDP; "
                    "dpdk: each interface's device is DPDK devargs (vfio-pci NICs, virtual "
                    "devices)",
     .default_value = "af_xdp"},
    {.key = "rx_mode",
     .type = "poll | adaptive",
     .description = "poll: forwarding lcores spin on their queues, the lowest latency, a CPU "
                    "each; adaptive: they sleep while idle (woken by AF_XDP sockets, or a timer "
                    "of at most 1 ms on dpdk ports), for CPUs shared with other work",
     .default_value = "poll"},
    {.key = "control_lcore",
     .type = "integer 0-127",
     .description = "The CPU of vigil-dp's control thread",
     .default_value = "0"},
    {.key = "lcores",
     .type = "list of integer 0-127",
     .description = "CPUs that run a forwarding loop each (one queue per port each)",
     .default_value = "[1]"},
    {.key = "memory_mb",
     .type = "integer 256-65536",
     .description = "DPDK memory: mbufs, both FIB copies, neighbour table",
     .default_value = "1024"},
    {.key = "mbufs",
     .type = "integer 1023-1048575",
     .description = "Packet buffers in the pool",
     .default_value = "16383"},
    {.key = "max_routes_ipv4",
     .type = "integer 1024-4194304",
     .description = "IPv4 FIB capacity (a full Internet table is about a million)",
     .default_value = "262144"},
    {.key = "max_routes_ipv6",
     .type = "integer 1024-1048576",
     .description = "IPv6 FIB capacity",
     .default_value = "65536"},
    {.key = "tx_hold_us",
     .type = "integer 0-1000",
     .description = "How long a forwarding lcore may hold packets that came in short bursts, to "
                    "send them together: 0 sends them at the end of the loop pass in which every "
                    "queue came back short (the lowest latency); over AF_XDP on veth every send is "
                    "a system call, and holding up to 100 us carried one bulk TCP stream 10-15% "
                    "faster in the lab, for up to that much more latency per packet",
     .default_value = "0"},
    {.key = "flow_offload",
     .type = "boolean",
     .description = "af_xdp: once vigil-dp has routed a TCP or UDP flow whose forwarding changes "
                    "only the TTL and the Ethernet header, the XDP classifier forwards the rest "
                    "of it by itself (XDP_REDIRECT), between ports whose devices the kernel says "
                    "can send redirected frames; every route, port or next-hop MAC change sends "
                    "all flows back through vigil-dp once",
     .default_value = "true"},
    {.key = "kernel_fallback",
     .type = "boolean",
     .description = "af_xdp: vigil-dp keeps the kernel's routing table in step with its FIB "
                    "(its static routes, protocol vigil, metric 10) and turns on the kernel's "
                    "forwarding on its ports, so while vigil-dp is away (crashed, restarting, "
                    "upgraded) the classifier's transit goes to a kernel that forwards it the "
                    "same way; false: transit is the kernel's own business then. dpdk mode "
                    "cannot have it (the kernel does not see the ports)",
     .default_value = "true in af_xdp mode"},
};

}  // namespace

const Schema kDataplaneSchema{
    .path = "dataplane",
    .description =
        "vigil-dp's DPDK fast path. A commit that changes it restarts vigil-dp on the new config "
        "(DPDK starts once per process); the kernel fallback forwards meanwhile.",
    .fields = kDataplaneFields};

void parse_dataplane(const YAML::Node& node, const std::string& path, Config& config,
                     ErrorList& errors) {
  MapReader r(node, path, kDataplaneSchema, errors);
  if (!r.ok()) {
    return;
  }
  DataplaneConfig& d = config.dataplane;
  if (r.has("forwarding")) {
    d.forwarding = read_bool(r.get("forwarding"), r.path_of("forwarding"), errors).value_or(false);
  }
  if (r.has("mode")) {
    if (auto m = read_enum(r.get("mode"), r.path_of("mode"), errors, kDataplaneModeNames)) {
      d.mode = static_cast<DataplaneMode>(*m);
    }
  }
  if (r.has("rx_mode")) {
    if (auto m = read_enum(r.get("rx_mode"), r.path_of("rx_mode"), errors, kRxModeNames)) {
      d.rx_mode = static_cast<RxMode>(*m);
    }
  }
  auto read_u32 = [&](const char* key, int64_t min, int64_t max, uint32_t& out) {
    if (r.has(key)) {
      if (auto v = read_int(r.get(key), r.path_of(key), errors, min, max)) {
        out = static_cast<uint32_t>(*v);
      }
    }
  };
  read_u32("control_lcore", 0, kMaxLcore, d.control_lcore);
  read_u32("memory_mb", 256, 65536, d.memory_mb);
  read_u32("mbufs", 1023, 1048575, d.mbufs);
  read_u32("max_routes_ipv4", 1024, 4194304, d.max_routes_ipv4);
  read_u32("max_routes_ipv6", 1024, 1048576, d.max_routes_ipv6);
  read_u32("tx_hold_us", 0, 1000, d.tx_hold_us);
  if (r.has("flow_offload")) {
    d.flow_offload =
        read_bool(r.get("flow_offload"), r.path_of("flow_offload"), errors).value_or(true);
  }
  // Read after `mode`, whose default it follows.
  d.kernel_fallback = d.mode == DataplaneMode::kAfXdp;
  if (r.has("kernel_fallback")) {
    const auto fallback = read_bool(r.get("kernel_fallback"), r.path_of("kernel_fallback"), errors);
    if (fallback && *fallback && d.mode == DataplaneMode::kDpdk) {
      errors.add(r.path_of("kernel_fallback"), r.get("kernel_fallback"),
                 "dpdk-mode ports are not kernel interfaces: the kernel cannot forward for them");
    } else if (fallback) {
      d.kernel_fallback = *fallback;
    }
  }
  if (r.has("lcores")) {
    d.lcores.clear();
    std::set<int64_t> seen;
    for_each_item(r.get("lcores"), r.path_of("lcores"), errors,
                  [&](const YAML::Node& n, const std::string& item_path) {
                    auto l = read_int(n, item_path, errors, 0, kMaxLcore);
                    if (!l) {
                      return;
                    }
                    if (!seen.insert(*l).second) {
                      errors.add(item_path, n, "lcore " + std::to_string(*l) + " is listed twice");
                    } else if (*l == d.control_lcore) {
                      errors.add(item_path, n,
                                 "lcore " + std::to_string(*l) +
                                     " is the control lcore; forwarding needs its own");
                    } else {
                      d.lcores.push_back(static_cast<uint32_t>(*l));
                    }
                  });
    if (d.lcores.empty() && seen.empty()) {
      errors.add(r.path_of("lcores"), r.get("lcores"), "at least one forwarding lcore");
    }
  }
}

}  // namespace vigil::config

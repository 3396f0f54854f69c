// Steering to the fast path for real: the classifier on a veth in a namespace of this test,
// an AF_XDP socket (libxdp, copy mode) in its xsks_map on queue 0, frames sent into the
// veth's peer. WireGuard to the box must arrive on the socket byte for byte; SSH to the box
// must not (it goes to the kernel). Needs root.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "ebpf/loader/classifier.h"
#include "tests/packet/packet_builder.h"

namespace vigil::ebpf {
namespace {

using test::PacketBuilder;
using Frame = std::vector<uint8_t>;

int sh(const std::string& cmd) {
  return std::system(cmd.c_str());
}

// A network namespace of this test, entered by this thread for its lifetime.
class NetnsScope {
 public:
  explicit NetnsScope(std::string name) : name_(std::move(name)) {
    sh("ip netns del " + name_ + " 2>/dev/null");
    ok_ = sh("ip netns add " + name_) == 0;
    old_ = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    const int fd = open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
    ok_ = ok_ && fd >= 0 && old_ >= 0 && setns(fd, CLONE_NEWNET) == 0;
    if (fd >= 0) {
      close(fd);
    }
  }
  ~NetnsScope() {
    if (old_ >= 0) {
      setns(old_, CLONE_NEWNET);
      close(old_);
    }
    sh("ip netns del " + name_ + " 2>/dev/null");
  }
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  int old_ = -1;
  bool ok_ = false;
};

std::string mac_text(const std::string& ifname) {
  FILE* f = std::fopen(("/sys/class/net/" + ifname + "/address").c_str(), "r");
  char buf[32] = {};
  if (f != nullptr) {
    if (std::fgets(buf, sizeof(buf), f) == nullptr) {
      buf[0] = 0;
    }
    std::fclose(f);
  }
  std::string s(buf);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) {
    s.pop_back();
  }
  return s;
}

constexpr uint32_t kFrames = 64;
constexpr uint32_t kFrameSize = XSK_UMEM__DEFAULT_FRAME_SIZE;

TEST(SteeringTest, FastPathPortsReachTheAfXdpSocketOthersTheKernel) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root";
  }
  NetnsScope ns("vigil-xsk-" + std::to_string(getpid()));
  ASSERT_TRUE(ns.ok());
  // `ip` runs as a child of this thread, so in this namespace.
  ASSERT_EQ(sh("ip link add name xa type veth peer name xb && ip addr add 10.77.0.1/24 dev xa && "
               "ip addr add 10.77.0.2/24 dev xb && ip link set xa up && ip link set xb up"),
            0);

  auto c = Classifier::load({});
  ASSERT_TRUE(c.ok()) << c.error();
  ClassifierConfig config;
  config.local_addresses = {net::IpAddress::parse("10.77.0.1").value()};
  config.local_ports = {{.protocol = 17, .port = 51820, .action = Action::kFastPath},
                        {.protocol = 6, .port = 22}};
  ASSERT_TRUE((*c)->apply(config).ok());
  ASSERT_TRUE((*c)->attach("xa").ok());

  void* area = mmap(nullptr, kFrames * kFrameSize, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(area, MAP_FAILED);
  xsk_umem* umem = nullptr;
  xsk_ring_prod fill{};
  xsk_ring_cons comp{};
  ASSERT_EQ(xsk_umem__create(&umem, area, kFrames * kFrameSize, &fill, &comp, nullptr), 0);
  xsk_socket_config cfg{};
  cfg.rx_size = XSK_RING_CONS__DEFAULT_NUM_DESCS;
  cfg.tx_size = XSK_RING_PROD__DEFAULT_NUM_DESCS;
  cfg.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;  // our program, our map
  cfg.bind_flags = XDP_COPY;
  xsk_socket* xsk = nullptr;
  xsk_ring_cons rx{};
  xsk_ring_prod tx{};
  int err = -EBUSY;
  // Binding right after another socket closed on the queue can say EBUSY for a while.
  for (int attempt = 0; attempt < 20 && err == -EBUSY; ++attempt) {
    err = xsk_socket__create(&xsk, "xa", 0, umem, &rx, &tx, &cfg);
    if (err == -EBUSY) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ASSERT_EQ(err, 0) << std::strerror(-err);
  uint32_t idx = 0;
  ASSERT_EQ(xsk_ring_prod__reserve(&fill, kFrames / 2, &idx), kFrames / 2);
  for (uint32_t i = 0; i < kFrames / 2; ++i) {
    *xsk_ring_prod__fill_addr(&fill, idx + i) = static_cast<uint64_t>(i) * kFrameSize;
  }
  xsk_ring_prod__submit(&fill, kFrames / 2);
  auto& maps = static_cast<BpfMaps&>((*c)->maps());
  const uint32_t queue = 0;
  const int xsk_fd = xsk_socket__fd(xsk);
  ASSERT_EQ(bpf_map_update_elem(maps.fd(MapId::kXsks), &queue, &xsk_fd, BPF_ANY), 0);

  const int out = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
  ASSERT_GE(out, 0);
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = static_cast<int>(if_nametoindex("xb"));
  to.sll_halen = 6;
  const Frame wireguard = PacketBuilder()
                              .eth(mac_text("xa"), mac_text("xb"))
                              .ipv4("10.77.0.2", "10.77.0.1")
                              .udp(40000, 51820)
                              .payload(48)
                              .build();
  const Frame ssh = PacketBuilder()
                        .eth(mac_text("xa"), mac_text("xb"))
                        .ipv4("10.77.0.2", "10.77.0.1")
                        .tcp(40001, 22)
                        .build();
  for (const Frame* f : {&ssh, &wireguard}) {
    ASSERT_EQ(sendto(out, f->data(), f->size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)),
              static_cast<ssize_t>(f->size()));
  }

  std::vector<Frame> received;
  for (int waited = 0; waited < 20 && received.empty(); ++waited) {
    pollfd p{.fd = xsk_fd, .events = POLLIN, .revents = 0};
    poll(&p, 1, 100);
    uint32_t at = 0;
    const uint32_t n = xsk_ring_cons__peek(&rx, 16, &at);
    for (uint32_t i = 0; i < n; ++i) {
      const xdp_desc* d = xsk_ring_cons__rx_desc(&rx, at + i);
      const auto* data = static_cast<const uint8_t*>(xsk_umem__get_data(area, d->addr));
      received.emplace_back(data, data + d->len);
    }
    xsk_ring_cons__release(&rx, n);
  }
  ASSERT_EQ(received.size(), 1u) << "only the WireGuard frame belongs to the fast path";
  EXPECT_EQ(received[0], wireguard);
  const auto counters = (*c)->counters();
  EXPECT_EQ(counters.verdict("redirect_fast_path").packets, 1u);
  EXPECT_EQ(counters.verdict("pass_local_service").packets, 1u);

  close(out);
  xsk_socket__delete(xsk);
  xsk_umem__delete(umem);
  munmap(area, kFrames * kFrameSize);
  ASSERT_TRUE((*c)->detach().ok());
}

}  // namespace
}  // namespace vigil::ebpf

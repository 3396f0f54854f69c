#include "dataplane/ports/af_xdp_port.h"

#include <linux/if_xdp.h>
#include <net/if.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xdp/xsk.h>

#include <chrono>
#include <cstring>
#include <thread>

namespace vigil::dp {
namespace {

// 2 KiB, the smallest chunk the kernel takes: an MTU-sized frame fits, and twice as many
// frames fit in the same UMEM as with the 4 KiB default.
constexpr uint32_t kFrameSize = 2048;

// An interface ioctl (SIOCGIF*) on a throwaway socket; errno is kept on failure.
int interface_ioctl(const std::string& interface, unsigned long request, ifreq& req) {
  const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  std::strncpy(req.ifr_name, interface.c_str(), IFNAMSIZ - 1);
  const int rc = fd < 0 ? -1 : ioctl(fd, request, &req);
  const int err = errno;
  if (fd >= 0) {
    close(fd);
  }
  errno = err;
  return rc;
}

Expected<rte_ether_addr> interface_mac(const std::string& interface) {
  ifreq req{};
  if (interface_ioctl(interface, SIOCGIFHWADDR, req) != 0) {
    const int err = errno;
    return fail("interface " + interface + ": cannot read its MAC: " + std::strerror(err));
  }
  rte_ether_addr mac;
  std::memcpy(mac.addr_bytes, req.ifr_hwaddr.sa_data, RTE_ETHER_ADDR_LEN);
  return mac;
}

}  // namespace

struct AfXdpPort::Queue {
  void* area = nullptr;
  size_t area_size = 0;
  xsk_umem* umem = nullptr;
  xsk_socket* xsk = nullptr;
  xsk_ring_prod fill{};
  xsk_ring_cons comp{};
  xsk_ring_cons rx{};
  xsk_ring_prod tx{};
  std::vector<uint64_t> free_frames;  // TX frames not in flight
  uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
};

AfXdpPort::AfXdpPort(std::string name, std::string interface, int xsks_map_fd, rte_mempool* pool)
    : name_(std::move(name)),
      interface_(std::move(interface)),
      xsks_map_fd_(xsks_map_fd),
      pool_(pool) {}

Expected<PortPtr> AfXdpPort::open(const AfXdpPortConfig& c, rte_mempool* pool) {
  std::unique_ptr<AfXdpPort> port(new AfXdpPort(c.name, c.interface, c.xsks_map_fd, pool));
  auto mac = interface_mac(c.interface);
  if (!mac) {
    return fail("port " + c.name + ": " + mac.error());
  }
  port->mac_ = *mac;
  for (uint16_t q = 0; q < c.queues; ++q) {
    port->queues_.push_back(std::make_unique<Queue>());
    if (Status ok = port->open_queue(c, q); !ok) {
      return fail("port " + c.name + " (AF_XDP on " + c.interface + ", queue " + std::to_string(q) +
                  "): " + ok.error());
    }
  }
  return PortPtr(std::move(port));
}

Status AfXdpPort::open_queue(const AfXdpPortConfig& c, uint16_t queue) {
  Queue& q = *queues_[queue];
  q.area_size = static_cast<size_t>(c.frames) * kFrameSize;
  q.area = mmap(nullptr, q.area_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (q.area == MAP_FAILED) {
    q.area = nullptr;
    return fail(std::string("cannot map the UMEM: ") + std::strerror(errno));
  }
  xsk_umem_config umem_config{.fill_size = c.frames,
                              .comp_size = c.frames,
                              .frame_size = kFrameSize,
                              .frame_headroom = 0,
                              .flags = 0};
  if (int rc = xsk_umem__create(&q.umem, q.area, q.area_size, &q.fill, &q.comp, &umem_config);
      rc != 0) {
    return fail(std::string("cannot create the UMEM: ") + std::strerror(-rc));
  }
  xsk_socket_config socket_config{};
  socket_config.rx_size = c.frames / 2;
  socket_config.tx_size = c.frames / 2;
  // The classifier is Vigil's program: libxdp must not load its own.
  socket_config.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD;
  socket_config.bind_flags = XDP_USE_NEED_WAKEUP;
  int rc = -EBUSY;
  // Binding right after the previous owner (a vigil-dp that just exited) closed its socket on
  // this queue can fail with EBUSY for a moment.
  for (int attempt = 0; attempt < 40 && rc == -EBUSY; ++attempt) {
    rc = xsk_socket__create(&q.xsk, c.interface.c_str(), queue, q.umem, &q.rx, &q.tx,
                            &socket_config);
    if (rc == -EBUSY) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  if (rc != 0) {
    return fail(std::string("cannot create the socket: ") + std::strerror(-rc));
  }
  // The first half of the frames receive, the second half send.
  const uint32_t rx_frames = c.frames / 2;
  uint32_t at = 0;
  if (xsk_ring_prod__reserve(&q.fill, rx_frames, &at) != rx_frames) {
    return fail("cannot fill the fill ring");
  }
  for (uint32_t i = 0; i < rx_frames; ++i) {
    *xsk_ring_prod__fill_addr(&q.fill, at + i) = static_cast<uint64_t>(i) * kFrameSize;
  }
  xsk_ring_prod__submit(&q.fill, rx_frames);
  for (uint32_t i = rx_frames; i < c.frames; ++i) {
    q.free_frames.push_back(static_cast<uint64_t>(i) * kFrameSize);
  }
  return Ok{};
}

Status AfXdpPort::start_receiving() {
  for (size_t i = 0; i < queues_.size(); ++i) {
    // From here on the classifier steers packets to this socket.
    if (int err = xsk_socket__update_xskmap(queues_[i]->xsk, xsks_map_fd_); err != 0) {
      return fail(
          "port " + name_ + " (queue " + std::to_string(i) +
          "): cannot insert the socket into the classifier's xsks_map: " + std::strerror(-err));
    }
  }
  return Ok{};
}

AfXdpPort::~AfXdpPort() {
  for (auto& queue : queues_) {
    Queue& q = *queue;
    // Closing the socket also takes it out of the XSKMAP: the classifier then passes what it
    // steered here to the kernel (pass_fast_path_down) until a new vigil-dp binds.
    if (q.xsk != nullptr) {
      xsk_socket__delete(q.xsk);
    }
    if (q.umem != nullptr) {
      xsk_umem__delete(q.umem);
    }
    if (q.area != nullptr) {
      munmap(q.area, q.area_size);
    }
  }
}

uint16_t AfXdpPort::rx_burst(uint16_t queue, rte_mbuf** packets, uint16_t n) {
  Queue& q = *queues_[queue];
  uint32_t at_rx = 0;
  const uint32_t got = xsk_ring_cons__peek(&q.rx, n, &at_rx);
  if (got == 0) {
    if (xsk_ring_prod__needs_wakeup(&q.fill)) {
      recvfrom(xsk_socket__fd(q.xsk), nullptr, 0, MSG_DONTWAIT, nullptr, nullptr);
    }
    return 0;
  }
  if (rte_pktmbuf_alloc_bulk(pool_, packets, got) != 0) [[unlikely]] {
    // Left in the ring for the next poll; if it fills meanwhile, the kernel counts the drops.
    return 0;
  }
  uint32_t at_fill = 0;
  // Every frame taken from RX goes back to the fill ring, which is as large as all frames.
  (void)xsk_ring_prod__reserve(&q.fill, got, &at_fill);
  for (uint32_t i = 0; i < got; ++i) {
    const xdp_desc* d = xsk_ring_cons__rx_desc(&q.rx, at_rx + i);
    const uint16_t len = static_cast<uint16_t>(d->len);
    rte_memcpy(rte_pktmbuf_append(packets[i], len), xsk_umem__get_data(q.area, d->addr), len);
    q.rx_bytes += len;
    *xsk_ring_prod__fill_addr(&q.fill, at_fill + i) = xsk_umem__extract_addr(d->addr);
  }
  xsk_ring_prod__submit(&q.fill, got);
  xsk_ring_cons__release(&q.rx, got);
  q.rx_packets += got;
  return static_cast<uint16_t>(got);
}

void AfXdpPort::reclaim(Queue& q) {
  uint32_t at = 0;
  const uint32_t done = xsk_ring_cons__peek(&q.comp, UINT32_MAX, &at);
  for (uint32_t i = 0; i < done; ++i) {
    q.free_frames.push_back(*xsk_ring_cons__comp_addr(&q.comp, at + i));
  }
  xsk_ring_cons__release(&q.comp, done);
}

uint16_t AfXdpPort::tx_burst(uint16_t queue, rte_mbuf** packets, uint16_t n) {
  Queue& q = *queues_[queue];
  reclaim(q);
  uint32_t k = std::min<uint32_t>(n, static_cast<uint32_t>(q.free_frames.size()));
  uint32_t at = 0;
  if (k == 0 || xsk_ring_prod__reserve(&q.tx, k, &at) != k) {
    return 0;
  }
  for (uint32_t i = 0; i < k; ++i) {
    const uint64_t frame = q.free_frames.back();
    q.free_frames.pop_back();
    const uint32_t len = std::min<uint32_t>(rte_pktmbuf_pkt_len(packets[i]), kFrameSize);
    // Segments are gathered into the frame; one copy either way.
    const void* data = rte_pktmbuf_read(packets[i], 0, len, xsk_umem__get_data(q.area, frame));
    if (data != xsk_umem__get_data(q.area, frame)) {
      rte_memcpy(xsk_umem__get_data(q.area, frame), data, len);
    }
    xdp_desc* d = xsk_ring_prod__tx_desc(&q.tx, at + i);
    d->addr = frame;
    d->len = len;
    q.tx_bytes += len;
  }
  xsk_ring_prod__submit(&q.tx, k);
  rte_pktmbuf_free_bulk(packets, k);
  q.tx_packets += k;
  // Copy mode sends only when asked; zero-copy drivers say whether they need it.
  if (xsk_ring_prod__needs_wakeup(&q.tx)) {
    sendto(xsk_socket__fd(q.xsk), nullptr, 0, MSG_DONTWAIT, nullptr, 0);
  }
  return static_cast<uint16_t>(k);
}

bool AfXdpPort::link_up() const {
  // IFF_RUNNING is the kernel's operational state: up, with carrier.
  ifreq req{};
  return interface_ioctl(interface_, SIOCGIFFLAGS, req) == 0 && (req.ifr_flags & IFF_UP) != 0 &&
         (req.ifr_flags & IFF_RUNNING) != 0;
}

int AfXdpPort::rx_wait_fd(uint16_t queue) const {
  return xsk_socket__fd(queues_[queue]->xsk);
}

PortStats AfXdpPort::stats() const {
  PortStats s;
  for (const auto& queue : queues_) {
    const Queue& q = *queue;
    s.rx_packets += q.rx_packets;
    s.rx_bytes += q.rx_bytes;
    s.tx_packets += q.tx_packets;
    s.tx_bytes += q.tx_bytes;
    // What the kernel could not give the socket: no free frame in the fill ring, or the RX
    // ring full (the lcore fell behind). The control thread reads them; the kernel locks.
    xdp_statistics kernel{};
    socklen_t len = sizeof(kernel);
    if (getsockopt(xsk_socket__fd(q.xsk), SOL_XDP, XDP_STATISTICS, &kernel, &len) == 0) {
      s.rx_missed += kernel.rx_dropped + kernel.rx_ring_full;
    }
  }
  return s;
}

}  // namespace vigil::dp

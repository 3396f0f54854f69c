#include "dataplane/ports/ethdev_port.h"

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

namespace vigil::dp {
namespace {

Failure port_failure(const EthdevPortConfig& c, const std::string& what, int code) {
  return fail("port " + c.name + " (" + c.devargs + "): " + what + ": " +
              rte_strerror(code < 0 ? -code : code));
}

// The ethdev name is the devargs' device part: "net_pcap0" of "net_pcap0,rx_pcap=x".
std::string device_name(const std::string& devargs) {
  return devargs.substr(0, devargs.find(','));
}

}  // namespace

Expected<PortPtr> EthdevPort::open(const EthdevPortConfig& c, rte_mempool* pool) {
  if (int rc = rte_dev_probe(c.devargs.c_str()); rc != 0) {
    return port_failure(c, "cannot probe the device", rc);
  }
  uint16_t port_id = 0;
  if (int rc = rte_eth_dev_get_port_by_name(device_name(c.devargs).c_str(), &port_id); rc != 0) {
    return port_failure(c, "the device has no ethdev port", rc);
  }
  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(port_id, &info); rc != 0) {
    return port_failure(c, "cannot read device info", rc);
  }
  if (c.queues > info.max_rx_queues || c.queues > info.max_tx_queues) {
    return fail("port " + c.name + " (" + c.devargs + "): " + std::to_string(c.queues) +
                " queues wanted (one per lcore), the device has " +
                std::to_string(info.max_rx_queues) + " RX and " +
                std::to_string(info.max_tx_queues) + " TX");
  }
  rte_eth_conf conf{};
  if (c.queues > 1) {
    // Spread flows over the lcores by RSS on addresses and ports.
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP;
    conf.rx_adv_conf.rss_conf.rss_hf &= info.flow_type_rss_offloads;
  }
  if (int rc = rte_eth_dev_configure(port_id, c.queues, c.queues, &conf); rc != 0) {
    return port_failure(c, "cannot configure", rc);
  }
  uint16_t rx_desc = c.rx_descriptors, tx_desc = c.tx_descriptors;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rx_desc, &tx_desc); rc != 0) {
    return port_failure(c, "cannot size the rings", rc);
  }
  const int socket = rte_eth_dev_socket_id(port_id);
  for (uint16_t q = 0; q < c.queues; ++q) {
    if (int rc = rte_eth_rx_queue_setup(port_id, q, rx_desc, socket, nullptr, pool); rc != 0) {
      return port_failure(c, "cannot set up RX queue " + std::to_string(q), rc);
    }
    if (int rc = rte_eth_tx_queue_setup(port_id, q, tx_desc, socket, nullptr); rc != 0) {
      return port_failure(c, "cannot set up TX queue " + std::to_string(q), rc);
    }
  }
  if (int rc = rte_eth_dev_start(port_id); rc != 0) {
    return port_failure(c, "cannot start", rc);
  }
  // A router receives what is sent to other MACs too (its neighbours use its MAC, but a
  // virtual device has none of its own to filter on). Not every PMD supports it.
  (void)rte_eth_promiscuous_enable(port_id);
  rte_ether_addr mac{};
  (void)rte_eth_macaddr_get(port_id, &mac);
  return PortPtr(new EthdevPort(c.name, port_id, c.queues, mac));
}

EthdevPort::~EthdevPort() {
  (void)rte_eth_dev_stop(port_id_);
  (void)rte_eth_dev_close(port_id_);
}

uint16_t EthdevPort::rx_burst(uint16_t queue, rte_mbuf** packets, uint16_t n) {
  return rte_eth_rx_burst(port_id_, queue, packets, n);
}

uint16_t EthdevPort::tx_burst(uint16_t queue, rte_mbuf** packets, uint16_t n) {
  return rte_eth_tx_burst(port_id_, queue, packets, n);
}

PortStats EthdevPort::stats() const {
  rte_eth_stats s{};
  (void)rte_eth_stats_get(port_id_, &s);
  return {.rx_packets = s.ipackets,
          .rx_bytes = s.ibytes,
          .tx_packets = s.opackets,
          .tx_bytes = s.obytes,
          .rx_missed = s.imissed,
          .tx_errors = s.oerrors};
}

bool EthdevPort::link_up() const {
  rte_eth_link link{};
  // A PMD that cannot tell (some virtual devices) is taken as up: its routes stay.
  if (rte_eth_link_get_nowait(port_id_, &link) != 0) {
    return true;
  }
  return link.link_status == RTE_ETH_LINK_UP;
}

}  // namespace vigil::dp

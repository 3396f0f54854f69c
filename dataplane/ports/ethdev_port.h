// A DPDK ethdev opened from devargs: a virtual device ("net_pcap0,rx_pcap=in.pcap",
// "net_ring0", "net_null0,size=64", "net_tap0,iface=dtap0") or a PCI device bound to vfio-pci
// ("0000:03:00.0") in dpdk mode. One RX and one TX queue per lcore.
#pragma once

#include "common/expected.h"
#include "dataplane/ports/port.h"

struct rte_mempool;

namespace vigil::dp {

struct EthdevPortConfig {
  std::string name;     // Vigil's name for the port (the interface key in the config)
  std::string devargs;  // what rte_dev_probe is given
  uint16_t queues = 1;
  uint16_t rx_descriptors = 1024;
  uint16_t tx_descriptors = 1024;
};

class EthdevPort final : public Port {
 public:
  static Expected<PortPtr> open(const EthdevPortConfig& config, rte_mempool* pool);
  ~EthdevPort() override;

  const std::string& name() const override { return name_; }
  rte_ether_addr mac() const override { return mac_; }
  uint16_t queue_count() const override { return queues_; }
  uint16_t rx_burst(uint16_t queue, rte_mbuf** packets, uint16_t n) override;
  uint16_t tx_burst(uint16_t queue, rte_mbuf** packets, uint16_t n) override;
  PortStats stats() const override;
  bool link_up() const override;
  uint16_t port_id() const { return port_id_; }

 private:
  EthdevPort(std::string name, uint16_t port_id, uint16_t queues, rte_ether_addr mac)
      : name_(std::move(name)), port_id_(port_id), queues_(queues), mac_(mac) {}
  std::string name_;
  uint16_t port_id_;
  uint16_t queues_;
  rte_ether_addr mac_;
};

}  // namespace vigil::dp

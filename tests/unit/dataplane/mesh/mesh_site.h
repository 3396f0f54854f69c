// A site's fast path for the mesh's unit tests: the real pipeline (parse → mesh receive →
// admit → route → mesh send → neighbour) over real mbufs and FIBs, with an lcore's tunnels,
// three ports (lan, wan, the tunnel) and a sink that keeps what leaves. Tests carry frames
// between two of them as a wire would.
#pragma once

#include <rte_ip.h>

#include <memory>
#include <optional>

#include "dataplane/mesh/lcore_tunnels.h"
#include "dataplane/mesh/mesh_stages.h"
#include "tests/unit/dataplane/pipeline/forwarding_fixture.h"

namespace vigil::dp::test_mesh {

constexpr PortId kSiteLan = 0, kSiteWan = 1, kTunnel = 2;
constexpr uint16_t kMeshPort = 51820;

struct SiteAddresses {
  const char* lan_mac;
  const char* wan_mac;
  const char* lan;        // the box on its LAN
  const char* lan_net;    // its LAN
  const char* wan;        // the box on the internet
  const char* other_net;  // the other site's LAN, behind the tunnel
};

inline void set_v4(PortInfo& p, const char* a) {
  p.has_v4 = true;
  std::memcpy(p.v4, ip(a).bytes.data(), 4);
}

// One site: a pipeline as vigil-dp builds it, a tunnel table and an lcore's tunnels.
class Site {
 public:
  // With `lcores` above one, each its own pipeline and inbox (tunnel_handoff.h): slot 0's peer
  // is lcore 0's.
  Site(const std::string& name, const SiteAddresses& a, bool publish = true, unsigned lcores = 1)
      : tables_(readers_) {
    auto nt = NeighbourTable::create(name, 256, readers_);
    EXPECT_TRUE(nt) << nt.error();
    neighbours_ = std::move(*nt);
    auto t = RouteTable::create(
        name,
        {.fib = {.max_routes4 = 64, .max_routes6 = 64, .tbl8_groups4 = 16, .tbl8_groups6 = 16}},
        readers_, neighbours_.get());
    EXPECT_TRUE(t) << t.error();
    routes_ = std::move(*t);
    std::vector<PortInfo> ports(3);
    ports[kSiteLan].mac = mac(a.lan_mac);
    ports[kSiteWan].mac = mac(a.wan_mac);
    ports[kTunnel].mtu = 1420;
    set_v4(ports[kSiteLan], a.lan);
    set_v4(ports[kSiteWan], a.wan);
    const std::string wan_host = std::string(a.wan) + "/32";
    const std::string lan_host = std::string(a.lan) + "/32";
    const Status applied = routes_->apply({{net(a.lan_net), connected(kSiteLan)},
                                           {net(lan_host.c_str()), make_group(RouteAction::kLocal)},
                                           {net("192.0.2.0/24"), connected(kSiteWan)},
                                           {net(wan_host.c_str()), make_group(RouteAction::kLocal)},
                                           {net(a.other_net), connected(kTunnel)}},
                                          ports);
    EXPECT_TRUE(applied) << applied.error();
    TunnelShards shards;
    for (unsigned l = 0; l < lcores; ++l) {
      auto& lane = lanes_.emplace_back(std::make_unique<Lane>());
      auto channel = MeshChannel::create(name + "_" + std::to_string(l), kMeshRingSize);
      EXPECT_TRUE(channel) << channel.error();
      lane->channel = std::move(*channel);
      if (lcores > 1) {
        auto inbox = TunnelHandoff::create(name + "_in" + std::to_string(l), 64);
        EXPECT_TRUE(inbox) << inbox.error();
        shards.inboxes.push_back(inbox->get());
        inboxes_.push_back(std::move(*inbox));
      }
    }
    for (unsigned l = 0; l < lcores; ++l) {
      Lane& lane = *lanes_[l];
      shards.self = static_cast<uint16_t>(l);
      lane.tunnels =
          std::make_unique<LcoreTunnels>(*routes_, tables_, *lane.channel, stats_.data(),
                                         lane.counters, test::EalEnvironment::pool(), shards);
      lane.pipeline = std::make_unique<Pipeline>(sink_, lane.counters);
      auto icmp = std::make_shared<IcmpResponder>(lane.counters, 7, IcmpLimits{}, rte_get_tsc_hz());
      lane.pipeline->add(std::make_unique<ParseStage>());
      lane.pipeline->add(std::make_unique<MeshReceiveStage>(*lane.tunnels));
      lane.pipeline->add(std::make_unique<AdmitStage>(*routes_, icmp));
      lane.pipeline->add(std::make_unique<RouteStage>(*routes_, icmp, 7));
      lane.pipeline->add(std::make_unique<MeshSendStage>(*lane.tunnels));
      lane.pipeline->add(std::make_unique<NeighbourStage>(
          *routes_, *neighbours_, sink_, lane.counters, HoldLimits{.hold_ms = 50, .recheck_us = 0},
          rte_get_tsc_hz()));
    }
    if (publish) {
      // The table a control thread would publish: one peer, in slot 0.
      auto table = std::make_unique<TunnelTable>();
      table->listen_port = kMeshPort;
      table->tunnel_port = kTunnel;
      table->active[0] = true;
      table->allowed.insert(*net::Prefix::parse_network(a.other_net), 0);
      tables_.publish(std::move(table));
    }
  }
  ~Site() {
    for (auto& lane : lanes_) {
      lane->tunnels.reset();  // hands its sessions to the channel, which frees them
    }
  }

  void neighbour(PortId port, const char* address, const char* m) {
    ASSERT_TRUE(neighbours_->set(NeighbourKey::from(port, ip(address)), mac(m)));
  }
  void command(const MeshCommand& c) {
    ASSERT_TRUE(lanes_[0]->channel->command(c));
    poll();
  }
  // One loop of each lcore without traffic: commands taken, what they made or were passed
  // sent (twice: what one passes another is taken in the same call).
  void poll() {
    for (int round = 0; round < 2; ++round) {
      for (unsigned l = 0; l < lanes_.size(); ++l) {
        poll_lcore(l);
      }
    }
  }
  // One loop of lcore `l` alone (as its own thread would run it).
  void poll_lcore(unsigned l) {
    Burst scratch;
    lanes_.at(l)->pipeline->poll(0, scratch);
  }
  void install(wg::SessionKeys keys, bool as_next) {
    tables_.indexes().add(keys.local_index);  // as the control thread does
    command({.kind = MeshCommand::Kind::kInstall,
             .as_next = as_next,
             .slot = 0,
             .made_ns = now_ns(),
             .session = new wg::TransportSession(keys)});
  }
  void endpoint(const char* text) {
    command({.kind = MeshCommand::Kind::kEndpoint,
             .slot = 0,
             .endpoint = TunnelEndpoint::from(*net::HostPort::parse(text))});
  }
  // Frames received on `port` by lcore `lcore`, as one burst; then what the lcores made.
  void receive(PortId port, const std::vector<std::vector<uint8_t>>& frames, unsigned lcore = 0) {
    run(port, frames, lcore);
    poll();
  }
  // The burst alone: nothing taken from the rings.
  void run(PortId port, const std::vector<std::vector<uint8_t>>& frames, unsigned lcore = 0) {
    Burst burst;
    burst.reset(port, static_cast<uint16_t>(frames.size()));
    for (size_t i = 0; i < frames.size(); ++i) {
      burst.packets[i] = test::make_mbuf(frames[i]);
    }
    lanes_.at(lcore)->pipeline->run(burst);
  }
  // What left by `port` since the last call.
  std::vector<std::vector<uint8_t>> sent(PortId port) {
    std::vector<std::vector<uint8_t>> out;
    std::erase_if(sink_.sent, [&](auto& entry) {
      if (entry.first != port) {
        return false;
      }
      out.push_back(std::move(entry.second));
      return true;
    });
    return out;
  }
  uint64_t drops(DropReason r, std::optional<unsigned> lcore = std::nullopt) const {
    uint64_t n = 0;
    for (unsigned l = 0; l < lanes_.size(); ++l) {
      if (!lcore || *lcore == l) {
        n += lanes_[l]->counters.drops[static_cast<size_t>(r)];
      }
    }
    return n;
  }
  const TunnelPeerStats& stats() const { return stats_[0]; }
  MeshChannel& channel(unsigned lcore = 0) { return *lanes_.at(lcore)->channel; }
  TunnelTables& tables() { return tables_; }
  TunnelPeerStats* all_stats() { return stats_.data(); }
  static int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

 private:
  NoReaders readers_;
  std::unique_ptr<NeighbourTable> neighbours_;
  std::unique_ptr<RouteTable> routes_;
  TunnelTables tables_;
  struct Lane {
    std::unique_ptr<MeshChannel> channel;
    LcoreCounters counters;
    std::unique_ptr<LcoreTunnels> tunnels;
    std::unique_ptr<Pipeline> pipeline;
  };
  std::array<TunnelPeerStats, kMaxMeshPeers> stats_{};
  CaptureSink sink_;
  std::vector<std::unique_ptr<TunnelHandoff>> inboxes_;  // after the lanes: their packets freed
  std::vector<std::unique_ptr<Lane>> lanes_;
};

const SiteAddresses kA{"02:00:00:00:0a:00", "02:00:00:00:0a:01", "10.1.0.1",
                       "10.1.0.0/24",       "192.0.2.1",         "10.2.0.0/16"};
const SiteAddresses kB{"02:00:00:00:0b:00", "02:00:00:00:0b:01", "10.2.0.1",
                       "10.2.0.0/24",       "192.0.2.2",         "10.1.0.0/16"};
const char* const kHostA = "02:00:00:00:01:05";
const char* const kHostB = "02:00:00:00:02:07";

}  // namespace vigil::dp::test_mesh

// What vigil-dp's `mesh.show` answers (vigild's `show.tunnels` passes it through): what
// `wg show` prints for an interface, and the refusals by reason. Declared once for the producer
// and the CLI; every field has a default.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vigil::api {

struct TunnelPeerStatus {
  std::string name;
  std::string public_key;
  std::string endpoint;          // "" when not known yet
  std::string endpoint_problem;  // a name that did not resolve
  std::vector<std::string> allowed_ips;
  int64_t latest_handshake = 0;  // Unix seconds; 0: never
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
  uint64_t rx_packets = 0;
  uint64_t tx_packets = 0;
  uint64_t handshakes_sent = 0;
  uint64_t handshakes_received = 0;
  uint32_t persistent_keepalive = 0;  // seconds; 0 off
  bool session = false;               // a session is up
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TunnelPeerStatus, name, public_key, endpoint,
                                                endpoint_problem, allowed_ips, latest_handshake,
                                                rx_bytes, tx_bytes, rx_packets, tx_packets,
                                                handshakes_sent, handshakes_received,
                                                persistent_keepalive, session)

struct TunnelsStatus {
  bool enabled = false;  // a mesh section is in force
  std::string public_key;
  uint16_t listen_port = 0;
  bool under_load = false;  // asking initiators for cookies
  std::vector<TunnelPeerStatus> peers;
  std::map<std::string, uint64_t> rejects;  // handshake messages refused, by reason
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TunnelsStatus, enabled, public_key, listen_port,
                                                under_load, peers, rejects)

}  // namespace vigil::api

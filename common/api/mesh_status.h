// What vigil-dp's `mesh.show` answers (vigild's `show.tunnels` passes it through): what
// `wg show` prints for an interface, the refusals by reason, and each peer's paths. Declared once
// for the producer and the CLI; every field has a default.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace vigil::api {

// One path to a peer (show paths): our WAN link toward one of its endpoints.
struct TunnelPathStatus {
  std::string link;
  std::string endpoint;
  std::string state = "down";  // up, degraded, down
  bool measured = false;       // false: vigil-dp has not taken it yet
  bool active = false;         // the peer's traffic takes it
  double rtt_ms = -1;          // EWMA; -1 until measured
  double rtt_p50_ms = -1;
  double rtt_p99_ms = -1;
  double jitter_in_ms = 0;
  double jitter_out_ms = 0;
  double loss_in_1s = 0;  // 0 to 1
  double loss_out_1s = 0;
  double loss_in_10s = 0;
  double loss_out_10s = 0;
  double last_heard_ms_ago = -1;  // -1: never
  uint64_t probes_sent = 0;
  uint64_t probes_received = 0;
  uint64_t changes = 0;
  std::vector<std::string> classes;  // the policies classes it carries now
  std::string last_change;           // "up -> down: nothing heard for 31 ms"; "" before the first
  int64_t last_change_at = 0;        // Unix seconds
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TunnelPathStatus, link, endpoint, state, measured,
                                                active, rtt_ms, rtt_p50_ms, rtt_p99_ms,
                                                jitter_in_ms, jitter_out_ms, loss_in_1s,
                                                loss_out_1s, loss_in_10s, loss_out_10s,
                                                last_heard_ms_ago, probes_sent, probes_received,
                                                changes, classes, last_change, last_change_at)

struct TunnelPeerStatus {
  std::string name;
  std::string public_key;
  std::string previous_public_key;  // taken too until previous_key_until; "" none
  int64_t previous_key_until = 0;   // Unix seconds
  std::string endpoint;             // "" when not known yet
  std::string endpoint_problem;     // a name that did not resolve
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
  uint32_t probe_interval_ms = 0;     // 0: its paths are not probed
  std::vector<TunnelPathStatus> paths;
  std::string preferred;  // "wan2 198.18.2.2:51820": chosen by hand (request path prefer)
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TunnelPeerStatus, name, public_key, endpoint,
                                                endpoint_problem, allowed_ips, latest_handshake,
                                                rx_bytes, tx_bytes, rx_packets, tx_packets,
                                                handshakes_sent, handshakes_received,
                                                persistent_keepalive, session, probe_interval_ms,
                                                paths, preferred, previous_public_key,
                                                previous_key_until)

struct TunnelsStatus {
  bool enabled = false;  // a mesh section is in force
  std::string public_key;
  std::string previous_public_key;  // answered too until previous_key_until; "" none
  int64_t previous_key_until = 0;   // Unix seconds
  uint16_t listen_port = 0;
  bool under_load = false;  // asking initiators for cookies
  std::vector<TunnelPeerStatus> peers;
  std::map<std::string, uint64_t> rejects;  // handshake messages refused, by reason
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(TunnelsStatus, enabled, public_key, listen_port,
                                                under_load, peers, rejects, previous_public_key,
                                                previous_key_until)

}  // namespace vigil::api

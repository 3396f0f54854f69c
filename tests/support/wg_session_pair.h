// Two ends of one WireGuard handshake made in memory, for tests and benchmarks of what comes
// after it (transport, throughput): the initiator's session keys and the responder's.
#pragma once

#include <chrono>
#include <utility>

#include "sdwan/wireguard/noise.h"

namespace vigil::test {

inline std::pair<wg::SessionKeys, wg::SessionKeys> wg_session_pair() {
  using namespace vigil::wg;
  const auto a = LocalIdentity::from_private(generate_keypair().private_key);
  const auto b = LocalIdentity::from_private(generate_keypair().private_key);
  const auto b_at_a = *PeerIdentity::make(a, b.public_key);
  const auto a_at_b = *PeerIdentity::make(b, a.public_key);
  PendingInitiation pending;
  const auto init =
      *create_initiation(a, b_at_a, 5, tai64n(std::chrono::system_clock::now()), pending);
  InitiationRefusal why{};
  const auto in = *consume_initiation(
      b, init, [&](const Key&) { return &a_at_b; }, why);
  const auto answer = *create_response(in, 6);
  return {*consume_response(a, b_at_a, pending, answer.response), answer.keys};
}

}  // namespace vigil::test

// A handshake recorded against wireguard-go 0.0.20220316 in the lab (wireguard_go_transcript.json,
// written by tests/interop/wg_probe --record, preshared key on; the keys are throwaway ones):
// our initiation is rebuilt byte for byte from the recorded secrets, wireguard-go's response
// gives the keys, and those keys open the echo reply wireguard-go sent through the tunnel.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "sdwan/wireguard/cookie.h"
#include "sdwan/wireguard/noise.h"
#include "sdwan/wireguard/transport.h"
#include "tests/support/hex.h"

namespace vigil::wg {
namespace {

using test::from_hex;
using test::to_hex;

template <size_t N>
std::array<uint8_t, N> fixed(const std::string& hex) {
  const auto bytes = from_hex(hex);
  std::array<uint8_t, N> out{};
  EXPECT_EQ(bytes.size(), N);
  std::copy(bytes.begin(), bytes.begin() + static_cast<long>(std::min(N, bytes.size())),
            out.begin());
  return out;
}

TEST(WireguardGoTranscript, ReplaysByteForByte) {
  std::ifstream in(VIGIL_SOURCE_ROOT "/tests/unit/sdwan/wireguard/wireguard_go_transcript.json");
  ASSERT_TRUE(in);
  const auto t = nlohmann::json::parse(in);

  const auto local = LocalIdentity::from_private(fixed<32>(t["initiator_private"]));
  const auto peer =
      PeerIdentity::make(local, fixed<32>(t["responder_public"]), fixed<32>(t["preshared"]));
  ASSERT_TRUE(peer.has_value());
  const Key ephemeral_private = fixed<32>(t["ephemeral_private"]);
  const KeyPair ephemeral{ephemeral_private, public_key_of(ephemeral_private)};
  PendingInitiation pending;
  const auto init =
      create_initiation(local, *peer, std::stoul(t["sender_index"].get<std::string>()),
                        fixed<12>(t["timestamp"]), ephemeral, pending);
  ASSERT_TRUE(init.has_value());
  auto bytes = encode(*init);
  CookieGenerator(*peer).seal(bytes, Clock::now());
  EXPECT_EQ(std::vector<uint8_t>(bytes.begin(), bytes.end()), from_hex(t["initiation"]))
      << "the initiation wireguard-go accepted";

  const auto response_bytes = from_hex(t["response"]);
  EXPECT_TRUE(CookieChecker(local).mac1_ok(response_bytes)) << "wireguard-go's mac1";
  Response response;
  ASSERT_TRUE(decode(response_bytes, response));
  const auto keys = consume_response(local, *peer, pending, response);
  ASSERT_TRUE(keys.has_value());

  TransportSession session(*keys);
  const auto datagram = from_hex(t["echo_reply_datagram"]);
  std::vector<uint8_t> packet(datagram.size());
  size_t length = 0;
  ASSERT_EQ(session.open(datagram, packet, length), OpenResult::kOk);
  packet.resize(length);
  EXPECT_EQ(packet, from_hex(t["echo_reply_packet"])) << "wireguard-go's echo reply, padded";
}

}  // namespace
}  // namespace vigil::wg

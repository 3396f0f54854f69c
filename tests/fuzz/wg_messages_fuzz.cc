// Fuzzes what a WireGuard responder does with a datagram from anyone: classify it, decode it
// as what it claims to be, check its macs, try it as an initiation to us and as a transport
// message to a live session. Nothing may crash, read out of bounds or accept a forgery: a
// transport datagram that opens, or an initiation that decrypts, fails the run (the fuzzer
// cannot have the keys).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "sdwan/wireguard/cookie.h"
#include "sdwan/wireguard/device.h"
#include "sdwan/wireguard/noise.h"
#include "sdwan/wireguard/transport.h"

namespace {

using namespace vigil::wg;

struct World {
  LocalIdentity local = LocalIdentity::from_private(generate_keypair().private_key);
  LocalIdentity other = LocalIdentity::from_private(generate_keypair().private_key);
  PeerIdentity peer = *PeerIdentity::make(local, other.public_key);
  CookieChecker checker{local};
  TransportSession session{SessionKeys{.send = generate_keypair().private_key,
                                       .receive = generate_keypair().private_key,
                                       .local_index = 0x01020304,
                                       .remote_index = 9}};
  // A whole device with one peer: what it does with the datagram (replies, drops, state).
  Device device{DeviceSettings{.private_key = local.private_key,
                               .max_handshakes_per_second = 50,
                               .jitter = [] { return std::chrono::milliseconds(0); }}};
  PeerId peer_id = *device.add_peer({.public_key = other.public_key});
};

World& world() {
  static World w;
  return w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = world();
  const std::span<const uint8_t> d(data, size);
  const auto now = Clock::now();
  const std::vector<uint8_t> source = {192, 0, 2, 1, 0x12, 0x34};
  const auto r = w.device.receive(d, *vigil::net::HostPort::parse("192.0.2.1:51820"), now,
                                  std::chrono::system_clock::now());
  if (!r.packet.empty() || r.from) {
    std::abort();  // authenticated as the peer without its keys: a forgery taken
  }
  switch (classify(d)) {
    case Classified::kInitiation: {
      Initiation m;
      if (!decode(d, m)) {
        std::abort();  // classify said it is one
      }
      (void)w.checker.mac1_ok(d);
      (void)w.checker.mac2_ok(d, source, now);
      InitiationRefusal why{};
      if (consume_initiation(
              w.local, m, [&](const Key&) { return &w.peer; }, why)) {
        std::abort();  // decrypted without our peer's keys: a forgery taken
      }
      (void)w.checker.reply(d, source, now);
      break;
    }
    case Classified::kResponse: {
      Response m;
      if (!decode(d, m)) {
        std::abort();
      }
      (void)w.checker.mac1_ok(d);
      break;
    }
    case Classified::kCookieReply: {
      CookieReply m;
      if (!decode(d, m)) {
        std::abort();
      }
      CookieGenerator g(w.peer);
      (void)g.consume(m, now);
      break;
    }
    case Classified::kTransport: {
      std::vector<uint8_t> out(d.size());
      size_t length = 0;
      if (w.session.open(d, out, length) == OpenResult::kOk) {
        std::abort();  // opened without the key
      }
      break;
    }
    default:
      break;
  }
  return 0;
}

// WireGuard's transport crypto on one core against its ceiling: 1,420-byte packets sealed and
// opened in bursts of 32 through sdwan/wireguard's TransportSession (header, padding, counter,
// replay window included), side by side in the same run with `openssl speed -evp
// chacha20-poly1305 -bytes 1420` (and -decrypt), the library's own loop with nothing around
// it, and two controls: OpenSSL's AEAD per message with nothing around it, and the stream
// `openssl speed` actually times (one nonce, no message ever finished), in this process.
// Rounds alternate ours and openssl's; the medians and their ratio are printed as JSON.
// Time is this thread's CPU time, as openssl speed counts its own (user) CPU time: on a shared
// machine a wall clock would count the moments the core was someone else's.
//
//   build/bench/wg_crypto_bench [--rounds N] [--seconds S] [--smoke]
//
// Also handshakes a second on one core: whole handshakes (initiation, response, the
// initiator's first message) between two wg::Devices, the responder's side alone (an
// initiation taken and answered: two X25519 and the rest), and the responder under load
// answering initiations without mac2 with cookie replies (mac1 checked, no DH).
//
// --smoke: one short round, ours only (the test command runs it; it asserts no timing).
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "bench/thread_cpu.h"
#include "sdwan/wireguard/device.h"
#include "sdwan/wireguard/noise.h"
#include "sdwan/wireguard/transport.h"
#include "tests/support/wg_session_pair.h"

namespace {

using namespace vigil::wg;
using Clock = vigil::bench::ThreadCpuClock;
using vigil::bench::median;

constexpr size_t kPacket = 1420;
constexpr size_t kBurst = 32;

struct Rates {
  double seal_mbps;  // plaintext megabytes (10^6) a second
  double open_mbps;
};

// Bursts sealed by one end and opened by the other for `seconds`, each side's time counted
// apart (the clock read once a burst, not a packet).
Rates ours(double seconds) {
  const auto [a_keys, b_keys] = vigil::test::wg_session_pair();
  TransportSession a(a_keys);
  TransportSession b(b_keys);
  const std::vector<uint8_t> packet(kPacket, 0x5a);
  std::vector<std::vector<uint8_t>> burst(kBurst, std::vector<uint8_t>(sealed_size(kPacket)));
  std::vector<uint8_t> out(sealed_size(kPacket));
  size_t length = 0;
  size_t bad = 0;
  size_t packets = 0;
  Clock::duration sealing{}, opening{};
  const auto end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(seconds));
  while (Clock::now() < end) {
    const auto t0 = Clock::now();
    for (auto& d : burst) {
      a.seal(packet, d);
    }
    const auto t1 = Clock::now();
    for (const auto& d : burst) {
      bad += b.open(d, out, length) == OpenResult::kOk ? 0 : 1;
    }
    opening += Clock::now() - t1;
    sealing += t1 - t0;
    packets += kBurst;
  }
  if (bad != 0) {
    std::cerr << "wg_crypto_bench: " << bad << " packets did not open\n";
    std::exit(1);
  }
  const double bytes = static_cast<double>(packets * kPacket);
  return {bytes / std::chrono::duration<double>(sealing).count() / 1e6,
          bytes / std::chrono::duration<double>(opening).count() / 1e6};
}

// The control: OpenSSL's AEAD called per message with nothing of WireGuard around it (one kept
// context, the nonce set, the packet sealed in place, the tag taken), as a program calls it.
double bare_evp(double seconds) {
  AeadKey key(generate_keypair().private_key);
  std::vector<uint8_t> buf(kPacket + kTagSize, 0x5a);
  size_t packets = 0;
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (Clock::now() < end) {
    for (size_t i = 0; i < kBurst; ++i) {
      key.seal(packets++, std::span<const uint8_t>(buf.data(), kPacket), {}, buf);
    }
  }
  return static_cast<double>(packets * kPacket) /
         std::chrono::duration<double>(Clock::now() - start).count() / 1e6;
}

// What `openssl speed -evp chacha20-poly1305` times (apps/speed.c's EVP_Update_loop, with or
// without -aead in OpenSSL 3.0 for this cipher): one context, one nonce, EVP_EncryptUpdate over
// 1,420 bytes again and again: a single stream, no message ever begun or finished, so none
// of the per-message work any AEAD user pays (the Poly1305 key from block 0, the length
// block, the tag). Reproduced here to show the ceiling's figure is a stream's.
double stream_evp(double seconds) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  const Key key = generate_keypair().private_key;
  const std::array<uint8_t, 12> nonce{};
  std::vector<uint8_t> buf(kPacket, 0x5a);
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), nullptr, key.data(), nonce.data()) != 1) {
    EVP_CIPHER_CTX_free(ctx);
    return 0;
  }
  size_t chunks = 0;
  int out = 0;
  const auto start = Clock::now();
  const auto end =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (Clock::now() < end) {
    for (size_t i = 0; i < kBurst; ++i, ++chunks) {
      (void)EVP_EncryptUpdate(ctx, buf.data(), &out, buf.data(), static_cast<int>(kPacket));
    }
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  EVP_CIPHER_CTX_free(ctx);
  return static_cast<double>(chunks * kPacket) / elapsed / 1e6;
}

struct Handshakes {
  double whole;      // a second, both ends on this core
  double responder;  // initiations taken and answered a second
  double cookies;    // cookie replies a second, under load
};

Handshakes handshakes(double seconds) {
  const auto b_addr = *vigil::net::HostPort::parse("192.0.2.2:51820");
  const auto a_addr = *vigil::net::HostPort::parse("192.0.2.1:51820");
  const auto wall = std::chrono::system_clock::now();
  auto jitter = [] { return std::chrono::milliseconds(0); };
  const Key b_private = generate_keypair().private_key;
  Device b(DeviceSettings{
      .private_key = b_private, .max_handshakes_per_second = 1u << 30, .jitter = jitter});
  // `loaded` is b under load: the same key, so initiations to b pass its mac1 and get a cookie.
  Device loaded(
      DeviceSettings{.private_key = b_private, .max_handshakes_per_second = 0, .jitter = jitter});
  const std::vector<uint8_t> packet = {0x45, 0, 0,  20, 0, 0, 0,  0, 64, 17,
                                       0,    0, 10, 1,  0, 1, 10, 2, 0,  1};
  Handshakes h{};
  // Each round a new initiator (so timestamps and flood limits never refuse it), whose whole
  // handshake is timed.
  size_t whole = 0, answered = 0, cookies = 0;
  Clock::duration whole_t{}, answer_t{}, cookie_t{};
  const auto budget =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (whole_t + answer_t + cookie_t < 3 * budget) {
    Device a(DeviceSettings{.private_key = generate_keypair().private_key, .jitter = jitter});
    const auto a_id = *a.add_peer({.public_key = b.identity().public_key, .endpoint = b_addr});
    const auto b_id = *b.add_peer({.public_key = a.identity().public_key});
    b.allowed_ips().insert(*vigil::net::Prefix::parse_network("10.1.0.0/16"), b_id);
    const auto steady = std::chrono::steady_clock::now() + std::chrono::seconds(whole);
    const auto t0 = Clock::now();
    auto init = a.send(a_id, packet, steady, wall);
    const auto t1 = Clock::now();
    auto answer = b.receive(init.at(0).bytes, a_addr, steady, wall);
    const auto t2 = Clock::now();
    auto confirm = a.receive(answer.replies.at(0).bytes, b_addr, steady, wall);
    const auto delivered = b.receive(confirm.replies.at(0).bytes, a_addr, steady, wall);
    const auto t3 = Clock::now();
    if (delivered.packet.empty()) {
      std::cerr << "wg_crypto_bench: a handshake did not carry the packet\n";
      std::exit(1);
    }
    whole_t += t3 - t0;
    answer_t += t2 - t1;
    ++whole;
    ++answered;
    // The same initiation at a responder under load: a cookie reply.
    const auto c0 = Clock::now();
    const auto cookie = loaded.receive(init.at(0).bytes, a_addr, steady, wall);
    cookie_t += Clock::now() - c0;
    if (cookie.dropped != "cookie_sent" || cookie.replies.size() != 1) {
      std::cerr << "wg_crypto_bench: no cookie reply under load (" << cookie.dropped << ")\n";
      std::exit(1);
    }
    ++cookies;
    b.remove_peer(b_id);
  }
  auto rate = [](size_t n, Clock::duration t) {
    return static_cast<double>(n) / std::chrono::duration<double>(t).count();
  };
  h.whole = rate(whole, whole_t);
  h.responder = rate(answered, answer_t);
  h.cookies = rate(cookies, cookie_t);
  return h;
}

// openssl speed's figure for 1,420 bytes, in megabytes (10^6) a second.
double openssl_speed(bool decrypt, int seconds) {
  const std::string command = std::string("openssl speed ") + (decrypt ? "-decrypt " : "") +
                              "-evp chacha20-poly1305 -bytes 1420 -seconds " +
                              std::to_string(seconds) + " 2>/dev/null";
  FILE* p = ::popen(command.c_str(), "r");
  if (p == nullptr) {
    return 0;
  }
  char line[512];
  double kbytes = 0;
  while (std::fgets(line, sizeof line, p) != nullptr) {
    const std::string l = line;
    if (l.rfind("ChaCha20-Poly1305", 0) == 0) {
      kbytes = std::strtod(l.substr(l.find_last_of(' ') + 1).c_str(), nullptr);
    }
  }
  ::pclose(p);
  return kbytes / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  int seconds = 3;
  bool smoke = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--smoke") {
      smoke = true;
    } else if (a == "--rounds" && i + 1 < argc) {
      rounds = std::atoi(argv[++i]);
    } else if (a == "--seconds" && i + 1 < argc) {
      seconds = std::atoi(argv[++i]);
    } else {
      std::cerr << "usage: wg_crypto_bench [--rounds N] [--seconds S] [--smoke]\n";
      return 64;
    }
  }
  if (smoke) {
    const Rates r = ours(0.2);
    const Handshakes h = handshakes(0.1);
    std::cout << "{\"smoke\": true, \"seal_mbps\": " << r.seal_mbps
              << ", \"open_mbps\": " << r.open_mbps << ", \"handshakes_per_s\": " << h.whole
              << ", \"cookie_replies_per_s\": " << h.cookies << "}\n";
    return r.seal_mbps > 0 && r.open_mbps > 0 && h.whole > 0 && h.cookies > 0 ? 0 : 1;
  }
  std::vector<double> seal, open, enc, dec, bare, stream, whole, responder, cookie;
  for (int i = 0; i < rounds; ++i) {
    const Rates r = ours(seconds);
    seal.push_back(r.seal_mbps);
    open.push_back(r.open_mbps);
    bare.push_back(bare_evp(seconds));
    stream.push_back(stream_evp(seconds));
    const Handshakes h = handshakes(seconds);
    whole.push_back(h.whole);
    responder.push_back(h.responder);
    cookie.push_back(h.cookies);
    enc.push_back(openssl_speed(false, seconds));
    dec.push_back(openssl_speed(true, seconds));
  }
  const double s = median(seal), o = median(open), e = median(enc), d = median(dec),
               b = median(bare), st = median(stream);
  std::printf(
      "{\"rounds\": %d, \"seconds\": %d, \"packet_bytes\": %zu, \"burst\": %zu,\n"
      " \"seal_mbps\": %.0f, \"openssl_encrypt_mbps\": %.0f, \"seal_ratio\": %.2f,\n"
      " \"open_mbps\": %.0f, \"openssl_decrypt_mbps\": %.0f, \"open_ratio\": %.2f,\n"
      " \"bare_evp_seal_mbps\": %.0f, \"bare_evp_ratio\": %.2f, \"seal_vs_bare_evp\": %.2f,\n"
      " \"stream_evp_mbps\": %.0f, \"stream_evp_ratio\": %.2f,\n"
      " \"handshakes_per_s\": %.0f, \"responder_initiations_per_s\": %.0f,\n"
      " \"cookie_replies_per_s\": %.0f}\n",
      rounds, seconds, kPacket, kBurst, s, e, e > 0 ? s / e : 0, o, d, d > 0 ? o / d : 0, b,
      e > 0 ? b / e : 0, b > 0 ? s / b : 0, st, e > 0 ? st / e : 0, median(whole),
      median(responder), median(cookie));
  return 0;
}

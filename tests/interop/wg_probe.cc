// wg_probe: one WireGuard peer over a plain UDP socket, built on sdwan/wireguard/ alone, so
// the system suite can hold the protocol library to wireguard-go's before vigil-dp carries it.
//
//   wg_probe initiate|respond|record --private KEY --peer KEY [--psk KEY] --listen PORT
//            [--endpoint IPV4:PORT] --address IPV4 --remote IPV4 [--timeout SECONDS]
//            [--count N] [--record FILE] [--rate N] [--source IPV4]
//
// initiate: a wg::Device with the peer at --endpoint sends an ICMP echo request from
// --address to --remote through the tunnel (the device makes the handshake first) and waits
// for the reply. respond: a wg::Device that knows no endpoint answers the peer's handshake
// and --count echo requests (1 by default) that come through the tunnel, following the peer
// wherever it sends from. record: the handshake and one echo done step by step with the
// protocol's functions, writing the transcript (keys, ephemeral, timestamp, the datagrams both
// ways) to --record for a unit test to replay. flood: handshake initiations to --endpoint
// (their mac1 right for --peer's key, from a key it does not know) at --rate a second for
// --timeout seconds, counting the cookie replies that come back: a handshake flood. Prints one
// JSON line of what happened; exit 0 when the echoes went through (flood: when it sent).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/key_base64.h"
#include "sdwan/wireguard/cookie.h"
#include "sdwan/wireguard/device.h"
#include "sdwan/wireguard/handshaker.h"
#include "sdwan/wireguard/noise.h"
#include "sdwan/wireguard/transport.h"
#include "tests/support/hex.h"

namespace {

using namespace vigil::wg;
namespace net = vigil::net;

struct Options {
  std::string mode;
  Key private_key{};
  Key peer{};
  Key psk{};
  uint16_t listen = 0;
  std::optional<sockaddr_in> endpoint;
  in_addr address{};
  in_addr remote{};
  int timeout_s = 10;
  int count = 1;
  std::string record;
  int rate = 1000;
  in_addr source{};  // --source: the address to send from (INADDR_ANY: the route's)
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "wg_probe: " << why << "\n";
  std::exit(64);
}

Key key_arg(const char* v) {
  auto k = vigil::key_from_base64(v);
  if (!k) {
    usage(std::string("not a key: ") + v);
  }
  return *k;
}

in_addr ip_arg(const char* v) {
  in_addr a{};
  if (inet_pton(AF_INET, v, &a) != 1) {
    usage(std::string("not an IPv4 address: ") + v);
  }
  return a;
}

Options parse(int argc, char** argv) {
  Options o;
  if (argc < 2) {
    usage("initiate or respond");
  }
  o.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* v = argv[i + 1];
    if (flag == "--private") {
      o.private_key = key_arg(v);
    } else if (flag == "--peer") {
      o.peer = key_arg(v);
    } else if (flag == "--psk") {
      o.psk = key_arg(v);
    } else if (flag == "--listen") {
      o.listen = static_cast<uint16_t>(std::stoi(v));
    } else if (flag == "--endpoint") {
      const std::string s = v;
      const auto colon = s.rfind(':');
      sockaddr_in sa{};
      sa.sin_family = AF_INET;
      sa.sin_addr = ip_arg(s.substr(0, colon).c_str());
      sa.sin_port = htons(static_cast<uint16_t>(std::stoi(s.substr(colon + 1))));
      o.endpoint = sa;
    } else if (flag == "--address") {
      o.address = ip_arg(v);
    } else if (flag == "--remote") {
      o.remote = ip_arg(v);
    } else if (flag == "--count") {
      o.count = std::stoi(v);
    } else if (flag == "--record") {
      o.record = v;
    } else if (flag == "--timeout") {
      o.timeout_s = std::stoi(v);
    } else if (flag == "--rate") {
      o.rate = std::stoi(v);
    } else if (flag == "--source") {
      o.source = ip_arg(v);
    } else {
      usage("unknown option " + flag);
    }
  }
  if (o.mode != "initiate" && o.mode != "respond" && o.mode != "record" && o.mode != "flood") {
    usage("initiate, respond, record or flood");
  }
  return o;
}

uint16_t checksum(const uint8_t* data, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < n; i += 2) {
    sum += uint32_t{data[i]} << 8 | data[i + 1];
  }
  if (n % 2 == 1) {
    sum += uint32_t{data[n - 1]} << 8;
  }
  while (sum >> 16) {
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

// An IPv4 ICMP echo (type 8 request, 0 reply) from `src` to `dst` with 56 bytes of data.
std::vector<uint8_t> icmp_echo(in_addr src, in_addr dst, uint8_t type, uint16_t id, uint16_t seq,
                               const std::vector<uint8_t>& data) {
  std::vector<uint8_t> p(20 + 8 + data.size());
  p[0] = 0x45;
  p[2] = static_cast<uint8_t>(p.size() >> 8);
  p[3] = static_cast<uint8_t>(p.size());
  p[8] = 64;
  p[9] = 1;  // ICMP
  std::memcpy(&p[12], &src, 4);
  std::memcpy(&p[16], &dst, 4);
  const uint16_t ip_sum = checksum(p.data(), 20);
  p[10] = static_cast<uint8_t>(ip_sum >> 8);
  p[11] = static_cast<uint8_t>(ip_sum);
  p[20] = type;
  p[24] = static_cast<uint8_t>(id >> 8);
  p[25] = static_cast<uint8_t>(id);
  p[26] = static_cast<uint8_t>(seq >> 8);
  p[27] = static_cast<uint8_t>(seq);
  std::copy(data.begin(), data.end(), p.begin() + 28);
  const uint16_t icmp_sum = checksum(&p[20], p.size() - 20);
  p[22] = static_cast<uint8_t>(icmp_sum >> 8);
  p[23] = static_cast<uint8_t>(icmp_sum);
  return p;
}

class Probe {
 public:
  explicit Probe(const Options& o)
      : o_(o),
        local_(LocalIdentity::from_private(o.private_key)),
        peer_(*PeerIdentity::make(local_, o.peer, o.psk)),
        generator_(peer_),
        checker_(local_),
        deadline_(std::chrono::steady_clock::now() + std::chrono::seconds(o.timeout_s)) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(o.listen);
    sa.sin_addr = o.source;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      report("cannot bind the UDP port");
      std::exit(69);
    }
  }

  int run() {
    const bool ok = o_.mode == "initiate"  ? device_initiate()
                    : o_.mode == "respond" ? device_respond()
                    : o_.mode == "flood"   ? flood()
                                           : initiate();
    report(ok ? "" : error_);
    return ok ? 0 : 1;
  }

 private:
  void note(const std::string& event) { events_.push_back(event); }

  // Initiations made once (each costs a DH) and sent again and again: the responder refuses
  // the repeats as replays, but only after spending a DH on each, unless it is under load and
  // asks for a cookie first, which is what this measures.
  bool flood() {
    Handshaker h(generate_keypair().private_key, 1000);
    const PeerId target = *h.add_peer(o_.peer, o_.psk);
    std::vector<InitiationBytes> made;
    const auto wall = std::chrono::system_clock::now();
    for (int k = 0; k < 256; ++k) {
      made.push_back(*h.initiate(target, std::chrono::steady_clock::now(),
                                 wall + std::chrono::microseconds(k)));
    }
    uint64_t sent = 0, cookies = 0;
    const auto start = std::chrono::steady_clock::now();
    auto next = start;
    const auto tick = std::chrono::milliseconds(10);
    const int per_tick = std::max(1, o_.rate / 100);
    while (std::chrono::steady_clock::now() < deadline_) {
      for (int k = 0; k < per_tick; ++k) {
        const auto& m = made[sent % made.size()];
        if (::sendto(fd_, m.data(), m.size(), MSG_DONTWAIT,
                     reinterpret_cast<const sockaddr*>(&*o_.endpoint), sizeof *o_.endpoint) > 0) {
          ++sent;
        }
      }
      uint8_t buf[256];
      while (::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) > 0) {
        cookies += buf[0] == 3 ? 1 : 0;
      }
      next += tick;
      std::this_thread::sleep_until(next);
    }
    note("sent " + std::to_string(sent));
    note("cookie_replies " + std::to_string(cookies));
    return sent > 0;
  }

  void report(const std::string& error) {
    std::string events;
    for (const auto& e : events_) {
      events += (events.empty() ? "\"" : ",\"") + e + "\"";
    }
    std::cout << "{\"ok\":" << (error.empty() ? "true" : "false") << ",\"events\":[" << events
              << "],\"error\":\"" << error << "\"}" << std::endl;
  }

  bool fail(const std::string& why) {
    error_ = why;
    return false;
  }

  void send_to(const std::vector<uint8_t>& d, const sockaddr_in& to) {
    ::sendto(fd_, d.data(), d.size(), 0, reinterpret_cast<const sockaddr*>(&to), sizeof to);
  }

  // The next datagram, or nothing at the deadline (or after `most_ms`).
  std::optional<std::vector<uint8_t>> receive(sockaddr_in& from, int most_ms = 1 << 30) {
    const auto left = deadline_ - std::chrono::steady_clock::now();
    const int ms = std::min(
        most_ms,
        static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(left).count()));
    pollfd p{fd_, POLLIN, 0};
    if (ms <= 0 || ::poll(&p, 1, ms) != 1) {
      return std::nullopt;
    }
    std::vector<uint8_t> d(65536);
    socklen_t len = sizeof from;
    const ssize_t n =
        ::recvfrom(fd_, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&from), &len);
    if (n < 0) {
      return std::nullopt;
    }
    d.resize(static_cast<size_t>(n));
    return d;
  }

  std::vector<uint8_t> sealed(TransportSession& s, const std::vector<uint8_t>& packet) {
    std::vector<uint8_t> d(sealed_size(packet.size()));
    d.resize(s.seal(packet, d));
    return d;
  }

  // The packet inside a transport datagram for `s`, or nothing (noted).
  std::optional<std::vector<uint8_t>> opened(TransportSession& s, const std::vector<uint8_t>& d) {
    std::vector<uint8_t> out(d.size());
    size_t length = 0;
    const OpenResult r = s.open(d, out, length);
    if (r != OpenResult::kOk) {
      note(std::string("transport_") + std::string(name_of(r)));
      return std::nullopt;
    }
    out.resize(length);
    return out;
  }

  static net::HostPort hostport(const sockaddr_in& sa) {
    net::HostPort hp;
    hp.address.family = 4;
    std::memcpy(hp.address.bytes.data(), &sa.sin_addr, 4);
    hp.port = ntohs(sa.sin_port);
    return hp;
  }
  static sockaddr_in sockaddr_of(const net::HostPort& hp) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    std::memcpy(&sa.sin_addr, hp.address.bytes.data(), 4);
    sa.sin_port = htons(hp.port);
    return sa;
  }
  void send_all(const std::vector<Datagram>& out) {
    for (const Datagram& d : out) {
      send_to(d.bytes, sockaddr_of(d.to));
    }
  }
  Device make_device(std::optional<net::HostPort> endpoint, PeerId& id) {
    Device device(DeviceSettings{.private_key = o_.private_key});
    id = *device.add_peer({.public_key = o_.peer, .preshared_key = o_.psk, .endpoint = endpoint});
    net::Prefix remote{.length = 32};
    remote.address.family = 4;
    std::memcpy(remote.address.bytes.data(), &o_.remote, 4);
    device.allowed_ips().insert(remote, id);
    return device;
  }
  // The datagram that came, through the device: its replies sent, its drops noted.
  Device::Received through(Device& device, const std::vector<uint8_t>& d, const sockaddr_in& from) {
    auto r = device.receive(d, hostport(from), std::chrono::steady_clock::now(),
                            std::chrono::system_clock::now());
    send_all(r.replies);
    if (!r.dropped.empty()) {
      note("dropped_" + r.dropped);
    }
    return r;
  }

  bool device_initiate() {
    PeerId id = 0;
    Device device = make_device(hostport(*o_.endpoint), id);
    std::vector<uint8_t> data(56);
    for (size_t i = 0; i < data.size(); ++i) {
      data[i] = static_cast<uint8_t>(i);
    }
    send_all(device.send(id, icmp_echo(o_.address, o_.remote, 8, 0x5151, 1, data),
                         std::chrono::steady_clock::now(), std::chrono::system_clock::now()));
    note("echo_request_sent");
    bool handshake = false;
    while (std::chrono::steady_clock::now() < deadline_) {
      sockaddr_in from{};
      auto d = receive(from, 250);
      if (!d) {
        send_all(device.tick(std::chrono::steady_clock::now(), std::chrono::system_clock::now()));
        continue;
      }
      const auto r = through(device, *d, from);
      if (!handshake && device.status(id).has_session) {
        handshake = true;
        note("handshake_done");
      }
      const auto& p = r.packet;
      if (p.size() >= 28 + 56 && p[20] == 0 && std::memcmp(&p[12], &o_.remote, 4) == 0 &&
          std::vector<uint8_t>(p.begin() + 28, p.begin() + 28 + 56) == data) {
        note("echo_reply_received");
        return true;
      }
    }
    if (device.drops().contains("response_does_not_decrypt")) {
      return fail("the response does not decrypt");
    }
    return fail(handshake ? "no echo reply through the tunnel" : "no answer to the initiation");
  }

  bool device_respond() {
    PeerId id = 0;
    Device device = make_device(std::nullopt, id);
    int answered = 0;
    uint64_t handshakes = 0;
    while (answered < o_.count) {
      sockaddr_in from{};
      auto d = receive(from, 250);
      const auto now = std::chrono::steady_clock::now();
      const auto wall = std::chrono::system_clock::now();
      if (!d) {
        if (now >= deadline_) {
          return fail(handshakes == 0 ? "no initiation arrived"
                                      : "no echo request through the tunnel");
        }
        send_all(device.tick(now, wall));
        continue;
      }
      const auto r = through(device, *d, from);
      if (device.status(id).handshakes_received > handshakes) {
        handshakes = device.status(id).handshakes_received;
        note("initiation_taken");
      }
      const auto& p = r.packet;
      if (p.size() < 28 || p[9] != 1 || p[20] != 8) {
        continue;
      }
      in_addr src{};
      std::memcpy(&src, &p[12], 4);
      const auto echo_id = static_cast<uint16_t>(p[24] << 8 | p[25]);
      const auto seq = static_cast<uint16_t>(p[26] << 8 | p[27]);
      note("echo_request_received");
      send_all(device.send(
          id, icmp_echo(o_.address, src, 0, echo_id, seq, {p.begin() + 28, p.end()}), now, wall));
      note("echo_reply_sent");
      ++answered;
    }
    return true;
  }

  void record(const std::string& name, const std::string& value) {
    transcript_ += (transcript_.empty() ? "{" : ",") + ("\n  \"" + name + "\": \"" + value + "\"");
  }

  bool initiate() {
    PendingInitiation pending;
    for (int attempt = 0; attempt < 3; ++attempt) {
      const KeyPair ephemeral = generate_keypair();
      const Tai64n now = tai64n(std::chrono::system_clock::now());
      auto init = create_initiation(local_, peer_, 0x1000 + static_cast<uint32_t>(attempt), now,
                                    ephemeral, pending);
      auto bytes = encode(*init);
      generator_.seal(bytes, Clock::now());
      transcript_.clear();
      record("initiator_private", vigil::test::to_hex(o_.private_key));
      record("responder_public", vigil::test::to_hex(o_.peer));
      record("preshared", vigil::test::to_hex(o_.psk));
      record("ephemeral_private", vigil::test::to_hex(ephemeral.private_key));
      record("timestamp", vigil::test::to_hex(now));
      record("sender_index", std::to_string(0x1000 + attempt));
      record("initiation", vigil::test::to_hex(bytes));
      send_to({bytes.begin(), bytes.end()}, *o_.endpoint);
      note("initiation_sent");
      sockaddr_in from{};
      auto d = receive(from);
      if (!d) {
        return fail("no answer to the initiation");
      }
      const Classified kind = classify(*d);
      if (kind == Classified::kCookieReply) {
        CookieReply reply;
        decode(*d, reply);
        note(generator_.consume(reply, Clock::now()) ? "cookie_taken" : "cookie_refused");
        continue;  // again, with mac2
      }
      Response response;
      if (kind != Classified::kResponse || !decode(*d, response)) {
        return fail("answered with " + std::string(name_of(kind)));
      }
      if (!checker_.mac1_ok(*d)) {
        return fail("the response's mac1 is wrong");
      }
      auto keys = consume_response(local_, peer_, pending, response);
      if (!keys) {
        return fail("the response does not decrypt");
      }
      note("handshake_done");
      record("response", vigil::test::to_hex(*d));
      TransportSession session(*keys);
      return echo_through(session, *o_.endpoint);
    }
    return fail("no response after cookies");
  }

  bool echo_through(TransportSession& session, const sockaddr_in& to) {
    std::vector<uint8_t> data(56);
    for (size_t i = 0; i < data.size(); ++i) {
      data[i] = static_cast<uint8_t>(i);
    }
    send_to(sealed(session, icmp_echo(o_.address, o_.remote, 8, 0x5151, 1, data)), to);
    note("echo_request_sent");
    while (true) {
      sockaddr_in from{};
      auto d = receive(from);
      if (!d) {
        return fail("no echo reply through the tunnel");
      }
      auto packet = opened(session, *d);
      if (!packet || packet->empty()) {
        if (packet) {
          note("keepalive_received");
        }
        continue;
      }
      if (packet->size() >= 28 && (*packet)[20] == 0 &&
          std::memcmp(&(*packet)[12], &o_.remote, 4) == 0 &&
          std::vector<uint8_t>(packet->begin() + 28, packet->begin() + 28 + 56) == data) {
        note("echo_reply_received");
        record("echo_reply_datagram", vigil::test::to_hex(*d));
        record("echo_reply_packet", vigil::test::to_hex(*packet));
        if (!o_.record.empty()) {
          std::ofstream(o_.record) << transcript_ << "\n}\n";
        }
        return true;
      }
      note("other_packet_received");
    }
  }

  Options o_;
  LocalIdentity local_;
  PeerIdentity peer_;
  CookieGenerator generator_;
  CookieChecker checker_;
  std::chrono::steady_clock::time_point deadline_;
  int fd_ = -1;
  std::vector<std::string> events_;
  std::string error_;
  std::string transcript_;
};

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (o.mode != "respond" && !o.endpoint) {
    usage(o.mode + " needs --endpoint");
  }
  if (!PeerIdentity::make(LocalIdentity::from_private(o.private_key), o.peer, o.psk)) {
    usage("the peer's key is of low order");
  }
  Probe probe(o);
  return probe.run();
}

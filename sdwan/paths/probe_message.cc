#include "sdwan/paths/probe_message.h"

namespace vigil::paths {
namespace {

// Network byte order, one field after another.
class Writer {
 public:
  explicit Writer(std::span<uint8_t> out) : out_(out) {}
  void u8(uint8_t v) { out_[at_++] = v; }
  void u32(uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) {
      u8(static_cast<uint8_t>(v >> shift));
    }
  }
  void i64(int64_t v) {
    const auto u = static_cast<uint64_t>(v);
    u32(static_cast<uint32_t>(u >> 32));
    u32(static_cast<uint32_t>(u));
  }

 private:
  std::span<uint8_t> out_;
  size_t at_ = 0;
};

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}
  uint8_t u8() { return in_[at_++]; }
  uint32_t u32() {
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      v = v << 8 | u8();
    }
    return v;
  }
  int64_t i64() {
    const uint64_t high = u32();
    return static_cast<int64_t>(high << 32 | u32());
  }

 private:
  std::span<const uint8_t> in_;
  size_t at_ = 0;
};

}  // namespace

void encode(const ProbeMessage& m, std::span<uint8_t, kProbeSize> out) {
  Writer w(out);
  w.u8(kProbeType);
  w.u8(m.link);
  w.u8(0);
  w.u8(0);
  w.u32(m.sequence);
  w.i64(m.sent_ns);
  w.u32(m.echo_sequence);
  w.i64(m.echo_sent_ns);
  w.i64(m.echo_received_ns);
  w.u32(m.received);
}

std::optional<ProbeMessage> decode(std::span<const uint8_t> in) {
  // The message and at most the tunnel's padding (sealed packets are padded to 16 bytes).
  if (in.size() < kProbeSize || in.size() >= kProbeSize + 16 || in[0] != kProbeType || in[2] != 0 ||
      in[3] != 0) {
    return std::nullopt;
  }
  Reader r(in);
  (void)r.u8();
  ProbeMessage m;
  m.link = r.u8();
  (void)r.u8();
  (void)r.u8();
  m.sequence = r.u32();
  m.sent_ns = r.i64();
  m.echo_sequence = r.u32();
  m.echo_sent_ns = r.i64();
  m.echo_received_ns = r.i64();
  m.received = r.u32();
  if (m.sequence == 0) {
    return std::nullopt;  // sequences start at 1; 0 means "none" in echoes
  }
  return m;
}

}  // namespace vigil::paths

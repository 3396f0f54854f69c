#include "sdwan/paths/probe_message.h"

namespace vigil::paths {
namespace {

// Network byte order, one field after another.
class Writer {
 public:
  explicit Writer(std::span<uint8_t> out) : out_(out) {}
  void u8(uint8_t v) { out_[at_++] = v; }
  void u16(uint16_t v) {
    u8(static_cast<uint8_t>(v >> 8));
    u8(static_cast<uint8_t>(v));
  }
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
  uint16_t u16() {
    const uint16_t high = u8();
    return static_cast<uint16_t>(high << 8 | u8());
  }
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

// The layout, in network order: type, link (1 byte each), interval_ms (2), epoch, sequence
// (4 each), sent_ns (8), echo_sequence (4), echo_sent_ns, echo_received_ns (8 each), received,
// jitter_us (4 each): 48 bytes.
void encode(const ProbeMessage& m, std::span<uint8_t, kProbeSize> out) {
  Writer w(out);
  w.u8(kProbeType);
  w.u8(m.link);
  w.u16(m.interval_ms);
  w.u32(m.epoch);
  w.u32(m.sequence);
  w.i64(m.sent_ns);
  w.u32(m.echo_sequence);
  w.i64(m.echo_sent_ns);
  w.i64(m.echo_received_ns);
  w.u32(m.received);
  w.u32(m.jitter_us);
}

std::optional<ProbeMessage> decode(std::span<const uint8_t> in) {
  // The message and at most the tunnel's padding (sealed packets are padded to 16 bytes).
  if (in.size() < kProbeSize || in.size() >= kProbeSize + 16 || in[0] != kProbeType) {
    return std::nullopt;
  }
  Reader r(in);
  (void)r.u8();
  ProbeMessage m;
  m.link = r.u8();
  m.interval_ms = r.u16();
  m.epoch = r.u32();
  m.sequence = r.u32();
  m.sent_ns = r.i64();
  m.echo_sequence = r.u32();
  m.echo_sent_ns = r.i64();
  m.echo_received_ns = r.i64();
  m.received = r.u32();
  m.jitter_us = r.u32();
  // Sequences start at 1 (0 means "none" in echoes); an epoch of 0 would look like no epoch
  // yet; an interval of 0 would make every silence a loss.
  if (m.sequence == 0 || m.epoch == 0 || m.interval_ms == 0) {
    return std::nullopt;
  }
  return m;
}

}  // namespace vigil::paths

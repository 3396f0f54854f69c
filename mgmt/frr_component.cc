#include "mgmt/frr_component.h"

#include <signal.h>

#include <fstream>

#include "bgp/frr/frr_config.h"
#include "common/logging.h"
#include "common/secret_file.h"
#include "config/document.h"

namespace vigil::mgmt {

using nlohmann::json;

namespace {

// TCP MD5 keys are at most 80 bytes (RFC 2385 leaves it to the implementation; FRR and the
// kernel take 80): a larger file is not a password.
constexpr size_t kMaxPasswordFile = 256;

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) {
    s.pop_back();
  }
  return s;
}

}  // namespace

Expected<std::string> render_frr_for(const config::Config& config) {
  bgp::FrrInput input;
  if (config.routing.bgp) {
    const config::BgpConfig& bgp = *config.routing.bgp;
    input.bgp = &bgp;
    for (const auto& n : bgp.neighbors) {
      if (n.password_file.empty()) {
        continue;
      }
      auto secret = read_private_file(n.password_file, kMaxPasswordFile);
      if (!secret) {
        return fail("routing.bgp.neighbors " + n.address.to_string() + ": " + secret.error());
      }
      input.passwords[n.address.to_string()] = trimmed(std::move(*secret));
    }
    if (bgp.announce_vips) {
      // Every VIP the l4 section has: L4 backends have no health checks yet, so a VIP is
      // announced while it is configured (docs/operations.md says so).
      for (const auto& vip : config.l4.vips) {
        const uint8_t length = vip.address.family == 4 ? 32 : 128;
        input.vips.push_back(net::Prefix{vip.address, length});
      }
    }
  }
  return bgp::render_frr_conf(input);
}

commit::SectionsAnswer FrrComponent::sections() {
  // Running when every daemon's pid file names a live process; the pids together are the
  // instance, so one daemon started again is given the running config again.
  uint64_t instance = 1469598103934665603ULL;  // FNV-1a
  for (std::string_view d : bgp::kFrrDaemons) {
    std::ifstream file(control_.layout().pid_file(d));
    long pid = 0;
    if (!(file >> pid) || pid <= 1 || (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) {
      return {.kind = commit::SectionsAnswer::kNotRunning,
              .error = "FRR's " + std::string(d) + " is not running"};
    }
    instance = (instance ^ static_cast<uint64_t>(pid)) * 1099511628211ULL;
  }
  return {.kind = commit::SectionsAnswer::kAnswered,
          .sections = {"routing", "l4"},
          .instance = static_cast<int64_t>(instance >> 1)};
}

Status FrrComponent::prepare(uint64_t txid, const json& delta) {
  staged_.reset();
  json next = sections_;
  for (const auto& [section, content] : delta.items()) {
    next[section] = content;
  }
  auto config = config::parse_sections(next);
  if (!config) {
    return fail(config.error());
  }
  auto text = render_frr_for(*config);
  if (!text) {
    return fail(text.error());
  }
  if (auto st = control_.check(*text); !st) {
    return st;
  }
  // vtysh applies nothing to a daemon it is not connected to, and says it succeeded.
  if (auto st = control_.all_daemons_up(); !st) {
    return fail(st.error() + "; commit again in a moment");
  }
  staged_ = Staged{.txid = txid, .sections = std::move(next), .text = std::move(*text)};
  return Ok{};
}

commit::ActivateResult FrrComponent::activate(uint64_t txid) {
  if (!staged_ || staged_->txid != txid) {
    return {.kind = commit::ActivateResult::kRefused,
            .error = "frr: nothing prepared for transaction " + std::to_string(txid)};
  }
  Staged staged = std::move(*staged_);
  staged_.reset();
  const std::string path = control_.layout().conf_file();
  if (!applied_known_) {
    // What runs now, from before this vigild started: what a failure puts back.
    auto running = read_private_file(path, size_t{64} << 20);
    applied_ = running ? std::move(*running) : std::string();
    applied_known_ = true;
  }
  if (auto st = write_private_file(path, staged.text, true); !st) {
    return {.kind = commit::ActivateResult::kRefused, .error = "frr: " + st.error()};
  }
  auto st = control_.reload();
  if (!st) {
    // frr-reload.py applies line by line: put back what ran before, whole.
    log::error("FRR did not take the new configuration; applying the previous one again",
               {{"error", st.error()}});
    if (auto back = write_private_file(path, applied_, true); back) {
      if (auto again = control_.reload(); !again) {
        log::error("FRR did not take the previous configuration either",
                   {{"error", again.error()}});
      }
    }
    return {.kind = commit::ActivateResult::kRefused, .error = "frr: " + st.error()};
  }
  sections_ = std::move(staged.sections);
  applied_ = std::move(staged.text);
  return {};
}

void FrrComponent::abort(uint64_t txid) {
  if (staged_ && staged_->txid == txid) {
    staged_.reset();
  }
}

}  // namespace vigil::mgmt

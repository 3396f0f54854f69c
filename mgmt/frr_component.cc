#include "mgmt/frr_component.h"

#include <algorithm>

#include "bgp/frr/frr_config.h"
#include "common/logging.h"
#include "common/pid_file.h"
#include "common/secret_file.h"
#include "config/document.h"

namespace vigil::mgmt {

using nlohmann::json;

namespace {

// TCP MD5 keys are at most 80 bytes (RFC 2385 leaves it to the implementation; FRR and the
// kernel take 80): a larger file is not a password.
constexpr size_t kMaxPasswordFile = 256;

// The password is the file's first line (docs/config.md).
std::string first_line(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  return line;
}

}  // namespace

Expected<FrrRendering> render_frr_for(const config::Config& config, bool l7_up) {
  FrrRendering out;
  bgp::FrrInput input{.hostname = config.system.hostname};
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
      std::string password = first_line(*secret);
      out.secrets.push_back(password);
      input.passwords[n.address.to_string()] = std::move(password);
    }
    if (bgp.announce_vips) {
      // Every VIP the l4 section has: L4 backends have no health checks yet, so a VIP is
      // announced while it is configured (docs/operations.md says so).
      for (const auto& vip : config.l4.vips) {
        const uint8_t length = vip.address.family == 4 ? 32 : 128;
        input.vips.push_back(net::Prefix{vip.address, length});
      }
    }
    if (bgp.announce_l7_listeners && l7_up) {
      for (const auto& listener : config.l7.listeners) {
        const net::IpAddress& a = listener.address.address;
        // 0.0.0.0 or :: is every address of the box: nothing to announce.
        if (a != net::IpAddress{.family = a.family}) {
          input.vips.push_back(net::Prefix{a, static_cast<uint8_t>(a.max_prefix())});
        }
      }
    }
  }
  auto text = bgp::render_frr_conf(input);
  if (!text) {
    return fail(text.error());
  }
  out.text = std::move(*text);
  return out;
}

std::string FrrComponent::scrubbed(std::string text,
                                   const std::vector<std::string>& secrets) const {
  for (const auto* list : {&secrets, applied_ ? &applied_->secrets : nullptr}) {
    for (const std::string& secret : list != nullptr ? *list : std::vector<std::string>{}) {
      // Past each replacement: a secret made of '*' must not match what replaced it.
      for (size_t at = secret.empty() ? std::string::npos : text.find(secret);
           at != std::string::npos; at = text.find(secret, at + 4)) {
        text.replace(at, secret.size(), "****");
      }
    }
  }
  return text;
}

uint64_t FrrComponent::daemons() const {
  // Each daemon as the kernel knows it (its pid file's lock), 0 when it is not running.
  uint64_t instance = 1469598103934665603ULL;  // FNV-1a
  for (std::string_view d : bgp::kFrrDaemons) {
    instance =
        (instance ^ static_cast<uint64_t>(pid_file_lock_holder(control_.layout().pid_file(d)))) *
        1099511628211ULL;
  }
  return instance;
}

commit::SectionsAnswer FrrComponent::sections() {
  // A daemon started again changes the instance, and reconcile gives FRR the config again;
  // so does vigil-l7 coming or going (its listeners' addresses), asked here, on the engine's
  // thread, so that what prepare renders is what this answer counted.
  uint64_t instance = daemons();
  if (l7_reachable_) {
    if (const std::optional<bool> up = l7_reachable_()) {
      l7_up_ = *up;  // not known yet (vigild starting): what was rendered stays
    }
  }
  if (pending_) {
    instance ^= ++pending_asks_ << 40;
  }
  if (!l7_up_) {
    instance ^= 0x5a5a5a5a5a5a5a5aULL;
  }
  return {.kind = commit::SectionsAnswer::kAnswered,
          .sections = {std::begin(kSections), std::end(kSections)},
          .instance = static_cast<int64_t>(instance >> 1)};
}

namespace {

bool complete(const json& sections) {
  return std::all_of(std::begin(FrrComponent::kSections), std::end(FrrComponent::kSections),
                     [&](const char* s) { return sections.contains(s); });
}

}  // namespace

Status FrrComponent::prepare(uint64_t txid, const json& delta) {
  staged_.reset();
  if (!complete(sections_) && complete(delta)) {
    // The first whole config since vigild started: reconcile's push of the running config,
    // what a commit's partial change is relative to, whether or not FRR takes it.
    sections_ = delta;
  }
  json next = sections_;
  for (const auto& [section, content] : delta.items()) {
    next[section] = content;
  }
  // A change of one section renders the others as FRR was given them: until the running
  // config has been given whole (reconcile, after vigild starts), there is nothing to render
  // the rest from, and a file without them would remove them from FRR.
  for (const char* section : kSections) {
    if (!next.contains(section)) {
      return fail(
          "FRR has not been given the running config yet (vigild is starting); commit again in "
          "a moment");
    }
  }
  auto config = config::parse_sections(next);
  if (!config) {
    return fail(config.error());
  }
  auto rendering = render_frr_for(*config, l7_up_);
  if (!rendering) {
    return fail(rendering.error());
  }
  const bool unchanged = applied_ && applied_->text == rendering->text;
  if (!unchanged) {  // what FRR took was checked then
    if (auto st = control_.check(rendering->text); !st) {
      return fail(scrubbed(st.error(), rendering->secrets));
    }
  }
  staged_ = Staged{.txid = txid, .sections = std::move(next), .rendering = std::move(*rendering)};
  return Ok{};
}

FrrRendering FrrComponent::previous() {
  if (applied_) {
    return *applied_;
  }
  if (!found_at_start_) {
    // Read once, before this vigild first writes it: what FRR runs from the vigild before.
    auto on_disk = read_private_file(control_.layout().conf_file(), size_t{64} << 20);
    auto header = bgp::render_frr_conf({});
    found_at_start_ = FrrRendering{.text = on_disk  ? std::move(*on_disk)
                                           : header ? std::move(*header)
                                                    : std::string()};
  }
  return *found_at_start_;
}

commit::ActivateResult FrrComponent::activate(uint64_t txid) {
  using commit::ActivateResult;
  if (!staged_ || staged_->txid != txid) {
    return {.kind = ActivateResult::kRefused,
            .error = "frr: nothing prepared for transaction " + std::to_string(txid)};
  }
  Staged staged = std::move(*staged_);
  staged_.reset();
  const std::string path = control_.layout().conf_file();
  const FrrRendering before = previous();
  // Nothing to do when FRR took this very file and no daemon started since: commits of the
  // other sections (interfaces, l7) then never depend on FRR.
  const uint64_t running = daemons();
  if (!pending_ && applied_ && applied_->text == staged.rendering.text &&
      running == applied_daemons_) {
    sections_ = std::move(staged.sections);
    return {};
  }
  if (auto st = write_private_file(path, staged.rendering.text, true); !st) {
    return {.kind = ActivateResult::kRefused, .error = "frr: " + st.error()};
  }
  // vtysh applies nothing to a daemon it is not connected to and says it succeeded: with one
  // starting, the file waits, and reconcile applies it once they all answer.
  if (auto up = control_.all_daemons_up(); !up) {
    log::warn("FRR's configuration written; it is applied once its daemons answer",
              {{"why", up.error()}});
    sections_ = std::move(staged.sections);
    pending_ = true;
    return {};
  }
  auto st = control_.reload();
  if (!st) {
    const std::string error = scrubbed(st.error(), staged.rendering.secrets);
    // frr-reload.py applies line by line: put back what ran before, whole.
    log::error("FRR did not take the new configuration; applying the previous one again",
               {{"error", error}});
    auto back = write_private_file(path, before.text, true);
    auto again = back ? control_.reload() : back;
    if (!again) {
      // Neither took: what FRR runs now is not known.
      log::error("FRR did not take the previous configuration either",
                 {{"error", scrubbed(again.error(), before.secrets)}});
      pending_ = true;
      return {.kind = ActivateResult::kNoAnswer,
              .error = "frr: " + error + "; the previous configuration did not apply either"};
    }
    return {.kind = ActivateResult::kRefused, .error = "frr: " + error};
  }
  sections_ = std::move(staged.sections);
  applied_ = std::move(staged.rendering);
  applied_daemons_ = running;
  pending_ = false;
  return {};
}

void FrrComponent::abort(uint64_t txid) {
  if (staged_ && staged_->txid == txid) {
    staged_.reset();
  }
}

}  // namespace vigil::mgmt

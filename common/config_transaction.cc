#include "common/config_transaction.h"

#include <algorithm>

namespace vigil {

Status ConfigTransaction::prepare(uint64_t txid, const nlohmann::json& delta,
                                  Clock::time_point now) {
  prepared_.reset();
  if (!delta.is_object()) {
    return fail("delta must be an object of sections");
  }
  for (const auto& [section, _] : delta.items()) {
    if (std::find(sections_.begin(), sections_.end(), section) == sections_.end()) {
      return fail(component_ + " does not apply the \"" + section + "\" section");
    }
  }
  PreparedChange change{.activate = [] { return Status(Ok{}); }};
  if (prepare_) {
    auto built = prepare_(delta);
    if (!built) {
      return fail(built.error());
    }
    change = std::move(*built);
  }
  prepared_ = Prepared{.txid = txid, .change = std::move(change), .prepared_at = now};
  return Ok{};
}

Status ConfigTransaction::activate(uint64_t txid, bool* restarts) {
  if (!prepared_ || prepared_->txid != txid) {
    return fail("nothing prepared for transaction " + std::to_string(txid));
  }
  const PreparedChange change = std::move(prepared_->change);
  prepared_.reset();
  if (restarts != nullptr) {
    *restarts = change.restarts;
  }
  return change.activate();
}

void ConfigTransaction::abort(uint64_t txid) {
  if (prepared_ && prepared_->txid == txid) {
    prepared_.reset();
  }
}

std::optional<uint64_t> ConfigTransaction::expire(Clock::time_point now) {
  if (!prepared_ || now - prepared_->prepared_at < kPreparedLifetime) {
    return std::nullopt;
  }
  const uint64_t txid = prepared_->txid;
  prepared_.reset();
  return txid;
}

std::optional<uint64_t> ConfigTransaction::prepared() const {
  return prepared_ ? std::optional<uint64_t>(prepared_->txid) : std::nullopt;
}

}  // namespace vigil

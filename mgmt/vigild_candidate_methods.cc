// vigild's candidate methods: each caller's private candidate (mgmt/candidates.h) shown,
// loaded, edited, rolled back, discarded, completed and compared against running.
#include "common/yaml_file.h"
#include "config/yaml_json.h"
#include "mgmt/commit/diff.h"
#include "mgmt/config_api.h"
#include "mgmt/vigild_service.h"

namespace vigil::mgmt {

using config::Role;
using nlohmann::json;

namespace {

// A candidate change's answer: whether it would commit, and why not.
rpc::CallResult checked(const Expected<config::ParseResult>& check) {
  if (!check) {
    return rpc::invalid_params(check.error());
  }
  return json{{"valid", check->ok()}, {"errors", errors_json(check->errors)}};
}

}  // namespace

void VigildService::register_candidate_methods() {
  add("candidate.show", Role::kViewer, [this](const json& p, const Caller& c) -> rpc::CallResult {
    const Candidate& cand = candidate_of(p, c);
    return json{{"text", cand.text}, {"modified", cand.modified}};
  });

  add("candidate.load", Role::kAdmin, [this](const json& p, const Caller& c) -> rpc::CallResult {
    return checked(candidates_->load(candidate_of(p, c), p.at("text").get<std::string>(),
                                     p.value("mode", "replace"), p.value("origin", "loaded file")));
  });

  for (const bool is_set : {true, false}) {
    add(is_set ? "candidate.set" : "candidate.delete", Role::kAdmin,
        [this, is_set](const json& p, const Caller& c) -> rpc::CallResult {
          return checked(candidates_->edit(candidate_of(p, c),
                                           p.at("words").get<std::vector<std::string>>(), is_set));
        });
  }

  add("complete", Role::kViewer, [this](const json& p, const Caller& c) -> rpc::CallResult {
    return candidates_->complete(candidate_of(p, c), p.value("words", std::vector<std::string>{}));
  });

  add("candidate.rollback", Role::kAdmin,
      [this](const json& p, const Caller& c) -> rpc::CallResult {
        const size_t n = p.at("rollback").get<size_t>();
        auto seq = candidates_->rollback(candidate_of(p, c), n);
        if (!seq) {
          return rpc::invalid_params(seq.error());
        }
        audit_.record("rollback", {{"user", c.user}, {"loaded", n}, {"seq", *seq}});
        rollbacks_->Add({{"reason", "operator"}}).Increment();
        return json{{"loaded_seq", *seq}};
      });

  add("candidate.discard", Role::kAdmin, [this](const json& p, const Caller& c) -> rpc::CallResult {
    candidates_->discard(candidate_of(p, c));
    return json::object();
  });

  add("compare", Role::kViewer, [this](const json& p, const Caller& c) -> rpc::CallResult {
    const size_t n = p.value("rollback", size_t{0});
    std::string from = store_->running_text();
    if (n > 0) {
      auto seq = store_->seq_of_rollback(n);
      if (!seq) {
        return rpc::invalid_params(seq.error());
      }
      auto text = store_->text_of(*seq);
      if (!text) {
        return rpc::Error{rpc::kInternalError, text.error()};
      }
      from = *text;
    }
    const std::string& to = candidate_of(p, c).text;
    // Both sides in canonical form, so the diff shows what changed, not how it was written.
    auto canonical = [](const std::string& text) {
      auto doc = parse_yaml(text, "compare");
      return doc ? config::emit(*doc) : text;
    };
    return json{{"diff", commit::unified_diff(canonical(from), canonical(to),
                                              n == 0 ? "running" : "rollback " + std::to_string(n),
                                              "candidate")}};
  });
}

}  // namespace vigil::mgmt

// vigild's candidate methods: each caller's private candidate (mgmt/candidates.h) shown,
// loaded, edited, rolled back, discarded, completed and compared against running.
#include <optional>

#include "common/yaml_file.h"
#include "config/yaml_json.h"
#include "mgmt/api_errors.h"
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

json complete_words(const std::string& text, const std::vector<std::string>& words, bool only_set) {
  return Candidates::complete(Candidate{.text = text}, words, only_set);
}

json describe_words(const std::string& text, const std::vector<std::string>& words, bool only_set) {
  json out = json::array();
  for (const auto& w : Candidates::describe(Candidate{.text = text}, words, only_set)) {
    out.push_back({{"word", w.word}, {"type", w.type}, {"description", w.description}});
  }
  return out;
}

// Words of one `set`/`delete`/`complete`: a config path is a handful of words.
constexpr size_t kMaxWords = 64;

std::optional<rpc::Error> bad_words(const std::vector<std::string>& words) {
  if (words.size() > kMaxWords) {
    return rpc::invalid_params("more than " + std::to_string(kMaxWords) + " words");
  }
  return std::nullopt;
}

}  // namespace

const Candidate* VigildService::readable_candidate(const json& p, const Caller& c,
                                                   rpc::Error& error) {
  const std::string owner = p.value("owner", c.user);
  if (owner == c.user) {
    auto own = candidates_->view(own_key(p, c));
    if (!own) {
      error = rpc::invalid_params(own.error());
      return nullptr;
    }
    return *own;
  }
  // Another user's uncommitted work: admins only, and it leaves a trace.
  if (!allowed(c.role, Role::kAdmin)) {
    denied_->Add({{"method", "inspect-candidate"}}).Increment();
    audit_.record("denied", {{"user", c.user},
                             {"role", role_name(c.role)},
                             {"method", "inspect-candidate"},
                             {"owner", owner}});
    error = api_error(rpc::kPermissionDenied,
                      "permission denied: only an admin may read " + owner + "'s candidate");
    return nullptr;
  }
  const std::string session = p.value("session", Candidates::kDefaultSession);
  audit_.record("inspect-candidate", {{"user", c.user}, {"owner", owner}, {"session", session}});
  const Candidate* other = candidates_->find({.owner = owner, .session = session});
  if (other == nullptr) {
    error = rpc::invalid_params(owner + " has no modified candidate in session " + session);
  }
  return other;
}

void VigildService::register_candidate_methods() {
  add("candidate.show", Role::kViewer, [this](const json& p, const Caller& c) -> rpc::CallResult {
    rpc::Error error;
    const Candidate* cand = readable_candidate(p, c, error);
    if (cand == nullptr) {
      return error;
    }
    return json{{"text", cand->text}, {"modified", cand->modified}};
  });

  for (const bool is_set : {true, false}) {
    // The whole candidate is parsed and checked again: off the loop, like load.
    add_deferred(is_set ? "candidate.set" : "candidate.delete", Role::kAdmin,
                 [this, is_set](const json& p, const Caller& c, rpc::Reply reply) {
                   auto words = p.at("words").get<std::vector<std::string>>();
                   if (auto bad = bad_words(words)) {
                     return reply(*bad);
                   }
                   change_candidate_off_loop(
                       p, c,
                       [words = std::move(words), is_set](const std::string& from) {
                         return Candidates::parse_edit(from, words, is_set);
                       },
                       std::move(reply));
                 });
  }

  add_deferred("candidate.insert", Role::kAdmin,
               [this](const json& p, const Caller& c, rpc::Reply reply) {
                 auto words = p.at("words").get<std::vector<std::string>>();
                 if (auto bad = bad_words(words)) {
                   return reply(*bad);
                 }
                 const std::string where = p.value("where", "");
                 if (where != "before" && where != "after") {
                   return reply(rpc::invalid_params("where must be before or after"));
                 }
                 change_candidate_off_loop(
                     p, c,
                     [words = std::move(words), before = where == "before",
                      other = p.value("other", "")](const std::string& from) {
                       return Candidates::parse_insert(from, words, before, other);
                     },
                     std::move(reply));
               });

  // `update`: what was committed since the candidate was made, merged into it.
  add_deferred(
      "candidate.update", Role::kAdmin, [this](const json& p, const Caller& c, rpc::Reply reply) {
        auto cand = candidate_of(p, c);
        if (!cand) {
          return reply(rpc::invalid_params(cand.error()));
        }
        const uint64_t running_seq = store_->running_seq();
        const uint64_t base_seq = (*cand)->base_seq;
        if (!(*cand)->modified || base_seq == running_seq) {
          return reply(json{{"updated", false}, {"base_seq", running_seq}});
        }
        auto base = store_->text_of(base_seq);
        if (!base) {
          return reply(rpc::invalid_params(
              "commit " + std::to_string(base_seq) +
              ", your candidate's base, is no longer kept: save your candidate, "
              "discard it and load merge the file"));
        }
        audit_.record("update", {{"user", c.user}, {"from", base_seq}, {"to", running_seq}});
        change_candidate_off_loop(
            p, c,
            [base = std::move(*base), running = store_->running_text(),
             running_seq](const std::string& from) {
              return Candidates::parse_update(base, running, from, running_seq);
            },
            std::move(reply));
      });

  // Completion and `?` read the whole candidate: parsed on the parse threads like load, so
  // no caller can hold the loop with them.
  for (const bool described : {false, true}) {
    add_deferred(described ? "describe" : "complete", Role::kViewer,
                 [this, described](const json& p, const Caller& c, rpc::Reply reply) {
                   auto words = p.value("words", std::vector<std::string>{});
                   if (auto bad = bad_words(words)) {
                     return reply(*bad);
                   }
                   auto cand = candidates_->view(own_key(p, c));
                   if (!cand) {
                     return reply(rpc::invalid_params(cand.error()));
                   }
                   off_loop_parse(
                       c,
                       [text = (*cand)->text, words = std::move(words), described,
                        only_set = p.value("only_set", false), reply] {
                         auto answer = std::make_shared<json>(
                             described ? describe_words(text, words, only_set)
                                       : complete_words(text, words, only_set));
                         return std::function<void()>([answer, reply] { reply(*answer); });
                       },
                       reply);
                 });
  }

  add("candidate.rollback", Role::kAdmin,
      [this](const json& p, const Caller& c) -> rpc::CallResult {
        const size_t n = p.at("rollback").get<size_t>();
        auto cand = candidate_of(p, c);
        if (!cand) {
          return rpc::invalid_params(cand.error());
        }
        auto seq = candidates_->rollback(**cand, n);
        if (!seq) {
          return rpc::invalid_params(seq.error());
        }
        audit_.record("rollback", {{"user", c.user}, {"loaded", n}, {"seq", *seq}});
        rollbacks_->Add({{"reason", "operator"}}).Increment();
        return json{{"loaded_seq", *seq}};
      });

  add("candidate.discard", Role::kAdmin, [this](const json& p, const Caller& c) -> rpc::CallResult {
    auto cand = candidate_of(p, c);
    if (!cand) {
      return rpc::invalid_params(cand.error());
    }
    candidates_->discard(**cand);
    return json::object();
  });

  // The candidate against running or rollback N; with `to`, rollback N against rollback M
  // (`show system rollback N compare M`, `show configuration | compare rollback N`).
  add("compare", Role::kViewer, [this](const json& p, const Caller& c) -> rpc::CallResult {
    auto committed = [this](size_t n) -> Expected<std::string> {
      if (n == 0) {
        return store_->running_text();
      }
      auto seq = store_->seq_of_rollback(n);
      if (!seq) {
        return fail(seq.error());
      }
      return store_->text_of(*seq);
    };
    auto label = [](size_t n) {
      return n == 0 ? std::string("running") : "rollback " + std::to_string(n);
    };
    const size_t n = p.value("rollback", size_t{0});
    auto from = committed(n);
    if (!from) {
      return rpc::invalid_params(from.error());
    }
    std::string to;
    std::string to_label = "candidate";
    if (p.contains("to")) {
      const size_t m = p.value("to", size_t{0});
      auto text = committed(m);
      if (!text) {
        return rpc::invalid_params(text.error());
      }
      to = std::move(*text);
      to_label = label(m);
    } else {
      rpc::Error error;
      const Candidate* cand = readable_candidate(p, c, error);
      if (cand == nullptr) {
        return error;
      }
      to = cand->text;
    }
    // Both sides in canonical form, so the diff shows what changed, not how it was written.
    auto canonical = [](const std::string& text) {
      auto doc = parse_yaml(text, "compare");
      return doc ? config::emit(*doc) : text;
    };
    return json{
        {"diff", commit::unified_diff(canonical(*from), canonical(to), label(n), to_label)}};
  });
}

void VigildService::register_parsing_methods() {
  add_deferred("validate", Role::kViewer, [this](const json& p, const Caller& c, rpc::Reply reply) {
    auto request = validate_request(p);
    if (!request) {
      return reply(rpc::invalid_params(request.error()));
    }
    off_loop_parse(
        c,
        [this, request = std::move(*request), reply] {
          size_t errors = 0;
          auto answer = std::make_shared<json>(validate_text(request, errors));
          return std::function<void()>([this, answer, errors, reply] {
            validation_errors_->Add({}).Increment(static_cast<double>(errors));
            reply(std::move(*answer));
          });
        },
        reply);
  });

  add_deferred("candidate.load", Role::kAdmin,
               [this](const json& p, const Caller& c, rpc::Reply reply) {
                 change_candidate_off_loop(
                     p, c,
                     [text = p.at("text").get<std::string>(), mode = p.value("mode", "replace"),
                      origin = p.value("origin", "loaded file")](const std::string& from) {
                       return Candidates::parse_load(from, text, mode, origin);
                     },
                     std::move(reply));
               });
}

void VigildService::change_candidate_off_loop(
    const json& params, const Caller& caller,
    std::function<Expected<Candidates::Loaded>(const std::string&)> parse, rpc::Reply reply) {
  auto cand = candidate_of(params, caller);
  if (!cand) {
    return reply(rpc::invalid_params(cand.error()));
  }
  const CandidateKey key = own_key(params, caller);
  std::string base = (*cand)->text;
  off_loop_parse(
      caller,
      [this, key, base = std::move(base), parse = std::move(parse), reply,
       running = store_->running()] {
        auto loaded = std::make_shared<Expected<Candidates::Loaded>>(parse(base));
        if (*loaded) {
          Candidates::compare_with_running(**loaded, running.text);
        }
        return std::function<void()>([this, key, base, loaded, reply, seq = running.seq] {
          if (!*loaded) {
            const bool conflict = loaded->error().starts_with(Candidates::kConflict);
            return reply(conflict ? api_error(kCandidateConflict, loaded->error())
                                  : rpc::invalid_params(loaded->error()));
          }
          // The slot may have been let go meanwhile (it held only the running config).
          auto now = candidates_->of(key);
          if (!now) {
            return reply(rpc::invalid_params(now.error()));
          }
          if ((*now)->text != base) {
            return reply(rpc::invalid_params(
                "the candidate changed while this change was parsed; make it again"));
          }
          if (store_->running_seq() != seq) {
            (*loaded)->same_as_running = false;  // compared with a config no longer running
          }
          reply(checked(Candidates::apply_load(**now, std::move(**loaded))));
        });
      },
      reply);
}

}  // namespace vigil::mgmt

#include "mgmt/mesh/enrolment.h"

#include <openssl/crypto.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <future>

#include "common/logging.h"
#include "common/utc_time.h"
#include "mgmt/api_errors.h"
#include "mgmt/mesh/membership.h"
#include "mgmt/mesh/wireguard_key.h"

namespace vigil::mgmt::mesh {

using nlohmann::json;

namespace {

constexpr const char* kMeshUser = "mesh";

json refusal(std::string_view reason, const std::string& message) {
  return {{"error", {{"reason", reason}, {"message", message}}}};
}

std::string hex_of(const uint8_t* data, size_t n) {
  std::string out(2 * n + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, n);
  out.pop_back();
  return out;
}

template <size_t N>
std::optional<std::array<uint8_t, N>> from_hex(const json& j) {
  if (!j.is_string() || j.get_ref<const std::string&>().size() != 2 * N) {
    return std::nullopt;
  }
  const std::string& s = j.get_ref<const std::string&>();
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < 2 * N; ++i) {
    const char c = s[i];
    const int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) {
      return std::nullopt;
    }
    out[i / 2] = static_cast<uint8_t>(out[i / 2] << 4 | v);
  }
  return out;
}

// This site's WireGuard public key, from the private key file; made there (0600) first when
// `create` and there is none.
Expected<Key32> own_public_key(const std::string& file, bool create) {
  struct stat st {};
  if (create && ::lstat(file.c_str(), &st) != 0 && errno == ENOENT) {
    return write_new_wireguard_key(file, /*replace=*/false);
  }
  return wireguard_public_key(file);
}

// A rotation's grace: long enough for every member to be told, short enough that a key
// retired because it may have leaked stops being taken soon.
constexpr int64_t kMinRotationGrace = 60;
constexpr int64_t kMaxRotationGrace = int64_t{7} * 24 * 3600;

// The key file the rotation before retired may go: it is beside the new one (where rotations
// write) and the running config names it nowhere.
bool unreferenced_key_beside(const std::string& retired, const std::string& new_file,
                             const config::Config& running) {
  const auto dir = [](const std::string& path) { return path.substr(0, path.rfind('/') + 1); };
  if (retired.empty() || dir(retired) != dir(new_file)) {
    return false;
  }
  const config::MeshConfig& m = running.mesh;
  if (retired == m.private_key_file || retired == m.previous_private_key_file ||
      retired == m.identity_key_file) {
    return false;
  }
  return std::none_of(m.peers.begin(), m.peers.end(),
                      [&](const auto& p) { return p.preshared_key_file == retired; });
}

bool has_member(const config::Config& c) {
  return std::any_of(c.mesh.peers.begin(), c.mesh.peers.end(),
                     [](const auto& p) { return p.identity.has_value(); });
}

}  // namespace

Enrolment::Enrolment(EnrolmentContext context)
    : ctx_(std::move(context)), joins_(std::make_unique<WorkerPool>(1, 1)) {}

Enrolment::~Enrolment() {
  stopping_.store(true);
  // The service and the announcer first: their threads post to the loop and use the rest.
  server_.reset();
  announcer_.reset();
  joins_.reset();
}

Expected<std::shared_ptr<const enrol::Identity>> Enrolment::identity() {
  if (identity_ && identity_file_ == running_.mesh.identity_key_file) {
    return identity_;
  }
  auto loaded = enrol::Identity::load_or_create(running_.mesh.identity_key_file);
  if (!loaded) {
    return fail(loaded.error());
  }
  identity_ = std::make_shared<const enrol::Identity>(std::move(*loaded));
  identity_file_ = running_.mesh.identity_key_file;
  announcer_ = std::make_unique<Announcer>(
      identity_, [loop = &ctx_.loop, audit = &ctx_.audit](const Delivery& d, const Status& st) {
        loop->post([audit, d, st] {
          audit->record("mesh-announce", {{"to", d.site},
                                          {"what", d.what},
                                          {"result", st ? "delivered" : "failed"},
                                          {"error", st ? std::string() : st.error()}});
        });
      });
  return identity_;
}

Expected<enrol::TokenStore*> Enrolment::tokens() {
  if (!tokens_) {
    auto opened = enrol::TokenStore::open(ctx_.state_dir + "/mesh-tokens.json");
    if (!opened) {
      return fail(opened.error());
    }
    tokens_.emplace(std::move(*opened));
  }
  return &*tokens_;
}

Expected<enrol::Member> Enrolment::self(const std::string& site) {
  auto me = identity();
  if (!me) {
    return fail(me.error());
  }
  auto pub = own_public_key(running_.mesh.private_key_file, /*create=*/false);
  if (!pub) {
    return fail(pub.error());
  }
  return self_member(running_, site, *pub, (*me)->public_key());
}

void Enrolment::apply(const config::Config& running) {
  running_ = running;
  std::vector<net::HostPort> want;
  if (!running_.mesh.site.empty() && running_.mesh.enrolment_port != 0) {
    for (const auto& i : running_.interfaces) {
      if (i.role == config::InterfaceRole::kWan && i.enabled) {
        for (const auto& a : i.addresses) {
          want.push_back({.address = a.address, .port = running_.mesh.enrolment_port});
        }
      }
    }
  }
  if (server_ && server_->addresses() == want &&
      identity_file_ == running_.mesh.identity_key_file) {
    return;
  }
  server_.reset();
  server_error_.clear();
  if (want.empty()) {
    return;
  }
  auto me = identity();
  if (!me) {
    server_error_ = me.error();
    log::error("the mesh enrolment service is off", {{"error", server_error_}});
    return;
  }
  auto started = EnrolServer::start(
      want, *me,
      [this](const json& request, const enrol::TlsChannel& ch,
             const std::atomic<bool>& stopping) -> json {
        auto promise = std::make_shared<std::promise<json>>();
        auto future = promise->get_future();
        ctx_.loop.post([this, request, id = ch.peer_identity(), from = ch.peer_address(), promise] {
          auto once = std::make_shared<bool>(false);
          on_request(request, id, from, [promise, once](json a) {
            if (!std::exchange(*once, true)) {
              promise->set_value(std::move(a));
            }
          });
        });
        // Within the connection's budget, with a second left to send the answer; a join
        // decided after is answered again when the same site asks again (on_join), so "busy"
        // never loses an admission.
        const auto until = ch.deadline() - std::chrono::seconds(1);
        while (!stopping.load() && enrol::TlsChannel::Clock::now() < until) {
          if (future.wait_for(std::chrono::milliseconds(100)) == std::future_status::ready) {
            return future.get();
          }
        }
        return refusal(kBusyReason, "the site did not decide in time: try again");
      });
  if (!started) {
    server_error_ = started.error();
    log::error("the mesh enrolment service is off", {{"error", server_error_}});
    return;
  }
  server_ = std::move(*started);
  log::info("mesh enrolment service listening",
            {{"port", running_.mesh.enrolment_port}, {"addresses", want.size()}});
}

void Enrolment::commit_edit(Edit edit, const std::string& user, const std::string& comment,
                            const std::function<void(Expected<uint64_t>)>& done) {
  auto job = [this, edit = std::move(edit), user, comment, done]() {
    Expected<uint64_t> result = uint64_t{0};
    try {
      if (ctx_.engine.pending()) {
        result = fail(std::string(kBusyPrefix) +
                      "a commit confirmed waits for its confirmation here: membership changes wait "
                      "until it is confirmed or rolled back");
      } else {
        const auto running = ctx_.engine.store().running();
        auto text = edit(running.text, ctx_.engine.running_config());
        if (!text) {
          result = fail(text.error());
        } else if (text->has_value()) {
          auto outcome = ctx_.engine.commit({.text = **text,
                                             .user = user,
                                             .comment = comment,
                                             .kind = "mesh",
                                             .based_on = running.seq});
          result = outcome ? Expected<uint64_t>(outcome->record.seq)
                           : Expected<uint64_t>(fail(outcome.error()));
        }
      }
    } catch (const std::exception& e) {
      // Whoever waits (a join, an announcement) must hear back, whatever went wrong.
      result = fail(std::string("internal error: ") + e.what());
    }
    ctx_.loop.post([this, result, user, comment, done] {
      if (result && *result != 0) {
        ctx_.audit.record("commit", {{"user", user},
                                     {"result", "ok"},
                                     {"seq", *result},
                                     {"kind", "mesh"},
                                     {"comment", comment}});
        ctx_.refresh_running();
      } else if (!result) {
        ctx_.audit.record("commit", {{"user", user},
                                     {"result", "failed"},
                                     {"kind", "mesh"},
                                     {"comment", comment},
                                     {"error", result.error()}});
      }
      done(result);
    });
  };
  if (!ctx_.engine_worker.submit(job)) {
    done(fail(std::string(kBusyPrefix) + "vigild is busy with commits: try again shortly"));
  }
}

std::vector<std::string> Enrolment::announce(const json& message, const std::string& what,
                                             const std::vector<enrol::Member>& to,
                                             const std::vector<std::string>& except) {
  std::vector<std::string> told;
  if (!identity() || !announcer_) {
    return told;
  }
  for (const enrol::Member& m : to) {
    if (std::find(except.begin(), except.end(), m.site) != except.end()) {
      continue;
    }
    if (announcer_->send({.site = m.site,
                          .contacts = m.contacts(),
                          .identity = m.identity,
                          .message = message,
                          .what = what})) {
      told.push_back(m.site);
    } else {
      ctx_.audit.record("mesh-announce", {{"to", m.site},
                                          {"what", what},
                                          {"result", "not queued"},
                                          {"error", "256 announcements wait already"}});
    }
  }
  return told;
}

// ---- the service's requests ---------------------------------------------------------------

bool Enrolment::audit_stranger(std::string_view event, std::initializer_list<log::Field> fields) {
  // Anyone on the WAN with a self-made identity can make these: at most 30 a minute reach
  // the audit log, the rest are counted and the count goes with the next line.
  const int64_t minute = ctx_.clock() / 60;
  if (minute != stranger_minute_) {
    stranger_minute_ = minute;
    stranger_lines_ = 0;
  }
  if (++stranger_lines_ > 30) {
    ++strangers_suppressed_;
    return false;
  }
  if (strangers_suppressed_ > 0) {
    ctx_.audit.record("mesh-refusals-suppressed", {{"count", strangers_suppressed_}});
    strangers_suppressed_ = 0;
  }
  ctx_.audit.record(event, fields);
  return true;
}

void Enrolment::on_request(const json& request, const Key32& identity, const std::string& from,
                           const Answer& answer) {
  const json& method = request.value("method", json(""));
  if (running_.mesh.site.empty()) {
    return answer(refusal("not-member", "this site is not a member of a mesh"));
  }
  if (method == "join") {
    return on_join(request, identity, from, answer);
  }
  if (method == "announce") {
    for (const auto& p : running_.mesh.peers) {
      if (p.identity && CRYPTO_memcmp(p.identity->data(), identity.data(), identity.size()) == 0) {
        return on_announce(request, p.name, answer);
      }
    }
    audit_stranger("mesh-announce-refused", {{"from", from}, {"reason", "not a member"}});
    return answer(refusal("not-member", "your identity is not a member's here"));
  }
  answer(refusal("malformed", "no such request: join or announce"));
}

void Enrolment::on_join(const json& request, const Key32& identity, const std::string& from,
                        const Answer& answer) {
  const auto id = from_hex<16>(request.value("token_id", json()));
  const auto secret = from_hex<32>(request.value("secret", json()));
  auto member = enrol::member_from_json(request.value("member", json()));
  if (!id || !secret || !member) {
    audit_stranger("mesh-join", {{"from", from}, {"result", "refused"}, {"reason", "malformed"}});
    return answer(refusal(
        "malformed", member ? "the token is not whole" : "the joining site: " + member.error()));
  }
  if (member->identity != identity) {
    return answer(refusal("malformed", "the member's identity is not the one proven in TLS"));
  }
  if (rotating_) {
    // The answer names this site's key: not while it changes.
    return answer(refusal(kBusyReason, "this site's key is being rotated: ask again in a moment"));
  }
  auto store = tokens();
  if (!store) {
    log::error("mesh join: cannot read the token store", {{"error", store.error()}});
    return answer(refusal("internal", "the site cannot check tokens now: see its log"));
  }
  const int64_t now = ctx_.clock();
  const std::string token = enrol::token_id_hex(*id);
  const std::string identity_text = key_to_base64(identity);
  const auto* existing = [&]() -> const config::MeshPeerConfig* {
    for (const auto& p : running_.mesh.peers) {
      if (p.name == member->site) {
        return &p;
      }
    }
    return nullptr;
  }();
  enrol::Redemption r = (*store)->redeem(*id, *secret, member->site, from, identity_text, now);
  auto self_info = self(running_.mesh.site);
  if (!self_info) {
    log::error("mesh join: this site cannot describe itself", {{"error", self_info.error()}});
    if (r.refusal == enrol::Refusal::kNone) {
      (*store)->give_back(r.record.id, now);
    }
    return answer(refusal("internal", "the site cannot admit anyone now: see its log"));
  }
  const auto members_for = [this, me = *self_info](const std::string& joined) {
    json members = json::array({to_json(me)});
    for (const enrol::Member& m : known_members(running_)) {
      if (m.site != joined) {
        members.push_back(to_json(m));
      }
    }
    return json{{"admitted_by", running_.mesh.site}, {"members", std::move(members)}};
  };
  // The same site asking again with the token it was admitted with (its first answer was
  // lost, or came after its wait): the same answer, nothing committed again.
  if (r.refusal == enrol::Refusal::kUsed && r.record.used_by == identity_text &&
      existing != nullptr && existing->identity == identity &&
      existing->public_key == member->public_key) {
    return answer(members_for(member->site));
  }
  if (r.refusal == enrol::Refusal::kUsed && r.record.used_by == identity_text &&
      existing == nullptr) {
    if (joins_in_flight_.contains(token)) {
      return answer(refusal(kBusyReason, "your join is being committed: ask again in a moment"));
    }
    // Redeemed by this very site, whose commit then never happened (vigild stopped between
    // the two): the token is taken back and used again now.
    (*store)->give_back(r.record.id, r.record.used_at);
    r = (*store)->redeem(*id, *secret, member->site, from, identity_text, now);
  }
  if (r.refusal == enrol::Refusal::kNone && existing != nullptr) {
    (*store)->give_back(r.record.id, now);
    r = {enrol::Refusal::kWrongSite,
         "site " + member->site + " is a member here already: revoke it first", r.record};
  }
  if (r.refusal != enrol::Refusal::kNone) {
    audit_stranger("mesh-join", {{"site", member->site},
                                 {"token", token},
                                 {"from", from},
                                 {"result", "refused"},
                                 {"reason", enrol::refusal_name(r.refusal)},
                                 {"error", r.message}});
    return answer(refusal(enrol::refusal_name(r.refusal), r.message));
  }
  const enrol::Member joined = *member;
  joins_in_flight_.insert(token);
  const std::string comment = "site " + joined.site + " joined with token " + token + " (made by " +
                              r.record.created_by + ") from " + from;
  commit_edit(
      [joined](const std::string& text, const config::Config& running) {
        return add_member(text, running, joined, /*about_itself=*/false);
      },
      kMeshUser, comment,
      [this, joined, token, from, now, answer, members_for,
       by = r.record.created_by](Expected<uint64_t> seq) {
        joins_in_flight_.erase(token);
        if (!seq) {
          if (auto s = tokens()) {
            (*s)->give_back(token, now);
          }
          ctx_.audit.record("mesh-join", {{"site", joined.site},
                                          {"token", token},
                                          {"from", from},
                                          {"result", "refused"},
                                          {"reason", "commit"},
                                          {"error", seq.error()}});
          const bool busy = seq.error().starts_with(kBusyPrefix);
          return answer(
              refusal(busy ? kBusyReason : "refused", "the site cannot add you: " + seq.error()));
        }
        const auto told = announce({{"method", "announce"}, {"add", to_json(joined)}},
                                   joined.site + " joined", known_members(running_), {joined.site});
        ctx_.audit.record("mesh-join", {{"site", joined.site},
                                        {"token", token},
                                        {"token_by", by},
                                        {"from", from},
                                        {"result", "admitted"},
                                        {"seq", *seq},
                                        {"announced_to", told.size()}});
        answer(members_for(joined.site));
      });
}

void Enrolment::on_announce(const json& request, const std::string& sender, const Answer& answer) {
  const auto answered = [this, answer, sender](const std::string& what,
                                               const Expected<uint64_t>& seq) {
    ctx_.audit.record("mesh-announce-heard",
                      {{"from", sender},
                       {"change", what},
                       {"result", seq ? (*seq != 0 ? "ok" : "nothing to do") : "refused"},
                       {"error", seq ? std::string() : seq.error()}});
    if (seq) {
      return answer(json{{"ok", true}, {"changed", *seq != 0}});
    }
    const bool busy = seq.error().starts_with(kBusyPrefix);
    answer(refusal(busy ? kBusyReason : "refused", seq.error()));
  };
  if (auto add = request.find("add"); add != request.end()) {
    auto member = enrol::member_from_json(*add);
    if (!member) {
      return answer(refusal("malformed", member.error()));
    }
    if (member->site == running_.mesh.site) {
      return answer(refusal("refused", "that is this site"));
    }
    const enrol::Member m = *member;
    // A member may change what it says of itself (its endpoints, its networks); another's
    // entry only the site itself may change.
    const bool about_itself = m.site == sender;
    return commit_edit(
        [m, about_itself](const std::string& text, const config::Config& running) {
          return add_member(text, running, m, about_itself);
        },
        kMeshUser,
        "site " + m.site + (about_itself ? " changed" : " joined") + " (announced by " + sender +
            ")",
        [this, answered, m, about_itself](const Expected<uint64_t>& seq) {
          if (seq && !about_itself) {
            tell_rotation(m);  // it may have heard this site's old key from its admitter
          }
          answered("add " + m.site, seq);
        });
  }
  if (auto remove = request.find("remove"); remove != request.end() && remove->is_object()) {
    const json& site_field = remove->value("site", json(""));
    const json& key_field = remove->value("public_key", json(""));
    const std::string site = site_field.is_string() ? site_field.get<std::string>() : "";
    auto key = key_field.is_string() ? key_from_base64(key_field.get<std::string>()) : std::nullopt;
    if (!valid_site_name(site) || !key) {
      return answer(refusal("malformed", "remove needs a site and its public_key"));
    }
    if (site == running_.mesh.site) {
      return answer(refusal("refused", "a site is not told of its own revocation"));
    }
    const std::string why = site == sender ? "left the mesh" : "was revoked by " + sender;
    return commit_edit(
        [site, key = *key](const std::string& text, const config::Config& running) {
          return remove_member(text, running, site, key);
        },
        kMeshUser, "site " + site + " " + why,
        [answered, site](const Expected<uint64_t>& seq) { answered("remove " + site, seq); });
  }
  if (auto rekey = request.find("rekey"); rekey != request.end() && rekey->is_object()) {
    const auto field = [&](const char* k) {
      const json& v = rekey->value(k, json(""));
      return v.is_string() ? v.get<std::string>() : std::string();
    };
    const std::string site = field("site");
    const auto key = key_from_base64(field("public_key"));
    const auto previous = key_from_base64(field("previous_public_key"));
    const json& until_field = rekey->value("until", json());
    if (!valid_site_name(site) || !key || !previous || !until_field.is_number_integer()) {
      return answer(refusal("malformed",
                            "rekey needs a site, its public_key, previous_public_key and until"));
    }
    if (site != sender) {
      return answer(refusal("refused", "a site announces only its own new key"));
    }
    // However long the sender asks, this site takes an old key for a week at most (and a
    // grace already over is one ending now).
    const int64_t until =
        std::clamp(until_field.get<int64_t>(), ctx_.clock(), ctx_.clock() + kMaxRotationGrace);
    return commit_edit(
        [site, key = *key, previous = *previous, until](const std::string& text,
                                                        const config::Config& running) {
          return rekey_member(text, running, site, key, previous, until);
        },
        kMeshUser,
        "site " + site + " rotated its key (the previous one taken until " + utc_time_text(until) +
            ")",
        [answered, site](const Expected<uint64_t>& seq) { answered("rekey " + site, seq); });
  }
  answer(refusal("malformed", "an announcement adds or removes a site, or gives a new key"));
}

// ---- the operator's methods ---------------------------------------------------------------

void Enrolment::create_token(const json& p, const Caller& caller, const rpc::Reply& reply) {
  if (!p.is_object() || !p.contains("site") || !p["site"].is_string() || !p.contains("lifetime") ||
      !p["lifetime"].is_number_integer()) {
    return reply(rpc::invalid_params("params: {\"site\": name, \"lifetime\": seconds}"));
  }
  const std::string site = p["site"].get<std::string>();
  if (running_.mesh.site.empty()) {
    return reply(rpc::invalid_params(
        "this site has no name in a mesh: set mesh.site (and commit) before making tokens"));
  }
  if (running_.mesh.enrolment_port == 0) {
    return reply(rpc::invalid_params(
        "the enrolment service is off (mesh.enrolment_port 0): a token would lead nowhere"));
  }
  if (site == running_.mesh.site ||
      std::any_of(running_.mesh.peers.begin(), running_.mesh.peers.end(),
                  [&](const auto& peer) { return peer.name == site; })) {
    return reply(rpc::invalid_params("site " + site +
                                     " is in the mesh already: revoke it first to admit it anew"));
  }
  auto me = self(running_.mesh.site);
  if (!me) {
    return reply(rpc::Error{rpc::kInternalError, me.error()});
  }
  auto store = tokens();
  if (!store) {
    return reply(rpc::Error{rpc::kInternalError, store.error()});
  }
  enrol::JoinToken issuer{
      .issuer_identity = me->identity, .issuer = running_.mesh.site, .contacts = me->contacts()};
  auto token =
      (*store)->create(site, p["lifetime"].get<int64_t>(), issuer, caller.user, ctx_.clock());
  if (!token) {
    return reply(rpc::invalid_params(token.error()));
  }
  const std::string id = enrol::token_id_hex(token->id);
  ctx_.audit.record(
      "mesh-token-create",
      {{"user", caller.user}, {"site", site}, {"token", id}, {"expires_at", token->expires_at}});
  json answer{{"token", enrol::encode_token(*token)},
              {"id", id},
              {"site", site},
              {"expires_at", token->expires_at},
              {"contacts", me->contacts()}};
  OPENSSL_cleanse(token->secret.data(), token->secret.size());
  reply(std::move(answer));
}

void Enrolment::list_tokens(const rpc::Reply& reply) {
  auto store = tokens();
  if (!store) {
    return reply(rpc::Error{rpc::kInternalError, store.error()});
  }
  const int64_t now = ctx_.clock();
  json out = json::array();
  for (const auto& r : (*store)->list(now)) {
    const std::string state = r.used_at != 0        ? "used"
                              : r.withdrawn         ? "withdrawn"
                              : r.expires_at <= now ? "expired"
                                                    : "waiting";
    out.push_back({{"id", r.id},
                   {"site", r.site},
                   {"created_by", r.created_by},
                   {"created_at", r.created_at},
                   {"expires_at", r.expires_at},
                   {"state", state},
                   {"used_at", r.used_at},
                   {"used_from", r.used_from}});
  }
  reply(json{{"tokens", std::move(out)}});
}

void Enrolment::delete_token(const json& p, const Caller& caller, const rpc::Reply& reply) {
  if (!p.is_object() || !p.contains("id") || !p["id"].is_string() ||
      p["id"].get_ref<const std::string&>().size() > 64) {
    return reply(rpc::invalid_params("params: {\"id\": token id}"));
  }
  auto store = tokens();
  if (!store) {
    return reply(rpc::Error{rpc::kInternalError, store.error()});
  }
  const std::string id = p["id"].get<std::string>();
  if (Status st = (*store)->withdraw(id, ctx_.clock()); !st) {
    return reply(rpc::invalid_params(st.error()));
  }
  ctx_.audit.record("mesh-token-delete", {{"user", caller.user}, {"token", id}});
  reply(json{{"withdrawn", id}});
}

void Enrolment::join(const json& p, const Caller& caller, const rpc::Reply& reply) {
  if (!p.is_object() || !p.contains("token") || !p["token"].is_string()) {
    return reply(rpc::invalid_params("params: {\"token\": the token's text}"));
  }
  auto token = enrol::decode_token(p["token"].get<std::string>());
  if (!token) {
    return reply(rpc::invalid_params(token.error()));
  }
  if (has_member(running_)) {
    return reply(rpc::invalid_params("this site is in a mesh already (as " + running_.mesh.site +
                                     "): vigil mesh leave first"));
  }
  // What would make this side's commit fail after the issuer admitted it, checked first.
  if (joining_ || rotating_) {
    return reply(api_error(rpc::kServerBusy, joining_ ? "a join is under way already"
                                                      : "a key rotation is being committed"));
  }
  if (!running_.dataplane.forwarding) {
    return reply(
        rpc::invalid_params("the tunnels run in vigil-dp's fast path: set "
                            "dataplane.forwarding: true (and commit) before joining"));
  }
  if (ctx_.engine.pending()) {
    return reply(rpc::invalid_params(
        "a commit confirmed waits for its confirmation: confirm it or let it roll back first"));
  }
  auto me = identity();
  if (!me) {
    return reply(rpc::Error{rpc::kInternalError, me.error()});
  }
  auto pub = own_public_key(running_.mesh.private_key_file, /*create=*/true);
  if (!pub) {
    return reply(rpc::Error{rpc::kInternalError, pub.error()});
  }
  auto self_info = self_member(running_, token->site, *pub, (*me)->public_key());
  if (!self_info) {
    return reply(rpc::invalid_params(self_info.error()));
  }
  const std::string id = enrol::token_id_hex(token->id);
  json request{{"method", "join"},
               {"token_id", id},
               {"secret", hex_of(token->secret.data(), token->secret.size())},
               {"member", to_json(*self_info)}};
  OPENSSL_cleanse(token->secret.data(), token->secret.size());
  Delivery to_issuer{.site = token->issuer,
                     .contacts = token->contacts,
                     .identity = token->issuer_identity,
                     .message = std::move(request),
                     .what = "join"};
  const std::string user = caller.user;
  const std::string site = token->site;
  joining_ = true;
  const bool taken = joins_->submit([this, to_issuer, me = *me, user, site, id, reply] {
    DeliveryOutcome how;
    // Longer than the issuer's 10 s for a connection, so its answer (or "busy") arrives.
    auto answer = deliver_once(to_issuer, *me, std::chrono::seconds(12), how, &stopping_);
    const bool refused = how.refused;
    const bool busy = how.temporary;
    std::vector<enrol::Member> members;
    std::string error = answer ? "" : answer.error();
    if (answer) {
      const json& list = answer->value("members", json());
      if (!list.is_array() || list.empty() || list.size() > enrol::kMaxMembers) {
        error = to_issuer.site + " answered without members";
      }
      for (const json& j : list.is_array() ? list : json::array()) {
        auto m = enrol::member_from_json(j);
        if (!m) {
          error = to_issuer.site + " told of a member that is not one: " + m.error();
          break;
        }
        members.push_back(std::move(*m));
      }
    }
    ctx_.loop.post([this, members, error, refused, busy, user, site, id, issuer = to_issuer.site,
                    reply] {
      if (!error.empty()) {
        joining_ = false;
        ctx_.audit.record("mesh-join", {{"user", user},
                                        {"site", site},
                                        {"token", id},
                                        {"through", issuer},
                                        {"result", "refused"},
                                        {"error", error}});
        return reply(
            api_error(refused ? kMeshRefused : kMeshUnreachable,
                      (refused ? issuer + " refused the join: " : "cannot join: ") + error +
                          (busy ? " (run the same join again: the token stays good for it)" : "")));
      }
      commit_edit(
          [site, members](const std::string& text,
                          const config::Config&) -> Expected<std::optional<std::string>> {
            auto joined = join_mesh(text, site, members);
            if (!joined) {
              return fail(joined.error());
            }
            return std::optional<std::string>(*joined);
          },
          user, "joined the mesh as " + site + " through " + issuer + " (token " + id + ")",
          [this, members, user, site, id, issuer, reply](Expected<uint64_t> seq) {
            joining_ = false;
            ctx_.audit.record("mesh-join", {{"user", user},
                                            {"site", site},
                                            {"token", id},
                                            {"through", issuer},
                                            {"result", seq ? "joined" : "failed"},
                                            {"error", seq ? std::string() : seq.error()}});
            if (!seq) {
              return reply(api_error(
                  kCommitFailed,
                  issuer + " admitted this site, but its commit here failed: " + seq.error() +
                      " (revoke " + site + " on " + issuer + " and join with a new token)"));
            }
            json names = json::array();
            for (const auto& m : members) {
              names.push_back(m.site);
            }
            reply(json{{"site", site}, {"admitted_by", issuer}, {"members", names}, {"seq", *seq}});
          });
    });
  });
  if (!taken) {
    joining_ = false;
    reply(api_error(rpc::kServerBusy, "a join is under way already"));
  }
}

void Enrolment::revoke(const json& p, const Caller& caller, const rpc::Reply& reply) {
  if (!p.is_object() || !p.contains("site") || !p["site"].is_string()) {
    return reply(rpc::invalid_params("params: {\"site\": name}"));
  }
  const std::string site = p["site"].get<std::string>();
  const auto it = std::find_if(running_.mesh.peers.begin(), running_.mesh.peers.end(),
                               [&](const auto& peer) { return peer.name == site; });
  if (it == running_.mesh.peers.end() || !it->identity) {
    return reply(rpc::invalid_params("no member " + site + " here (vigil show mesh lists them)"));
  }
  const Key32 key = it->public_key;
  const std::string user = caller.user;
  commit_edit(
      [site, key](const std::string& text, const config::Config& running) {
        return remove_member(text, running, site, key);
      },
      user, "revoked site " + site,
      [this, site, key, user, reply](Expected<uint64_t> seq) {
        if (!seq) {
          return reply(api_error(kCommitFailed, "cannot revoke " + site + ": " + seq.error()));
        }
        const auto told =
            announce({{"method", "announce"},
                      {"remove", {{"site", site}, {"public_key", key_to_base64(key)}}}},
                     site + " revoked", known_members(running_), {site});
        ctx_.audit.record(
            "mesh-revoke",
            {{"user", user}, {"site", site}, {"seq", *seq}, {"announced_to", told.size()}});
        reply(json{{"revoked", site}, {"told", told}, {"seq", *seq}});
      });
}

void Enrolment::leave(const Caller& caller, const rpc::Reply& reply) {
  if (!has_member(running_)) {
    return reply(rpc::invalid_params("this site is in no mesh"));
  }
  auto me = self(running_.mesh.site);
  if (!me) {
    return reply(rpc::Error{rpc::kInternalError, me.error()});
  }
  // Removed here first; then the members are told (they still know this site's identity).
  const std::vector<enrol::Member> members = known_members(running_);
  const json message{
      {"method", "announce"},
      {"remove", {{"site", running_.mesh.site}, {"public_key", key_to_base64(me->public_key)}}}};
  const std::string user = caller.user;
  const std::string site = running_.mesh.site;
  commit_edit(
      [](const std::string& text,
         const config::Config& running) -> Expected<std::optional<std::string>> {
        auto left = leave_mesh(text, running);
        if (!left) {
          return fail(left.error());
        }
        return std::optional<std::string>(*left);
      },
      user, "left the mesh (was " + site + ")",
      [this, members, message, user, site, reply](Expected<uint64_t> seq) {
        std::vector<std::string> told;
        if (seq) {
          told = announce(message, site + " left", members, {});
        }
        ctx_.audit.record("mesh-leave", {{"user", user},
                                         {"site", site},
                                         {"result", seq ? "ok" : "failed"},
                                         {"announced_to", told.size()}});
        if (!seq) {
          return reply(api_error(kCommitFailed, "cannot leave: " + seq.error()));
        }
        reply(json{{"left", site}, {"told", told}, {"seq", *seq}});
      });
}

void Enrolment::tell_rotation(const enrol::Member& to) {
  const config::MeshConfig& m = running_.mesh;
  if (m.previous_private_key_file.empty() || m.previous_key_until <= ctx_.clock() ||
      m.site.empty()) {
    return;  // no grace running
  }
  auto previous = wireguard_public_key(m.previous_private_key_file);
  auto current = wireguard_public_key(m.private_key_file);
  if (!previous || !current) {
    return;
  }
  announce({{"method", "announce"},
            {"rekey",
             {{"site", m.site},
              {"public_key", key_to_base64(*current)},
              {"previous_public_key", key_to_base64(*previous)},
              {"until", m.previous_key_until}}}},
           "new key", {to}, {});
}

void Enrolment::rotate_key(const json& p, const Caller& caller, const rpc::Reply& reply) {
  if (!p.is_object() || !p.contains("grace") || !p["grace"].is_number_integer()) {
    return reply(rpc::invalid_params("params: {\"grace\": seconds}"));
  }
  const int64_t grace = p["grace"].get<int64_t>();
  if (grace < kMinRotationGrace || grace > kMaxRotationGrace) {
    return reply(rpc::invalid_params("the grace is 1 minute to 7 days"));
  }
  if (!running_.mesh.enabled) {
    return reply(rpc::invalid_params("this site has no mesh section: it has no key to rotate"));
  }
  if (rotating_ || joining_ || !joins_in_flight_.empty()) {
    // A join's answer or request names this site's key: one of the two at a time.
    return reply(api_error(rpc::kServerBusy, rotating_ ? "a rotation is being committed already"
                                                       : "a join is under way: rotate after it"));
  }
  if (running_.mesh.previous_key_until > ctx_.clock() &&
      !running_.mesh.previous_private_key_file.empty()) {
    return reply(rpc::invalid_params(
        "the last rotation's grace runs until " + utc_time_text(running_.mesh.previous_key_until) +
        ": rotate again after it (a second rotation would end that grace early)"));
  }
  const std::string old_file = running_.mesh.private_key_file;
  auto old_key = own_public_key(old_file, /*create=*/false);
  if (!old_key) {
    return reply(rpc::invalid_params("mesh.private_key_file: " + old_key.error()));
  }
  const int64_t now = ctx_.clock();
  const int64_t until = now + grace;
  const std::string new_file = rotated_key_file(old_file, now);
  auto new_key = write_new_wireguard_key(new_file, /*replace=*/false);
  if (!new_key) {
    return reply(rpc::Error{rpc::kInternalError, "cannot write the new key: " + new_key.error()});
  }
  // The key the last rotation retired: its grace is over by now or ends with this commit.
  const std::string retired = running_.mesh.previous_private_key_file;
  const std::string user = caller.user;
  rotating_ = true;
  commit_edit(
      [old_file, new_file, until](const std::string& text, const config::Config& running)
          -> Expected<std::optional<std::string>> {
        if (running.mesh.private_key_file != old_file) {
          return fail("mesh.private_key_file changed meanwhile: rotate again");
        }
        auto rotated = rotate_own_key(text, running, new_file, until);
        if (!rotated) {
          return fail(rotated.error());
        }
        return std::optional<std::string>(*rotated);
      },
      user,
      "rotated this site's WireGuard key (the previous one answered until " + utc_time_text(until) +
          ")",
      [this, user, old_file, new_file, retired, until, old_key = *old_key, new_key = *new_key,
       reply](Expected<uint64_t> seq) {
        rotating_ = false;
        if (!seq) {
          ::unlink(new_file.c_str());
          ctx_.audit.record("mesh-rotate-key",
                            {{"user", user}, {"result", "failed"}, {"error", seq.error()}});
          return reply(api_error(kCommitFailed, "cannot rotate the key: " + seq.error()));
        }
        if (unreferenced_key_beside(retired, new_file, running_)) {
          ::unlink(retired.c_str());  // a private key no config in force names any more
        }
        std::vector<std::string> told;
        std::vector<std::string> not_told;  // plain WireGuard peers: changed there by hand
        if (!running_.mesh.site.empty()) {
          told = announce({{"method", "announce"},
                           {"rekey",
                            {{"site", running_.mesh.site},
                             {"public_key", key_to_base64(new_key)},
                             {"previous_public_key", key_to_base64(old_key)},
                             {"until", until}}}},
                          "new key", known_members(running_), {});
        }
        for (const auto& peer : running_.mesh.peers) {
          if (std::find(told.begin(), told.end(), peer.name) == told.end()) {
            not_told.push_back(peer.name);
          }
        }
        ctx_.audit.record("mesh-rotate-key", {{"user", user},
                                              {"result", "ok"},
                                              {"public_key", key_to_base64(new_key)},
                                              {"previous_public_key", key_to_base64(old_key)},
                                              {"until", utc_time_text(until)},
                                              {"seq", *seq},
                                              {"announced_to", told.size()}});
        reply(json{{"public_key", key_to_base64(new_key)},
                   {"previous_public_key", key_to_base64(old_key)},
                   {"key_file", new_file},
                   {"until", until},
                   {"told", told},
                   {"not_told", not_told},
                   {"seq", *seq}});
      });
}

void Enrolment::show(const rpc::Reply& reply) {
  json members = json::array();
  for (const auto& m : known_members(running_)) {
    json endpoints = json::array();
    for (const auto& e : m.endpoints) {
      endpoints.push_back(e.to_string());
    }
    members.push_back({{"site", m.site},
                       {"public_key", key_to_base64(m.public_key)},
                       {"identity", key_to_base64(m.identity)},
                       {"endpoints", endpoints},
                       {"enrolment_port", m.enrolment_port}});
  }
  json listening = json::array();
  if (server_) {
    for (const auto& a : server_->addresses()) {
      listening.push_back(a.to_string());
    }
  }
  struct stat st {};
  const bool have_identity = identity_ || ::stat(running_.mesh.identity_key_file.c_str(), &st) == 0;
  std::string identity_text;
  if (have_identity) {
    if (auto me = identity()) {
      identity_text = key_to_base64((*me)->public_key());
    }
  }
  std::string public_key;
  if (running_.mesh.enabled) {
    if (auto k = wireguard_public_key(running_.mesh.private_key_file)) {
      public_key = key_to_base64(*k);
    }
  }
  const bool in_grace = !running_.mesh.previous_private_key_file.empty() &&
                        running_.mesh.previous_key_until > ctx_.clock();
  reply(json{{"site", running_.mesh.site},
             {"identity", identity_text},
             {"public_key", public_key},
             {"previous_key_until", in_grace ? running_.mesh.previous_key_until : 0},
             {"enrolment_port", running_.mesh.enrolment_port},
             {"listening", listening},
             {"service_error", server_error_},
             {"members", members},
             {"announcements_pending", announcer_ ? announcer_->pending() : 0}});
}

}  // namespace vigil::mgmt::mesh

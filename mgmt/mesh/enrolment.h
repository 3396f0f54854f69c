// vigild's side of joining the mesh: the tokens this site makes, its enrolment service (a
// site joining with a token; members announcing sites that joined, were revoked or left, or
// rotated their key), joining another mesh with a token, revoking a site, leaving, rotating
// this site's key. Each change of membership is a
// commit of this site's config ("mesh" kind, audited), made on vigild's commit worker like
// any other, and then announced to every other member. Everything here runs on vigild's loop
// unless it says otherwise.
#pragma once

#include <atomic>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "common/event_loop.h"
#include "common/json_rpc.h"
#include "common/worker_pool.h"
#include "config/config.h"
#include "mgmt/audit_log.h"
#include "mgmt/commit/commit_engine.h"
#include "mgmt/mesh/announcer.h"
#include "mgmt/mesh/enrol_server.h"
#include "mgmt/roles.h"
#include "sdwan/enrol/member.h"
#include "sdwan/enrol/token_store.h"

namespace vigil::mgmt::mesh {

// How an error that may go away by itself begins (a commit confirmed waiting, the commit
// worker full): the other site is told kBusyReason and asks again later.
inline constexpr std::string_view kBusyPrefix = "busy: ";

struct EnrolmentContext {
  EventLoop& loop;
  AuditLog& audit;
  commit::CommitEngine& engine;
  WorkerPool& engine_worker;              // commits, one at a time
  std::function<void()> refresh_running;  // after a commit
  std::string state_dir;
  commit::UnixClock clock = commit::system_unix_clock;
};

class Enrolment {
 public:
  explicit Enrolment(EnrolmentContext context);
  ~Enrolment();

  // The running config changed: (re)starts or stops the enrolment service to match.
  void apply(const config::Config& running);

  void create_token(const nlohmann::json& params, const Caller& caller, const rpc::Reply& reply);
  void list_tokens(const rpc::Reply& reply);
  void delete_token(const nlohmann::json& params, const Caller& caller, const rpc::Reply& reply);
  void join(const nlohmann::json& params, const Caller& caller, const rpc::Reply& reply);
  void revoke(const nlohmann::json& params, const Caller& caller, const rpc::Reply& reply);
  void leave(const Caller& caller, const rpc::Reply& reply);
  // A new WireGuard key for this site, the old one answered for `grace` seconds, the members
  // told (each accepts both keys until the grace ends).
  void rotate_key(const nlohmann::json& params, const Caller& caller, const rpc::Reply& reply);
  void show(const rpc::Reply& reply);

 private:
  using Answer = std::function<void(nlohmann::json)>;
  // A connection's request, on the loop.
  void on_request(const nlohmann::json& request, const Key32& identity, const std::string& from,
                  const Answer& answer);
  void on_join(const nlohmann::json& request, const Key32& identity, const std::string& from,
               const Answer& answer);
  void on_announce(const nlohmann::json& request, const std::string& sender, const Answer& answer);
  // Runs `edit` over the running text on the commit worker and commits what it returns (as
  // `user`, with `comment`); `done` gets the commit's seq, 0 when the edit changed nothing,
  // or the error. Refused while a commit confirmed waits.
  using Edit = std::function<Expected<std::optional<std::string>>(const std::string& text,
                                                                  const config::Config& running)>;
  void commit_edit(Edit edit, const std::string& user, const std::string& comment,
                   const std::function<void(Expected<uint64_t>)>& done);
  // Tells every member of `to` but `except` `message`; returns those it will tell.
  std::vector<std::string> announce(const nlohmann::json& message, const std::string& what,
                                    const std::vector<enrol::Member>& to,
                                    const std::vector<std::string>& except);
  // During a rotation's grace: `to` (a member that just joined, which may have been given
  // this site's old key) is told the new one.
  void tell_rotation(const enrol::Member& to);
  // Audits what anyone on the WAN can cause (refused joins and announcements), at most 30
  // lines a minute; false when this one was only counted.
  bool audit_stranger(std::string_view event, std::initializer_list<log::Field> fields);
  Expected<std::shared_ptr<const enrol::Identity>> identity();
  Expected<enrol::TokenStore*> tokens();
  Expected<enrol::Member> self(const std::string& site);

  EnrolmentContext ctx_;
  config::Config running_;
  std::shared_ptr<const enrol::Identity> identity_;
  std::string identity_file_;
  std::optional<enrol::TokenStore> tokens_;
  std::unique_ptr<Announcer> announcer_;
  std::unique_ptr<EnrolServer> server_;
  std::string server_error_;               // why the service is not up, when it should be
  std::unique_ptr<WorkerPool> joins_;      // outgoing joins: network waits off the loop
  bool joining_ = false;                   // a join is under way (one at a time)
  bool rotating_ = false;                  // a rotation is being committed
  std::set<std::string> joins_in_flight_;  // tokens whose join is being committed here
  std::atomic<bool> stopping_{false};      // the outgoing join gives up when set
  int64_t stranger_minute_ = 0;
  int stranger_lines_ = 0;
  uint64_t strangers_suppressed_ = 0;
};

}  // namespace vigil::mgmt::mesh

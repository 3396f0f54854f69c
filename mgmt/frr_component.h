// FRR as one of the commit's components: vigild renders frr.conf from the routing section
// (and the l4 VIPs it announces, the system's hostname) at prepare and has FRR's own parser
// check it, so a file FRR would refuse fails the commit with nothing changed; activate writes
// it (root's, 0600: the neighbours' passwords are in it) and applies it with frr-reload.py,
// and when that fails applies the previous one again. FRR's daemons are supervised processes
// of vigild's (mgmt/supervisor.h): the instance the commit engine sees is their pids (each
// one's pid file lock holder), so a daemon started again is given the running config again by
// reconcile, as any component is. While a daemon does not answer, the file is written and
// applied once it does (reconcile keeps trying).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bgp/frr/frr_control.h"
#include "config/config.h"
#include "mgmt/commit/component.h"

namespace vigil::mgmt {

struct FrrRendering {
  std::string text;
  std::vector<std::string> secrets;  // the passwords in it: never in an error or a log
};

// What FRR is given for a config: the rendered file, passwords read from their files here.
// `l7_up`: vigil-l7 answers, so its listeners' addresses are announced (announce_l7_listeners).
Expected<FrrRendering> render_frr_for(const config::Config& config, bool l7_up = true);

class FrrComponent : public commit::Component {
 public:
  // The sections it renders from; interfaces because l4's VIPs are checked against them.
  static constexpr const char* kSections[] = {"routing", "l4", "system", "interfaces", "l7"};

  explicit FrrComponent(const bgp::FrrControl& control) : control_(control) {}

  const std::string& name() const override { return name_; }
  commit::SectionsAnswer sections() override;
  Status prepare(uint64_t txid, const nlohmann::json& delta) override;
  commit::ActivateResult activate(uint64_t txid) override;
  void abort(uint64_t txid) override;

  // Whether vigil-l7 answers, asked at each sections() (nullopt: not known yet). A change is
  // a new instance, so reconcile renders again, announcing or withdrawing the L7 listeners'
  // addresses.
  void set_l7_reachable(std::function<std::optional<bool>()> reachable) {
    l7_reachable_ = std::move(reachable);
  }

 private:
  struct Staged {
    uint64_t txid = 0;
    nlohmann::json sections;
    FrrRendering rendering;
  };
  // What a failed reload puts back: the last file FRR took, else the one on disk (from before
  // this vigild), else the header alone.
  FrrRendering previous();
  // The daemons' pids, hashed.
  uint64_t daemons() const;
  std::string scrubbed(std::string text, const std::vector<std::string>& secrets) const;

  const bgp::FrrControl& control_;
  std::string name_ = "frr";
  nlohmann::json sections_ = nlohmann::json::object();  // what FRR was last given
  std::optional<FrrRendering> applied_;                 // the file it last took
  uint64_t applied_daemons_ = 0;                        // daemons() when it took it
  std::optional<FrrRendering> found_at_start_;          // the file before this vigild wrote
  std::optional<Staged> staged_;
  // Written while a daemon did not answer: sections() then reports a new instance each time,
  // so reconcile gives the config again until FRR takes it.
  bool pending_ = false;
  uint64_t pending_asks_ = 0;
  std::function<std::optional<bool>()> l7_reachable_;
  bool l7_up_ = true;
};

}  // namespace vigil::mgmt

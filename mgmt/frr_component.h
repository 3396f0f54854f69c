// FRR as one of the commit's components: vigild renders frr.conf from the routing section
// (and the l4 VIPs it announces) at prepare and has FRR's own parser check it, so a file FRR
// would refuse fails the commit with nothing changed; activate writes it (root's, 0600: the
// neighbours' passwords are in it) and applies it with frr-reload.py, and when that fails puts
// the previous file back and applies it again. FRR's daemons are supervised processes of
// vigild's (mgmt/supervisor.h): when one starts again (a new pid in its pid file), the commit
// engine's reconcile gives the instance the running config again, as it does any component.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "bgp/frr/frr_control.h"
#include "config/config.h"
#include "mgmt/commit/component.h"

namespace vigil::mgmt {

// What FRR is given for a config: the rendered file. Passwords are read from their files here.
Expected<std::string> render_frr_for(const config::Config& config);

class FrrComponent : public commit::Component {
 public:
  explicit FrrComponent(const bgp::FrrControl& control) : control_(control) {}

  const std::string& name() const override { return name_; }
  commit::SectionsAnswer sections() override;
  Status prepare(uint64_t txid, const nlohmann::json& delta) override;
  commit::ActivateResult activate(uint64_t txid) override;
  void abort(uint64_t txid) override;

 private:
  struct Staged {
    uint64_t txid = 0;
    nlohmann::json sections;
    std::string text;
  };

  const bgp::FrrControl& control_;
  std::string name_ = "frr";
  nlohmann::json sections_ = nlohmann::json::object();  // what FRR was last given
  std::string applied_;                                 // the file it runs
  bool applied_known_ = false;  // applied_ read from the file or set by an activation
  std::optional<Staged> staged_;
};

}  // namespace vigil::mgmt

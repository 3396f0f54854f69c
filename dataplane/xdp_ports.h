// The ports vigil-dp runs the XDP classifier on: one Classifier per device, its maps and link
// pinned under <pin root>/<device> so the program keeps classifying while vigil-dp restarts and
// is adopted again when it comes back.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/api/classifier_status.h"
#include "common/expected.h"
#include "common/metrics.h"
#include "config/config.h"
#include "dataplane/config_applier.h"
#include "ebpf/loader/classifier.h"
#include "ebpf/loader/transmit_errors.h"

namespace vigil::dp {

class XdpPorts final : public ConfigTarget {
 public:
  // The kinds of api::ClassifierPortStatus::transmit_errors, with their counts on `device`.
  using TransmitErrorCounts = std::vector<std::pair<const char*, uint64_t>>;

  explicit XdpPorts(std::string pin_root) : pin_root_(std::move(pin_root)) {}

  std::string name() const override { return "XDP classifier"; }

  // What apply() would refuse, without touching any port: unknown devices and configs the
  // classifier cannot hold (its limits, missing encapsulation settings).
  Status check(const config::Config& config) const override;
  // Attaches (or adopts) the classifier on every xdp device, applies the config to each, and
  // detaches it from devices no longer listed.
  Status apply(const config::Config& config) override;

  std::vector<api::ClassifierPortStatus> show();
  // The classifier's XSKMAP on `device`, where the fast path binds its AF_XDP sockets; -1 when
  // the classifier does not run there.
  int xsks_map_fd(const std::string& device);
  // The classifier's maps on `device` (where the fast path offloads flows); nullptr when the
  // classifier does not run there. Valid while the device stays configured.
  ebpf::MapAccess* maps(const std::string& device);
  // Brings the Prometheus families up to the maps' counters.
  void update_metrics(MetricsRegistry& metrics);

 private:
  void load_transmit_error_counter();
  TransmitErrorCounts transmit_errors_of(const std::string& device) const;

  std::string pin_root_;
  std::map<std::string, std::unique_ptr<ebpf::Classifier>> ports_;  // by device
  // Loaded with the first port; when the kernel cannot count, the reason instead.
  std::unique_ptr<ebpf::TransmitErrorCounter> transmit_errors_;
  std::string transmit_errors_unavailable_;
  TotalsExporter exported_;
};

}  // namespace vigil::dp

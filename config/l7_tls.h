// The l7 section's TLS parts: l7.certificates, a listener's tls and an upstream's, parsed by
// l7_section.cc.
#pragma once

#include <optional>
#include <string>

#include "config/sections.h"

namespace vigil::config {

extern const Schema kL7CertificateSchema;
extern const Schema kL7ListenerTlsSchema;
extern const Schema kL7UpstreamTlsSchema;

void parse_l7_certificate(const std::string& name, const YAML::Node& node, const std::string& path,
                          L7Config& l7, ErrorList& errors);
// Certificates it names must be in `l7` already.
std::optional<L7ListenerTlsConfig> parse_l7_listener_tls(const YAML::Node& node,
                                                         const std::string& path,
                                                         const L7Config& l7, ErrorList& errors);

// The client certificate it names must be in `l7` already.
std::optional<L7UpstreamTlsConfig> parse_l7_upstream_tls(const YAML::Node& node,
                                                         const std::string& path,
                                                         const L7Config& l7, ErrorList& errors);

// Whether OpenSSL takes `list` as a TLS 1.2 cipher list.
bool valid_tls12_ciphers(const std::string& list);

}  // namespace vigil::config

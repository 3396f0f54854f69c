// Reading YAML into config types against a Schema, collecting every error with its path and
// position instead of stopping at the first.
#pragma once

#include <yaml-cpp/yaml.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/errors.h"
#include "config/schema.h"

namespace vigil::config {

// A mapping checked against its schema on construction: not a mapping, unknown keys (with a
// suggestion), duplicate keys and missing required keys are reported then.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path, const Schema& schema, ErrorList& errors);

  bool ok() const { return ok_; }
  // The value at `key`, or an undefined node when absent. `key` must be in the schema.
  YAML::Node get(std::string_view key) const;
  bool has(std::string_view key) const { return get(key).IsDefined(); }
  std::string path_of(std::string_view key) const { return join_path(path_, std::string(key)); }
  const std::string& path() const { return path_; }
  const YAML::Node& node() const { return node_; }

 private:
  YAML::Node node_;
  std::string path_;
  const Schema& schema_;
  bool ok_ = false;
};

// Scalars. Each reports a type error at the node and returns nullopt.
std::optional<std::string> read_string(const YAML::Node& n, const std::string& path,
                                       ErrorList& errors);
std::optional<int64_t> read_int(const YAML::Node& n, const std::string& path, ErrorList& errors,
                                int64_t min, int64_t max);
std::optional<bool> read_bool(const YAML::Node& n, const std::string& path, ErrorList& errors);
// Index into `choices`.
std::optional<size_t> read_enum(const YAML::Node& n, const std::string& path, ErrorList& errors,
                                std::span<const std::string_view> choices);
std::optional<IpAddress> read_ip(const YAML::Node& n, const std::string& path, ErrorList& errors);
std::optional<Prefix> read_network(const YAML::Node& n, const std::string& path, ErrorList& errors);
std::optional<Prefix> read_interface_address(const YAML::Node& n, const std::string& path,
                                             ErrorList& errors);
// "02:00:5e:00:53:01".
std::optional<std::array<uint8_t, 6>> read_mac(const YAML::Node& n, const std::string& path,
                                               ErrorList& errors);

// "127.0.0.1:9550" or "[::1]:9550".
std::optional<HostPort> read_host_port(const YAML::Node& n, const std::string& path,
                                       ErrorList& errors);

// "host:port", the host an IP address (IPv6 in brackets) or a DNS name.
std::optional<Endpoint> read_endpoint(const YAML::Node& n, const std::string& path,
                                      ErrorList& errors);
// RFC 1123 host name syntax: labels of letters, digits and inner hyphens, at most 253 bytes.
bool valid_dns_name(std::string_view name);

// "/etc/vigil/tls/www.pem": absolute, at most 4096 bytes, no NUL.
std::optional<std::string> read_absolute_path(const YAML::Node& n, const std::string& path,
                                              ErrorList& errors);

// A name used as a map key or reference: 1-63 of [A-Za-z0-9_.-], starting alphanumeric.
bool valid_name(std::string_view name);

// Collections. A missing or null node is an empty collection.
void for_each_item(const YAML::Node& n, const std::string& path, ErrorList& errors,
                   const std::function<void(const YAML::Node&, const std::string&)>& fn);
// Maps keyed by name: each key is checked with valid_name and duplicates are reported.
void for_each_named(
    const YAML::Node& n, const std::string& path, ErrorList& errors,
    const std::function<void(const std::string&, const YAML::Node&, const std::string&)>& fn);

// The closest of `candidates` to `word` within an edit distance of 2, for "did you mean".
std::optional<std::string_view> closest(std::string_view word,
                                        std::span<const std::string_view> candidates);

std::string describe_kind(const YAML::Node& n);  // "a mapping", "a list", "null", "a string"

}  // namespace vigil::config

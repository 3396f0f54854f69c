#include "config/reader.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cstdio>
#include <set>
#include <vector>

namespace vigil::config {
namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> scalar(const YAML::Node& n, const std::string& path, ErrorList& errors,
                                  std::string_view expected) {
  if (!n.IsScalar()) {
    errors.add_value_error(path, n,
                           "expected " + std::string(expected) + ", got " + describe_kind(n));
    return std::nullopt;
  }
  return n.Scalar();
}

}  // namespace

std::string describe_kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing (null)";
    case YAML::NodeType::Scalar:
      return "\"" + n.Scalar() + "\"";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

std::optional<std::string_view> closest(std::string_view word,
                                        std::span<const std::string_view> candidates) {
  std::optional<std::string_view> best;
  size_t best_distance = 3;
  for (std::string_view c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

MapReader::MapReader(const YAML::Node& node, std::string path, const Schema& schema,
                     ErrorList& errors)
    // A missing key gives an "invalid" node that throws on almost any use, even reset():
    // never store it. Absent or null reads as an empty mapping.
    : node_(!node.IsDefined() || node.IsNull() ? YAML::Node(YAML::NodeType::Map) : node),
      path_(std::move(path)),
      schema_(schema) {
  if (!node_.IsMap()) {
    errors.add(path_, node, "expected a mapping, got " + describe_kind(node));
    return;
  }
  ok_ = true;
  std::vector<std::string_view> known;
  known.reserve(schema.fields.size());
  for (const Field& f : schema.fields) {
    known.push_back(f.key);
  }
  std::set<std::string> seen;
  for (const auto& kv : node_) {
    if (!kv.first.IsScalar()) {
      errors.add(path_, kv.first, "keys must be plain words, got " + describe_kind(kv.first));
      continue;
    }
    const std::string& key = kv.first.Scalar();
    if (!seen.insert(key).second) {
      errors.add(join_path(path_, key), kv.first, "duplicate key \"" + key + "\"");
    }
    if (const Field* f = schema.find(key); f != nullptr && !f->not_supported_until.empty()) {
      errors.add(join_path(path_, key), kv.first,
                 "\"" + key + "\" is not supported yet by this build (arrives with " +
                     std::string(f->not_supported_until) + ")");
    } else if (f == nullptr) {
      std::string message = "unknown key \"" + key + "\"";
      if (auto near = closest(key, known)) {
        message += "; did you mean \"" + std::string(*near) + "\"?";
      }
      errors.add(join_path(path_, key), kv.first, message);
    }
  }
  for (const Field& f : schema.fields) {
    if (f.required && !seen.contains(std::string(f.key))) {
      errors.add(path_, node_, "missing required key \"" + std::string(f.key) + "\"");
    }
  }
}

YAML::Node MapReader::get(std::string_view key) const {
  assert(schema_.find(key) != nullptr && "key read but not declared in the schema");
  if (!ok_) {
    return YAML::Node(YAML::NodeType::Undefined);
  }
  // Through a const node, so a missing key is not inserted.
  const YAML::Node& n = node_;
  return n[std::string(key)];
}

std::optional<std::string> read_string(const YAML::Node& n, const std::string& path,
                                       ErrorList& errors) {
  return scalar(n, path, errors, "a string");
}

std::optional<int64_t> read_int(const YAML::Node& n, const std::string& path, ErrorList& errors,
                                int64_t min, int64_t max) {
  auto s = scalar(n, path, errors, "an integer");
  if (!s) {
    return std::nullopt;
  }
  int64_t value = 0;
  const auto [end, ec] = std::from_chars(s->data(), s->data() + s->size(), value);
  if (ec != std::errc() || end != s->data() + s->size()) {
    errors.add_value_error(path, n, "expected an integer, got \"" + *s + "\"");
    return std::nullopt;
  }
  if (value < min || value > max) {
    errors.add_value_error(
        path, n, "must be " + std::to_string(min) + " to " + std::to_string(max) + ", got " + *s);
    return std::nullopt;
  }
  return value;
}

std::optional<bool> read_bool(const YAML::Node& n, const std::string& path, ErrorList& errors) {
  auto s = scalar(n, path, errors, "true or false");
  if (!s) {
    return std::nullopt;
  }
  if (*s == "true") {
    return true;
  }
  if (*s == "false") {
    return false;
  }
  errors.add_value_error(path, n, "expected true or false, got \"" + *s + "\"");
  return std::nullopt;
}

std::optional<size_t> read_enum(const YAML::Node& n, const std::string& path, ErrorList& errors,
                                std::span<const std::string_view> choices) {
  auto s = scalar(n, path, errors, "a string");
  if (!s) {
    return std::nullopt;
  }
  for (size_t i = 0; i < choices.size(); ++i) {
    if (*s == choices[i]) {
      return i;
    }
  }
  std::string list;
  for (size_t i = 0; i < choices.size(); ++i) {
    list += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + std::string(choices[i]);
  }
  errors.add_value_error(path, n, "must be " + list + ", got \"" + *s + "\"");
  return std::nullopt;
}

namespace {

// A scalar turned into T by `parse`, whose error message is reported at the node.
template <typename T>
std::optional<T> read_parsed(const YAML::Node& n, const std::string& path, ErrorList& errors,
                             std::string_view expected, Expected<T> (*parse)(std::string_view)) {
  auto s = scalar(n, path, errors, expected);
  if (!s) {
    return std::nullopt;
  }
  auto value = parse(*s);
  if (!value) {
    errors.add_value_error(path, n, value.error());
    return std::nullopt;
  }
  return *value;
}

}  // namespace

std::optional<IpAddress> read_ip(const YAML::Node& n, const std::string& path, ErrorList& errors) {
  return read_parsed(n, path, errors, "an IP address", &IpAddress::parse);
}

std::optional<Prefix> read_network(const YAML::Node& n, const std::string& path,
                                   ErrorList& errors) {
  return read_parsed(n, path, errors, "a prefix", &Prefix::parse_network);
}

std::optional<Prefix> read_interface_address(const YAML::Node& n, const std::string& path,
                                             ErrorList& errors) {
  return read_parsed(n, path, errors, "an address with prefix length", &Prefix::parse_interface);
}

std::optional<HostPort> read_host_port(const YAML::Node& n, const std::string& path,
                                       ErrorList& errors) {
  return read_parsed(n, path, errors, "address:port", &HostPort::parse);
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 63 || !std::isalnum(static_cast<unsigned char>(name[0]))) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

void for_each_item(const YAML::Node& n, const std::string& path, ErrorList& errors,
                   const std::function<void(const YAML::Node&, const std::string&)>& fn) {
  if (!n.IsDefined() || n.IsNull()) {
    return;
  }
  if (!n.IsSequence()) {
    errors.add(path, n, "expected a list, got " + describe_kind(n));
    return;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    fn(n[i], index_path(path, i));
  }
}

void for_each_named(
    const YAML::Node& n, const std::string& path, ErrorList& errors,
    const std::function<void(const std::string&, const YAML::Node&, const std::string&)>& fn) {
  if (!n.IsDefined() || n.IsNull()) {
    return;
  }
  if (!n.IsMap()) {
    errors.add(path, n, "expected a mapping of names, got " + describe_kind(n));
    return;
  }
  std::set<std::string> seen;
  for (const auto& kv : n) {
    if (!kv.first.IsScalar() || !valid_name(kv.first.Scalar())) {
      errors.add(path, kv.first,
                 "invalid name " + describe_kind(kv.first) +
                     ": use 1 to 63 letters, digits, '_', '.' or '-', starting with a letter "
                     "or digit");
      continue;
    }
    const std::string& name = kv.first.Scalar();
    if (!seen.insert(name).second) {
      errors.add(join_path(path, name), kv.first, "duplicate name \"" + name + "\"");
      continue;
    }
    fn(name, kv.second, join_path(path, name));
  }
}

std::optional<std::array<uint8_t, 6>> read_mac(const YAML::Node& n, const std::string& path,
                                               ErrorList& errors) {
  auto text = read_string(n, path, errors);
  if (!text) {
    return std::nullopt;
  }
  std::array<unsigned, 6> v{};
  char tail = 0;
  if (std::sscanf(text->c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4],
                  &v[5], &tail) != 6) {
    errors.add_value_error(path, n, "\"" + *text + "\" is not a MAC address (02:00:5e:00:53:01)");
    return std::nullopt;
  }
  std::array<uint8_t, 6> mac{};
  for (size_t i = 0; i < 6; ++i) {
    mac[i] = static_cast<uint8_t>(v[i]);
  }
  return mac;
}

std::optional<std::string> read_absolute_path(const YAML::Node& n, const std::string& path,
                                              ErrorList& errors) {
  auto text = read_string(n, path, errors);
  if (text && (text->empty() || text->front() != '/' || text->size() > 4096 ||
               text->find('\0') != std::string::npos)) {
    errors.add(path, n, "needs an absolute path");
    return std::nullopt;
  }
  return text;
}

bool valid_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) {
    return false;
  }
  size_t label = 0;
  char previous = '.';
  for (const char c : name) {
    if (c == '.') {
      if (label == 0 || previous == '-') {
        return false;
      }
      label = 0;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c == '-' && label > 0)) {
      if (++label > 63) {
        return false;
      }
    } else {
      return false;
    }
    previous = c;
  }
  return previous != '-' && previous != '.';
}

std::optional<Endpoint> read_endpoint(const YAML::Node& n, const std::string& path,
                                      ErrorList& errors) {
  auto text = read_string(n, path, errors);
  if (!text) {
    return std::nullopt;
  }
  const auto bad = [&](const std::string& why) -> std::optional<Endpoint> {
    errors.add(path, n,
               "\"" + *text + "\" " + why +
                   ": give host:port, the host an IP address (IPv6 in brackets) or a DNS name");
    return std::nullopt;
  };
  const size_t colon = text->rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return bad("has no port");
  }
  Endpoint e;
  std::string_view host(text->data(), colon);
  const std::string_view port(text->data() + colon + 1, text->size() - colon - 1);
  int64_t number = 0;
  for (const char c : port) {
    if (c < '0' || c > '9' || (number = number * 10 + (c - '0')) > 65535) {
      return bad("has no port in 1-65535");
    }
  }
  if (port.empty() || number == 0) {
    return bad("has no port in 1-65535");
  }
  e.port = static_cast<uint16_t>(number);
  if (host.front() == '[') {
    if (host.back() != ']' || !net::IpAddress::parse(host.substr(1, host.size() - 2)) ||
        net::IpAddress::parse(host.substr(1, host.size() - 2))->family != 6) {
      return bad("has no IPv6 address in its brackets");
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return bad("has an IPv6 address without brackets");
  } else if (!net::IpAddress::parse(host) && !valid_dns_name(host)) {
    return bad("has a host that is neither an IP address nor a DNS name");
  }
  // Canonical, so one host written two ways ("FD00:0::5", "fd00::5"; "App.Example") is one.
  if (const auto ip = net::IpAddress::parse(host)) {
    e.host = ip->to_string();
  } else {
    e.host.reserve(host.size());
    for (const char c : host) {
      e.host.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
  }
  return e;
}

std::string Endpoint::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

}  // namespace vigil::config

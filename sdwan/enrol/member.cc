#include "sdwan/enrol/member.h"

#include "sdwan/enrol/join_token.h"

namespace vigil::enrol {

using nlohmann::json;

std::vector<std::string> Member::contacts() const {
  std::vector<std::string> out;
  for (const net::HostPort& e : endpoints) {
    const net::HostPort c{.address = e.address, .port = enrolment_port};
    if (std::find(out.begin(), out.end(), c.to_string()) == out.end()) {
      out.push_back(c.to_string());
    }
  }
  return out;
}

json to_json(const Member& m) {
  json endpoints = json::array();
  for (const auto& e : m.endpoints) {
    endpoints.push_back(e.to_string());
  }
  json networks = json::array();
  for (const auto& n : m.networks) {
    networks.push_back(n.to_string());
  }
  return {{"site", m.site},
          {"public_key", key_to_base64(m.public_key)},
          {"identity", key_to_base64(m.identity)},
          {"endpoints", std::move(endpoints)},
          {"networks", std::move(networks)},
          {"enrolment_port", m.enrolment_port}};
}

Expected<Member> member_from_json(const json& j) {
  if (!j.is_object()) {
    return fail("a member is not an object");
  }
  const auto text = [&](const char* key) -> const std::string* {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get_ptr<const std::string*>() : nullptr;
  };
  Member m;
  const std::string* site = text("site");
  if (site == nullptr || !valid_site_name(*site)) {
    return fail("site: not a site name (1-63 of a-z, 0-9 and '-')");
  }
  m.site = *site;
  for (const auto& [field, key] :
       {std::pair{"public_key", &m.public_key}, std::pair{"identity", &m.identity}}) {
    const std::string* t = text(field);
    auto k = t != nullptr ? key_from_base64(*t) : std::nullopt;
    if (!k) {
      return fail(m.site + ": " + field + ": not a key (44 characters of base64)");
    }
    *key = *k;
  }
  const auto list = [&](const char* key, size_t max) -> Expected<const json*> {
    auto it = j.find(key);
    if (it == j.end() || !it->is_array() || it->size() > max) {
      return fail(m.site + ": " + key + ": not a list of at most " + std::to_string(max));
    }
    return &*it;
  };
  auto endpoints = list("endpoints", kMaxMemberEndpoints);
  if (!endpoints) {
    return fail(endpoints.error());
  }
  for (const json& e : **endpoints) {
    auto hp = e.is_string() ? net::HostPort::parse(e.get<std::string>())
                            : Expected<net::HostPort>(fail("not a string"));
    if (!hp) {
      return fail(m.site + ": endpoints: " + hp.error());
    }
    m.endpoints.push_back(*hp);
  }
  if (m.endpoints.empty()) {
    return fail(m.site + ": endpoints: none: a member is reached at one at least");
  }
  auto networks = list("networks", kMaxMemberNetworks);
  if (!networks) {
    return fail(networks.error());
  }
  for (const json& n : **networks) {
    auto p = n.is_string() ? net::Prefix::parse_network(n.get<std::string>())
                           : Expected<net::Prefix>(fail("not a string"));
    if (!p) {
      return fail(m.site + ": networks: " + p.error());
    }
    m.networks.push_back(*p);
  }
  auto port = j.find("enrolment_port");
  if (port == j.end() || !port->is_number_unsigned() || port->get<uint64_t>() == 0 ||
      port->get<uint64_t>() > 65535) {
    return fail(m.site + ": enrolment_port: not a port 1-65535");
  }
  m.enrolment_port = port->get<uint16_t>();
  return m;
}

}  // namespace vigil::enrol

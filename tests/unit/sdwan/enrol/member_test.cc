// A member as sites tell each other of it: what goes out comes back the same, and what comes
// in is checked like config before anything of it is used.
#include "sdwan/enrol/member.h"

#include <gtest/gtest.h>

namespace vigil::enrol {
namespace {

using nlohmann::json;

Member sample() {
  Member m{.site = "s4", .enrolment_port = 51821};
  m.public_key.fill(1);
  m.identity.fill(2);
  m.endpoints = {*net::HostPort::parse("198.18.4.2:51820"),
                 *net::HostPort::parse("[2001:db8:4::2]:51820")};
  m.networks = {*net::Prefix::parse_network("10.4.0.0/16")};
  return m;
}

TEST(Member, RoundTripsAndNamesItsContacts) {
  const Member m = sample();
  auto back = member_from_json(json::parse(to_json(m).dump()));
  ASSERT_TRUE(back) << back.error();
  EXPECT_EQ(*back, m);
  EXPECT_EQ(m.contacts(), (std::vector<std::string>{"198.18.4.2:51821", "[2001:db8:4::2]:51821"}));
}

TEST(Member, RefusesWhatIsNotOne) {
  const json good = to_json(sample());
  const auto with = [&](const char* key, json value) {
    json j = good;
    j[key] = std::move(value);
    return j;
  };
  const auto without = [&](const char* key) {
    json j = good;
    j.erase(key);
    return j;
  };
  for (const json& bad :
       {json(7), json::array(), with("site", "S4"), with("site", 4), without("site"),
        with("public_key", "short"), without("identity"), with("endpoints", json::array()),
        with("endpoints", json::array({"host.example:51820"})),
        with("endpoints", json(std::vector<std::string>(9, "1.2.3.4:5"))),
        with("networks", json::array({"10.4.0.1/16"})),
        with("networks", json(std::vector<std::string>(65, "10.0.0.0/8"))),
        with("enrolment_port", 0), with("enrolment_port", 70000), with("enrolment_port", -1),
        with("enrolment_port", "51821")}) {
    EXPECT_FALSE(member_from_json(bad)) << bad.dump();
  }
}

}  // namespace
}  // namespace vigil::enrol

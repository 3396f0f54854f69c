// The policies section: application classes, their matches, SLA and preference, and each
// mistake with its path, line and column.
#include <gtest/gtest.h>

#include "config/document.h"

namespace vigil::config {
namespace {

constexpr const char* kBase = R"(interfaces:
  lan0: {role: lan, addresses: [10.1.1.1/24]}
  wan1: {role: wan, addresses: [198.18.1.2/30]}
  wan2: {role: wan, addresses: [198.18.1.6/30]}
)";

ParseResult parse_with(const std::string& policies) {
  return parse_text(std::string(kBase) + policies, "vigil.yaml");
}

TEST(PoliciesConfig, ClassesParseIntoTypesInOrder) {
  const auto r = parse_with(R"(policies:
  classes:
    - name: voice
      match:
        - {protocol: udp, destination_ports: [10000-20000, 5060]}
        - {dscp: [ef, af41, cs5, 10]}
      sla: {max_rtt_ms: 150, max_jitter_ms: 30, max_loss_percent: 1.5}
      preference: lowest-latency
    - name: bulk
      match: [{protocol: tcp, destination_ports: [873, 445], destination: 10.2.0.0/16}]
      links: [wan2, wan1]
    - name: web
      match: [{protocol: tcp, destination_ports: ["443"]}]
      preference: load-balance
)");
  ASSERT_TRUE(r.errors.empty()) << r.errors.to_string();
  const auto& c = r.config.policies.classes;
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].name, "voice");
  ASSERT_EQ(c[0].match.size(), 2u);
  EXPECT_EQ(c[0].match[0].protocol, ClassProtocol::kUdp);
  EXPECT_EQ(c[0].match[0].destination_ports,
            (std::vector<PortRange>{{10000, 20000}, {5060, 5060}}));
  EXPECT_EQ(c[0].match[1].dscp, (std::vector<uint8_t>{46, 34, 40, 10}));
  EXPECT_EQ(c[0].sla.max_rtt_ms, 150u);
  EXPECT_EQ(c[0].sla.max_jitter_ms, 30u);
  EXPECT_EQ(c[0].sla.max_loss_percent, 1.5);
  EXPECT_EQ(c[0].preference, PathPreference::kLowestLatency);
  EXPECT_EQ(c[1].preference, PathPreference::kOrdered) << "the default";
  EXPECT_EQ(c[1].links, (std::vector<std::string>{"wan2", "wan1"}));
  EXPECT_EQ(c[1].match[0].destination->to_string(), "10.2.0.0/16");
  EXPECT_EQ(c[2].preference, PathPreference::kLoadBalance);
}

TEST(PoliciesConfig, EachMistakeIsNamedWhereItIs) {
  struct Case {
    const char* yaml;
    const char* error;
  };
  const Case cases[] = {
      {"policies:\n  classes:\n    - {name: a, match: [{destination_ports: [0]}]}\n",
       "policies.classes[0].match[0].destination_ports[0] (7:46): \"0\" is not a port"},
      {"policies:\n  classes:\n    - {name: a, match: [{source_ports: [20-10]}]}\n",
       "\"20-10\" is not a port (1-65535) or a range first-last"},
      {"policies:\n  classes:\n    - {name: a, match: [{dscp: [64]}]}\n",
       "\"64\" is not a DSCP: 0-63, ef, af11-af43 or cs0-cs7"},
      {"policies:\n  classes:\n    - {name: a, match: [{dscp: [af44]}]}\n", "is not a DSCP"},
      {"policies:\n  classes:\n    - {name: a, match: [{protocol: icmp, "
       "destination_ports: [1]}]}\n",
       "ICMP has no ports"},
      {"policies:\n  classes:\n    - {name: a, match: [{}], links: [lan0]}\n",
       "no wan interface named \"lan0\""},
      {"policies:\n  classes:\n    - {name: a, match: [{}], links: [wan1, wan1]}\n",
       "is listed twice"},
      {"policies:\n  classes:\n    - {name: a, match: [{}]}\n    - {name: a, match: [{}]}\n",
       "another class is named \"a\""},
      {"policies:\n  classes:\n    - {name: a, match: [{}], sla: {max_loss_percent: 101}}\n",
       "expected a number 0-100"},
      {"policies:\n  classes:\n    - {name: a, match: [{}], sla: {max_rtt_ms: 0}}\n", "max_rtt_ms"},
      {"policies:\n  classes:\n    - {name: a, match: [{}], preference: fastest}\n", "preference"},
      {"policies:\n  classes:\n    - {name: a}\n", "match"},
      {"policies:\n  classes:\n    - {name: a, match: [{source: 10.0.0.0/8, "
       "destination: \"fd00::/8\"}]}\n",
       "not the source's family"},
      {"policies:\n  classes:\n    - {name: a, match: [{protocl: udp}]}\n", "protocol"},
  };
  for (const Case& c : cases) {
    const auto r = parse_with(c.yaml);
    ASSERT_FALSE(r.errors.empty()) << c.yaml;
    EXPECT_NE(r.errors.to_string().find(c.error), std::string::npos) << c.yaml << "\n"
                                                                     << r.errors.to_string();
  }
}

TEST(PoliciesConfig, ClassesAndListsAreBounded) {
  std::string many = "policies:\n  classes:\n";
  for (int i = 0; i < 33; ++i) {
    many += "    - {name: c" + std::to_string(i) + ", match: [{}]}\n";
  }
  auto r = parse_with(many);
  EXPECT_NE(r.errors.to_string().find("more than 32 classes"), std::string::npos)
      << r.errors.to_string();
  std::string ports = "policies:\n  classes:\n    - {name: a, match: [{destination_ports: [";
  for (int i = 1; i <= 17; ++i) {
    ports += std::to_string(i) + (i < 17 ? ", " : "");
  }
  r = parse_with(ports + "]}]}\n");
  EXPECT_NE(r.errors.to_string().find("more than 16 entries"), std::string::npos)
      << r.errors.to_string();
}

}  // namespace
}  // namespace vigil::config

// dns_lookup against a small DNS server on loopback UDP (answers built here by hand from
// RFC 1035's layout): A and AAAA with the least TTL, a CNAME's TTL counting, NXDOMAIN, a name
// without address records, no server answering, and bytes that are not DNS.
#include "l7proxy/upstream/dns_lookup.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <map>
#include <thread>

#include "common/unique_fd.h"

namespace vigil::l7 {
namespace {

struct Record {
  uint16_t type;  // 1 A, 28 AAAA, 5 CNAME (rdata: a name in wire form)
  uint32_t ttl;
  std::string rdata;
};

class DnsServer {
 public:
  std::map<std::string, std::vector<Record>> zone;  // by name as asked, lower case, no dot
  std::string unanswered_aaaa;                      // AAAA queries for it get no answer
  std::atomic<int> queries{0};

  DnsServer() {
    fd_ = UniqueFd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~DnsServer() {
    stop_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  void start() {
    thread_ = std::thread([this] { serve(); });
  }
  DnsSettings settings() const {
    return {.nameservers = {{.address = *net::IpAddress::parse("127.0.0.1"), .port = port_}},
            .timeout = std::chrono::seconds(1),
            .tries = 1};
  }

 private:
  void serve() {
    unsigned char buf[1500];
    while (!stop_) {
      pollfd p{.fd = fd_.get(), .events = POLLIN, .revents = 0};
      if (::poll(&p, 1, 20) <= 0) {
        continue;
      }
      sockaddr_in from{};
      socklen_t len = sizeof from;
      const ssize_t n =
          ::recvfrom(fd_.get(), buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 12) {
        continue;
      }
      ++queries;
      // The question: labels from byte 12, then type and class.
      size_t at = 12;
      std::string name;
      while (at < static_cast<size_t>(n) && buf[at] != 0) {
        const size_t label = buf[at];
        name +=
            (name.empty() ? "" : ".") + std::string(reinterpret_cast<char*>(buf + at + 1), label);
        at += label + 1;
      }
      const size_t question_end = at + 5;
      const uint16_t qtype = static_cast<uint16_t>(buf[at + 1] << 8 | buf[at + 2]);
      if (qtype == 28 && name == unanswered_aaaa) {
        continue;
      }
      std::string out(reinterpret_cast<char*>(buf), question_end);
      out[2] = static_cast<char>(0x81);  // a response, recursion desired
      out[3] = static_cast<char>(0x80);  // recursion available, no error
      out[10] = out[11] = 0;             // no additional records (a client's EDNS0 OPT)
      const auto found = zone.find(name);
      if (found == zone.end()) {
        out[3] = static_cast<char>(0x83);  // NXDOMAIN
      }
      uint16_t count = 0;
      for (const Record& r : found != zone.end() ? found->second : std::vector<Record>{}) {
        if (r.type != qtype && r.type != 5) {
          continue;
        }
        ++count;
        const unsigned char fixed[] = {0xc0,
                                       0x0c,
                                       static_cast<unsigned char>(r.type >> 8),
                                       static_cast<unsigned char>(r.type),
                                       0,
                                       1,
                                       static_cast<unsigned char>(r.ttl >> 24),
                                       static_cast<unsigned char>(r.ttl >> 16),
                                       static_cast<unsigned char>(r.ttl >> 8),
                                       static_cast<unsigned char>(r.ttl),
                                       static_cast<unsigned char>(r.rdata.size() >> 8),
                                       static_cast<unsigned char>(r.rdata.size())};
        out.append(reinterpret_cast<const char*>(fixed), sizeof fixed);
        out += r.rdata;
      }
      out[6] = static_cast<char>(count >> 8);
      out[7] = static_cast<char>(count);
      ::sendto(fd_.get(), out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
    }
  }

  UniqueFd fd_;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

std::string v4(const char* text) {
  in_addr a{};
  ::inet_pton(AF_INET, text, &a);
  return {reinterpret_cast<char*>(&a), 4};
}
std::string v6(const char* text) {
  in6_addr a{};
  ::inet_pton(AF_INET6, text, &a);
  return {reinterpret_cast<char*>(&a), 16};
}

TEST(DnsLookup, AddressesOfBothFamiliesSortedWithTheLeastTtl) {
  DnsServer dns;
  dns.zone["app.test"] = {{1, 60, v4("10.0.0.9")},
                          {1, 30, v4("10.0.0.5")},
                          {1, 60, v4("10.0.0.5")},
                          {28, 20, v6("fd00::5")}};
  dns.start();
  const auto got = dns_lookup("app.test", dns.settings());
  ASSERT_TRUE(got) << got.error();
  ASSERT_EQ(got->addresses.size(), 3u) << "10.0.0.5 once";
  EXPECT_EQ(got->addresses[0].to_string(), "10.0.0.5");
  EXPECT_EQ(got->addresses[1].to_string(), "10.0.0.9");
  EXPECT_EQ(got->addresses[2].to_string(), "fd00::5");
  EXPECT_EQ(got->ttl_s, 20u);
}

TEST(DnsLookup, ACnamesTtlCountsToo) {
  DnsServer dns;
  // "www.test" CNAME "app.test" (wire form), then the address.
  dns.zone["www.test"] = {{5, 7, std::string("\3app\4test\0", 10)}, {1, 300, v4("10.0.0.5")}};
  dns.start();
  const auto got = dns_lookup("www.test", dns.settings());
  ASSERT_TRUE(got) << got.error();
  ASSERT_EQ(got->addresses.size(), 1u);
  EXPECT_EQ(got->ttl_s, 7u);
}

TEST(DnsLookup, EachFailureSaysWhy) {
  DnsServer dns;
  dns.zone["empty.test"] = {};
  dns.start();
  auto got = dns_lookup("nope.test", dns.settings());
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), "no such name");
  got = dns_lookup("empty.test", dns.settings());
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), "no address records");

  DnsSettings nobody = dns.settings();
  nobody.nameservers[0].port = 9;  // discard: nothing answers on loopback
  got = dns_lookup("app.test", nobody);
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), "the nameservers did not answer");
}

TEST(DnsLookup, OneFamilyUnansweredIsNoAnswerAtAll) {
  // The A records came, the AAAA query went unanswered: taking the A records alone would
  // drop the name's IPv6 targets for a lost datagram, so the lookup fails (and the resolver
  // keeps what it had).
  DnsServer dns;
  dns.zone["app.test"] = {{1, 60, v4("10.0.0.5")}, {28, 60, v6("fd00::5")}};
  dns.unanswered_aaaa = "app.test";
  dns.start();
  const auto got = dns_lookup("app.test", dns.settings());
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error(), "the nameservers did not answer");
}

TEST(DnsLookup, BytesThatAreNotAResponseAreRefused) {
  DnsAnswer answer;
  const unsigned char garbage[] = {1, 2, 3};
  EXPECT_FALSE(parse_dns_answer(garbage, sizeof garbage, answer));
  // A header that claims an answer record which is not there.
  const unsigned char truncated[] = {0, 1, 0x81, 0x80, 0, 0, 0, 1, 0, 0, 0, 0, 0xc0};
  EXPECT_FALSE(parse_dns_answer(truncated, sizeof truncated, answer));
  EXPECT_TRUE(answer.addresses.empty());
}

}  // namespace
}  // namespace vigil::l7

// The resolver's thread with an injected lookup: new names are looked up before add()
// returns, looked up again when their TTL runs out (held within the bounds), a change bumps
// the version, a failure keeps the addresses, forgotten names are not looked up again, and a
// lookup slower than the wait does not hold add() up.
#include "l7proxy/core/target_resolver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace vigil::l7 {
namespace {

using namespace std::chrono_literals;

net::IpAddress ip(const char* text) {
  return *net::IpAddress::parse(text);
}

// A lookup answering from `table` (guarded), counting calls by name.
struct FakeDns {
  std::mutex mutex;
  std::map<std::string, Expected<DnsAnswer>> table;
  std::map<std::string, int> calls;
  std::chrono::milliseconds delay{0};

  TargetResolver::Lookup lookup() {
    return [this](const std::string& name, const DnsSettings&) -> Expected<DnsAnswer> {
      std::this_thread::sleep_for(delay);
      const std::lock_guard lock(mutex);
      ++calls[name];
      const auto it = table.find(name);
      return it != table.end() ? it->second : fail("no such name");
    };
  }
  void set(const std::string& name, Expected<DnsAnswer> a) {
    const std::lock_guard lock(mutex);
    table.insert_or_assign(name, std::move(a));
  }
  int called(const std::string& name) {
    const std::lock_guard lock(mutex);
    return calls[name];
  }
};

TargetResolver::Settings fast() {
  return {.min_ttl = 20ms, .max_ttl = 50ms};
}

bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 500 && !done(); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

TEST(TargetResolver, ANewNameIsResolvedBeforeAddReturns) {
  FakeDns dns;
  dns.set("app.test", DnsAnswer{.addresses = {ip("10.0.0.5")}, .ttl_s = 300});
  TargetResolver resolver(dns.lookup());
  resolver.add({"app.test"}, {});
  const auto s = resolver.snapshot();
  ASSERT_EQ(s.names.size(), 1u);
  EXPECT_EQ(s.names.at("app.test").addresses, std::vector{ip("10.0.0.5")});
  EXPECT_EQ(s.names.at("app.test").ttl_s, 300u);
  EXPECT_EQ(s.version, 1u);
  resolver.add({"app.test"}, {});  // known: not looked up again now
  EXPECT_EQ(dns.called("app.test"), 1);
}

TEST(TargetResolver, LookedUpAgainWhenTheTtlRunsOutAndAChangeBumpsTheVersion) {
  FakeDns dns;
  dns.set("app.test", DnsAnswer{.addresses = {ip("10.0.0.5")}, .ttl_s = 0});
  TargetResolver resolver(dns.lookup());
  resolver.add({"app.test"}, fast());
  ASSERT_TRUE(eventually([&] { return dns.called("app.test") >= 3; }))
      << "a TTL of 0 is held to min_ttl, not looked up in a loop, nor never";
  EXPECT_EQ(resolver.version(), 1u) << "the same answer is no change";
  dns.set("app.test", DnsAnswer{.addresses = {ip("10.0.0.6")}, .ttl_s = 0});
  ASSERT_TRUE(eventually([&] { return resolver.version() == 2u; }));
  EXPECT_EQ(resolver.snapshot().names.at("app.test").addresses, std::vector{ip("10.0.0.6")});
}

TEST(TargetResolver, AFailureKeepsTheAddressesAndSaysWhy) {
  FakeDns dns;
  dns.set("app.test", DnsAnswer{.addresses = {ip("10.0.0.5")}, .ttl_s = 0});
  TargetResolver resolver(dns.lookup());
  resolver.add({"app.test"}, fast());
  dns.set("app.test", fail("the nameservers did not answer"));
  ASSERT_TRUE(eventually([&] { return !resolver.snapshot().names.at("app.test").error.empty(); }));
  const auto s = resolver.snapshot();
  EXPECT_EQ(s.names.at("app.test").error, "the nameservers did not answer");
  EXPECT_EQ(s.names.at("app.test").addresses, std::vector{ip("10.0.0.5")});
  EXPECT_EQ(s.version, 1u);
}

TEST(TargetResolver, ForgottenNamesAreNotLookedUpAgain) {
  FakeDns dns;
  dns.set("a.test", DnsAnswer{.addresses = {ip("10.0.0.5")}, .ttl_s = 0});
  dns.set("b.test", DnsAnswer{.addresses = {ip("10.0.0.6")}, .ttl_s = 0});
  TargetResolver resolver(dns.lookup());
  resolver.add({"a.test", "b.test"}, fast());
  resolver.use({"b.test"}, fast());
  std::this_thread::sleep_for(50ms);  // a lookup of a.test may have been under way
  const int a = dns.called("a.test");
  ASSERT_TRUE(eventually([&] { return dns.called("b.test") >= 4; }));
  EXPECT_EQ(dns.called("a.test"), a);
  EXPECT_EQ(resolver.snapshot().names.count("a.test"), 0u);
}

TEST(TargetResolver, NewSettingsRedoALookupUnderWayAndAPreparedCommitChangesNone) {
  std::mutex mutex;
  std::vector<std::vector<net::HostPort>> asked_with;
  auto lookup = [&](const std::string&, const DnsSettings& dns) -> Expected<DnsAnswer> {
    std::this_thread::sleep_for(30ms);
    const std::lock_guard lock(mutex);
    asked_with.push_back(dns.nameservers);
    return DnsAnswer{.addresses = {ip("10.0.0.5")}, .ttl_s = 3600};
  };
  TargetResolver resolver(lookup);
  TargetResolver::Settings old_servers;
  old_servers.dns.nameservers = {{.address = ip("10.0.0.53"), .port = 53}};
  TargetResolver::Settings new_servers;
  new_servers.dns.nameservers = {{.address = ip("10.0.0.54"), .port = 53}};
  resolver.add({"app.test"}, old_servers);
  resolver.use({"app.test"}, old_servers);
  // A commit prepared with other nameservers (and then not activated) changes nothing.
  resolver.add({"app.test"}, new_servers);
  std::this_thread::sleep_for(100ms);
  {
    const std::lock_guard lock(mutex);
    ASSERT_EQ(asked_with.size(), 1u);
  }
  // Activated: asked again under the new ones, even if a lookup was under way then.
  resolver.use({"app.test"}, new_servers);
  ASSERT_TRUE(eventually([&] {
    const std::lock_guard lock(mutex);
    return !asked_with.empty() && asked_with.back() == new_servers.dns.nameservers;
  }));
}

TEST(TargetResolver, ASlowLookupDoesNotHoldAddUpPastItsWait) {
  FakeDns dns;
  dns.delay = 500ms;
  dns.set("slow.test", DnsAnswer{.addresses = {ip("10.0.0.5")}, .ttl_s = 60});
  TargetResolver resolver(dns.lookup());
  resolver.add({"slow.test"}, {}, 50ms);
  EXPECT_FALSE(resolver.snapshot().names.at("slow.test").looked_up) << "add() did not wait";
  ASSERT_TRUE(eventually([&] { return resolver.version() == 1u; }));
}

}  // namespace
}  // namespace vigil::l7

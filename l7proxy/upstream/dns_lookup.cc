#include "l7proxy/upstream/dns_lookup.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace vigil::l7 {

bool parse_dns_answer(const unsigned char* bytes, int length, DnsAnswer& out) {
  ns_msg message;
  if (length <= 0 || ns_initparse(bytes, length, &message) != 0) {
    return false;
  }
  const int count = ns_msg_count(message, ns_s_an);
  for (int i = 0; i < count; ++i) {
    ns_rr record;
    if (ns_parserr(&message, ns_s_an, i, &record) != 0) {
      return false;
    }
    if (ns_rr_class(record) != ns_c_in) {
      continue;
    }
    const int type = ns_rr_type(record);
    const auto rdlength = ns_rr_rdlen(record);
    net::IpAddress address;
    if (type == ns_t_a && rdlength == 4) {
      address.family = 4;
    } else if (type == ns_t_aaaa && rdlength == 16) {
      address.family = 6;
    } else if (type != ns_t_cname) {
      continue;  // DNAME, RRSIG...: not addresses, and their TTLs say nothing of ours
    }
    out.ttl_s = std::min<uint32_t>(out.ttl_s, ns_rr_ttl(record));
    if (type != ns_t_cname) {
      std::memcpy(address.bytes.data(), ns_rr_rdata(record), rdlength);
      out.addresses.push_back(address);
    }
  }
  return true;
}

Expected<DnsAnswer> dns_lookup(const std::string& name, const DnsSettings& settings) {
  // The resolver's state is this call's own: thread-safe, and the nameservers ours.
  struct __res_state state {};
  if (res_ninit(&state) != 0) {
    return fail("the resolver library could not start");
  }
  struct Closer {
    struct __res_state* s;
    ~Closer() { res_nclose(s); }
  } closer{&state};
  if (!settings.nameservers.empty()) {
    // res_ninit keeps IPv6 nameservers of resolv.conf apart, allocated; they go first, or
    // they would be asked instead of ours (and leak once nscount no longer covers them).
    for (auto*& extra : state._u._ext.nsaddrs) {
      std::free(extra);
      extra = nullptr;
    }
    state.nscount = 0;
    for (const net::HostPort& server : settings.nameservers) {
      if (server.address.family != 4 || state.nscount >= MAXNS) {
        continue;  // validated by the config: IPv4, at most three
      }
      sockaddr_in& a = state.nsaddr_list[state.nscount++];
      a = sockaddr_in{};
      a.sin_family = AF_INET;
      a.sin_port = htons(server.port);
      std::memcpy(&a.sin_addr, server.address.bytes.data(), 4);
    }
  }
  state.retrans = static_cast<int>(std::max<int64_t>(1, settings.timeout.count()));
  state.retry = std::max(1, settings.tries);
  state.options &= ~static_cast<unsigned long>(RES_DNSRCH | RES_DEFNAMES);
  // Never the TCP fallback for a truncated answer: glibc waits on its TCP socket with no
  // timeout, so a server that truncates and then stalls would hold the lookups up for good.
  // What a truncated UDP answer holds is used.
  state.options |= RES_IGNTC;

  DnsAnswer answer{.ttl_s = std::numeric_limits<uint32_t>::max()};
  std::array<unsigned char, 4096> buf{};
  bool no_name = false, no_answer = false, failed = false;
  for (const int type : {ns_t_a, ns_t_aaaa}) {
    const int n =
        res_nquery(&state, name.c_str(), ns_c_in, type, buf.data(), static_cast<int>(buf.size()));
    if (n < 0) {
      switch (state.res_h_errno) {
        case HOST_NOT_FOUND:
          no_name = true;
          break;
        case NO_DATA:
          break;  // the name has no records of this type
        case TRY_AGAIN:
          no_answer = true;
          break;
        default:
          failed = true;
          break;
      }
      continue;
    }
    if (!parse_dns_answer(buf.data(), std::min(n, static_cast<int>(buf.size())), answer)) {
      failed = true;
    }
  }
  if (!answer.addresses.empty() && (no_answer || failed)) {
    // One family answered, the other did not: not the name's whole answer, so no answer (the
    // caller keeps what it had rather than dropping the other family's addresses).
    return fail(no_answer ? "the nameservers did not answer" : "the lookup was refused or failed");
  }
  if (!answer.addresses.empty()) {
    // Sorted and once each: a server that rotates its records has not changed them.
    auto& a = answer.addresses;
    std::sort(a.begin(), a.end());  // IPv4 (family 4) before IPv6
    a.erase(std::unique(a.begin(), a.end()), a.end());
    if (a.size() > kMaxAddresses) {
      a.resize(kMaxAddresses);  // IPv4 first: those kept are the same on each lookup
    }
    return answer;
  }
  if (no_name) {
    return fail("no such name");
  }
  if (no_answer) {
    return fail("the nameservers did not answer");
  }
  if (failed) {
    return fail("the lookup was refused or failed");
  }
  return fail("no address records");
}

}  // namespace vigil::l7

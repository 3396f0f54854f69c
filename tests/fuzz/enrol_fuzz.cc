// Fuzzes what a site's enrolment service and a joining box read from the other side: the
// token text (pasted by an operator, or forged) and the request/answer JSON with its members.
// Nothing may crash; a token that decodes encodes back to a token that decodes the same; a
// member that parses re-serialises to the same member.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/json_bounded.h"
#include "sdwan/enrol/join_token.h"
#include "sdwan/enrol/member.h"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto t = enrol::decode_token(text)) {
    auto again = enrol::decode_token(enrol::encode_token(*t));
    if (!again || again->id != t->id || again->secret != t->secret || again->site != t->site ||
        again->contacts != t->contacts || again->expires_at != t->expires_at) {
      std::abort();
    }
  }
  auto doc = parse_json_bounded(text, 8);
  if (!doc) {
    return 0;
  }
  const nlohmann::json& candidate =
      doc->is_object() && doc->contains("member") ? (*doc)["member"] : *doc;
  if (auto m = enrol::member_from_json(candidate)) {
    auto back = enrol::member_from_json(enrol::to_json(*m));
    if (!back || !(*back == *m)) {
      std::abort();
    }
  }
  return 0;
}

// mesh keygen: this site's WireGuard key, made by vigild where the mesh config looks for it.
// mesh token create|list|delete, mesh join, mesh revoke, mesh leave, mesh rotate-key, show
// mesh: the mesh's membership (vigild's mgmt/mesh/enrolment.h).
#include <unistd.h>

#include <iostream>

#include "mgmt/cli/commands/commands.h"

namespace vigil::mgmt::cli {
namespace {

std::string text_of(const nlohmann::json& r, const char* key) {
  const auto& v = member(r, key);
  return v.is_string() ? v.get<std::string>() : std::string("?");
}

std::string utc(int64_t t) {
  return utc_time(t) + " UTC";
}

std::string names(const nlohmann::json& list) {
  std::string out;
  for (const auto& n : list) {
    if (n.is_string()) {
      out += (out.empty() ? "" : ", ") + n.get<std::string>();
    }
  }
  return out.empty() ? "none" : out;
}

Output mesh_keygen(Invocation& inv) {
  const bool force = inv.args.size() == 1 && inv.args[0] == "force";
  if (!inv.args.empty() && !force) {
    return usage_error("mesh keygen [force]");
  }
  auto r = inv.call("mesh.keygen", {{"force", force}}, "cannot make a mesh key");
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  Output o{.out = "public key: " + text_of(*r, "public_key") + "\n"};
  o.err = std::string(member(*r, "replaced").is_boolean() && member(*r, "replaced").get<bool>()
                          ? "replaced "
                          : "wrote ") +
          text_of(*r, "file") +
          " (mode 0600). Give the public key to every peer (mesh.peers.<name>.public_key on "
          "their side); the private key is never shown.\n";
  return o;
}

}  // namespace

// "90s", "30m", "1h", "7d" (or plain seconds) in seconds; nothing when it is none of these.
std::optional<int64_t> parse_duration(std::string_view text) {
  if (text.empty() || text.size() > 12) {
    return std::nullopt;
  }
  int64_t unit = 1;
  switch (text.back()) {
    case 's':
      unit = 1;
      text.remove_suffix(1);
      break;
    case 'm':
      unit = 60;
      text.remove_suffix(1);
      break;
    case 'h':
      unit = 3600;
      text.remove_suffix(1);
      break;
    case 'd':
      unit = 86400;
      text.remove_suffix(1);
      break;
    default:
      break;
  }
  if (text.empty()) {
    return std::nullopt;
  }
  int64_t n = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    n = n * 10 + (c - '0');
  }
  return n * unit;
}

namespace {

Output mesh_token_create(Invocation& inv) {
  constexpr const char* kUsage = "mesh token create --site NAME [--expires DURATION]";
  std::string site;
  std::string expires = "1h";
  for (size_t i = 0; i < inv.args.size(); ++i) {
    const std::string& a = inv.args[i];
    if ((a == "--site" || a == "site") && i + 1 < inv.args.size()) {
      site = inv.args[++i];
    } else if ((a == "--expires" || a == "expires") && i + 1 < inv.args.size()) {
      expires = inv.args[++i];
    } else {
      return usage_error(kUsage);
    }
  }
  const auto lifetime = parse_duration(expires);
  if (site.empty() || !lifetime) {
    return usage_error(std::string(kUsage) + " (DURATION: 90s, 30m, 1h, 2d; 5 seconds to 7 days)");
  }
  auto r = inv.call("mesh.token.create", {{"site", site}, {"lifetime", *lifetime}},
                    "cannot make a token");
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  const auto& at = member(*r, "expires_at");
  Output o{.out = text_of(*r, "token") + "\n"};
  o.err = "a token for site " + site + " (id " + text_of(*r, "id") + "), usable once until " +
          utc(at.is_number_integer() ? at.get<int64_t>() : 0) +
          ". On the new box: vigil mesh join TOKEN. Keep it secret until then: whoever holds it "
          "can join as " +
          site + ".\n";
  return o;
}

Output mesh_token_list(Invocation& inv) {
  if (!inv.args.empty()) {
    return usage_error("mesh token list");
  }
  auto r = inv.call("mesh.token.list", nlohmann::json::object(), "cannot list the tokens");
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  std::string out;
  for (const auto& t : member(*r, "tokens")) {
    const auto number = [&](const char* key) {
      const auto& v = member(t, key);
      return v.is_number_integer() ? v.get<int64_t>() : 0;
    };
    out += text_of(t, "id") + "  " + text_of(t, "site") + "  " + text_of(t, "state") + "  by " +
           text_of(t, "created_by") + ", expires " + utc(number("expires_at"));
    if (number("used_at") != 0) {
      out += ", used " + utc(number("used_at")) + " from " + text_of(t, "used_from");
    }
    out += "\n";
  }
  return {.out = out.empty() ? "no tokens\n" : out};
}

Output mesh_token_delete(Invocation& inv) {
  if (inv.args.size() != 1) {
    return usage_error("mesh token delete ID");
  }
  auto r = inv.call("mesh.token.delete", {{"id", inv.args[0]}}, "cannot delete the token");
  if (!r) {
    return r.failure();
  }
  return {.out = inv.json ? json_text(*r) : "token " + inv.args[0] + " can no longer be used\n"};
}

Output mesh_join(Invocation& inv) {
  if (inv.args.size() > 1) {
    return usage_error("mesh join [TOKEN]");
  }
  // Without TOKEN, from standard input: a command line is visible to every local user (ps),
  // and the interactive shell keeps its lines in a history file.
  std::string token = inv.args.empty() ? std::string() : inv.args[0];
  if (inv.args.empty()) {
    if (::isatty(STDIN_FILENO) != 0) {
      std::cerr << "token: " << std::flush;
    }
    std::string line;
    line.reserve(256);
    for (int c = std::cin.get(); c != EOF && c != '\n' && line.size() <= 4096; c = std::cin.get()) {
      line.push_back(static_cast<char>(c));
    }
    token = line;
  }
  auto r = inv.call("mesh.join", {{"token", token}}, "cannot join the mesh");
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  return {.out = "joined the mesh as " + text_of(*r, "site") + ", admitted by " +
                 text_of(*r, "admitted_by") + "; peers: " + names(member(*r, "members")) +
                 " (commit " + member(*r, "seq").dump() + ")\n"};
}

Output mesh_revoke(Invocation& inv) {
  if (inv.args.size() != 1) {
    return usage_error("mesh revoke SITE");
  }
  auto r = inv.call("mesh.revoke", {{"site", inv.args[0]}}, "cannot revoke the site");
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  return {.out = "site " + inv.args[0] + " is no peer here any more (commit " +
                 member(*r, "seq").dump() + "); told: " + names(member(*r, "told")) + "\n"};
}

Output mesh_leave(Invocation& inv) {
  if (!inv.args.empty()) {
    return usage_error("mesh leave");
  }
  auto r = inv.call("mesh.leave", nlohmann::json::object(), "cannot leave the mesh");
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  return {.out = "left the mesh (commit " + member(*r, "seq").dump() +
                 "); told: " + names(member(*r, "told")) + "\n"};
}

Output mesh_rotate_key(Invocation& inv) {
  constexpr const char* kUsage = "mesh rotate-key [--grace DURATION]";
  std::string grace = "1h";
  for (size_t i = 0; i < inv.args.size(); ++i) {
    const std::string& a = inv.args[i];
    if ((a == "--grace" || a == "grace") && i + 1 < inv.args.size()) {
      grace = inv.args[++i];
    } else {
      return usage_error(kUsage);
    }
  }
  const auto seconds = parse_duration(grace);
  if (!seconds) {
    return usage_error(std::string(kUsage) + " (DURATION: 30m, 1h, 2d; 1 minute to 7 days)");
  }
  auto r = inv.call("mesh.rotate_key", {{"grace", *seconds}}, "cannot rotate the key");
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  const auto& until = member(*r, "until");
  std::string out = "new public key " + text_of(*r, "public_key") + " (commit " +
                    member(*r, "seq").dump() + "); the previous key is answered until " +
                    utc(until.is_number_integer() ? until.get<int64_t>() : 0) +
                    "\ntold: " + names(member(*r, "told")) + "\n";
  if (!member(*r, "not_told").empty()) {
    out += "not members, to be given the new key by hand: " + names(member(*r, "not_told")) + "\n";
  }
  return {.out = out};
}

Output show_mesh(Invocation& inv) {
  if (!inv.args.empty()) {
    return usage_error("show mesh");
  }
  auto r = inv.call("show.mesh", nlohmann::json::object(), "cannot show the mesh");
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  const std::string site = text_of(*r, "site");
  std::string out = "site: " + (site.empty() ? std::string("(none: not in a mesh)") : site) + "\n";
  const std::string identity = text_of(*r, "identity");
  out += "identity: " + (identity.empty() ? std::string("(none yet)") : identity) + "\n";
  const std::string key = text_of(*r, "public_key");
  if (!key.empty() && key != "?") {
    out += "public key: " + key + "\n";
  }
  const auto& until = member(*r, "previous_key_until");
  if (until.is_number_integer() && until.get<int64_t>() > 0) {
    out += "previous key: answered until " + utc(until.get<int64_t>()) + " (a rotation's grace)\n";
  }
  std::string listening;
  for (const auto& a : member(*r, "listening")) {
    listening += (listening.empty() ? "" : ", ") + a.get<std::string>();
  }
  const std::string problem = text_of(*r, "service_error");
  out += "enrolment service: " +
         (!problem.empty() && problem != "?" ? "off: " + problem
          : listening.empty()                ? std::string("off")
                                             : listening) +
         "\n";
  const auto& pending = member(*r, "announcements_pending");
  if (pending.is_number_integer() && pending.get<int64_t>() > 0) {
    out += "announcements still to deliver: " + pending.dump() + "\n";
  }
  out += "members:\n";
  bool any = false;
  for (const auto& m : member(*r, "members")) {
    any = true;
    std::string endpoints;
    for (const auto& e : member(m, "endpoints")) {
      endpoints += (endpoints.empty() ? "" : ", ") + e.get<std::string>();
    }
    out += "  " + text_of(m, "site") + "  key " + text_of(m, "public_key") + "  at " + endpoints +
           "\n";
  }
  if (!any) {
    out += "  none\n";
  }
  return {.out = out};
}

}  // namespace

void add_mesh_commands(CommandTable& t) {
  t.add({.words = {"mesh", "keygen"},
         .args_hint = "[force]",
         .help = "make this site's WireGuard key (admin); prints the public key; force replaces "
                 "an existing one",
         .run = mesh_keygen});
  t.add({.words = {"mesh", "token", "create"},
         .args_hint = "--site NAME [--expires DURATION]",
         .help = "make a one-time token that lets a new box join the mesh as site NAME (admin; "
                 "audited); DURATION 5s to 7d, default 1h",
         .run = mesh_token_create});
  t.add({.words = {"mesh", "token", "list"},
         .help = "the tokens this site made: waiting, used, expired or withdrawn (operator)",
         .run = mesh_token_list});
  t.add({.words = {"mesh", "token", "delete"},
         .args_hint = "ID",
         .help = "withdraw a token not yet used (admin)",
         .run = mesh_token_delete});
  t.add({.words = {"mesh", "join"},
         .args_hint = "[TOKEN]",
         .help = "join the mesh a token comes from (admin): this box becomes the token's site, "
                 "every member its peer, as one commit; without TOKEN it is read from standard "
                 "input (kept off the command line, which other local users can see)",
         .run = mesh_join});
  t.add({.words = {"mesh", "revoke"},
         .args_hint = "SITE",
         .help = "drop a site from the mesh (admin): removed here and announced to every other "
                 "member, each a commit",
         .run = mesh_revoke});
  t.add({.words = {"mesh", "leave"},
         .help = "leave the mesh (admin): every member is told to drop this site, then its "
                 "members are removed here",
         .run = mesh_leave});
  t.add({.words = {"mesh", "rotate-key"},
         .args_hint = "[--grace DURATION]",
         .help = "give this site a new WireGuard key (admin; audited): the old one is still "
                 "answered for DURATION (1m to 7d, default 1h) and every member is told, each "
                 "taking both keys until then; the tunnels' sessions go on, and members told "
                 "within the grace lose nothing",
         .run = mesh_rotate_key});
  t.add({.words = {"show", "mesh"},
         .help = "this site's name and identity in the mesh, its enrolment service, the members",
         .run = show_mesh});
}

}  // namespace vigil::mgmt::cli

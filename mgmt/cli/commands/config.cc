// The config commands: the candidate (load, set, delete, compare, rollback, discard, save),
// commit / commit confirmed / confirm, validate, and show configuration.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "common/api/vigild_answers.h"
#include "common/yaml_file.h"
#include "config/sections.h"
#include "config/set_commands.h"
#include "config/yaml_json.h"
#include "mgmt/cli/commands/commands.h"
#include "mgmt/cli/words.h"

namespace vigil::mgmt::cli {
namespace {

using nlohmann::json;

// `commit confirmed` without minutes, as on Junos.
constexpr int kDefaultConfirmMinutes = 10;

// A file's text, or the Output saying why it cannot be read (exit 64: the argument is wrong).
std::variant<std::string, Output> read_text_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return failure("cannot read " + path + ": " + std::strerror(errno), kExitUsage);
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "rollback N" as a command's only arguments: N, 0 without them, nullopt when malformed.
std::optional<size_t> rollback_arg(const std::vector<std::string>& args) {
  if (args.empty()) {
    return 0;
  }
  if (args.size() == 2 && args[0] == "rollback") {
    try {
      return std::stoul(args[1]);
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

Output validate(Invocation& inv) {
  if (inv.args.size() != 1) {
    return usage_error("validate FILE");
  }
  auto text = read_text_file(inv.args[0]);
  if (auto* why = std::get_if<Output>(&text)) {
    return *why;
  }
  auto r = inv.call("validate", {{"text", std::get<std::string>(text)}, {"origin", inv.args[0]}},
                    "cannot validate");
  if (!r) {
    return r.failure();
  }
  Output o{.exit_code = r->value("valid", false) ? kExitOk : kExitFailed};
  if (inv.json) {
    o.out = json_text(*r);
  } else if (r->value("valid", false)) {
    o.out = inv.args[0] + ": valid\n";
  } else {
    for (const auto& e : member(*r, "errors")) {
      o.out += inv.args[0] + ": " + e.value("text", "") + "\n";
    }
  }
  return o;
}

// "PATH... [rollback N]": the path words and N (0 without it); nullopt when N is malformed.
struct ConfigView {
  std::vector<std::string> path;
  size_t rollback = 0;
};
std::optional<ConfigView> config_view(const std::vector<std::string>& args) {
  ConfigView v{.path = args};
  const size_t n = args.size();
  if (n >= 2 && args[n - 2] == "rollback") {
    auto r = rollback_arg({args[n - 2], args[n - 1]});
    if (!r) {
      return std::nullopt;
    }
    v.rollback = *r;
    v.path.resize(n - 2);
  }
  return v;
}

// A path into the configuration starts with one of its sections (a typo is an error, not an
// empty answer); the usage error when it does not.
std::optional<Output> bad_path(const std::vector<std::string>& path) {
  if (path.empty() || config::kDocumentSchema.find(path[0]) != nullptr) {
    return std::nullopt;
  }
  std::string keys;
  for (const auto& f : config::kDocumentSchema.fields) {
    keys += (keys.empty() ? "" : ", ") + std::string(f.key);
  }
  return failure("\"" + path[0] + "\" is not a part of the configuration; one of: " + keys,
                 kExitUsage);
}

// A config document's text as a command shows it: whole or the part under `path`, as YAML
// (`| display set` can take it further) or, with --json, as structured data beside `extra`.
Output config_output(const Invocation& inv, const std::string& text,
                     const std::vector<std::string>& path, json extra) {
  if (path.empty() && !inv.json) {
    return {.out = text, .is_config = true};
  }
  auto doc = parse_yaml(text, "configuration");
  if (!doc) {
    return failure("the configuration is not valid YAML: " + doc.error());
  }
  const YAML::Node shown = path.empty() ? *doc : config::subtree(*doc, path);
  if (inv.json) {
    extra["config"] = shown.IsNull() ? json::object() : config::to_json(shown);
    return {.out = json_text(extra)};
  }
  return {.out = shown.IsNull() ? std::string() : config::emit(shown), .is_config = true};
}

Output show_configuration(Invocation& inv) {
  auto view = config_view(inv.args);
  if (!view) {
    return usage_error("show configuration [PATH...] [rollback N]");
  }
  if (auto bad = bad_path(view->path)) {
    return *bad;
  }
  auto r = inv.call("show.configuration", {{"rollback", view->rollback}}, "cannot show");
  if (!r) {
    return r.failure();
  }
  return config_output(inv, r->value("text", ""), view->path, {{"seq", r->value("seq", 0)}});
}

// vigild's `compare` with `params`, as the diff or "no differences".
Output diff_output(Invocation& inv, const json& params) {
  auto r = inv.call("compare", params, "cannot compare");
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  const std::string diff = r->value("diff", "");
  return {.out = diff.empty() ? "no differences\n" : diff};
}

// `show system rollback N [compare M]`: committed config N, or how it differs from M.
Output show_rollback(Invocation& inv) {
  const auto& a = inv.args;
  auto n = a.empty() ? std::nullopt : rollback_arg({"rollback", a[0]});
  std::optional<size_t> m;
  if (a.size() == 3 && a[1] == "compare") {
    m = rollback_arg({"rollback", a[2]});
  }
  if (!n || (a.size() != 1 && !m)) {
    return usage_error("show system rollback N [compare M]");
  }
  if (!m) {
    auto r = inv.call("show.configuration", {{"rollback", *n}}, "cannot show");
    if (!r) {
      return r.failure();
    }
    return config_output(inv, r->value("text", ""), {}, {{"seq", r->value("seq", 0)}});
  }
  return diff_output(inv, {{"rollback", *n}, {"to", *m}});
}

Output load(Invocation& inv) {
  if (inv.args.size() != 2 || (inv.args[0] != "replace" && inv.args[0] != "merge")) {
    return usage_error("load replace|merge FILE");
  }
  auto text = read_text_file(inv.args[1]);
  if (auto* why = std::get_if<Output>(&text)) {
    return *why;
  }
  auto r = inv.call(
      "candidate.load",
      {{"text", std::get<std::string>(text)}, {"mode", inv.args[0]}, {"origin", inv.args[1]}},
      "cannot load");
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  Output o{.out = "loaded " + inv.args[1] + " into the candidate (" + inv.args[0] + ")\n"};
  for (const auto& e : member(*r, "errors")) {
    o.out += "  error: " + e.value("text", "") + "\n";
  }
  if (!r->value("valid", false)) {
    o.out += "the candidate will not commit until these are fixed\n";
  }
  return o;
}

// A candidate change's answer: nothing, or what the candidate still lacks before it commits.
// A refusal names the path the command addressed (`path`, its words).
Output changed(Invocation& inv, std::string_view method, const json& params, std::string_view what,
               const std::vector<std::string>& path) {
  auto r = inv.call(method, params, what);
  if (!r) {
    Output o = r.failure();
    o.path = join_words(path);
    return o;
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  Output o;
  for (const auto& e : member(*r, "errors")) {
    o.out += "  candidate error: " + e.value("text", "") + "\n";
  }
  return o;
}

Output edit(Invocation& inv, std::string_view method, std::string_view verb) {
  if (inv.args.empty()) {
    return usage_error(std::string(verb) + " PATH... [VALUE]");
  }
  return changed(inv, method, {{"words", inv.args}}, verb, inv.args);
}

Output insert(Invocation& inv) {
  const size_t n = inv.args.size();
  if (n < 3 || (inv.args[n - 2] != "before" && inv.args[n - 2] != "after")) {
    return usage_error("insert PATH... before|after NAME");
  }
  const std::vector<std::string> words(inv.args.begin(), inv.args.end() - 2);
  return changed(inv, "candidate.insert",
                 {{"words", words}, {"where", inv.args[n - 2]}, {"other", inv.args[n - 1]}},
                 "insert", words);
}

Output compare(Invocation& inv) {
  auto n = rollback_arg(inv.args);
  if (!n) {
    return usage_error("compare [rollback N]");
  }
  return diff_output(inv, {{"rollback", *n}});
}

Output rollback(Invocation& inv) {
  size_t n = 0;
  try {
    if (inv.args.size() != 1) {
      throw std::invalid_argument("count");
    }
    n = std::stoul(inv.args[0]);
  } catch (const std::exception&) {
    return usage_error("rollback N");
  }
  auto r = inv.call("candidate.rollback", {{"rollback", n}}, "cannot roll back");
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  return {.out = "loaded rollback " + std::to_string(n) + " (commit " +
                 std::to_string(r->value("loaded_seq", 0)) +
                 ") into the candidate; review with `vigil compare`, apply with `vigil commit`\n"};
}

Output commit(Invocation& inv) {
  json params = json::object();
  for (size_t i = 0; i < inv.args.size(); ++i) {
    const std::string& a = inv.args[i];
    if (a == "confirmed") {
      // Minutes, or Junos's default of 10 when the next word is not a number.
      params["confirm_minutes"] = kDefaultConfirmMinutes;
      if (i + 1 < inv.args.size() && !inv.args[i + 1].empty() &&
          std::all_of(inv.args[i + 1].begin(), inv.args[i + 1].end(),
                      [](char ch) { return ch >= '0' && ch <= '9'; })) {
        try {
          params["confirm_minutes"] = std::stoi(inv.args[++i]);
        } catch (const std::exception&) {
          return failure("commit confirmed: too many minutes", kExitUsage);
        }
      }
    } else if ((a == "-m" || a == "comment") && i + 1 < inv.args.size()) {
      params["comment"] = inv.args[++i];
    } else if (a == "force") {
      params["force"] = true;
    } else {
      return usage_error("commit [force] [confirmed [MINUTES]] [-m COMMENT]");
    }
  }
  auto r = inv.call("commit", params, "commit");
  if (!r) {
    return r.failure();
  }
  const auto result = r->get<api::CommitResult>();
  if (inv.json) {
    return {.out = json_text(result)};
  }
  if (result.confirmed_pending) {
    return {.out = "commit " + std::to_string(result.commit.seq) +
                   " confirmed (your candidate is the running config: nothing else changed)\n"};
  }
  Output o{.out = "commit " + std::to_string(result.commit.seq) + " complete" +
                  (result.changed_sections.empty() ? " (no sections changed)" : "; changed:")};
  for (const auto& s : result.changed_sections) {
    o.out += " " + s;
  }
  o.out += "\n";
  for (const auto& n : result.not_running) {
    o.out += "  " + n + " is not running; it gets the config when it starts\n";
  }
  for (const auto& n : result.restarting) {
    o.out += "  " + n + " restarts to apply it: the change takes a new process\n";
  }
  if (result.confirm_deadline) {
    o.out += "  confirm with `vigil confirm` within " +
             std::to_string(*result.confirm_deadline - time(nullptr)) +
             " s, or the previous config comes back\n";
  }
  return o;
}

Output update(Invocation& inv) {
  auto r = inv.call("candidate.update", json::object(), "update");
  if (!r) {
    return r.failure();
  }
  if (inv.json) {
    return {.out = json_text(*r)};
  }
  if (!r->value("updated", true)) {
    return {.out = "your candidate is up to date with commit " +
                   std::to_string(r->value("base_seq", uint64_t{0})) + "\n"};
  }
  Output o{.out =
               "merged the commits made since your candidate into it; review with `vigil "
               "compare`\n"};
  for (const auto& e : member(*r, "errors")) {
    o.out += "  candidate error: " + e.value("text", "") + "\n";
  }
  return o;
}

// `commit check`: the candidate validated as a commit would, nothing applied.
Output commit_check(Invocation& inv) {
  auto shown = inv.call("candidate.show", json::object(), "cannot read the candidate");
  if (!shown) {
    return shown.failure();
  }
  auto r = inv.call("validate", {{"text", shown->value("text", "")}, {"origin", "candidate"}},
                    "commit check");
  if (!r) {
    return r.failure();
  }
  const bool valid = r->value("valid", false);
  Output o{.exit_code = valid ? kExitOk : kExitInvalid};
  if (inv.json) {
    o.out = json_text(*r);
  } else if (valid) {
    o.out = "configuration check succeeds\n";
  } else {
    for (const auto& e : member(*r, "errors")) {
      o.out += "error: " + e.value("text", "") + "\n";
    }
  }
  return o;
}

Output confirm(Invocation& inv) {
  auto r = inv.call("confirm", json::object(), "cannot confirm");
  if (!r) {
    return r.failure();
  }
  return {.out = inv.json ? json_text({{"confirmed", true}}) : "commit confirmed\n"};
}

Output discard(Invocation& inv) {
  auto r = inv.call("candidate.discard", json::object(), "cannot discard");
  if (!r) {
    return r.failure();
  }
  return {.out = inv.json ? json_text({{"discarded", true}})
                          : "candidate reset to the running config\n"};
}

Output save(Invocation& inv) {
  if (inv.args.size() != 1) {
    return usage_error("save FILE");
  }
  auto r = inv.call("candidate.show", json::object(), "cannot read the candidate");
  if (!r) {
    return r.failure();
  }
  std::ofstream out(inv.args[0]);
  out << r->value("text", "");
  if (!out.flush()) {
    return failure("cannot write " + inv.args[0] + ": " + std::strerror(errno));
  }
  return {.out = inv.json ? json_text({{"saved", inv.args[0]}})
                          : "saved the candidate to " + inv.args[0] + "\n"};
}

}  // namespace

Output show_candidate(Invocation& inv) {
  if (auto bad = bad_path(inv.args)) {
    return *bad;
  }
  auto r = inv.call("candidate.show", json::object(), "cannot show");
  if (!r) {
    return r.failure();
  }
  return config_output(inv, r->value("text", ""), inv.args,
                       {{"modified", r->value("modified", false)}});
}

void add_config_commands(CommandTable& t) {
  t.add({.words = {"show", "configuration"},
         .args_hint = "[PATH...] [rollback N]",
         .help = "the running config (or the part under PATH), or an earlier one",
         .run = show_configuration});
  t.add({.words = {"show", "system", "rollback"},
         .args_hint = "N [compare M]",
         .help = "committed config N (0 = running), or how it differs from M",
         .run = show_rollback});
  t.add({.words = {"load"},
         .args_hint = "replace|merge FILE",
         .help = "put a file into your candidate config",
         .run = load});
  t.add({.words = {"set"},
         .args_hint = "PATH... VALUE",
         .help = "set a value in your candidate (lists gain the value; entries by their key)",
         .run = [](Invocation& inv) { return edit(inv, "candidate.set", "set"); }});
  t.add({.words = {"delete"},
         .args_hint = "PATH... [VALUE]",
         .help = "remove a key, an entry or a list value from your candidate",
         .run = [](Invocation& inv) { return edit(inv, "candidate.delete", "delete"); }});
  t.add({.words = {"insert"},
         .args_hint = "PATH... before|after NAME",
         .help = "move an entry of an ordered list (ACL rules) before or after another",
         .run = insert});
  t.add({.words = {"compare"},
         .args_hint = "[rollback N]",
         .help = "diff of your candidate against running (or rollback N)",
         .run = compare});
  t.add({.words = {"rollback"},
         .args_hint = "N",
         .help = "load committed config N (0 = running) into your candidate",
         .run = rollback});
  t.add({.words = {"commit"},
         .args_hint = "[force] [confirmed [MIN]] [-m TEXT]",
         .help = "apply your candidate; confirmed: roll back unless confirmed in MIN minutes "
                 "(10); force: even if others committed since it was made",
         .run = commit});
  t.add({.words = {"commit", "check"},
         .help = "check your candidate as a commit would, without applying it",
         .run = commit_check});
  t.add({.words = {"update"},
         .help = "merge what was committed since your candidate was made into it",
         .run = update});
  t.add({.words = {"confirm"}, .help = "keep a commit confirmed", .run = confirm});
  t.add(
      {.words = {"discard"}, .help = "reset your candidate to the running config", .run = discard});
  t.add({.words = {"save"},
         .args_hint = "FILE",
         .help = "write your candidate to a file",
         .run = save});
  t.add({.words = {"validate"},
         .args_hint = "FILE",
         .help = "check a config file against the schema without applying it",
         .run = validate});
}

}  // namespace vigil::mgmt::cli

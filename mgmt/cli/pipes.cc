#include "mgmt/cli/pipes.h"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>

#include "common/yaml_file.h"
#include "config/set_commands.h"
#include "mgmt/cli/words.h"

namespace vigil::mgmt::cli {
namespace {

constexpr std::array<std::string_view, 6> kStageWords = {"compare", "count", "display",
                                                         "except",  "match", "no-more"};
constexpr std::array<std::string_view, 2> kDisplayWords = {"json", "set"};

constexpr std::array<PipeModifier, 8> kModifiers = {{
    {"| display set",
     "configuration as the `set` commands that build it, one per line, values quoted as the "
     "CLI reads them back"},
    {"| display json", "the command's `--json` output"},
    {"| match RE", "only the lines RE (RE2 syntax) matches"},
    {"| except RE", "only the lines RE does not match"},
    {"| count", "how many lines instead of the lines"},
    {"| no-more", "no pager"},
    {"| compare",
     "after configure mode's `show`: the candidate against running; after `show "
     "configuration`: rollback 1 against running, what the last commit changed"},
    {"| compare rollback N", "the same against rollback N"},
}};

constexpr std::string_view kUsage =
    "COMMAND | display set|json | match RE | except RE | count | no-more | compare [rollback N]";

// `typed` spelled out among `words` when it is one of them or the start of exactly one.
template <size_t N>
std::optional<std::string_view> unique_word(const std::string& typed,
                                            const std::array<std::string_view, N>& words) {
  std::optional<std::string_view> found;
  for (const std::string_view w : words) {
    if (w == typed) {
      return w;
    }
    if (!typed.empty() && w.starts_with(typed)) {
      if (found) {
        return std::nullopt;
      }
      found = w;
    }
  }
  return found;
}

std::variant<PipeStage, Output> parse_stage(const std::vector<std::string>& w) {
  const auto bad = [](const std::string& why) {
    return usage_error(why + "\n  " + std::string(kUsage));
  };
  if (w.empty()) {
    return bad("nothing after `|`");
  }
  const auto word = unique_word(w[0], kStageWords);
  if (!word) {
    return bad("`| " + w[0] + "` is not an output modifier");
  }
  const size_t args = w.size() - 1;
  if (*word == "display") {
    const auto what = args == 1 ? unique_word(w[1], kDisplayWords) : std::nullopt;
    if (!what) {
      return bad("`| display` takes set or json");
    }
    return PipeStage{.kind = *what == "set" ? PipeKind::kDisplaySet : PipeKind::kDisplayJson};
  }
  if (*word == "match" || *word == "except") {
    if (args != 1) {
      return bad("`| " + std::string(*word) + "` takes one pattern (quote it if it has spaces)");
    }
    return PipeStage{.kind = *word == "match" ? PipeKind::kMatch : PipeKind::kExcept, .arg = w[1]};
  }
  if (*word == "compare") {
    if (args == 0) {
      return PipeStage{.kind = PipeKind::kCompare};
    }
    const bool number =
        args == 2 && !w[2].empty() && w[2].size() <= 3 &&
        std::all_of(w[2].begin(), w[2].end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!number || std::string_view("rollback").substr(0, w[1].size()) != w[1]) {
      return bad("`| compare` takes nothing or rollback N");
    }
    return PipeStage{.kind = PipeKind::kCompare, .arg = w[2]};
  }
  if (args != 0) {
    return bad("`| " + std::string(*word) + "` takes nothing after it");
  }
  return PipeStage{.kind = *word == "count" ? PipeKind::kCount : PipeKind::kNoMore};
}

// Each line of `text` (the last one with or without its newline) to `keep`.
template <typename Keep>
std::string filter_lines(const std::string& text, Keep keep) {
  std::string out;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    end = end == std::string::npos ? text.size() : end;
    const std::string_view line(text.data() + at, end - at);
    if (keep(line)) {
      out.append(line);
      out += '\n';
    }
    at = end + 1;
  }
  return out;
}

}  // namespace

std::span<const PipeModifier> pipe_modifiers() {
  return kModifiers;
}

std::variant<Pipeline, Output> parse_pipeline(const std::vector<std::string>& words) {
  Pipeline p;
  auto bar = std::find(words.begin(), words.end(), "|");
  p.command.assign(words.begin(), bar);
  while (bar != words.end()) {
    const auto next = std::find(bar + 1, words.end(), "|");
    auto stage = parse_stage(std::vector<std::string>(bar + 1, next));
    if (auto* o = std::get_if<Output>(&stage)) {
      return std::move(*o);
    }
    const PipeStage s = std::get<PipeStage>(stage);
    if (s.kind == PipeKind::kCompare && !p.stages.empty()) {
      return usage_error("`| compare` comes first, straight after the command");
    }
    p.stages.push_back(s);
    bar = next;
  }
  if (p.command.empty() && !p.stages.empty()) {
    return usage_error("a command comes before `|`");
  }
  return p;
}

bool wants_json(const std::vector<PipeStage>& stages) {
  return std::any_of(stages.begin(), stages.end(),
                     [](const PipeStage& s) { return s.kind == PipeKind::kDisplayJson; });
}

std::variant<std::string, Output> display_set(const std::string& yaml_text) {
  auto doc = parse_yaml(yaml_text, "configuration");
  if (!doc) {
    return failure("| display set: the configuration is not valid YAML: " + doc.error());
  }
  std::string out;
  std::vector<std::string> left_out;
  for (const auto& words : config::set_commands(*doc, &left_out)) {
    out += "set";
    for (const auto& w : words) {
      out += " " + quote_word(w);
    }
    out += "\n";
  }
  // Never silently shorter than the config: say what set commands cannot name.
  for (const auto& path : left_out) {
    out += "# not shown: " + path + " has no key to name it by; `show configuration` has it\n";
  }
  return out;
}

Output apply_stages(Output o, const std::vector<PipeStage>& stages) {
  if (o.exit_code != kExitOk) {
    return o;
  }
  for (const PipeStage& s : stages) {
    switch (s.kind) {
      case PipeKind::kDisplaySet: {
        if (!o.is_config) {
          return failure(
              "| display set: only after configuration (show configuration, or show "
              "in configure mode)",
              kExitUsage);
        }
        auto lines = display_set(o.out);
        if (auto* why = std::get_if<Output>(&lines)) {
          return std::move(*why);
        }
        o.out = std::move(std::get<std::string>(lines));
        o.is_config = false;
        break;
      }
      case PipeKind::kMatch:
      case PipeKind::kExcept: {
        RE2::Options options;
        options.set_log_errors(false);
        options.set_max_mem(int64_t{8} << 20);  // a pattern is the user's own, still bounded
        const RE2 pattern(s.arg, options);
        if (!pattern.ok()) {
          return failure("| match: bad pattern \"" + s.arg + "\": " + pattern.error(), kExitUsage);
        }
        const bool want = s.kind == PipeKind::kMatch;
        o.out = filter_lines(
            o.out, [&](std::string_view line) { return RE2::PartialMatch(line, pattern) == want; });
        o.is_config = false;
        break;
      }
      case PipeKind::kCount: {
        auto lines = static_cast<size_t>(std::count(o.out.begin(), o.out.end(), '\n'));
        if (!o.out.empty() && o.out.back() != '\n') {
          ++lines;  // a last line without its newline
        }
        o.out = "Count: " + std::to_string(lines) + " lines\n";
        o.is_config = false;
        break;
      }
      case PipeKind::kNoMore:
        o.no_more = true;
        break;
      case PipeKind::kDisplayJson:
      case PipeKind::kCompare:
        break;  // chose how the command ran
    }
  }
  return o;
}

std::vector<std::string> pipe_words(const std::vector<std::string>& after_bar) {
  std::vector<std::string> out;
  if (after_bar.empty()) {
    out.assign(kStageWords.begin(), kStageWords.end());
  } else if (after_bar.size() == 1 && unique_word(after_bar[0], kStageWords) == "display") {
    out.assign(kDisplayWords.begin(), kDisplayWords.end());
  } else if (after_bar.size() == 1 && unique_word(after_bar[0], kStageWords) == "compare") {
    out.emplace_back("rollback");
  }
  return out;
}

}  // namespace vigil::mgmt::cli

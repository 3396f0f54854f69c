#include "common/yaml_file.h"

#include <yaml-cpp/depthguard.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vigil {
namespace {

std::string at(const YAML::Mark& mark) {
  // yaml-cpp marks are 0-based; editors count from 1.
  return " (" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) + ")";
}

struct Walk {
  size_t nodes = 0;
  size_t bytes = 0;
  std::string error;
};

// Visits the tree as every later walk will, aliases expanded, and stops at the first limit.
void bounded_walk(const YAML::Node& node, size_t depth, Walk& w) {
  if (!w.error.empty()) {
    return;
  }
  if (++w.nodes > kMaxYamlNodes) {
    w.error = at(node.Mark()) + ": more than " + std::to_string(kMaxYamlNodes) +
              " nodes once aliases are expanded";
    return;
  }
  if (node.IsScalar()) {
    w.bytes += node.Scalar().size();
    if (w.bytes > kMaxYamlExpandedBytes) {
      w.error = at(node.Mark()) + ": more than " + std::to_string(kMaxYamlExpandedBytes) +
                " bytes of text once aliases are expanded";
    }
    return;
  }
  if (!node.IsMap() && !node.IsSequence()) {
    return;
  }
  if (depth >= kMaxYamlDepth) {
    w.error = at(node.Mark()) + ": nesting deeper than " + std::to_string(kMaxYamlDepth) +
              " levels (or an alias inside its own anchor)";
    return;
  }
  for (const auto& child : node) {
    if (node.IsMap()) {
      bounded_walk(child.first, depth + 1, w);
      bounded_walk(child.second, depth + 1, w);
    } else {
      bounded_walk(child, depth + 1, w);
    }
    if (!w.error.empty()) {
      return;
    }
  }
}

}  // namespace

Expected<YAML::Node> parse_yaml(const std::string& text, const std::string& origin) {
  YAML::Node doc;
  if (text.size() > kMaxYamlBytes) {
    return fail(origin + ": " + std::to_string(text.size()) + " bytes is more than the " +
                std::to_string(kMaxYamlBytes) + " a config document may have");
  }
  try {
    doc = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    return fail(origin + at(e.mark) + ": nesting deeper than " + std::to_string(e.depth()) +
                " levels");
  } catch (const YAML::Exception& e) {
    return fail(origin + at(e.mark) + ": " + e.msg);
  }
  Walk walk;
  bounded_walk(doc, 0, walk);
  if (!walk.error.empty()) {
    return fail(origin + walk.error);
  }
  if (doc.IsNull()) {
    return YAML::Node(YAML::NodeType::Map);
  }
  if (!doc.IsMap()) {
    return fail(origin + at(doc.Mark()) +
                ": the top level must be a mapping of sections (system:, interfaces:, ...)");
  }
  return doc;
}

Expected<YAML::Node> load_yaml_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return fail("cannot read " + path + ": " + std::strerror(errno));
  }
  std::ostringstream text;
  text << in.rdbuf();
  return parse_yaml(text.str(), path);
}

}  // namespace vigil

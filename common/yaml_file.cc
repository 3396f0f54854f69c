#include "common/yaml_file.h"

#include <yaml-cpp/depthguard.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vigil {

Expected<YAML::Node> parse_yaml(const std::string& text, const std::string& origin) {
  YAML::Node doc;
  if (text.size() > kMaxYamlBytes) {
    return fail(origin + ": " + std::to_string(text.size()) + " bytes is more than the " +
                std::to_string(kMaxYamlBytes) + " a config document may have");
  }
  try {
    doc = YAML::Load(text);
  } catch (const YAML::DeepRecursion& e) {
    return fail(origin + " (" + std::to_string(e.mark.line + 1) + ":" +
                std::to_string(e.mark.column + 1) + "): nesting is deeper than " +
                std::to_string(e.depth()) + " levels");
  } catch (const YAML::Exception& e) {
    // yaml-cpp marks are 0-based; editors count from 1.
    return fail(origin + " (" + std::to_string(e.mark.line + 1) + ":" +
                std::to_string(e.mark.column + 1) + "): " + e.msg);
  }
  if (doc.IsNull()) {
    return YAML::Node(YAML::NodeType::Map);
  }
  if (!doc.IsMap()) {
    return fail(origin + " (" + std::to_string(doc.Mark().line + 1) + ":" +
                std::to_string(doc.Mark().column + 1) +
                "): the top level must be a mapping of sections (system:, interfaces:, ...)");
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

// A config document as the `set` commands that build it, as Junos's `| display set` shows it:
//   set interfaces lan0 role lan
//   set interfaces lan0 addresses 10.1.1.1/24
//   set routing static 0.0.0.0/0 distance 10 next_hops 198.18.2.1
// Keyed lists are named by their key (and qualifier, when the entry has one), lists of values
// give one line per value, entries keep their order; applied with set_path() to an empty
// document, the lines build the same document again. A key the schema does not know (an
// invalid candidate) is written all the same, as the path its YAML gives.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace vigil::config {

using SetCommand = std::vector<std::string>;  // the words after `set`

// An entry without its key (a next hop with only an interface) has no words that name it: it is
// left out, and its path (as config errors name it) added to `left_out` when given.
std::vector<SetCommand> set_commands(const YAML::Node& document,
                                     std::vector<std::string>* left_out = nullptr);

// The part of `document` under the path `words` names (a prefix of set commands' words, as
// `show configuration routing static` gives), with the keys leading to it: the document the
// matching set commands build. Empty (a null node) when nothing is set there.
YAML::Node subtree(const YAML::Node& document, const std::vector<std::string>& words);

}  // namespace vigil::config

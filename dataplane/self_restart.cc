#include "dataplane/self_restart.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/json_bounded.h"
#include "common/secret_file.h"
#include "common/unique_fd.h"

namespace vigil::dp {
namespace {

// A restart file is the sections of one commit (a config of at most 4 MiB of YAML) as JSON,
// with room for its escaping.
constexpr std::streamsize kMaxRestartFileBytes = std::streamsize{16} << 20;

}  // namespace

std::vector<std::string> restart_argv(const std::vector<std::string>& argv,
                                      const std::string& file) {
  std::vector<std::string> out;
  for (size_t i = 0; i < argv.size(); ++i) {
    bool replaced = false;
    for (const std::string option : {"--config", kRestartConfigOption}) {
      if (argv[i] == option) {
        ++i;  // and its value
        replaced = true;
      } else if (argv[i].starts_with(option + "=")) {
        replaced = true;
      }
    }
    if (!replaced && i < argv.size()) {
      out.push_back(argv[i]);
    }
  }
  for (const std::string option : {"--config", kRestartConfigOption}) {
    out.push_back(option);
    out.push_back(file);
  }
  return out;
}

Status write_restart_config(const std::string& file, const nlohmann::json& sections) {
  // Sections removed by the commit (null) are left out: the file is a config document.
  nlohmann::json document = nlohmann::json::object();
  for (const auto& [section, content] : sections.items()) {
    if (!content.is_null()) {
      document[section] = content;
    }
  }
  // The socket's directory is where this goes: write_private_file never follows a link
  // planted there.
  return write_private_file(file, document.dump() + "\n", true);
}

Expected<nlohmann::json> read_restart_config(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return fail("cannot read " + file + ": " + std::strerror(errno));
  }
  std::string text(static_cast<size_t>(kMaxRestartFileBytes) + 1, '\0');
  in.read(text.data(), kMaxRestartFileBytes + 1);
  if (in.gcount() > kMaxRestartFileBytes) {
    return fail(file + " is larger than 16 MiB");
  }
  text.resize(static_cast<size_t>(in.gcount()));
  auto sections = parse_json_bounded(text);
  if (!sections) {
    return fail(file + ": " + sections.error());
  }
  if (!sections->is_object()) {
    return fail(file + ": not an object of config sections");
  }
  return sections;
}

std::string exec_self(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  // DPDK's and libbpf's descriptors are not all close-on-exec: an AF_XDP socket left open
  // would keep its queue from the new image.
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0 && ::close_range(3, ~0U, 0) != 0) {
    return std::string("close_range: ") + std::strerror(errno);  // before Linux 5.9
  }
  ::execv("/proc/self/exe", args.data());
  return std::string("exec /proc/self/exe: ") + std::strerror(errno);
}

}  // namespace vigil::dp

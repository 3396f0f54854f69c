#include "bgp/frr/frr_instance.h"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/secret_file.h"

namespace vigil::bgp {

std::string FrrLayout::pid_file(std::string_view daemon) const {
  return run_dir + "/" + std::string(daemon) + ".pid";
}

std::vector<std::string> frr_daemon_argv(const FrrLayout& l, std::string_view daemon) {
  const std::string name(daemon);
  std::vector<std::string> argv = {l.daemon_dir + "/" + name, "-N", l.pathspace};
  // Nothing read from a file: the configuration comes by vtysh, and FRR's user can write
  // the run directory.
  argv.insert(argv.end(), {"-f", "/dev/null", "-i", l.pid_file(daemon)});
  argv.insert(argv.end(), {"-z", l.run_dir + "/zserv.api", "--vty_socket", l.run_dir});
  // No TCP vty: FRR's vty ports are SO_REUSEPORT, so a second instance would share the
  // distribution's.
  argv.insert(argv.end(), {"-P", "0", "-u", l.user, "-g", l.user});
  argv.insert(argv.end(), {"--log", "stdout", "--log-level", "notifications"});
  if (daemon == "zebra") {
    // dplane_fpm_nl (not -M fpm, the older module) sends the routes to vigil-dp; the large
    // netlink buffer is Debian's, for full tables.
    argv.insert(argv.end(), {"-M", "dplane_fpm_nl", "-s", "90000000"});
  } else if (daemon == "bgpd") {
    argv.insert(argv.end(), {"-p", "179"});
  } else if (daemon == "bfdd") {
    argv.insert(argv.end(), {"--bfdctl", l.run_dir + "/bfdd.sock"});
  }
  return argv;
}

namespace {

Status make_dir(const std::string& path, mode_t mode, uid_t uid, gid_t gid) {
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return fail("cannot make " + path + ": " + std::strerror(errno));
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return fail(path + " is not a directory");
  }
  if (::chown(path.c_str(), uid, gid) != 0 || ::chmod(path.c_str(), mode) != 0) {
    return fail("cannot set the owner or mode of " + path + ": " + std::strerror(errno));
  }
  return Ok{};
}

}  // namespace

Status prepare_frr_directories(const FrrLayout& l) {
  const passwd* pw = ::getpwnam(l.user.c_str());
  if (pw == nullptr) {
    return fail("FRR's user " + l.user + " does not exist (is the frr package installed?)");
  }
  const group* gr = ::getgrnam(l.user.c_str());
  const gid_t gid = gr != nullptr ? gr->gr_gid : pw->pw_gid;
  if (auto st = make_dir(l.run_dir, 0750, pw->pw_uid, gid); !st) {
    return st;
  }
  if (auto st = make_dir(l.conf_dir, 0700, 0, 0); !st) {
    return st;
  }
  // vtysh reads it from --config_dir; the integrated file is what frr-reload.py applies.
  return write_private_file(l.conf_dir + "/vtysh.conf", "service integrated-vtysh-config\n", true);
}

std::string missing_frr_programs(const FrrLayout& l) {
  for (std::string_view d : kFrrDaemons) {
    const std::string path = l.daemon_dir + "/" + std::string(d);
    if (::access(path.c_str(), X_OK) != 0) {
      return path + " (package frr)";
    }
  }
  if (::access(l.vtysh.c_str(), X_OK) != 0) {
    return l.vtysh + " (package frr)";
  }
  if (::access(l.reload.c_str(), X_OK) != 0) {
    return l.reload + " (package frr-pythontools)";
  }
  return "";
}

}  // namespace vigil::bgp

// show system status and processes against a fake vigild.
#include <gtest/gtest.h>

#include "mgmt/cli/commands/commands.h"
#include "mgmt/cli/dispatch.h"
#include "tests/unit/mgmt/cli/fake_vigild.h"

namespace vigil::mgmt::cli {
namespace {

using nlohmann::json;

TEST(ShowSystem, ProcessesSaySupervisedStateOrReachability) {
  FakeVigild vigild;
  vigild.answers["show.processes"] =
      json{{{"name", "vigil-dp"},
            {"socket", "/run/vigil/dp.sock"},
            {"supervised", true},
            {"state", "running"},
            {"pid", 42},
            {"user", "root"},
            {"restarts", 1},
            {"last_exit", "killed by SIGKILL"}},
           {{"name", "vigil-l7"}, {"socket", "/run/vigil/l7.sock"}, {"reachable", false}}};
  auto o = dispatch(build_table(), vigild, {"show", "system", "processes"}, false);
  EXPECT_EQ(o.exit_code, kExitOk);
  EXPECT_EQ(
      o.out,
      "component  state          pid  user  restarts  last exit          socket\n"
      "vigil-dp   running        42   root  1         killed by SIGKILL  /run/vigil/dp.sock\n"
      "vigil-l7   not reachable  -    -     -         -                  /run/vigil/l7.sock\n");
}

TEST(ShowSystem, StatusNamesWhatIsNotImplemented) {
  FakeVigild vigild;
  vigild.answers["status"] = json{{"name", "vigild"},
                                  {"state", "running"},
                                  {"pid", 7},
                                  {"uptime_seconds", 61.4},
                                  {"config", "/etc/vigil/vigil.yaml"},
                                  {"not_implemented", "SNMP"}};
  auto o = dispatch(build_table(), vigild, {"show", "system", "status"}, false);
  EXPECT_EQ(o.out,
            "process  state    pid  uptime  config\n"
            "vigild   running  7    61s     /etc/vigil/vigil.yaml\n"
            "\nnot implemented yet: SNMP\n");
}

TEST(ShowSystem, CommitsListTheHistoryAndAPendingConfirm) {
  FakeVigild vigild;
  vigild.answers["show.commits"] = json{
      {"commits",
       {{{"seq", 3},
         {"rollback", 0},
         {"user", "alice"},
         {"time", 0},
         {"comment", "move api"},
         {"kind", "commit"}}}},
      {"pending_confirm", {{"commit", 3}, {"rollback_to", 2}, {"deadline", 0}, {"user", "alice"}}}};
  auto o = dispatch(build_table(), vigild, {"show", "system", "commit"}, false);
  EXPECT_EQ(o.out,
            "rollback  commit  time (UTC)           user   kind    comment\n"
            "0         3       1970-01-01 00:00:00  alice  commit  move api\n"
            "\ncommit 3 by alice must be confirmed within 0 s, or rollback to commit 2 "
            "happens\n");
  vigild.answers["show.commits"] = json{{"commits", json::array()}, {"pending_confirm", nullptr}};
  EXPECT_EQ(
      dispatch(build_table(), vigild, {"show", "system", "commit"}, true).out,
      "{\n  \"commits\": [],\n  \"pending_confirm\": null,\n  \"pending_problem\": \"\"\n}\n");
  vigild.answers["show.commits"] = json{{"commits", json::array()},
                                        {"pending_confirm", nullptr},
                                        {"pending_problem", "pending-confirm.json: truncated"}};
  auto warned = dispatch(build_table(), vigild, {"show", "system", "commit"}, false);
  EXPECT_EQ(warned.err,
            "warning: a commit confirmed record could not be read (pending-confirm.json: "
            "truncated); no automatic rollback will happen: commit to confirm, or roll back by "
            "hand\n");
}

}  // namespace
}  // namespace vigil::mgmt::cli

// The classifier program as a whole: unconfigured it passes everything, every map call the
// verifier left is direct, and a new loader adopts pinned maps.
#include <gtest/gtest.h>

#include "tests/bpf/classifier_fixture.h"

namespace vigil::ebpf {
namespace {

TEST_F(ClassifierTest, UnconfiguredClassifierPassesEverything) {
  auto fresh = Classifier::load({});
  ASSERT_TRUE(fresh.ok()) << fresh.error();
  const auto frame = PacketBuilder().eth().ipv4("192.0.2.1", "10.100.0.1").tcp(1, 80).build();
  auto r = (*fresh)->run(frame);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->action, XDP_PASS);
  EXPECT_EQ((*fresh)->counters().verdict("pass_unconfigured").packets, 1u);
}

// ---- the code the verifier made ---------------------------------------------------------

// Kernel symbol addresses by name, for the few names asked; empty when the kernel hides them.
std::map<std::string, uint64_t> kernel_symbols(const std::set<std::string>& names) {
  std::map<std::string, uint64_t> out;
  std::ifstream in("/proc/kallsyms");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string address, type, name;
    fields >> address >> type >> name;
    if (names.contains(name) && !out.contains(name)) {
      out[name] = std::stoull(address, nullptr, 16);
    }
  }
  if (std::any_of(out.begin(), out.end(), [](const auto& e) { return e.second == 0; })) {
    out.clear();
  }
  return out;
}

// A map call the verifier can tie to one map becomes a direct call to that map's own function
// (or inline code); one it cannot (the compiler merged lookups in two maps into one call,
// choosing the map by a branch) stays the generic helper, an indirect call through the map's
// ops that cost 15-30 ns a packet when it happened to the ACL and rate-limit tries.
TEST_F(ClassifierTest, EveryMapCallIsDirect) {
  const auto symbols =
      kernel_symbols({"__bpf_call_base", "bpf_map_lookup_elem", "bpf_map_update_elem"});
  if (symbols.size() != 3) {
    GTEST_SKIP() << "kernel symbol addresses are hidden (kptr_restrict)";
  }
  const int fd = classifier_->program_fd();
  bpf_prog_info info{};
  uint32_t length = sizeof(info);
  ASSERT_EQ(bpf_obj_get_info_by_fd(fd, &info, &length), 0);
  std::vector<bpf_insn> code(info.xlated_prog_len / sizeof(bpf_insn));
  ASSERT_FALSE(code.empty());
  info = {};
  info.xlated_prog_len = static_cast<uint32_t>(code.size() * sizeof(bpf_insn));
  info.xlated_prog_insns = reinterpret_cast<uint64_t>(code.data());
  length = sizeof(info);
  ASSERT_EQ(bpf_obj_get_info_by_fd(fd, &info, &length), 0);
  auto is_helper_call = [](const bpf_insn& insn) {
    return insn.code == (BPF_JMP | BPF_CALL) && insn.src_reg == 0;  // not a subprogram/kfunc
  };
  if (std::none_of(code.begin(), code.end(),
                   [&](const bpf_insn& insn) { return is_helper_call(insn) && insn.imm != 0; })) {
    GTEST_SKIP() << "the kernel hid the call targets in the dump";
  }
  int helper_calls = 0;
  for (size_t i = 0; i < code.size(); ++i) {
    if (!is_helper_call(code[i])) {
      continue;
    }
    ++helper_calls;
    const uint64_t target = symbols.at("__bpf_call_base") + static_cast<int64_t>(code[i].imm);
    EXPECT_NE(target, symbols.at("bpf_map_lookup_elem")) << "generic lookup at insn " << i;
    EXPECT_NE(target, symbols.at("bpf_map_update_elem")) << "generic update at insn " << i;
  }
  EXPECT_GT(helper_calls, 5);
}

}  // namespace
}  // namespace vigil::ebpf

namespace vigil::ebpf {
namespace {

// Pinned maps outlive the loader; a new one adopts them, counters and connections included.
TEST(ClassifierPinningTest, ANewLoaderAdoptsPinnedMaps) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "needs root";
  }
  const std::string dir = "/sys/fs/bpf/vigil-test-" + std::to_string(getpid());
  const auto frame = PacketBuilder().eth().ipv4("10.5.0.2", "10.100.0.1").tcp(5555, 80).build();
  Frame first_out;
  {
    auto c = Classifier::load({.pin_dir = dir});
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_FALSE((*c)->adopted());
    ASSERT_TRUE((*c)->apply(base_config()).ok());
    auto r = (*c)->run(frame);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->action, XDP_TX);
    first_out = r->output;
  }
  auto c = Classifier::load({.pin_dir = dir});
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_TRUE((*c)->adopted());
  EXPECT_EQ((*c)->counters().verdict("tx_vip_encapsulated").packets, 1u);
  auto r = (*c)->run(frame);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output, first_out);
  ASSERT_TRUE((*c)->apply(base_config()).ok());
  const auto counters = (*c)->counters();
  EXPECT_EQ(counters.verdict("tx_vip_encapsulated").packets, 2u);
  bool hit = false;
  for (const auto& e : counters.events) {
    hit = hit || (e.name == "vip_connection_hit" && e.count.packets == 1);
  }
  EXPECT_TRUE(hit) << "the second packet found the first one's connection";
  ASSERT_TRUE((*c)->detach().ok());
  EXPECT_FALSE(std::filesystem::exists(dir + "/vips")) << "detach unpins the maps";
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace vigil::ebpf

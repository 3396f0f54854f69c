#include "l7proxy/core/target_resolver.h"

#include <algorithm>

#include "common/logging.h"

namespace vigil::l7 {

TargetResolver::TargetResolver(Lookup lookup) : lookup_(std::move(lookup)) {
  thread_ = std::thread([this] { run(); });
}

TargetResolver::~TargetResolver() {
  stop();
}

void TargetResolver::stop() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void TargetResolver::add(const std::set<std::string>& names, const Settings& settings,
                         Clock::duration wait) {
  std::unique_lock lock(mutex_);
  std::vector<std::string> fresh;
  const auto now = Clock::now();
  for (const std::string& name : names) {
    auto [it, added] = names_.try_emplace(name);
    if (added) {
      it->second.due = now;
      it->second.settings = settings;
      fresh.push_back(name);
    }
  }
  if (fresh.empty()) {
    return;
  }
  changed_.notify_all();
  changed_.wait_until(lock, now + wait, [&] {
    return stopping_ || std::all_of(fresh.begin(), fresh.end(), [&](const std::string& n) {
             const auto it = names_.find(n);
             return it == names_.end() || it->second.looked_up;
           });
  });
}

void TargetResolver::use(const std::set<std::string>& names, const Settings& settings) {
  const std::lock_guard lock(mutex_);
  std::erase_if(names_, [&](const auto& entry) { return !names.contains(entry.first); });
  const auto now = Clock::now();
  bool redo = false;
  for (const std::string& name : names) {
    auto [it, added] = names_.try_emplace(name);
    NameState& s = it->second;
    if (added || !(s.settings == settings)) {
      s.settings = settings;
      ++s.asked;
      s.due = now;  // if a lookup is under way, it is redone when it ends
      redo = true;
    }
  }
  if (redo) {
    changed_.notify_all();
  }
}

TargetResolver::Snapshot TargetResolver::snapshot() const {
  const std::lock_guard lock(mutex_);
  return {.version = version_, .names = names_};
}

uint64_t TargetResolver::version() const {
  const std::lock_guard lock(mutex_);
  return version_;
}

std::string TargetResolver::next_due(Clock::time_point now, Clock::time_point& wake) const {
  std::string best;
  Clock::time_point best_due = Clock::time_point::max();
  for (const auto& [name, state] : names_) {
    if (state.due < best_due) {
      best_due = state.due;
      best = name;
    }
  }
  wake = best_due;
  return best_due <= now ? best : std::string();
}

void TargetResolver::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    Clock::time_point wake;
    const std::string name = next_due(Clock::now(), wake);
    if (name.empty()) {
      if (wake == Clock::time_point::max()) {
        changed_.wait(lock);
      } else {
        changed_.wait_until(lock, wake);
      }
      continue;
    }
    NameState& picked = names_[name];
    const Settings settings = picked.settings;
    const uint64_t asked = picked.asked;
    picked.due = Clock::time_point::max();  // under way: not picked again meanwhile
    lock.unlock();
    auto answer = lookup_(name, settings.dns);
    lock.lock();
    auto it = names_.find(name);
    if (it == names_.end()) {
      continue;  // forgotten while it was looked up
    }
    NameState& s = it->second;
    const auto now = Clock::now();
    s.looked_up = true;
    s.last_lookup = std::chrono::system_clock::now();
    if (answer) {
      if (answer->addresses != s.addresses) {
        s.addresses = std::move(answer->addresses);
        ++version_;
      }
      if (!s.error.empty()) {
        log::info("upstream name resolves again", {{"name", name}});
      }
      s.error.clear();
      s.ttl_s = answer->ttl_s;
      s.due = now + std::clamp<Clock::duration>(std::chrono::seconds(answer->ttl_s),
                                                settings.min_ttl, settings.max_ttl);
    } else {
      if (s.error != answer.error()) {
        log::warn("upstream name does not resolve",
                  {{"name", name},
                   {"error", answer.error()},
                   {"kept_addresses", static_cast<uint64_t>(s.addresses.size())}});
      }
      s.error = answer.error();
      s.due = now + settings.min_ttl;
    }
    if (s.asked != asked) {
      s.due = now;  // its settings changed meanwhile: asked again under the new ones
    }
    changed_.notify_all();
  }
}

}  // namespace vigil::l7

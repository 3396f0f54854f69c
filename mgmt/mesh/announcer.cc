#include "mgmt/mesh/announcer.h"

#include <algorithm>
#include <map>

#include "common/json_bounded.h"
#include "sdwan/enrol/tls_channel.h"

namespace vigil::mgmt::mesh {

using nlohmann::json;

Expected<json> deliver_once(const Delivery& d, const enrol::Identity& me,
                            std::chrono::milliseconds budget, DeliveryOutcome& outcome,
                            const std::atomic<bool>* cancel) {
  outcome = {};
  std::string why = "no contact";
  for (const std::string& contact : d.contacts) {
    if (cancel != nullptr && cancel->load()) {
      return fail("stopping");
    }
    auto ch = enrol::TlsChannel::connect(contact, me, d.identity, budget, cancel);
    if (!ch) {
      why = ch.error();
      continue;
    }
    if (Status sent = ch->send_line(d.message.dump()); !sent) {
      why = sent.error();
      continue;
    }
    auto line = ch->read_line(kMaxAnswerBytes);
    if (!line) {
      why = line.error();
      continue;
    }
    auto answer = parse_json_bounded(*line, 8);
    if (!answer || !answer->is_object()) {
      why = contact + " answered something that is not a JSON object";
      continue;
    }
    if (auto e = answer->find("error"); e != answer->end()) {
      const json& message = e->is_object() ? e->value("message", json("")) : json("");
      const json& reason = e->is_object() ? e->value("reason", json("")) : json("");
      outcome.refused = true;
      outcome.reason = reason.is_string() ? reason.get<std::string>() : "";
      // "not-member": the member has not heard of this site yet (another site's announcement
      // of it still on its way); worth asking again, as "busy" is.
      outcome.temporary = outcome.reason == kBusyReason || outcome.reason == "not-member";
      return fail(message.is_string() ? message.get<std::string>() : "refused");
    }
    return std::move(*answer);
  }
  return fail(why);
}

Announcer::Announcer(std::shared_ptr<const enrol::Identity> me, Done done)
    : me_(std::move(me)),
      done_(std::move(done)),
      workers_(std::make_unique<WorkerPool>(4, kMaxQueued)),
      scheduler_([this] { schedule_loop(); }) {}

Announcer::~Announcer() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cancel_.store(true);
  wake_.notify_all();
  scheduler_.join();
  workers_.reset();  // requests under way see cancel_ within 100 ms
}

bool Announcer::send(Delivery d) {
  {
    std::lock_guard lock(mutex_);
    if (waiting_.size() + in_flight_.size() >= kMaxQueued) {
      return false;
    }
    const auto now = Clock::now();
    waiting_.push_back({.delivery = std::move(d), .seq = next_seq_++, .due = now, .first = now});
  }
  wake_.notify_all();
  return true;
}

size_t Announcer::pending() const {
  std::lock_guard lock(mutex_);
  return waiting_.size() + in_flight_.size();
}

void Announcer::schedule_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = Clock::now();
    // Each member's oldest delivery, if it is due and nothing goes to that member already.
    std::map<std::string, size_t> oldest;
    for (size_t i = 0; i < waiting_.size(); ++i) {
      auto [it, fresh] = oldest.try_emplace(waiting_[i].delivery.site, i);
      if (!fresh && waiting_[i].seq < waiting_[it->second].seq) {
        it->second = i;
      }
    }
    std::vector<size_t> ready;
    for (const auto& [site, i] : oldest) {
      if (!in_flight_.contains(site) && waiting_[i].due <= now) {
        ready.push_back(i);
      }
    }
    std::sort(ready.rbegin(), ready.rend());  // erase from the back
    for (const size_t i : ready) {
      auto item = std::make_shared<Item>(std::move(waiting_[i]));
      waiting_.erase(waiting_.begin() + static_cast<std::ptrdiff_t>(i));
      in_flight_.insert(item->delivery.site);
      if (!workers_->submit([this, item] { attempt(std::move(*item)); })) {
        in_flight_.erase(item->delivery.site);
        item->due = now + std::chrono::seconds(1);
        waiting_.push_back(std::move(*item));
      }
    }
    // The next due time of a member with nothing under way, over what waits now.
    Clock::time_point next = Clock::time_point::max();
    for (const Item& item : waiting_) {
      if (!in_flight_.contains(item.delivery.site)) {
        next = std::min(next, item.due);
      }
    }
    if (waiting_.empty() || next == Clock::time_point::max()) {
      wake_.wait(lock);
    } else {
      wake_.wait_until(lock, next);
    }
  }
}

void Announcer::attempt(Item item) {
  DeliveryOutcome how;
  // Longer than the 10 s a member gives one connection, so its "busy" arrives rather than a
  // timeout that would send the same request again behind the first.
  Expected<json> answer = fail("not tried");
  try {
    answer = deliver_once(item.delivery, *me_, std::chrono::seconds(12), how, &cancel_);
  } catch (const std::exception& e) {
    answer = fail(e.what());
  }
  ++item.attempts;
  const auto now = Clock::now();
  const bool final = answer || (how.refused && !how.temporary) || cancel_.load() ||
                     now - item.first >= kGiveUpAfter;
  if (final && !cancel_.load()) {
    done_(item.delivery, answer ? Status(Ok{}) : Status(fail(answer.error())));
  }
  {
    std::lock_guard lock(mutex_);
    in_flight_.erase(item.delivery.site);
    if (!final && !stopping_) {
      item.due = now + std::chrono::seconds(std::min(60, 1 << std::min(item.attempts - 1, 6)));
      waiting_.push_back(std::move(item));
    }
  }
  wake_.notify_all();
}

}  // namespace vigil::mgmt::mesh

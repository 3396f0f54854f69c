#include "mgmt/mesh/announcer.h"

#include <algorithm>

#include "common/json_bounded.h"
#include "sdwan/enrol/tls_channel.h"

namespace vigil::mgmt::mesh {

using nlohmann::json;

Expected<json> deliver_once(const Delivery& d, const enrol::Identity& me,
                            std::chrono::milliseconds budget, bool& refused) {
  refused = false;
  std::string why = "no contact";
  for (const std::string& contact : d.contacts) {
    auto ch = enrol::TlsChannel::connect(contact, me, d.identity, budget);
    if (!ch) {
      why = ch.error();
      continue;
    }
    if (Status sent = ch->send_line(d.message.dump()); !sent) {
      why = sent.error();
      continue;
    }
    auto line = ch->read_line();
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
      refused = true;
      const json& message = e->is_object() ? e->value("message", json("")) : json("");
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
  wake_.notify_all();
  scheduler_.join();
  workers_.reset();
}

bool Announcer::send(Delivery d) {
  {
    std::lock_guard lock(mutex_);
    if (waiting_.size() + in_flight_ >= kMaxQueued) {
      return false;
    }
    const auto now = Clock::now();
    waiting_.push_back({.delivery = std::move(d), .due = now, .first = now});
  }
  wake_.notify_all();
  return true;
}

size_t Announcer::pending() const {
  std::lock_guard lock(mutex_);
  return waiting_.size() + in_flight_;
}

void Announcer::schedule_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto now = Clock::now();
    auto due = std::partition(waiting_.begin(), waiting_.end(),
                              [now](const Item& i) { return i.due > now; });
    std::vector<Item> ready(std::make_move_iterator(due), std::make_move_iterator(waiting_.end()));
    waiting_.erase(due, waiting_.end());
    for (Item& item : ready) {
      ++in_flight_;
      auto shared = std::make_shared<Item>(std::move(item));
      if (!workers_->submit([this, shared] { attempt(std::move(*shared)); })) {
        --in_flight_;
        shared->due = now + std::chrono::seconds(1);
        waiting_.push_back(std::move(*shared));
      }
    }
    if (waiting_.empty()) {
      wake_.wait(lock);
    } else {
      const auto next =
          std::min_element(waiting_.begin(), waiting_.end(),
                           [](const Item& a, const Item& b) { return a.due < b.due; });
      wake_.wait_until(lock, next->due);
    }
  }
}

void Announcer::attempt(Item item) {
  bool refused = false;
  auto answer = deliver_once(item.delivery, *me_, std::chrono::seconds(3), refused);
  ++item.attempts;
  const auto now = Clock::now();
  const bool final = answer || refused || now - item.first >= kGiveUpAfter;
  if (final) {
    done_(item.delivery, answer ? Status(Ok{}) : Status(fail(answer.error())));
  }
  {
    std::lock_guard lock(mutex_);
    --in_flight_;
    if (!final && !stopping_) {
      item.due = now + std::chrono::seconds(std::min(60, 1 << std::min(item.attempts - 1, 6)));
      waiting_.push_back(std::move(item));
    }
  }
  wake_.notify_all();
}

}  // namespace vigil::mgmt::mesh

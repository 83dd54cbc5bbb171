#include "dataplane/event_bus.h"

#include <chrono>
#include <cstdarg>
#include <cstdio>

namespace mrfp::dataplane {

void publish(WorkerEventRing& ring, std::atomic<std::uint64_t>& dropped, Event::Kind kind,
             ConferenceId conference, ParticipantId participant, const char* format, ...) {
  WorkerEvent event;
  event.kind = kind;
  event.conference = conference;
  event.participant = participant;
  event.when_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  va_list args;
  va_start(args, format);
  std::vsnprintf(event.detail.data(), event.detail.size(), format, args);
  va_end(args);
  if (!ring.try_push(std::move(event))) dropped.fetch_add(1, std::memory_order_relaxed);
}

void EventBus::start() {
  running_ = true;
  thread_ = std::thread([this] { pump(); });
}

void EventBus::stop() {
  if (!running_.exchange(false)) return;
  if (thread_.joinable()) thread_.join();
}

std::uint64_t EventBus::subscribe(std::function<bool(const Event&)> sink) {
  std::lock_guard lock(mutex_);
  sinks_.emplace(next_id_, std::move(sink));
  return next_id_++;
}

void EventBus::unsubscribe(std::uint64_t id) {
  std::lock_guard lock(mutex_);
  sinks_.erase(id);
}

void EventBus::emit(const Event& event) {
  std::lock_guard lock(mutex_);
  for (auto it = sinks_.begin(); it != sinks_.end();) {
    if (it->second(event)) {
      ++it;
    } else {
      it = sinks_.erase(it);
    }
  }
}

void EventBus::pump() {
  using namespace std::chrono_literals;
  while (running_.load()) {
    bool any = false;
    for (auto* ring : sources_) {
      while (auto raw = ring->try_pop()) {
        any = true;
        Event event{raw->kind, raw->conference, raw->participant, std::string(raw->detail.data()),
                    std::chrono::system_clock::time_point(
                        std::chrono::duration_cast<std::chrono::system_clock::duration>(
                            std::chrono::nanoseconds(raw->when_ns)))};
        emit(event);
      }
    }
    if (!any) std::this_thread::sleep_for(5ms);
  }
}

}  // namespace mrfp::dataplane

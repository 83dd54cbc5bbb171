// Events from the workers to whoever watches (gRPC WatchEvents, logs). A worker
// never blocks or locks to report one: it pushes into its own ring, and the
// control side's pump thread fans events out to the subscribers.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "dataplane/controller.h"
#include "dataplane/spsc_ring.h"

namespace mrfp::dataplane {

// What a worker pushes: fixed size, so pushing never allocates.
struct WorkerEvent {
  Event::Kind kind{};
  ConferenceId conference = 0;
  ParticipantId participant = 0;
  std::array<char, 120> detail{};
  std::int64_t when_ns = 0;  // system clock
};

using WorkerEventRing = SpscRing<WorkerEvent, 4096>;

// Formats `detail` into the event's fixed buffer (truncating) and pushes it;
// a full ring drops the event and counts it rather than stall the worker.
void publish(WorkerEventRing& ring, std::atomic<std::uint64_t>& dropped, Event::Kind kind,
             ConferenceId conference, ParticipantId participant, const char* format, ...)
    __attribute__((format(printf, 6, 7)));

class EventBus {
 public:
  EventBus() = default;
  ~EventBus() { stop(); }
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  void add_source(WorkerEventRing* ring) { sources_.push_back(ring); }
  void start();
  void stop();

  std::uint64_t subscribe(std::function<bool(const Event&)> sink);
  void unsubscribe(std::uint64_t id);
  // For events raised on the control side itself (joined, left, rekey done).
  void emit(const Event& event);

 private:
  void pump();

  std::vector<WorkerEventRing*> sources_;
  std::mutex mutex_;
  std::map<std::uint64_t, std::function<bool(const Event&)>> sinks_;
  std::uint64_t next_id_ = 1;
  std::atomic<bool> running_{false};
  std::thread thread_;
};

}  // namespace mrfp::dataplane

// A dataplane worker: one thread that owns a set of conferences and their
// ports, and runs the loop
//
//   apply commands -> receive a burst -> classify and check (SSRC, source)
//   -> unprotect per conference as one burst -> feed the mixers
//   -> tick every conference that is due -> protect once -> replicate
//
// Nothing else touches its state; the control plane posts commands.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <unordered_map>
#include <vector>

#include "dataplane/command_queue.h"
#include "dataplane/conference.h"
#include "dataplane/dataplane.h"
#include "dataplane/event_bus.h"
#include "dataplane/io/port_allocator.h"
#include "dataplane/io/receive_burst.h"
#include "dataplane/packet_backend.h"
#include "dataplane/receive_gap_watch.h"

namespace mrfp::srtp {
class CryptoEngine;
}

namespace mrfp::dataplane {

class Worker {
 public:
  using Command = std::function<void(Worker&)>;

  Worker(unsigned index, const DataplaneOptions& options, PortAllocator& ports);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  void stop();  // BYE on every stream, then the thread ends
  bool post(Command command) { return commands_.post(std::move(command)); }
  bool alive() const { return alive_.load(std::memory_order_relaxed); }
  WorkerEventRing& events() { return events_; }

  // Commands: run on the worker thread, between bursts.
  Result<ConferenceInfo> create_conference(ConferenceId id, const ConferenceSpec& spec);
  Status delete_conference(ConferenceId id);
  Result<ParticipantInfo> add_participant(ParticipantId id, const ParticipantSpec& spec);
  Status modify_participant(ConferenceId conference, const ParticipantChange& change);
  Status remove_participant(ConferenceId conference, ParticipantId participant);
  Result<RekeyResult> rekey_conference(ConferenceId id, const srtp::MasterKey& key);
  Status rekey_participant(ConferenceId conference, ParticipantId participant, const srtp::MasterKey& key);
  Result<ConferenceAudit> audit(ConferenceId id);
  Result<ConferenceStats> conference_stats(ConferenceId id);
  WorkerStats stats();

 private:
  struct PortOwner {
    Conference* conference = nullptr;
    std::uint32_t participant_index = 0;
  };

  void run();
  void receive_and_mix(int timeout_ms);
  // The earliest next tick of this worker's conferences, or at_the_latest.
  std::int64_t next_tick_due_us(std::int64_t at_the_latest) const;
  void tick_conferences(std::int64_t now_us);
  Result<Conference*> find(ConferenceId id);
  void close_port(std::uint32_t port_index);
  std::unique_ptr<srtp::SrtpProcessor> make_srtp(std::uint32_t max_participants);

  unsigned index_;
  DataplaneOptions options_;
  PortAllocator& ports_;
  std::unique_ptr<srtp::CryptoEngine> engine_;
  std::unique_ptr<PacketBackend> backend_;
  CommandQueue<Command> commands_;
  WorkerEventRing events_;
  std::atomic<std::uint64_t> events_dropped_{0};

  std::unordered_map<ConferenceId, std::unique_ptr<Conference>> conferences_;
  std::vector<PortOwner> port_owners_;  // by port index
  std::vector<Conference*> touched_;     // conferences with staged packets this burst

  static constexpr std::size_t kBurst = 64;
  ReceiveBurst burst_{kBurst, 2048};

  Counters counters_;  // packets no conference owns
  ReceiveGapWatch receive_gaps_;
  std::int64_t busy_us_ = 0, window_start_us_ = 0;
  double load_ = 0;
  std::uint64_t seed_;

  std::thread thread_;
  std::atomic<bool> running_{false};
  std::atomic<bool> alive_{false};
};

std::int64_t monotonic_us();

}  // namespace mrfp::dataplane

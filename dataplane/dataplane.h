// The dataplane as the control plane sees it: a set of workers, each owning
// its conferences, driven only through their command queues. Implements the
// Controller interface: every call is posted to the owning worker, applied
// between bursts, and answered through a future.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/controller.h"
#include "dataplane/event_bus.h"

namespace mrfp::dataplane {

class Worker;
class PortAllocator;
class PacketBackend;

enum class SrtpEngineKind { IpsecMb, Libsrtp };

struct DataplaneOptions {
  std::string media_address = "127.0.0.1";  // where participants send
  std::uint16_t port_min = 20000;
  std::uint16_t port_max = 29999;
  unsigned workers = 1;
  // Sizes each conference's mixer and SRTP tables, allocated when it is created.
  std::uint32_t max_participants_per_conference = 1000;
  SrtpEngineKind srtp_engine = SrtpEngineKind::IpsecMb;
  // An output SSRC is replaced before it carries this many packets, so its
  // sequence never wraps and no receiver ever needs its ROC (at most 2^15).
  std::uint32_t max_packets_per_output_ssrc = 1u << 15;
  // How long inbound keeps accepting the previous key after a rekey.
  std::chrono::milliseconds rekey_grace{2000};
  // Makes worker i's packet backend; empty: kernel UDP sockets (the default).
  std::function<std::unique_ptr<PacketBackend>(unsigned worker)> backend_factory;
  // A command not applied within this time is answered UNAVAILABLE.
  std::chrono::milliseconds command_timeout{5000};
};

class Dataplane final : public Controller {
 public:
  explicit Dataplane(DataplaneOptions options);
  ~Dataplane() override;
  Dataplane(const Dataplane&) = delete;
  Dataplane& operator=(const Dataplane&) = delete;

  // Starts the workers and the event pump. Throws at start-up if a worker cannot.
  void start();
  // Sends BYE for every stream, stops the workers. Idempotent.
  void stop();

  Result<ConferenceInfo> create_conference(const ConferenceSpec& spec) override;
  Status delete_conference(ConferenceId id) override;
  Result<ParticipantInfo> add_participant(const ParticipantSpec& spec) override;
  Status modify_participant(ConferenceId conference, const ParticipantChange& change) override;
  Status remove_participant(ConferenceId conference, ParticipantId participant) override;
  Result<RekeyResult> rekey_conference(ConferenceId id, const srtp::MasterKey& key) override;
  Status rekey_participant(ConferenceId conference, ParticipantId participant,
                           const srtp::MasterKey& key) override;
  Result<ConferenceAudit> audit(ConferenceId id) override;
  std::vector<ConferenceId> conferences() override;
  Result<ConferenceStats> conference_stats(ConferenceId id) override;
  std::vector<WorkerStats> worker_stats() override;
  std::uint64_t subscribe(std::function<bool(const Event&)> sink) override;
  void unsubscribe(std::uint64_t subscription) override;
  bool healthy() override;

  const DataplaneOptions& options() const { return options_; }

 private:
  // Runs `operation` on the worker and waits for its result.
  template <class T, class Operation>
  Result<T> on_worker(unsigned worker, Operation operation);
  Result<unsigned> worker_of(ConferenceId id);

  DataplaneOptions options_;
  std::unique_ptr<PortAllocator> ports_;
  std::vector<std::unique_ptr<Worker>> workers_;
  EventBus events_;
  std::mutex mutex_;  // guards the maps below; control path only
  std::unordered_map<ConferenceId, unsigned> conference_worker_;
  std::vector<std::size_t> conferences_per_worker_;
  ConferenceId next_conference_id_ = 1;
  std::atomic<ParticipantId> next_participant_id_{1};
  bool started_ = false;
};

}  // namespace mrfp::dataplane

#include "dataplane/dataplane.h"

#include <algorithm>
#include <future>
#include <stdexcept>

#include "dataplane/io/port_allocator.h"
#include "dataplane/worker.h"

namespace mrfp::dataplane {

Dataplane::Dataplane(DataplaneOptions options)
    : options_(std::move(options)) {
  if (options_.workers == 0) throw std::invalid_argument("workers must be at least 1");
  // RTP and RTCP share a port (RFC 5761), so odd ports serve as well as even.
  auto ports = PortAllocator::create(options_.port_min, options_.port_max, PortParity::Any);
  if (!ports) throw std::invalid_argument(ports.error().message);
  ports_ = std::make_unique<PortAllocator>(std::move(ports.value()));
  for (unsigned i = 0; i < options_.workers; ++i) {
    workers_.push_back(std::make_unique<Worker>(i, options_, *ports_));
    events_.add_source(&workers_.back()->events());
  }
  conferences_per_worker_.assign(options_.workers, 0);
}

Dataplane::~Dataplane() { stop(); }

void Dataplane::start() {
  if (started_) return;
  for (auto& worker : workers_) worker->start();
  events_.start();
  started_ = true;
}

void Dataplane::stop() {
  if (!started_) return;
  for (auto& worker : workers_) worker->stop();  // each sends BYE for its streams first
  events_.stop();
  started_ = false;
}

template <class T, class Operation>
Result<T> Dataplane::on_worker(unsigned worker, Operation operation) {
  auto promise = std::make_shared<std::promise<Result<T>>>();
  auto future = promise->get_future();
  const bool posted = workers_[worker]->post([promise, op = std::move(operation)](Worker& w) mutable {
    promise->set_value(op(w));
  });
  if (!posted) return Error{ErrorCode::Unavailable, "worker " + std::to_string(worker) + " command queue is full"};
  if (future.wait_for(options_.command_timeout) != std::future_status::ready) {
    return Error{ErrorCode::Unavailable, "worker " + std::to_string(worker) + " did not answer in time"};
  }
  return future.get();
}

Result<unsigned> Dataplane::worker_of(ConferenceId id) {
  std::lock_guard lock(mutex_);
  auto it = conference_worker_.find(id);
  if (it == conference_worker_.end()) {
    return Error{ErrorCode::NotFound, "conference " + std::to_string(id) + " does not exist"};
  }
  return it->second;
}

Result<ConferenceInfo> Dataplane::create_conference(const ConferenceSpec& spec) {
  ConferenceId id;
  unsigned worker = 0;
  {
    std::lock_guard lock(mutex_);
    id = next_conference_id_++;
    // The least loaded worker takes it: a conference lives on one worker.
    for (unsigned i = 1; i < workers_.size(); ++i) {
      if (conferences_per_worker_[i] < conferences_per_worker_[worker]) worker = i;
    }
    conference_worker_[id] = worker;
    ++conferences_per_worker_[worker];
  }
  auto result = on_worker<ConferenceInfo>(worker, [id, spec](Worker& w) { return w.create_conference(id, spec); });
  if (!result) {
    std::lock_guard lock(mutex_);
    conference_worker_.erase(id);
    --conferences_per_worker_[worker];
  }
  return result;
}

Status Dataplane::delete_conference(ConferenceId id) {
  auto worker = worker_of(id);
  if (!worker) return worker.error();
  auto result = on_worker<Done>(worker.value(), [id](Worker& w) { return w.delete_conference(id); });
  if (result) {
    std::lock_guard lock(mutex_);
    conference_worker_.erase(id);
    --conferences_per_worker_[worker.value()];
  }
  return result;
}

Result<ParticipantInfo> Dataplane::add_participant(const ParticipantSpec& spec) {
  auto worker = worker_of(spec.conference);
  if (!worker) return worker.error();
  const ParticipantId id = next_participant_id_++;
  return on_worker<ParticipantInfo>(worker.value(), [id, spec](Worker& w) { return w.add_participant(id, spec); });
}

Status Dataplane::modify_participant(ConferenceId conference, const ParticipantChange& change) {
  auto worker = worker_of(conference);
  if (!worker) return worker.error();
  return on_worker<Done>(worker.value(),
                         [conference, change](Worker& w) { return w.modify_participant(conference, change); });
}

Status Dataplane::remove_participant(ConferenceId conference, ParticipantId participant) {
  auto worker = worker_of(conference);
  if (!worker) return worker.error();
  return on_worker<Done>(worker.value(), [conference, participant](Worker& w) {
    return w.remove_participant(conference, participant);
  });
}

Result<RekeyResult> Dataplane::rekey_conference(ConferenceId id, const srtp::MasterKey& key) {
  auto worker = worker_of(id);
  if (!worker) return worker.error();
  return on_worker<RekeyResult>(worker.value(), [id, key](Worker& w) { return w.rekey_conference(id, key); });
}

Status Dataplane::rekey_participant(ConferenceId conference, ParticipantId participant,
                                    const srtp::MasterKey& key) {
  auto worker = worker_of(conference);
  if (!worker) return worker.error();
  return on_worker<Done>(worker.value(), [conference, participant, key](Worker& w) {
    return w.rekey_participant(conference, participant, key);
  });
}

Result<ConferenceAudit> Dataplane::audit(ConferenceId id) {
  auto worker = worker_of(id);
  if (!worker) return worker.error();
  return on_worker<ConferenceAudit>(worker.value(), [id](Worker& w) { return w.audit(id); });
}

std::vector<ConferenceId> Dataplane::conferences() {
  std::lock_guard lock(mutex_);
  std::vector<ConferenceId> ids;
  for (const auto& [id, worker] : conference_worker_) ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

Result<ConferenceStats> Dataplane::conference_stats(ConferenceId id) {
  auto worker = worker_of(id);
  if (!worker) return worker.error();
  return on_worker<ConferenceStats>(worker.value(), [id](Worker& w) { return w.conference_stats(id); });
}

std::vector<WorkerStats> Dataplane::worker_stats() {
  std::vector<WorkerStats> all;
  for (unsigned i = 0; i < workers_.size(); ++i) {
    auto stats = on_worker<WorkerStats>(i, [](Worker& w) { return w.stats(); });
    if (stats) all.push_back(stats.value());
  }
  return all;
}

std::uint64_t Dataplane::subscribe(std::function<bool(const Event&)> sink) {
  return events_.subscribe(std::move(sink));
}

void Dataplane::unsubscribe(std::uint64_t subscription) { events_.unsubscribe(subscription); }

bool Dataplane::healthy() {
  if (!started_) return false;
  for (auto& worker : workers_) {
    if (!worker->alive()) return false;
  }
  return true;
}

}  // namespace mrfp::dataplane

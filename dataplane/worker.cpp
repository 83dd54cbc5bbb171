#include "dataplane/worker.h"

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <string>

#include "dataplane/srtp/ipsec_mb_engine.h"
#include "dataplane/srtp/libsrtp_reference.h"
#include "dataplane/srtp/srtp_session.h"

namespace mrfp::dataplane {

std::int64_t monotonic_us() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1000;
}

namespace {
// The loop wakes at least this often to serve commands when no packet comes.
constexpr std::int64_t kMaxWaitUs = 5'000;
constexpr std::int64_t kLoadWindowUs = 1'000'000;
}  // namespace

Worker::Worker(unsigned index, const DataplaneOptions& options, PortAllocator& ports)
    : index_(index), options_(options), ports_(ports), seed_(0x9e3779b97f4a7c15ull * (index + 1) ^ monotonic_us()) {
  if (options_.srtp_engine == SrtpEngineKind::IpsecMb) engine_ = std::make_unique<srtp::IpsecMbEngine>();
  if (options_.backend_factory) {
    backend_ = options_.backend_factory(index);
  } else {
    auto sockets = UdpSocketSet::create({.max_sockets = 65536});
    if (!sockets) throw std::runtime_error("worker " + std::to_string(index) + ": " + sockets.error().message);
    backend_ = std::make_unique<SocketBackend>(std::move(sockets.value()));
  }
  touched_.reserve(kBurst);
}

Worker::~Worker() { stop(); }

void Worker::start() {
  running_ = true;
  alive_ = true;
  thread_ = std::thread([this] { run(); });
}

void Worker::stop() {
  if (!running_.exchange(false)) return;
  if (thread_.joinable()) thread_.join();
  // The thread is gone: its state is ours now. RFC 3550 §6.6: say BYE.
  for (auto& [id, conference] : conferences_) conference->say_goodbye(*backend_);
  alive_ = false;
}

void Worker::run() {
  // Named, so top -H, perf and the load generator (its waits) can find it.
  pthread_setname_np(pthread_self(), ("mrfp-worker-" + std::to_string(index_)).substr(0, 15).c_str());
  backend_->attach_worker_thread();
  window_start_us_ = monotonic_us();
  while (running_.load(std::memory_order_relaxed)) {
    // Commands wait once a tick is due: thousands of AddParticipant calls in
    // flight during a set-up must not make the running conferences' ticks late.
    std::int64_t now = monotonic_us();
    std::int64_t next_due = next_tick_due_us(now + kMaxWaitUs);
    const std::size_t applied = commands_.drain_while([this](Command& command) { command(*this); },
                                                      [next_due] { return monotonic_us() < next_due; });
    if (applied > 0) {  // a command may have created, deleted or restarted a conference
      now = monotonic_us();
      next_due = next_tick_due_us(now + kMaxWaitUs);
    }
    // Rounded up to whole milliseconds (the poll's unit): a tick may start up
    // to 1 ms late, which its fixed grid absorbs, rather than spin until it is due.
    receive_and_mix(static_cast<int>((std::max<std::int64_t>(0, next_due - now) + 999) / 1000));
    const std::int64_t busy_start = monotonic_us();
    tick_conferences(busy_start);
    const std::int64_t end = monotonic_us();
    busy_us_ += end - busy_start;
    if (end - window_start_us_ >= kLoadWindowUs) {
      load_ = static_cast<double>(busy_us_) / static_cast<double>(end - window_start_us_);
      busy_us_ = 0;
      window_start_us_ = end;
    }
  }
}

void Worker::receive_and_mix(int timeout_ms) {
  receive_gaps_.poll_starts(monotonic_us(), std::int64_t{timeout_ms} * 1000);
  const std::size_t count = backend_->receive_burst(burst_, timeout_ms);
  const std::int64_t start = monotonic_us();
  receive_gaps_.poll_returned(start);
  if (count == 0) return;
  // Thousands of participants do not fit in the caches: load every packet's
  // owner, then every owner's participant, before checking any packet.
  for (const auto& packet : burst_) {
    if (packet.local_port_index < port_owners_.size()) __builtin_prefetch(&port_owners_[packet.local_port_index]);
  }
  for (const auto& packet : burst_) {
    if (packet.local_port_index >= port_owners_.size()) continue;
    const PortOwner& owner = port_owners_[packet.local_port_index];
    if (owner.conference) owner.conference->prefetch(owner.participant_index);
  }
  for (auto& packet : burst_) {
    if (packet.truncated) {
      ++counters_.drop_malformed;
      continue;
    }
    const PortOwner* owner = packet.local_port_index < port_owners_.size() ? &port_owners_[packet.local_port_index]
                                                                           : nullptr;
    if (!owner || !owner->conference) {
      ++counters_.drop_unknown_port;
      continue;
    }
    owner->conference->stage(owner->participant_index, packet);
    if (owner->conference->has_staged() &&
        std::find(touched_.begin(), touched_.end(), owner->conference) == touched_.end()) {
      touched_.push_back(owner->conference);
    }
  }
  // One SRTP burst per conference, then into the jitter buffers.
  for (auto* conference : touched_) conference->flush();
  touched_.clear();
  busy_us_ += monotonic_us() - start;
}

std::int64_t Worker::next_tick_due_us(std::int64_t at_the_latest) const {
  std::int64_t due = at_the_latest;
  for (const auto& [id, conference] : conferences_) due = std::min(due, conference->next_tick_us());
  return due;
}

void Worker::tick_conferences(std::int64_t now_us) {
  for (auto& [id, conference] : conferences_) {
    if (now_us >= conference->next_tick_us()) {
      conference->tick_if_due(now_us, *backend_);
      conference->expire_keys(now_us);
    }
  }
}

std::unique_ptr<srtp::SrtpProcessor> Worker::make_srtp(std::uint32_t max_participants) {
  srtp::ProcessorOptions options;
  // Each participant: its inbound stream and its mix-minus stream; plus the common streams.
  options.max_streams = 2 * max_participants + 16;
  options.max_master_keys = max_participants + 8;
  if (options_.srtp_engine == SrtpEngineKind::Libsrtp) return std::make_unique<srtp::LibsrtpReference>(options);
  return std::make_unique<srtp::SrtpSession>(*engine_, options);
}

Result<Conference*> Worker::find(ConferenceId id) {
  auto it = conferences_.find(id);
  if (it == conferences_.end()) {
    return Error{ErrorCode::NotFound, "conference " + std::to_string(id) + " does not exist"};
  }
  return it->second.get();
}

Result<ConferenceInfo> Worker::create_conference(ConferenceId id, const ConferenceSpec& spec) {
  seed_ = seed_ * 6364136223846793005ull + 1442695040888963407ull;
  auto conference = Conference::create(id, spec, options_.max_participants_per_conference, options_.rekey_grace,
                                       options_.max_packets_per_output_ssrc, make_srtp(options_.max_participants_per_conference), events_,
                                       events_dropped_, seed_);
  if (!conference) return conference.error();
  conference.value()->start_clock(monotonic_us());
  auto info = conference.value()->info();
  conferences_.emplace(id, std::move(conference.value()));
  return info;
}

Status Worker::delete_conference(ConferenceId id) {
  auto conference = find(id);
  if (!conference) return conference.error();
  conference.value()->say_goodbye(*backend_);
  for (auto port_index : conference.value()->local_port_indexes()) close_port(port_index);
  conferences_.erase(id);
  return ok_status();
}

Result<ParticipantInfo> Worker::add_participant(ParticipantId id, const ParticipantSpec& spec) {
  auto conference = find(spec.conference);
  if (!conference) return conference.error();
  auto opened = backend_->open_in_range(options_.media_address, ports_);
  if (!opened) return opened.error();
  const auto port_index = opened->index;
  auto info = conference.value()->add_participant(id, spec, port_index, opened->local);
  if (!info) {
    backend_->close(port_index, &ports_);
    return info.error();
  }
  if (port_owners_.size() <= port_index) port_owners_.resize(port_index + 1);
  port_owners_[port_index] = {conference.value(), *conference.value()->participant_index(id)};
  return info;
}

void Worker::close_port(std::uint32_t port_index) {
  if (port_index < port_owners_.size()) port_owners_[port_index] = {};
  backend_->close(port_index, &ports_);
}

Status Worker::modify_participant(ConferenceId conference, const ParticipantChange& change) {
  auto found = find(conference);
  if (!found) return found.error();
  return found.value()->modify_participant(change);
}

Status Worker::remove_participant(ConferenceId conference, ParticipantId participant) {
  auto found = find(conference);
  if (!found) return found.error();
  auto port_index = found.value()->remove_participant(participant, *backend_);
  if (!port_index) return port_index.error();
  close_port(port_index.value());
  return ok_status();
}

Result<RekeyResult> Worker::rekey_conference(ConferenceId id, const srtp::MasterKey& key) {
  auto found = find(id);
  if (!found) return found.error();
  return found.value()->rekey(key, monotonic_us());
}

Status Worker::rekey_participant(ConferenceId conference, ParticipantId participant, const srtp::MasterKey& key) {
  auto found = find(conference);
  if (!found) return found.error();
  return found.value()->rekey_participant(participant, key, monotonic_us());
}

Result<ConferenceAudit> Worker::audit(ConferenceId id) {
  auto found = find(id);
  if (!found) return found.error();
  return found.value()->audit();
}

Result<ConferenceStats> Worker::conference_stats(ConferenceId id) {
  auto found = find(id);
  if (!found) return found.error();
  return found.value()->stats();
}

WorkerStats Worker::stats() {
  WorkerStats stats;
  stats.worker = index_;
  stats.load = load_;
  stats.receive_gaps_over_frame = receive_gaps_.long_gaps();
  stats.longest_receive_gap_ms = static_cast<double>(receive_gaps_.longest_us()) / 1000;
  stats.counters = counters_;
  for (const auto& [id, conference] : conferences_) add_counters(stats.counters, conference->stats().counters);
  backend_->report_io_counters(stats.io);
  return stats;
}

}  // namespace mrfp::dataplane

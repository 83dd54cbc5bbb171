#include "control/mp_service.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>

#include "control/grpc_status.h"
#include "control/key_hygiene.h"
#include "control/reply_conversion.h"
#include "control/request_validation.h"

namespace mrfp::control {
namespace {

// The handlers receive const requests, but gRPC owns a mutable message behind
// them; the key strings in it are ours to zeroise once copied (key_hygiene.h).
template <class Request>
mp::v1::SrtpKey* key_to_wipe(const Request* request, bool present, mp::v1::SrtpKey* (Request::*mutable_key)()) {
  return present ? (const_cast<Request*>(request)->*mutable_key)() : nullptr;
}

// Events waiting to be written to one WatchEvents stream. Filled by the
// dataplane's event thread, drained by the gRPC handler thread.
struct EventQueue {
  // A client this far behind is cut off rather than holding memory without bound.
  static constexpr std::size_t kMaxQueued = 4096;
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<mp::v1::Event> events;
  bool overflowed = false;
  bool closed = false;
};

constexpr auto kStreamPollInterval = std::chrono::milliseconds(100);

}  // namespace

grpc::Status MpService::CreateConference(grpc::ServerContext*, const mp::v1::CreateConferenceRequest* request,
                                         mp::v1::CreateConferenceResponse* reply) {
  KeyWipeOnExit wipe(key_to_wipe(request, request->has_group_key(), &mp::v1::CreateConferenceRequest::mutable_group_key));
  auto spec = conference_spec_from(*request);
  if (!spec) return to_grpc_status(spec.error());
  auto created = controller_.create_conference(spec.value());
  if (!created) return to_grpc_status(created.error());
  reply->set_conference_id(created->id);
  reply->set_mix_rate_hz(created->mix_rate_hz);
  for (const auto& stream : created->output_streams) fill_output_stream(stream, *reply->add_output_streams());
  spdlog::info("conference {} created: {} output streams, suite {}", created->id, created->output_streams.size(),
               srtp::name(spec->group_key.suite));
  return grpc::Status::OK;
}

grpc::Status MpService::DeleteConference(grpc::ServerContext*, const mp::v1::DeleteConferenceRequest* request,
                                         mp::v1::DeleteConferenceResponse*) {
  auto deleted = controller_.delete_conference(request->conference_id());
  if (!deleted) return to_grpc_status(deleted.error());
  spdlog::info("conference {} deleted", request->conference_id());
  return grpc::Status::OK;
}

grpc::Status MpService::AddParticipant(grpc::ServerContext*, const mp::v1::AddParticipantRequest* request,
                                       mp::v1::AddParticipantResponse* reply) {
  KeyWipeOnExit wipe(key_to_wipe(request, request->has_own_key(), &mp::v1::AddParticipantRequest::mutable_own_key));
  auto spec = participant_spec_from(*request);
  if (!spec) return to_grpc_status(spec.error());
  auto added = controller_.add_participant(spec.value());
  if (!added) return to_grpc_status(added.error());
  reply->set_participant_id(added->id);
  fill_address(added->local, *reply->mutable_local());
  reply->set_receive_ssrc(added->receive_ssrc);
  spdlog::info("participant {} added to conference {} ({} key)", added->id, request->conference_id(),
               spec->own_key ? "own" : "group");
  return grpc::Status::OK;
}

grpc::Status MpService::ModifyParticipant(grpc::ServerContext*, const mp::v1::ModifyParticipantRequest* request,
                                          mp::v1::ModifyParticipantResponse*) {
  auto change = participant_change_from(*request);
  if (!change) return to_grpc_status(change.error());
  auto modified = controller_.modify_participant(request->conference_id(), change.value());
  if (!modified) return to_grpc_status(modified.error());
  return grpc::Status::OK;
}

grpc::Status MpService::RemoveParticipant(grpc::ServerContext*, const mp::v1::RemoveParticipantRequest* request,
                                          mp::v1::RemoveParticipantResponse*) {
  auto removed = controller_.remove_participant(request->conference_id(), request->participant_id());
  if (!removed) return to_grpc_status(removed.error());
  spdlog::info("participant {} removed from conference {}", request->participant_id(), request->conference_id());
  return grpc::Status::OK;
}

grpc::Status MpService::Rekey(grpc::ServerContext*, const mp::v1::RekeyRequest* request,
                              mp::v1::RekeyResponse* reply) {
  KeyWipeOnExit wipe(key_to_wipe(request, request->has_key(), &mp::v1::RekeyRequest::mutable_key));
  if (!request->has_key()) return to_grpc_status(invalid_argument("key: required"));
  auto key = master_key_from(request->key(), "key");
  if (!key) return to_grpc_status(key.error());

  if (request->has_participant_id()) {
    auto rekeyed = controller_.rekey_participant(request->conference_id(), request->participant_id(), key.value());
    if (!rekeyed) return to_grpc_status(rekeyed.error());
    spdlog::info("participant {} of conference {} rekeyed", request->participant_id(), request->conference_id());
    return grpc::Status::OK;
  }
  auto rekeyed = controller_.rekey_conference(request->conference_id(), key.value());
  if (!rekeyed) return to_grpc_status(rekeyed.error());
  for (const auto& [ssrc, first_sequence] : rekeyed->first_new_seq_by_ssrc) {
    auto& stream = *reply->add_output_streams();
    stream.set_ssrc(ssrc);
    stream.set_first_sequence(first_sequence);
  }
  spdlog::info("conference {} rekeyed", request->conference_id());
  return grpc::Status::OK;
}

grpc::Status MpService::Audit(grpc::ServerContext*, const mp::v1::AuditRequest* request,
                              mp::v1::AuditResponse* reply) {
  if (request->has_conference_id()) {
    auto audit = controller_.audit(request->conference_id());
    if (!audit) return to_grpc_status(audit.error());
    fill_conference_audit(audit.value(), *reply->add_conferences());
    return grpc::Status::OK;
  }
  for (dataplane::ConferenceId id : controller_.conferences()) {
    auto audit = controller_.audit(id);
    // A conference deleted since the listing is simply no longer there.
    if (!audit && audit.error().code == dataplane::ErrorCode::NotFound) continue;
    if (!audit) return to_grpc_status(audit.error());
    fill_conference_audit(audit.value(), *reply->add_conferences());
  }
  return grpc::Status::OK;
}

grpc::Status MpService::GetStats(grpc::ServerContext*, const mp::v1::GetStatsRequest* request,
                                 mp::v1::GetStatsResponse* reply) {
  if (request->has_conference_id()) {
    auto stats = controller_.conference_stats(request->conference_id());
    if (!stats) return to_grpc_status(stats.error());
    fill_conference_stats(stats.value(), *reply->add_conferences());
  } else {
    for (dataplane::ConferenceId id : controller_.conferences()) {
      auto stats = controller_.conference_stats(id);
      if (!stats && stats.error().code == dataplane::ErrorCode::NotFound) continue;
      if (!stats) return to_grpc_status(stats.error());
      fill_conference_stats(stats.value(), *reply->add_conferences());
    }
  }
  for (const auto& worker : controller_.worker_stats()) fill_worker_stats(worker, *reply->add_workers());
  return grpc::Status::OK;
}

grpc::Status MpService::WatchEvents(grpc::ServerContext* context, const mp::v1::WatchEventsRequest* request,
                                    grpc::ServerWriter<mp::v1::Event>* writer) {
  auto queue = std::make_shared<EventQueue>();
  const std::optional<dataplane::ConferenceId> only_conference =
      request->has_conference_id() ? std::optional(request->conference_id()) : std::nullopt;

  // The sink runs on the dataplane's event thread: it only queues, never blocks on the client.
  const std::uint64_t subscription = controller_.subscribe([queue, only_conference](const dataplane::Event& event) {
    if (only_conference && event.conference != *only_conference) return true;
    std::lock_guard lock(queue->mutex);
    if (queue->closed) return false;
    if (queue->events.size() >= EventQueue::kMaxQueued) {
      queue->overflowed = true;
      queue->ready.notify_one();
      return false;
    }
    fill_event(event, queue->events.emplace_back());
    queue->ready.notify_one();
    return true;
  });

  grpc::Status status = grpc::Status::OK;
  std::deque<mp::v1::Event> batch;
  while (!context->IsCancelled() && !ending_streams_) {
    bool overflowed = false;
    {
      std::unique_lock lock(queue->mutex);
      queue->ready.wait_for(lock, kStreamPollInterval, [&] { return !queue->events.empty() || queue->overflowed; });
      batch.swap(queue->events);
      overflowed = queue->overflowed;
    }
    bool client_gone = false;
    for (const auto& event : batch) {
      if (!writer->Write(event)) {
        client_gone = true;
        break;
      }
    }
    batch.clear();
    if (client_gone) break;
    if (overflowed) {
      status = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            "event stream fell more than 4096 events behind; watch again");
      break;
    }
  }
  {
    std::lock_guard lock(queue->mutex);
    queue->closed = true;
  }
  controller_.unsubscribe(subscription);
  if (context->IsCancelled()) return grpc::Status::CANCELLED;
  if (ending_streams_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "server shutting down");
  return status;
}

grpc::Status MpService::Health(grpc::ServerContext*, const mp::v1::HealthRequest*, mp::v1::HealthResponse* reply) {
  reply->set_serving(controller_.healthy());
  return grpc::Status::OK;
}

}  // namespace mrfp::control

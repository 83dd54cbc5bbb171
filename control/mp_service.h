// The Mp gRPC service: validates each request (request_validation.h), calls the
// dataplane Controller, and translates its answer into the reply or a status.
#pragma once

#include <atomic>

#include "dataplane/controller.h"
#include "mp.grpc.pb.h"

namespace mrfp::control {

class MpService final : public mp::v1::Mp::Service {
 public:
  explicit MpService(dataplane::Controller& controller) : controller_(controller) {}

  // Ends every WatchEvents stream within one poll interval (server shutdown).
  void end_streams() { ending_streams_ = true; }

  grpc::Status CreateConference(grpc::ServerContext* context, const mp::v1::CreateConferenceRequest* request,
                                mp::v1::CreateConferenceResponse* reply) override;
  grpc::Status DeleteConference(grpc::ServerContext* context, const mp::v1::DeleteConferenceRequest* request,
                                mp::v1::DeleteConferenceResponse* reply) override;
  grpc::Status AddParticipant(grpc::ServerContext* context, const mp::v1::AddParticipantRequest* request,
                              mp::v1::AddParticipantResponse* reply) override;
  grpc::Status ModifyParticipant(grpc::ServerContext* context, const mp::v1::ModifyParticipantRequest* request,
                                 mp::v1::ModifyParticipantResponse* reply) override;
  grpc::Status RemoveParticipant(grpc::ServerContext* context, const mp::v1::RemoveParticipantRequest* request,
                                 mp::v1::RemoveParticipantResponse* reply) override;
  grpc::Status Rekey(grpc::ServerContext* context, const mp::v1::RekeyRequest* request,
                     mp::v1::RekeyResponse* reply) override;
  grpc::Status Audit(grpc::ServerContext* context, const mp::v1::AuditRequest* request,
                     mp::v1::AuditResponse* reply) override;
  grpc::Status GetStats(grpc::ServerContext* context, const mp::v1::GetStatsRequest* request,
                        mp::v1::GetStatsResponse* reply) override;
  grpc::Status WatchEvents(grpc::ServerContext* context, const mp::v1::WatchEventsRequest* request,
                           grpc::ServerWriter<mp::v1::Event>* writer) override;
  grpc::Status Health(grpc::ServerContext* context, const mp::v1::HealthRequest* request,
                      mp::v1::HealthResponse* reply) override;

 private:
  dataplane::Controller& controller_;
  std::atomic<bool> ending_streams_{false};
};

}  // namespace mrfp::control

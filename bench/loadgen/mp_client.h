// The load generator's side of the Mp control API: the few calls it makes,
// each failing loudly (std::runtime_error naming the RPC and the status).
#pragma once

#include <grpcpp/channel.h>

#include <cstdint>
#include <memory>
#include <string>

#include "dataplane/srtp/suite.h"
#include "mixer/media_types.h"
#include "mp.grpc.pb.h"

namespace mrfp::loadgen {

mp::v1::SrtpKey to_proto(const srtp::MasterKey& key);

class MpClient {
 public:
  explicit MpClient(const std::string& server);

  // Waits up to `timeout_s` for Health to answer serving.
  bool wait_until_serving(double timeout_s);
  mp::v1::CreateConferenceResponse create_conference(const mp::v1::CreateConferenceRequest& request);
  mp::v1::AddParticipantResponse add_participant(const mp::v1::AddParticipantRequest& request);
  void delete_conference(std::uint32_t conference_id);
  mp::v1::GetStatsResponse stats();
  mp::v1::AuditResponse audit();

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<mp::v1::Mp::Stub> stub_;
};

}  // namespace mrfp::loadgen

#include "bench/loadgen/mp_client.h"

#include "control/enum_conversion.h"

#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>

#include <chrono>
#include <stdexcept>
#include <thread>

namespace mrfp::loadgen {

namespace {
constexpr auto kRpcTimeout = std::chrono::seconds(10);

std::unique_ptr<grpc::ClientContext> context_with_deadline() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() + kRpcTimeout);
  return context;
}

void check(const grpc::Status& status, const char* rpc) {
  if (!status.ok()) {
    throw std::runtime_error(std::string(rpc) + " failed: " + std::to_string(status.error_code()) + " " +
                             status.error_message());
  }
}
}  // namespace

mp::v1::SrtpKey to_proto(const srtp::MasterKey& key) {
  mp::v1::SrtpKey out;
  out.set_suite(control::to_proto(key.suite));
  const auto bytes = key.key_bytes();
  const auto salt = key.salt_bytes();
  const auto mki = key.mki_bytes();
  out.set_master_key(std::string(bytes.begin(), bytes.end()));
  out.set_master_salt(std::string(salt.begin(), salt.end()));
  out.set_mki(std::string(mki.begin(), mki.end()));
  return out;
}

MpClient::MpClient(const std::string& server)
    : channel_(grpc::CreateChannel(server, grpc::InsecureChannelCredentials())), stub_(mp::v1::Mp::NewStub(channel_)) {}

bool MpClient::wait_until_serving(double timeout_s) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < give_up) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    mp::v1::HealthResponse response;
    if (stub_->Health(&context, {}, &response).ok() && response.serving()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

mp::v1::CreateConferenceResponse MpClient::create_conference(const mp::v1::CreateConferenceRequest& request) {
  mp::v1::CreateConferenceResponse response;
  check(stub_->CreateConference(context_with_deadline().get(), request, &response), "CreateConference");
  return response;
}

mp::v1::AddParticipantResponse MpClient::add_participant(const mp::v1::AddParticipantRequest& request) {
  mp::v1::AddParticipantResponse response;
  check(stub_->AddParticipant(context_with_deadline().get(), request, &response), "AddParticipant");
  return response;
}

void MpClient::delete_conference(std::uint32_t conference_id) {
  mp::v1::DeleteConferenceRequest request;
  request.set_conference_id(conference_id);
  mp::v1::DeleteConferenceResponse response;
  check(stub_->DeleteConference(context_with_deadline().get(), request, &response), "DeleteConference");
}

mp::v1::GetStatsResponse MpClient::stats() {
  mp::v1::GetStatsResponse response;
  check(stub_->GetStats(context_with_deadline().get(), {}, &response), "GetStats");
  return response;
}

mp::v1::AuditResponse MpClient::audit() {
  mp::v1::AuditResponse response;
  check(stub_->Audit(context_with_deadline().get(), {}, &response), "Audit");
  return response;
}

}  // namespace mrfp::loadgen

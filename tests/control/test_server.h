// A control server on a free loopback port in front of a FakeController, and a
// plaintext stub talking to it over a real gRPC channel.
#pragma once

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "control/control_server.h"
#include "control/enum_conversion.h"
#include "fake_controller.h"
#include "mp.grpc.pb.h"

namespace mrfp::control::testing {

inline std::string bytes_of(std::size_t length, char fill) { return std::string(length, fill); }

// A valid group key for the default suite: 16-byte key, 14-byte salt.
inline mp::v1::SrtpKey valid_key(mp::v1::SrtpSuite suite = mp::v1::AES_CM_128_HMAC_SHA1_80, char fill = 'K') {
  mp::v1::SrtpKey key;
  key.set_suite(suite);
  const auto params = srtp::params(*suite_from(suite));
  key.set_master_key(bytes_of(params.master_key_len, fill));
  key.set_master_salt(bytes_of(params.master_salt_len, static_cast<char>(fill + 1)));
  return key;
}

inline mp::v1::CreateConferenceRequest valid_conference_request() {
  mp::v1::CreateConferenceRequest request;
  request.add_codecs(mp::v1::CODEC_PCMU);
  request.add_codecs(mp::v1::CODEC_OPUS);
  request.set_frame_ms(20);
  request.set_speakers(3);
  *request.mutable_group_key() = valid_key();
  return request;
}

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ControlServerOptions options;
    options.listen_address = "127.0.0.1:0";
    auto server = run_control_server(fake, options);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(server.value());
    target = "127.0.0.1:" + std::to_string(server_->port());
    stub = mp::v1::Mp::NewStub(grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_) server_->shutdown();
  }

  std::unique_ptr<grpc::ClientContext> context(int seconds = 5) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
    return ctx;
  }

  // Creates a conference and returns its id.
  std::uint32_t create_conference() {
    mp::v1::CreateConferenceResponse reply;
    auto status = stub->CreateConference(context().get(), valid_conference_request(), &reply);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return reply.conference_id();
  }
  std::uint32_t add_participant(std::uint32_t conference, std::optional<std::uint32_t> ssrc = std::nullopt) {
    mp::v1::AddParticipantRequest request;
    request.set_conference_id(conference);
    request.set_codec(mp::v1::CODEC_PCMU);
    if (ssrc) request.set_ssrc(*ssrc);
    mp::v1::AddParticipantResponse reply;
    auto status = stub->AddParticipant(context().get(), request, &reply);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return reply.participant_id();
  }

  FakeController fake;
  std::unique_ptr<ControlServer> server_;
  std::string target;
  std::unique_ptr<mp::v1::Mp::Stub> stub;
};

}  // namespace mrfp::control::testing

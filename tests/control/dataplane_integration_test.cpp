// The Mp service in front of the real Dataplane (socket backend, one worker):
// what the FakeController promises, the real one keeps — ids, output SSRCs,
// SSRC uniqueness, audits without keys, stats, rekey, events.
#include <gtest/gtest.h>

#include <thread>

#include "dataplane/dataplane.h"
#include "test_server.h"

namespace mrfp::control::testing {
namespace {

class DataplaneIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dataplane::DataplaneOptions options;
    options.media_address = "127.0.0.1";
    // Away from the e2e tests' range, which may run at the same time.
    options.port_min = 46000;
    options.port_max = 46999;
    options.max_participants_per_conference = 16;
    dataplane_ = std::make_unique<dataplane::Dataplane>(options);
    dataplane_->start();
    ControlServerOptions server_options;
    server_options.listen_address = "127.0.0.1:0";
    auto server = run_control_server(*dataplane_, server_options);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(server.value());
    stub_ = mp::v1::Mp::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (server_) server_->shutdown();
    if (dataplane_) dataplane_->stop();
  }
  static std::unique_ptr<grpc::ClientContext> context() {
    auto ctx = std::make_unique<grpc::ClientContext>();
    ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return ctx;
  }

  std::unique_ptr<dataplane::Dataplane> dataplane_;
  std::unique_ptr<ControlServer> server_;
  std::unique_ptr<mp::v1::Mp::Stub> stub_;
};

TEST_F(DataplaneIntegrationTest, ConferenceLifecycleThroughGrpc) {
  grpc::ClientContext watch_context;
  mp::v1::WatchEventsRequest watch_request;
  auto events = stub_->WatchEvents(&watch_context, watch_request);

  auto create = valid_conference_request();
  create.mutable_group_key()->set_master_key(std::string(16, '\xA7'));
  mp::v1::CreateConferenceResponse created;
  auto status = stub_->CreateConference(context().get(), create, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_FALSE(created.output_streams().empty());
  const std::uint32_t output_ssrc = created.output_streams(0).ssrc();

  mp::v1::AddParticipantRequest add;
  add.set_conference_id(created.conference_id());
  add.set_codec(mp::v1::CODEC_PCMU);
  add.set_ssrc(1111);
  add.mutable_remote()->set_host("127.0.0.1");
  add.mutable_remote()->set_port(45999);
  mp::v1::AddParticipantResponse first;
  status = stub_->AddParticipant(context().get(), add, &first);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(first.local().host(), "127.0.0.1");
  EXPECT_GE(first.local().port(), 46000u);

  // The SSRC registry spans participants and the mixer's own streams (TR 33.829 §5).
  mp::v1::AddParticipantResponse ignored;
  status = stub_->AddParticipant(context().get(), add, &ignored);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS) << status.error_message();
  EXPECT_NE(status.error_message().find("1111"), std::string::npos) << status.error_message();
  // One of the mixer's own SSRCs: the mixer's stream moves instead (RFC 3550 §8.2).
  add.set_ssrc(output_ssrc);
  mp::v1::AddParticipantResponse second;
  status = stub_->AddParticipant(context().get(), add, &second);
  EXPECT_TRUE(status.ok()) << status.error_message();

  add.set_conference_id(created.conference_id() + 100);
  add.set_ssrc(2222);
  EXPECT_EQ(stub_->AddParticipant(context().get(), add, &ignored).error_code(), grpc::StatusCode::NOT_FOUND);

  mp::v1::AuditResponse audit;
  ASSERT_TRUE(stub_->Audit(context().get(), mp::v1::AuditRequest(), &audit).ok());
  ASSERT_EQ(audit.conferences_size(), 1);
  ASSERT_EQ(audit.conferences(0).participants_size(), 2);
  EXPECT_EQ(audit.conferences(0).participants(0).ssrc(), 1111u);
  EXPECT_EQ(audit.conferences(0).participants(1).ssrc(), output_ssrc);
  EXPECT_EQ(audit.SerializeAsString().find(std::string(4, '\xA7')), std::string::npos);

  mp::v1::ModifyParticipantRequest modify;
  modify.set_conference_id(created.conference_id());
  modify.set_participant_id(first.participant_id());
  modify.set_mute(true);
  mp::v1::ModifyParticipantResponse modified;
  status = stub_->ModifyParticipant(context().get(), modify, &modified);
  EXPECT_TRUE(status.ok()) << status.error_message();

  mp::v1::RekeyRequest rekey;
  rekey.set_conference_id(created.conference_id());
  *rekey.mutable_key() = valid_key(mp::v1::AES_CM_128_HMAC_SHA1_80, 'N');
  mp::v1::RekeyResponse rekeyed;
  status = stub_->Rekey(context().get(), rekey, &rekeyed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  // Mix-minus streams appear as participants join, so there may be more than at creation.
  EXPECT_GE(rekeyed.output_streams_size(), created.output_streams_size());
  for (const auto& stream : rekeyed.output_streams()) EXPECT_NE(stream.ssrc(), output_ssrc) << "the stream moved";

  mp::v1::GetStatsResponse stats;
  ASSERT_TRUE(stub_->GetStats(context().get(), mp::v1::GetStatsRequest(), &stats).ok());
  EXPECT_EQ(stats.conferences_size(), 1);
  EXPECT_EQ(stats.workers_size(), 1);

  mp::v1::HealthResponse health;
  ASSERT_TRUE(stub_->Health(context().get(), mp::v1::HealthRequest(), &health).ok());
  EXPECT_TRUE(health.serving());

  mp::v1::RemoveParticipantRequest remove;
  remove.set_conference_id(created.conference_id());
  remove.set_participant_id(first.participant_id());
  mp::v1::RemoveParticipantResponse removed;
  EXPECT_TRUE(stub_->RemoveParticipant(context().get(), remove, &removed).ok());
  mp::v1::DeleteConferenceRequest del;
  del.set_conference_id(created.conference_id());
  mp::v1::DeleteConferenceResponse deleted;
  EXPECT_TRUE(stub_->DeleteConference(context().get(), del, &deleted).ok());
  EXPECT_EQ(stub_->DeleteConference(context().get(), del, &deleted).error_code(), grpc::StatusCode::NOT_FOUND);

  // Whatever the dataplane reported on the way (joins, rekey, leaves) reached the stream.
  mp::v1::Event event;
  const bool got_event = events->Read(&event);
  watch_context.TryCancel();
  while (events->Read(&event)) {
  }
  events->Finish();
  EXPECT_TRUE(got_event);
}

}  // namespace
}  // namespace mrfp::control::testing

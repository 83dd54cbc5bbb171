// Every Mp RPC through a real gRPC channel on loopback: happy paths, each
// stateless validation error (INVALID_ARGUMENT naming the field), and the
// dataplane's stateful errors passed through.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <thread>

#include "control/mp_service.h"
#include "control/request_validation.h"
#include "test_server.h"

namespace mrfp::control::testing {
namespace {

using ::testing::HasSubstr;

struct ValidationCase {
  const char* name;
  std::function<void(mp::v1::CreateConferenceRequest&)> mutate;
  const char* message;
};

// Test names and failure output show the case's name, not its bytes.
void PrintTo(const ValidationCase& c, std::ostream* out) { *out << c.name; }

class CreateConferenceValidation : public ControlServerTest,
                                   public ::testing::WithParamInterface<ValidationCase> {};

TEST_P(CreateConferenceValidation, RejectsWithFieldNamed) {
  auto request = valid_conference_request();
  GetParam().mutate(request);
  mp::v1::CreateConferenceResponse reply;
  const auto status = stub->CreateConference(context().get(), request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), GetParam().message);
  EXPECT_FALSE(fake.was_called("create_conference"));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, CreateConferenceValidation,
    ::testing::Values(
        ValidationCase{"NoCodec", [](auto& r) { r.clear_codecs(); }, "codecs: at least one codec is required"},
        ValidationCase{"UnknownCodec", [](auto& r) { r.add_codecs(static_cast<mp::v1::Codec>(9)); },
                       "codecs: unknown codec 9"},
        ValidationCase{"UnspecifiedCodec", [](auto& r) { r.add_codecs(mp::v1::CODEC_UNSPECIFIED); },
                       "codecs: unknown codec 0"},
        ValidationCase{"DuplicateCodec", [](auto& r) { r.add_codecs(mp::v1::CODEC_PCMU); },
                       "codecs: PCMU listed twice"},
        ValidationCase{"FrameSize", [](auto& r) { r.set_frame_ms(25); },
                       "frame_ms: 25 is not one of 10, 20, 30, 40, 60"},
        ValidationCase{"MixRate", [](auto& r) { r.set_mix_rate_hz(44100); },
                       "mix_rate_hz: 44100 is not one of 8000, 16000, 48000 (0: automatic)"},
        ValidationCase{"Speakers", [](auto& r) { r.set_speakers(16); }, "speakers: 16 is outside 0-15 (0: everybody)"},
        ValidationCase{"Policy", [](auto& r) { r.set_policy(static_cast<mp::v1::MixPolicy>(7)); },
                       "policy: unknown policy 7"},
        ValidationCase{"OpusBitrate", [](auto& r) { r.set_opus_bitrate(1000); },
                       "opus_bitrate: 1000 is outside 6000-510000 bit/s"},
        ValidationCase{"OpusComplexity", [](auto& r) { r.set_opus_complexity(11); },
                       "opus_complexity: 11 is outside 0-10"},
        ValidationCase{"LevelsExtensionId", [](auto& r) { r.set_mixer_levels_ext_id(15); },
                       "mixer_levels_ext_id: 15 is not a one-byte extension id 1-14 (0: off)"},
        ValidationCase{"NoGroupKey", [](auto& r) { r.clear_group_key(); },
                       "group_key: required (TR 33.829: the KMS-issued group key)"},
        ValidationCase{"UnspecifiedSuite", [](auto& r) { r.mutable_group_key()->set_suite(mp::v1::SRTP_SUITE_UNSPECIFIED); },
                       "group_key.suite: required"},
        ValidationCase{"UnknownSuite",
                       [](auto& r) { r.mutable_group_key()->set_suite(static_cast<mp::v1::SrtpSuite>(42)); },
                       "group_key.suite: unknown suite 42"},
        ValidationCase{"ShortKey", [](auto& r) { r.mutable_group_key()->set_master_key(std::string(15, 'k')); },
                       "group_key.master_key: 15 bytes, AES_CM_128_HMAC_SHA1_80 needs 16"},
        ValidationCase{"KeyTooShortForAes256",
                       [](auto& r) { r.mutable_group_key()->set_suite(mp::v1::AES_256_CM_HMAC_SHA1_80); },
                       "group_key.master_key: 16 bytes, AES_256_CM_HMAC_SHA1_80 needs 32"},
        ValidationCase{"GcmSaltIs12",
                       [](auto& r) { r.mutable_group_key()->set_suite(mp::v1::AEAD_AES_128_GCM); },
                       "group_key.master_salt: 14 bytes, AEAD_AES_128_GCM needs 12"},
        ValidationCase{"LongMki", [](auto& r) { r.mutable_group_key()->set_mki(std::string(17, 'm')); },
                       "group_key.mki: 17 bytes, at most 16"}),
    [](const auto& test_param) { return std::string(test_param.param.name); });

TEST_F(ControlServerTest, CreateConferenceTranslatesEveryField) {
  auto request = valid_conference_request();
  request.set_frame_ms(40);
  request.set_mix_rate_hz(16000);
  request.set_speakers(0);
  request.set_policy(mp::v1::EVERY_PARTICIPANT);
  request.set_opus_bitrate(24000);
  request.set_opus_complexity(0);
  request.set_mixer_levels_ext_id(2);
  *request.mutable_group_key() = valid_key(mp::v1::AEAD_AES_256_GCM, 'G');
  request.mutable_group_key()->set_mki(std::string("\x01\x02", 2));
  mp::v1::CreateConferenceResponse reply;
  const auto status = stub->CreateConference(context().get(), request, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();

  EXPECT_EQ(reply.conference_id(), 1u);
  EXPECT_EQ(reply.mix_rate_hz(), 16000u);
  ASSERT_EQ(reply.output_streams_size(), 2);
  EXPECT_EQ(reply.output_streams(0).ssrc(), 0x10000u);
  EXPECT_EQ(reply.output_streams(1).purpose(), "common opus");

  const auto& spec = *fake.last_conference_spec;
  EXPECT_EQ(spec.codecs, (std::vector{mixer::Codec::Pcmu, mixer::Codec::Opus}));
  EXPECT_EQ(spec.frame_ms, 40u);
  EXPECT_EQ(spec.mix_rate_hz, 16000u);
  EXPECT_EQ(spec.speakers, 0u);
  EXPECT_EQ(spec.policy, mixer::Policy::EveryParticipant);
  EXPECT_EQ(spec.opus_bitrate, 24000u);
  EXPECT_EQ(spec.opus_complexity, 0u);
  EXPECT_EQ(spec.mixer_levels_ext_id, 2);
  EXPECT_EQ(spec.group_key.suite, srtp::Suite::AeadAes256Gcm);
  EXPECT_EQ(spec.group_key.key_len, 32);
  EXPECT_EQ(spec.group_key.salt_len, 12);
  EXPECT_EQ(spec.group_key.key[31], 'G');
  EXPECT_EQ(spec.group_key.salt[11], 'H');
  EXPECT_EQ(spec.group_key.mki_len, 2);
  EXPECT_EQ(spec.group_key.mki[1], 2);
}

TEST_F(ControlServerTest, CreateConferenceDefaults) {
  mp::v1::CreateConferenceRequest request;
  request.add_codecs(mp::v1::CODEC_PCMA);
  *request.mutable_group_key() = valid_key();
  mp::v1::CreateConferenceResponse reply;
  ASSERT_TRUE(stub->CreateConference(context().get(), request, &reply).ok());
  const auto& spec = *fake.last_conference_spec;
  EXPECT_EQ(spec.frame_ms, kDefaultFrameMs);
  EXPECT_EQ(spec.mix_rate_hz, 0u);
  EXPECT_EQ(spec.speakers, kDefaultSpeakers);
  EXPECT_EQ(spec.policy, mixer::Policy::SharedStreams);
  EXPECT_EQ(spec.opus_bitrate, kDefaultOpusBitrate);
  EXPECT_EQ(spec.opus_complexity, kDefaultOpusComplexity);
  EXPECT_EQ(spec.mixer_levels_ext_id, 0);
  EXPECT_EQ(spec.group_key.mki_len, 0);
}

TEST_F(ControlServerTest, DeleteConference) {
  const auto conference = create_conference();
  mp::v1::DeleteConferenceRequest request;
  request.set_conference_id(conference);
  mp::v1::DeleteConferenceResponse reply;
  EXPECT_TRUE(stub->DeleteConference(context().get(), request, &reply).ok());
  const auto again = stub->DeleteConference(context().get(), request, &reply);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(again.error_message(), "conference 1 not found");
}

struct ParticipantCase {
  const char* name;
  std::function<void(mp::v1::AddParticipantRequest&)> mutate;
  const char* message;
};

void PrintTo(const ParticipantCase& c, std::ostream* out) { *out << c.name; }

class AddParticipantValidation : public ControlServerTest, public ::testing::WithParamInterface<ParticipantCase> {};

TEST_P(AddParticipantValidation, RejectsWithFieldNamed) {
  const auto conference = create_conference();
  mp::v1::AddParticipantRequest request;
  request.set_conference_id(conference);
  request.set_codec(mp::v1::CODEC_PCMU);
  GetParam().mutate(request);
  mp::v1::AddParticipantResponse reply;
  const auto status = stub->AddParticipant(context().get(), request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), GetParam().message);
  EXPECT_FALSE(fake.was_called("add_participant"));
}

INSTANTIATE_TEST_SUITE_P(
    Fields, AddParticipantValidation,
    ::testing::Values(
        ParticipantCase{"NoCodec", [](auto& r) { r.set_codec(mp::v1::CODEC_UNSPECIFIED); }, "codec: required"},
        ParticipantCase{"UnknownCodec", [](auto& r) { r.set_codec(static_cast<mp::v1::Codec>(9)); },
                        "codec: unknown codec 9"},
        ParticipantCase{"PcmuNotZero", [](auto& r) { r.set_payload_type(8); },
                        "payload_type: 8 but PCMU is static payload type 0"},
        ParticipantCase{"PcmaNotEight", [](auto& r) { r.set_codec(mp::v1::CODEC_PCMA); },
                        "payload_type: 0 but PCMA is static payload type 8"},
        ParticipantCase{"OpusStatic",
                        [](auto& r) {
                          r.set_codec(mp::v1::CODEC_OPUS);
                          r.set_payload_type(95);
                        },
                        "payload_type: 95 but opus needs a dynamic payload type 96-127"},
        ParticipantCase{"PayloadTypeRange", [](auto& r) { r.set_payload_type(128); },
                        "payload_type: 128 is outside 0-127"},
        ParticipantCase{"RemoteHost",
                        [](auto& r) {
                          r.mutable_remote()->set_host("sbc.example.net");
                          r.mutable_remote()->set_port(5004);
                        },
                        "remote.host: 'sbc.example.net' is not an IPv4 or IPv6 address"},
        ParticipantCase{"RemotePortZero", [](auto& r) { r.mutable_remote()->set_host("192.0.2.1"); },
                        "remote.port: 0 is outside 1-65535"},
        ParticipantCase{"RemotePortHigh",
                        [](auto& r) {
                          r.mutable_remote()->set_host("192.0.2.1");
                          r.mutable_remote()->set_port(70000);
                        },
                        "remote.port: 70000 is outside 1-65535"},
        ParticipantCase{"Direction", [](auto& r) { r.set_direction(static_cast<mp::v1::Direction>(9)); },
                        "direction: unknown direction 9"},
        ParticipantCase{"AudioLevelExtensionId", [](auto& r) { r.set_audio_level_ext_id(15); },
                        "audio_level_ext_id: 15 is not a one-byte extension id 1-14 (0: off)"},
        ParticipantCase{"OwnKeySalt",
                        [](auto& r) {
                          *r.mutable_own_key() = valid_key();
                          r.mutable_own_key()->set_master_salt(std::string(13, 's'));
                        },
                        "own_key.master_salt: 13 bytes, AES_CM_128_HMAC_SHA1_80 needs 14"},
        ParticipantCase{"OwnKeyNoSuite", [](auto& r) { r.mutable_own_key(); }, "own_key.suite: required"}),
    [](const auto& test_param) { return std::string(test_param.param.name); });

TEST_F(ControlServerTest, AddParticipantTranslatesEveryField) {
  const auto conference = create_conference();
  mp::v1::AddParticipantRequest request;
  request.set_conference_id(conference);
  request.set_codec(mp::v1::CODEC_OPUS);
  request.set_payload_type(111);
  request.mutable_remote()->set_host("2001:db8::7");
  request.mutable_remote()->set_port(5004);
  request.set_ssrc(0xdeadbeef);
  request.set_direction(mp::v1::SENDONLY);
  request.set_audio_level_ext_id(1);
  *request.mutable_own_key() = valid_key(mp::v1::AES_256_CM_HMAC_SHA1_80, 'P');
  mp::v1::AddParticipantResponse reply;
  const auto status = stub->AddParticipant(context().get(), request, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();

  EXPECT_EQ(reply.participant_id(), 1u);
  EXPECT_EQ(reply.local().host(), "127.0.0.1");
  EXPECT_EQ(reply.local().port(), 40002u);
  EXPECT_EQ(reply.receive_ssrc(), 0x10000u);

  const auto& spec = *fake.last_participant_spec;
  EXPECT_EQ(spec.conference, conference);
  EXPECT_EQ(spec.codec, mixer::Codec::Opus);
  EXPECT_EQ(spec.payload_type, 111);
  ASSERT_TRUE(spec.remote.has_value());
  EXPECT_EQ(host_port_of(*spec.remote).host, "2001:db8::7");
  EXPECT_EQ(host_port_of(*spec.remote).port, 5004);
  EXPECT_EQ(spec.declared_ssrc, 0xdeadbeefu);
  EXPECT_EQ(spec.direction, mixer::Direction::SendOnly);
  EXPECT_EQ(spec.audio_level_ext_id, 1);
  ASSERT_TRUE(spec.own_key.has_value());
  EXPECT_EQ(spec.own_key->suite, srtp::Suite::AesCm256HmacSha1_80);
  EXPECT_EQ(spec.own_key->key_len, 32);
  EXPECT_EQ(spec.own_key->key[0], 'P');
}

TEST_F(ControlServerTest, AddParticipantDefaultsLearnAndLatch) {
  const auto conference = create_conference();
  add_participant(conference);
  const auto& spec = *fake.last_participant_spec;
  EXPECT_FALSE(spec.remote.has_value());
  EXPECT_FALSE(spec.declared_ssrc.has_value());
  EXPECT_FALSE(spec.own_key.has_value());
  EXPECT_EQ(spec.direction, mixer::Direction::SendRecv);
  EXPECT_EQ(spec.audio_level_ext_id, 0);
}

TEST_F(ControlServerTest, AddParticipantStatefulErrorsPassThrough) {
  const auto conference = create_conference();
  const auto first = add_participant(conference, 1234);
  mp::v1::AddParticipantRequest request;
  request.set_conference_id(conference);
  request.set_codec(mp::v1::CODEC_PCMU);
  request.set_ssrc(1234);
  mp::v1::AddParticipantResponse reply;
  auto status = stub->AddParticipant(context().get(), request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(status.error_message(), "ssrc 1234 is held by participant " + std::to_string(first));

  request.set_conference_id(99);
  status = stub->AddParticipant(context().get(), request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "conference 99 not found");
}

TEST_F(ControlServerTest, ModifyParticipant) {
  const auto conference = create_conference();
  const auto participant = add_participant(conference);
  mp::v1::ModifyParticipantRequest request;
  request.set_conference_id(conference);
  request.set_participant_id(participant);
  mp::v1::ModifyParticipantResponse reply;

  auto status = stub->ModifyParticipant(context().get(), request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "no change: set at least one of mute, deaf, hold, direction, remote");

  request.set_direction(mp::v1::DIRECTION_UNSPECIFIED);
  status = stub->ModifyParticipant(context().get(), request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "direction: present but DIRECTION_UNSPECIFIED");

  request.set_direction(mp::v1::RECVONLY);
  request.mutable_remote()->set_host("198.51.100.300");
  request.mutable_remote()->set_port(4000);
  status = stub->ModifyParticipant(context().get(), request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "remote.host: '198.51.100.300' is not an IPv4 or IPv6 address");
  EXPECT_FALSE(fake.was_called("modify_participant"));

  request.mutable_remote()->set_host("198.51.100.30");
  request.set_mute(true);
  request.set_hold(false);
  status = stub->ModifyParticipant(context().get(), request, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const auto& change = *fake.last_change;
  EXPECT_EQ(change.participant, participant);
  EXPECT_EQ(change.mute, true);
  EXPECT_EQ(change.hold, false);
  EXPECT_FALSE(change.deaf.has_value());
  EXPECT_EQ(change.direction, mixer::Direction::RecvOnly);
  ASSERT_TRUE(change.remote.has_value());
  EXPECT_EQ(host_port_of(*change.remote).host, "198.51.100.30");

  request.set_participant_id(77);
  status = stub->ModifyParticipant(context().get(), request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "participant 77 not found in conference 1");
}

TEST_F(ControlServerTest, RemoveParticipant) {
  const auto conference = create_conference();
  const auto participant = add_participant(conference);
  mp::v1::RemoveParticipantRequest request;
  request.set_conference_id(conference);
  request.set_participant_id(participant);
  mp::v1::RemoveParticipantResponse reply;
  EXPECT_TRUE(stub->RemoveParticipant(context().get(), request, &reply).ok());
  const auto again = stub->RemoveParticipant(context().get(), request, &reply);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_THAT(again.error_message(), HasSubstr("participant 1 not found"));
}

TEST_F(ControlServerTest, RekeyConferenceReturnsFirstSequencePerStream) {
  const auto conference = create_conference();
  mp::v1::RekeyRequest request;
  request.set_conference_id(conference);
  mp::v1::RekeyResponse reply;
  auto status = stub->Rekey(context().get(), request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "key: required");

  *request.mutable_key() = valid_key(mp::v1::AES_CM_128_HMAC_SHA1_32, 'R');
  request.mutable_key()->set_master_key("short");
  status = stub->Rekey(context().get(), request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "key.master_key: 5 bytes, AES_CM_128_HMAC_SHA1_32 needs 16");
  EXPECT_FALSE(fake.was_called("rekey_conference"));

  *request.mutable_key() = valid_key(mp::v1::AES_CM_128_HMAC_SHA1_32, 'R');
  status = stub->Rekey(context().get(), request, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(reply.output_streams_size(), 2);
  EXPECT_EQ(reply.output_streams(0).ssrc(), 0x10000u);
  EXPECT_EQ(reply.output_streams(0).first_sequence(), 1000u);
  EXPECT_EQ(reply.output_streams(1).first_sequence(), 1001u);
  EXPECT_EQ(fake.last_rekey_key->suite, srtp::Suite::AesCm128HmacSha1_32);
  EXPECT_EQ(fake.last_rekey_key->key[0], 'R');

  request.set_conference_id(42);
  status = stub->Rekey(context().get(), request, &reply);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ControlServerTest, RekeyParticipantOwnKey) {
  const auto conference = create_conference();
  const auto participant = add_participant(conference);
  mp::v1::RekeyRequest request;
  request.set_conference_id(conference);
  request.set_participant_id(participant);
  *request.mutable_key() = valid_key(mp::v1::AEAD_AES_128_GCM, 'S');
  mp::v1::RekeyResponse reply;
  const auto status = stub->Rekey(context().get(), request, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(reply.output_streams_size(), 0);
  EXPECT_TRUE(fake.was_called("rekey_participant"));
  EXPECT_FALSE(fake.was_called("rekey_conference"));
  EXPECT_EQ(fake.last_rekey_key->salt_len, 12);

  request.set_participant_id(participant + 10);
  EXPECT_EQ(stub->Rekey(context().get(), request, &reply).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ControlServerTest, AuditNeverContainsKeyBytes) {
  // Distinctive key material: any echo of it would be found in the serialised reply.
  auto conference_request = valid_conference_request();
  conference_request.mutable_group_key()->set_master_key(std::string(16, '\xA7'));
  conference_request.mutable_group_key()->set_master_salt(std::string(14, '\xB9'));
  conference_request.mutable_group_key()->set_mki("MKI-7");
  mp::v1::CreateConferenceResponse created;
  ASSERT_TRUE(stub->CreateConference(context().get(), conference_request, &created).ok());
  mp::v1::AddParticipantRequest participant_request;
  participant_request.set_conference_id(created.conference_id());
  participant_request.set_codec(mp::v1::CODEC_PCMU);
  participant_request.set_ssrc(4242);
  *participant_request.mutable_own_key() = valid_key();
  participant_request.mutable_own_key()->set_master_key(std::string(16, '\xC3'));
  mp::v1::AddParticipantResponse added;
  ASSERT_TRUE(stub->AddParticipant(context().get(), participant_request, &added).ok());

  mp::v1::AuditResponse all;
  ASSERT_TRUE(stub->Audit(context().get(), mp::v1::AuditRequest(), &all).ok());
  ASSERT_EQ(all.conferences_size(), 1);
  const auto& audit = all.conferences(0);
  EXPECT_EQ(audit.conference_id(), created.conference_id());
  EXPECT_EQ(audit.suite(), mp::v1::AES_CM_128_HMAC_SHA1_80);
  EXPECT_EQ(audit.frame_ms(), 20u);
  EXPECT_EQ(audit.speakers(), 3u);
  EXPECT_EQ(audit.output_streams_size(), 2);
  ASSERT_EQ(audit.participants_size(), 1);
  EXPECT_TRUE(audit.participants(0).own_key());
  EXPECT_EQ(audit.participants(0).ssrc(), 4242u);
  EXPECT_FALSE(audit.participants(0).has_remote());
  EXPECT_EQ(audit.participants(0).local().port(), 40002u);

  const std::string wire = all.SerializeAsString();
  EXPECT_EQ(wire.find(std::string(4, '\xA7')), std::string::npos);
  EXPECT_EQ(wire.find(std::string(4, '\xB9')), std::string::npos);
  EXPECT_EQ(wire.find(std::string(4, '\xC3')), std::string::npos);
  EXPECT_EQ(wire.find("MKI-7"), std::string::npos);

  mp::v1::AuditRequest one;
  one.set_conference_id(created.conference_id());
  mp::v1::AuditResponse single;
  ASSERT_TRUE(stub->Audit(context().get(), one, &single).ok());
  EXPECT_EQ(single.conferences_size(), 1);
  one.set_conference_id(9);
  EXPECT_EQ(stub->Audit(context().get(), one, &single).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ControlServerTest, GetStatsCarriesCountersAndWorkers) {
  const auto conference = create_conference();
  add_participant(conference);
  add_participant(conference);
  mp::v1::GetStatsResponse reply;
  ASSERT_TRUE(stub->GetStats(context().get(), mp::v1::GetStatsRequest(), &reply).ok());
  ASSERT_EQ(reply.conferences_size(), 1);
  const auto& stats = reply.conferences(0);
  EXPECT_EQ(stats.counters().rx_packets(), 200u);
  EXPECT_EQ(stats.counters().ticks(), 500u);
  EXPECT_EQ(stats.counters().drop_auth_failed(), 7u);
  ASSERT_EQ(stats.participants_size(), 2);
  EXPECT_EQ(stats.participants(0).counters().drop_replayed(), 2u);
  EXPECT_DOUBLE_EQ(stats.participants(0).jitter_ms(), 1.5);
  EXPECT_DOUBLE_EQ(stats.participants(0).round_trip_ms(), 40);
  EXPECT_DOUBLE_EQ(stats.participants(0).fraction_lost(), 0.25);
  EXPECT_DOUBLE_EQ(stats.participants(0).jitter_buffer_ms(), 60);
  ASSERT_EQ(reply.workers_size(), 2);
  EXPECT_DOUBLE_EQ(reply.workers(1).load(), 0.5);
  EXPECT_EQ(reply.workers(0).counters().tick_overruns(), 3u);
  EXPECT_EQ(reply.workers(0).receive_gaps_over_frame(), 2u);
  EXPECT_DOUBLE_EQ(reply.workers(0).longest_receive_gap_ms(), 42.5);
  EXPECT_EQ(reply.workers(0).io_counters().at("tx_refused"), 4u) << "the backend's own counters, by name";

  mp::v1::GetStatsRequest one;
  one.set_conference_id(conference + 1);
  EXPECT_EQ(stub->GetStats(context().get(), one, &reply).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ControlServerTest, WatchEventsStreamsUntilCancelled) {
  grpc::ClientContext watch_context;
  mp::v1::WatchEventsRequest request;
  request.set_conference_id(5);
  auto reader = stub->WatchEvents(&watch_context, request);
  for (int i = 0; i < 200 && fake.subscriber_count() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(fake.subscriber_count(), 1u);

  const auto when = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
  fake.emit({dataplane::Event::Kind::Joined, 6, 1, "another conference", when});
  fake.emit({dataplane::Event::Kind::SpeakerChange, 5, 3, "speakers 3,4", when});
  fake.emit({dataplane::Event::Kind::SsrcCollision, 5, 4, "ssrc 99 held by participant 3", when});

  mp::v1::Event event;
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.kind(), mp::v1::Event::SPEAKER_CHANGE);
  EXPECT_EQ(event.conference_id(), 5u);
  EXPECT_EQ(event.participant_id(), 3u);
  EXPECT_EQ(event.detail(), "speakers 3,4");
  EXPECT_EQ(event.when().seconds(), 1'700'000'000);
  ASSERT_TRUE(reader->Read(&event));
  EXPECT_EQ(event.kind(), mp::v1::Event::SSRC_COLLISION);

  watch_context.TryCancel();
  while (reader->Read(&event)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  for (int i = 0; i < 200 && fake.subscriber_count() != 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(fake.subscriber_count(), 0u);
  EXPECT_TRUE(fake.was_called("unsubscribe"));
}

TEST_F(ControlServerTest, WatchEventsEndsOnServerShutdown) {
  grpc::ClientContext watch_context;
  auto reader = stub->WatchEvents(&watch_context, mp::v1::WatchEventsRequest());
  for (int i = 0; i < 200 && fake.subscriber_count() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(fake.subscriber_count(), 1u);
  server_->shutdown();
  mp::v1::Event event;
  EXPECT_FALSE(reader->Read(&event));
  EXPECT_FALSE(reader->Finish().ok());
  EXPECT_EQ(fake.subscriber_count(), 0u);
}

TEST_F(ControlServerTest, Health) {
  mp::v1::HealthResponse reply;
  ASSERT_TRUE(stub->Health(context().get(), mp::v1::HealthRequest(), &reply).ok());
  EXPECT_TRUE(reply.serving());
  fake.is_healthy = false;
  ASSERT_TRUE(stub->Health(context().get(), mp::v1::HealthRequest(), &reply).ok());
  EXPECT_FALSE(reply.serving());
}

// Called directly (no channel) to look at the request object afterwards.
TEST(KeyHygiene, RequestKeyBytesAreZeroisedAfterUse) {
  FakeController fake;
  MpService service(fake);
  auto create = valid_conference_request();
  create.mutable_group_key()->set_mki("mki");
  mp::v1::CreateConferenceResponse created;
  ASSERT_TRUE(service.CreateConference(nullptr, &create, &created).ok());
  EXPECT_TRUE(create.group_key().master_key().empty());
  EXPECT_TRUE(create.group_key().master_salt().empty());
  EXPECT_TRUE(create.group_key().mki().empty());
  EXPECT_EQ(fake.last_conference_spec->group_key.key[0], 'K');

  // Also when validation rejects the request.
  auto rejected = valid_conference_request();
  rejected.set_frame_ms(7);
  EXPECT_FALSE(service.CreateConference(nullptr, &rejected, &created).ok());
  EXPECT_TRUE(rejected.group_key().master_key().empty());

  mp::v1::AddParticipantRequest add;
  add.set_conference_id(created.conference_id());
  add.set_codec(mp::v1::CODEC_PCMU);
  *add.mutable_own_key() = valid_key();
  mp::v1::AddParticipantResponse added;
  ASSERT_TRUE(service.AddParticipant(nullptr, &add, &added).ok());
  EXPECT_TRUE(add.own_key().master_key().empty());

  mp::v1::RekeyRequest rekey;
  rekey.set_conference_id(created.conference_id());
  *rekey.mutable_key() = valid_key();
  mp::v1::RekeyResponse rekeyed;
  ASSERT_TRUE(service.Rekey(nullptr, &rekey, &rekeyed).ok());
  EXPECT_TRUE(rekey.key().master_key().empty());
  EXPECT_TRUE(rekey.key().master_salt().empty());
}

TEST(ControlServerOptionsTest, PlaintextOffLoopbackIsRefused) {
  FakeController fake;
  ControlServerOptions options;
  options.listen_address = "0.0.0.0:0";
  auto server = run_control_server(fake, options);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(server.error().code, dataplane::ErrorCode::FailedPrecondition);
  EXPECT_THAT(server.error().message, HasSubstr("is not loopback"));
}

}  // namespace
}  // namespace mrfp::control::testing

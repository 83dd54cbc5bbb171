// mrfpctl, the real binary, against a test server: --json replies parse back
// into the proto messages, errors exit non-zero naming the field, keys given in
// hex and base64 arrive as the same bytes.
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "test_server.h"

namespace mrfp::control::testing {
namespace {

struct CliRun {
  int exit_code = -1;
  std::string out, err;
};

class MrfpctlTest : public ControlServerTest {
 protected:
  CliRun mrfpctl(const std::string& arguments) {
    const std::string err_file = ::testing::TempDir() + "mrfpctl-stderr-" + std::to_string(getpid());
    const std::string command =
        std::string(MRFPCTL_PATH) + " --server " + target + " " + arguments + " 2>" + err_file;
    CliRun run;
    FILE* pipe = popen(command.c_str(), "r");
    if (pipe == nullptr) return run;
    char buffer[4096];
    for (std::size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) run.out.append(buffer, n);
    const int status = pclose(pipe);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream err(err_file);
    run.err.assign(std::istreambuf_iterator<char>(err), std::istreambuf_iterator<char>());
    std::filesystem::remove(err_file);
    return run;
  }

  template <class Message>
  Message parse_json(const std::string& json) {
    Message message;
    const auto status = google::protobuf::util::JsonStringToMessage(json, &message);
    EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
    return message;
  }

  static constexpr const char* kKeyHex = "00112233445566778899aabbccddeeff";
  static constexpr const char* kSaltHex = "0102030405060708090a0b0c0d0e";
};

TEST_F(MrfpctlTest, CreateConferenceJsonAndHexKey) {
  const CliRun run = mrfpctl(std::string("--json create-conference --codec pcmu --codec opus --speakers 2 --frame-ms 20 ") +
                          "--key " + kKeyHex + " --salt " + kSaltHex + " --mki 01");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto reply = parse_json<mp::v1::CreateConferenceResponse>(run.out);
  EXPECT_EQ(reply.conference_id(), 1u);
  EXPECT_EQ(reply.output_streams_size(), 2);
  const auto& key = fake.last_conference_spec->group_key;
  EXPECT_EQ(key.key_len, 16);
  EXPECT_EQ(key.key[0], 0x00);
  EXPECT_EQ(key.key[15], 0xff);
  EXPECT_EQ(key.salt[13], 0x0e);
  EXPECT_EQ(key.mki_len, 1);
  EXPECT_EQ(fake.last_conference_spec->speakers, 2u);
}

TEST_F(MrfpctlTest, ValidationErrorExitsNonZeroNamingTheField) {
  const CliRun run = mrfpctl(std::string("create-conference --codec pcmu --key 0011 --salt ") + kSaltHex);
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_EQ(run.err,
            "error: INVALID_ARGUMENT: group_key.master_key: 2 bytes, AES_CM_128_HMAC_SHA1_80 needs 16\n");
}

TEST_F(MrfpctlTest, KeyTextThatDoesNotDecodeIsRefusedBeforeAnyCall) {
  CliRun run = mrfpctl(std::string("create-conference --codec pcmu --key 0g112233445566778899aabbccddeeff --salt ") + kSaltHex);
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, "error: --key: not valid hex\n");
  run = mrfpctl("create-conference --codec pcmu --key-encoding base64 --key QUFB* --salt QkJC");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, "error: --key: not valid base64\n");
  EXPECT_FALSE(fake.was_called("create_conference"));
}

TEST_F(MrfpctlTest, AddParticipantWithBase64OwnKeyThenAuditAndStats) {
  const auto conference = create_conference();
  // 16 bytes 0x41 ('A') and 14 bytes 0x42 ('B') in base64.
  const CliRun add = mrfpctl("--json add-participant " + std::to_string(conference) +
                          " --codec opus --pt 111 --remote [2001:db8::5]:6000 --ssrc 77 --direction recvonly"
                          " --key-encoding base64 --key QUFBQUFBQUFBQUFBQUFBQQ== --salt QkJCQkJCQkJCQkJCQkI=");
  ASSERT_EQ(add.exit_code, 0) << add.err;
  const auto added = parse_json<mp::v1::AddParticipantResponse>(add.out);
  EXPECT_EQ(added.local().port(), 40002u);
  const auto& spec = *fake.last_participant_spec;
  ASSERT_TRUE(spec.own_key.has_value());
  EXPECT_EQ(spec.own_key->key[7], 'A');
  EXPECT_EQ(spec.own_key->salt[13], 'B');
  EXPECT_EQ(spec.payload_type, 111);
  EXPECT_EQ(spec.direction, mixer::Direction::RecvOnly);
  EXPECT_EQ(host_port_of(*spec.remote).host, "2001:db8::5");

  const CliRun audit = mrfpctl("--json audit");
  ASSERT_EQ(audit.exit_code, 0) << audit.err;
  const auto audited = parse_json<mp::v1::AuditResponse>(audit.out);
  ASSERT_EQ(audited.conferences_size(), 1);
  EXPECT_TRUE(audited.conferences(0).participants(0).own_key());

  const CliRun human = mrfpctl("audit");
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_NE(human.out.find("participant 1  CODEC_OPUS/111  RECVONLY  ssrc 0x0000004d"), std::string::npos) << human.out;

  const CliRun stats = mrfpctl("--json stats");
  ASSERT_EQ(stats.exit_code, 0) << stats.err;
  EXPECT_EQ(parse_json<mp::v1::GetStatsResponse>(stats.out).workers_size(), 2);
}

TEST_F(MrfpctlTest, ModifyRemoveRekeyDeleteHealth) {
  const auto conference = create_conference();
  const auto participant = add_participant(conference);
  const std::string ids = std::to_string(conference) + " " + std::to_string(participant);
  EXPECT_EQ(mrfpctl("modify-participant " + ids + " --mute on --hold off").exit_code, 0);
  EXPECT_EQ(fake.last_change->mute, true);
  EXPECT_EQ(fake.last_change->hold, false);

  const CliRun rekey = mrfpctl("--json rekey " + std::to_string(conference) + " --suite AES_CM_128_HMAC_SHA1_32 --key " +
                            kKeyHex + " --salt " + kSaltHex);
  ASSERT_EQ(rekey.exit_code, 0) << rekey.err;
  EXPECT_EQ(parse_json<mp::v1::RekeyResponse>(rekey.out).output_streams(0).first_sequence(), 1000u);

  EXPECT_EQ(mrfpctl("remove-participant " + ids).exit_code, 0);
  const CliRun again = mrfpctl("remove-participant " + ids);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("NOT_FOUND"), std::string::npos);
  EXPECT_EQ(mrfpctl("delete-conference " + std::to_string(conference)).exit_code, 0);

  const CliRun health = mrfpctl("health");
  EXPECT_EQ(health.exit_code, 0);
  EXPECT_EQ(health.out, "serving\n");
}

TEST_F(MrfpctlTest, EventsFollowsTheStream) {
  std::thread emitter([this] {
    for (int i = 0; i < 500 && fake.subscriber_count() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    fake.emit({dataplane::Event::Kind::RekeyDone, 3, 0, "group key 2 active", std::chrono::system_clock::now()});
  });
  const CliRun run = mrfpctl("--json events --count 1");
  emitter.join();
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto event = parse_json<mp::v1::Event>(run.out);
  EXPECT_EQ(event.kind(), mp::v1::Event::REKEY_DONE);
  EXPECT_EQ(event.detail(), "group key 2 active");
}

TEST_F(MrfpctlTest, TopShowsConferencesAndSpeakers) {
  const auto conference = create_conference();
  add_participant(conference);
  add_participant(conference);
  const CliRun run = mrfpctl("top --count 2 --interval 0.05");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("CONF"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("worker"), std::string::npos);
  // Participant 1 is the fake's speaker.
  EXPECT_NE(run.out.find("1      2      1 "), std::string::npos) << run.out;
}

}  // namespace
}  // namespace mrfp::control::testing

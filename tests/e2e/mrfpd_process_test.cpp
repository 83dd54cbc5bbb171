// mrfpd as an operator runs it: a separate process driven over gRPC, media
// from a libsrtp2 peer, and SIGTERM ending it cleanly: BYE on the streams, exit 0.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <regex>
#include <string>

#include "e2e/conference_harness.h"
#include "mp.grpc.pb.h"

namespace mrfp {
namespace {

class MrfpdProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    int pipe_fds[2];
    ASSERT_EQ(pipe(pipe_fds), 0);
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      dup2(pipe_fds[1], STDOUT_FILENO);
      dup2(pipe_fds[1], STDERR_FILENO);
      close(pipe_fds[0]);
      execl(MRFPD_PATH, MRFPD_PATH, "--control-listen", "127.0.0.1:0", "--port-range", "47000-47999",
            "--max-participants", "8", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(pipe_fds[1]);
    log_ = fdopen(pipe_fds[0], "r");
    // The ready line names the control port it picked.
    const std::regex ready("control on port ([0-9]+)");
    char line[1024];
    while (fgets(line, sizeof line, log_)) {
      std::cmatch match;
      if (std::regex_search(line, match, ready)) {
        port_ = std::stoi(match[1]);
        break;
      }
    }
    ASSERT_GT(port_, 0) << "mrfpd never said it was ready";
    stub_ = mp::v1::Mp::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials()));
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (log_) fclose(log_);
  }
  int terminate() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  pid_t pid_ = -1;
  FILE* log_ = nullptr;
  int port_ = 0;
  std::unique_ptr<mp::v1::Mp::Stub> stub_;
};

TEST_F(MrfpdProcess, ServesAConferenceAndSaysByeOnSigterm) {
  const auto key = sim::make_key(srtp::Suite::AesCm128HmacSha1_80, 77);
  mp::v1::CreateConferenceRequest create;
  create.add_codecs(mp::v1::CODEC_PCMU);
  create.mutable_group_key()->set_suite(mp::v1::AES_CM_128_HMAC_SHA1_80);
  create.mutable_group_key()->set_master_key(std::string(key.key.begin(), key.key.begin() + key.key_len));
  create.mutable_group_key()->set_master_salt(std::string(key.salt.begin(), key.salt.begin() + key.salt_len));
  mp::v1::CreateConferenceResponse created;
  grpc::ClientContext create_context;
  ASSERT_TRUE(stub_->CreateConference(&create_context, create, &created).ok());

  std::vector<e2e::Peer> peers;
  const double tones[] = {700, 1200};
  for (std::uint32_t i = 0; i < 2; ++i) {
    sim::ParticipantConfig config{.codec = mixer::Codec::Pcmu, .payload_type = 0, .ssrc = 0x7000 + i,
                                  .tone_hz = tones[i], .send_key = key, .receive_key = key};
    e2e::Peer peer{std::make_unique<sim::SimParticipant>(config), 0, {}};
    mp::v1::AddParticipantRequest add;
    add.set_conference_id(created.conference_id());
    add.set_codec(mp::v1::CODEC_PCMU);
    add.set_payload_type(0);
    add.set_ssrc(config.ssrc);
    add.mutable_remote()->set_host("127.0.0.1");
    add.mutable_remote()->set_port(peer.sim->local_port());
    mp::v1::AddParticipantResponse added;
    grpc::ClientContext add_context;
    const auto status = stub_->AddParticipant(&add_context, add, &added);
    ASSERT_TRUE(status.ok()) << status.error_message();
    peer.sim->set_mixer_endpoint(dataplane::Endpoint::parse(added.local().host(), added.local().port())->address);
    peers.push_back(std::move(peer));
  }
  e2e::run_frames(peers, 50, [](std::size_t, int) { return true; });
  for (std::size_t i = 0; i < peers.size(); ++i) {
    EXPECT_GT(peers[i].sim->received(), 40u);
    EXPECT_GT(peers[i].sim->received_tone_power(tones[1 - i], 4000), 0.005);
  }

  EXPECT_EQ(terminate(), 0);
  for (auto& peer : peers) {
    peer.sim->receive_available();
    EXPECT_GE(peer.sim->byes_received(), 1u) << "no RTCP BYE when mrfpd stopped";
  }
}

}  // namespace
}  // namespace mrfp

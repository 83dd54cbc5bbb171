// A real SRTP client that shares no code with us: ffmpeg (libavformat's own
// SRTP). Two ffmpeg senders stream tones into a conference; an ffmpeg receiver,
// given the group key in an SDP a=crypto line (RFC 4568), records the mix.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "bench/peer/sim_audio.h"
#include "e2e/conference_harness.h"

namespace mrfp {
namespace {

namespace fs = std::filesystem;

std::string base64(std::span<const std::uint8_t> bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string text;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t chunk = std::uint32_t{bytes[i]} << 16;
    if (i + 1 < bytes.size()) chunk |= std::uint32_t{bytes[i + 1]} << 8;
    if (i + 2 < bytes.size()) chunk |= bytes[i + 2];
    text += kAlphabet[chunk >> 18 & 63];
    text += kAlphabet[chunk >> 12 & 63];
    text += i + 1 < bytes.size() ? kAlphabet[chunk >> 6 & 63] : '=';
    text += i + 2 < bytes.size() ? kAlphabet[chunk & 63] : '=';
  }
  return text;
}

std::uint16_t free_udp_port() {
  const int fd = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    freopen("/dev/null", "w", stdout);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::int16_t> read_wav_pcm16(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // ffmpeg writes a canonical 44-byte header for pcm_s16le, mono.
  std::vector<std::int16_t> samples;
  for (std::size_t i = 44; i + 1 < bytes.size(); i += 2) {
    samples.push_back(static_cast<std::int16_t>(static_cast<std::uint8_t>(bytes[i]) |
                                                static_cast<std::uint8_t>(bytes[i + 1]) << 8));
  }
  return samples;
}

TEST(FfmpegInterop, FfmpegSendersAndReceiverHearTheMix) {
  if (std::system("command -v ffmpeg > /dev/null") != 0) GTEST_SKIP() << "ffmpeg is not installed (scripts/setup.sh)";
  const fs::path dir = fs::temp_directory_path() / ("mrfp-ffmpeg-" + std::to_string(getpid()));
  fs::create_directories(dir);

  dataplane::Dataplane dataplane(e2e::loopback_options(36000, 8));
  dataplane.start();
  const auto key = sim::make_key(srtp::Suite::AesCm128HmacSha1_80, 4711);
  auto conference = dataplane.create_conference(e2e::conference_spec(mixer::Codec::Pcmu, key));
  ASSERT_TRUE(conference);

  // RFC 4568 §6.1: inline key material is base64(master key || master salt).
  std::vector<std::uint8_t> key_and_salt(key.key.begin(), key.key.begin() + key.key_len);
  key_and_salt.insert(key_and_salt.end(), key.salt.begin(), key.salt.begin() + key.salt_len);
  const std::string inline_key = base64(key_and_salt);

  // The listener: ffmpeg receiving on a port of its own, recvonly in the conference.
  const std::uint16_t listener_port = free_udp_port();
  dataplane::ParticipantSpec listener;
  listener.conference = conference->id;
  listener.direction = mixer::Direction::RecvOnly;
  listener.remote = dataplane::Endpoint::parse("127.0.0.1", listener_port);
  ASSERT_TRUE(dataplane.add_participant(listener));
  const fs::path sdp = dir / "listener.sdp";
  std::ofstream(sdp) << "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=mix\nc=IN IP4 127.0.0.1\nt=0 0\n"
                     << "m=audio " << listener_port << " RTP/SAVP 0\na=rtpmap:0 PCMU/8000\n"
                     << "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:" << inline_key << "\n";
  const fs::path wav = dir / "mix.wav";
  const pid_t receiver = spawn({"ffmpeg", "-hide_banner", "-loglevel", "error", "-protocol_whitelist",
                                "file,udp,rtp,srtp", "-i", sdp.string(), "-t", "4", "-y", wav.string()});

  // Two talkers: ffmpeg senders, SSRC latched from their first authenticated packet.
  const int tones[] = {500, 1300};
  std::vector<pid_t> senders;
  for (int tone : tones) {
    dataplane::ParticipantSpec talker;
    talker.conference = conference->id;
    talker.direction = mixer::Direction::SendOnly;
    auto added = dataplane.add_participant(talker);
    ASSERT_TRUE(added);
    const auto source = "sine=frequency=" + std::to_string(tone) + ":sample_rate=8000:samples_per_frame=160";
    senders.push_back(spawn({"ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i", source,
                             "-t", "6", "-ac", "1", "-c:a", "pcm_mulaw", "-f", "rtp", "-srtp_out_suite",
                             "AES_CM_128_HMAC_SHA1_80", "-srtp_out_params", inline_key,
                             "srtp://127.0.0.1:" + std::to_string(ntohs(reinterpret_cast<const sockaddr_in&>(
                                                                         added->local.address).sin_port))}));
  }
  EXPECT_EQ(wait_for(receiver), 0);
  for (pid_t sender : senders) wait_for(sender);

  const auto stats = dataplane.conference_stats(conference->id);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->counters.drop_auth_failed, 0u);
  EXPECT_EQ(stats->counters.drop_replayed, 0u);
  const auto audio = read_wav_pcm16(wav);
  ASSERT_GT(audio.size(), 16000u) << "ffmpeg recorded less than 2 s";
  const std::span<const std::int16_t> last_two_seconds = std::span(audio).last(16000);
  for (int tone : tones) EXPECT_GT(sim::tone_power(last_two_seconds, tone, 8000), 0.003) << "tone " << tone;
  EXPECT_LT(sim::tone_power(last_two_seconds, 800, 8000), 0.0005);
  dataplane.stop();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mrfp

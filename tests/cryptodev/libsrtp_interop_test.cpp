// The cryptodev engine against libsrtp2, every suite, SRTP and SRTCP, both ways:
// libsrtp2 unprotects what the engine protected and the engine unprotects what
// libsrtp2 protected. Payloads 0..1400 bytes, random keys, headers with 0..15
// CSRCs and header extensions (GCM AAD lengths vary), sequence numbers across
// a ROC wrap, bursts of 32. A tampered packet must fail.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "bench/peer/libsrtp_session.h"
#include "cryptodev/eal_environment.h"
#include "cryptodev/srtp_jobs.h"
#include "dataplane/cryptodev/cryptodev_engine.h"

namespace mrfp::srtp::test {
namespace {

constexpr std::size_t kMaxPayload = 1400;
constexpr std::size_t kBurst = 32;
constexpr std::size_t kRoom = 64;  // for tag, MKI, SRTCP index
constexpr std::uint32_t kSsrc = 0x5eed1234;
constexpr std::uint16_t kFirstSequence = 65536 - 700;  // wraps half way: ROC 0 -> 1

struct Plain {
  std::vector<std::uint8_t> bytes;  // the unprotected packet, capacity for the trailer
  std::size_t length = 0;
  std::uint32_t roc = 0;            // SRTP: ROC of this packet; SRTCP: its index
};

// RTP packets with payload 0..1400 bytes, sequence numbers across a wrap.
std::vector<Plain> make_rtp(std::mt19937& random) {
  std::vector<Plain> packets;
  std::uint32_t roc = 0;
  std::uint16_t sequence = kFirstSequence;
  for (std::size_t payload = 0; payload <= kMaxPayload; ++payload) {
    const std::size_t csrcs = payload % 16;
    // 36 distinct header lengths: every CSRC count, extensions on the shorter ones.
    const bool extension = csrcs < 4 && payload % 3 == 0;
    const std::size_t extension_words = payload % 5;
    const std::size_t header = 12 + 4 * csrcs + (extension ? 4 + 4 * extension_words : 0);
    Plain packet;
    packet.length = header + payload;
    packet.bytes.resize(packet.length + kRoom);
    for (auto& byte : packet.bytes) byte = static_cast<std::uint8_t>(random());
    std::uint8_t* p = packet.bytes.data();
    p[0] = static_cast<std::uint8_t>(0x80 | (extension ? 0x10 : 0) | csrcs);
    p[1] = 111;
    p[2] = static_cast<std::uint8_t>(sequence >> 8);
    p[3] = static_cast<std::uint8_t>(sequence);
    put_be32(p + 8, kSsrc);
    if (extension) {
      std::uint8_t* ext = p + 12 + 4 * csrcs;
      ext[0] = 0xbe;  // RFC 8285 one-byte header profile
      ext[1] = 0xde;
      ext[2] = 0;
      ext[3] = static_cast<std::uint8_t>(extension_words);
    }
    packet.roc = roc;
    packets.push_back(std::move(packet));
    if (++sequence == 0) ++roc;
  }
  return packets;
}

// RTCP compound-ish packets: an 8-byte sender header then 0..1400 bytes.
std::vector<Plain> make_rtcp(std::mt19937& random) {
  std::vector<Plain> packets;
  for (std::size_t body = 0; body <= kMaxPayload; body += 4) {
    Plain packet;
    packet.length = 8 + body;
    packet.bytes.resize(packet.length + kRoom);
    for (auto& byte : packet.bytes) byte = static_cast<std::uint8_t>(random());
    std::uint8_t* p = packet.bytes.data();
    p[0] = 0x80;
    p[1] = 200;  // SR
    const std::size_t words = packet.length / 4 - 1;
    p[2] = static_cast<std::uint8_t>(words >> 8);
    p[3] = static_cast<std::uint8_t>(words);
    put_be32(p + 4, kSsrc);
    packet.roc = static_cast<std::uint32_t>(packets.size() + 1);  // SRTCP index, libsrtp2 starts at 1
    packets.push_back(std::move(packet));
  }
  return packets;
}

struct Case {
  Suite suite;
  const char* device;  // "mb" or "gcm"
  CryptodevPath path;
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string text(name(info.param.suite));
  text += std::string("_on_") + info.param.device;
  text += info.param.path == CryptodevPath::QueuePair ? "_queue_pair" : "_cpu_crypto";
  return text;
}

// Every suite on crypto_aesni_mb0, the GCM suites also on crypto_aesni_gcm0,
// each through the queue pair and through CPU crypto.
std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (CryptodevPath path : {CryptodevPath::QueuePair, CryptodevPath::CpuCrypto}) {
    for (Suite suite : {Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32, Suite::AesCm256HmacSha1_80,
                        Suite::AeadAes128Gcm, Suite::AeadAes256Gcm}) {
      cases.push_back({suite, "mb", path});
      if (params(suite).aead) cases.push_back({suite, "gcm", path});
    }
  }
  return cases;
}

class LibsrtpInterop : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    std::string error;
    const std::uint8_t dev = std::string(GetParam().device) == "gcm" ? cryptodev_ids().aesni_gcm
                                                                      : cryptodev_ids().aesni_mb;
    CryptodevEngineOptions options;
    options.required_suites = {GetParam().suite};
    options.path = GetParam().path;
    engine_ = CryptodevEngine::create(dev, 0, options, error);
    ASSERT_NE(engine_, nullptr) << error;
    kdf_engine_ = CryptodevEngine::create(cryptodev_ids().aesni_mb, 0, {}, error);
    ASSERT_NE(kdf_engine_, nullptr) << error;
    const unsigned seed = std::random_device{}();
    RecordProperty("seed", std::to_string(seed));
    random_.seed(seed);
    master_.suite = GetParam().suite;
    master_.key_len = static_cast<std::uint8_t>(params(master_.suite).master_key_len);
    master_.salt_len = static_cast<std::uint8_t>(params(master_.suite).master_salt_len);
    for (auto& byte : master_.key) byte = static_cast<std::uint8_t>(random_());
    for (auto& byte : master_.salt) byte = static_cast<std::uint8_t>(random_());
    for (std::size_t i = master_.key_len; i < master_.key.size(); ++i) master_.key[i] = 0;
    for (std::size_t i = master_.salt_len; i < master_.salt.size(); ++i) master_.salt[i] = 0;
    keys_ = derive_session_keys(*kdf_engine_, *engine_, master_);
    ASSERT_NE(keys_.rtp.engine_state, nullptr) << engine_->last_error();
    ASSERT_NE(keys_.rtcp.engine_state, nullptr) << engine_->last_error();
  }
  void TearDown() override {
    if (engine_) {
      engine_->release(keys_.rtp.engine_state);
      engine_->release(keys_.rtcp.engine_state);
    }
  }

  // Runs `packets` through the engine in bursts; returns the resulting lengths
  // (nullopt: auth failure or engine failure).
  std::vector<std::optional<std::size_t>> run_engine(std::vector<Plain>& packets, bool rtcp,
                                                     CryptoDirection direction) {
    std::vector<std::optional<std::size_t>> lengths;
    for (std::size_t start = 0; start < packets.size(); start += kBurst) {
      const std::size_t end = std::min(packets.size(), start + kBurst);
      std::vector<PendingPacket> pending;
      std::vector<CryptoJob> jobs;
      for (std::size_t i = start; i < end; ++i) {
        Plain& p = packets[i];
        pending.push_back(rtcp ? rtcp_job(keys_.rtcp, p.bytes, p.length, p.roc, direction)
                               : rtp_job(keys_.rtp, p.bytes, p.length, p.roc, direction));
        jobs.push_back(pending.back().job);
        // SRTCP GCM: the AAD lives in the job's own scratch; follow the copy.
        if (rtcp && keys_.rtcp.aead()) jobs.back().aad = jobs.back().aad_scratch.data();
      }
      engine_->run(jobs);
      for (std::size_t k = 0; k < pending.size(); ++k) {
        EXPECT_FALSE(jobs[k].engine_failed) << "packet " << start + k;
        pending[k].job = jobs[k];
        lengths.push_back(finish(pending[k]));
      }
    }
    return lengths;
  }

  void engine_protects_libsrtp_unprotects(bool rtcp) {
    failures_.clear();
    std::vector<Plain> plain = rtcp ? make_rtcp(random_) : make_rtp(random_);
    std::vector<Plain> wire = plain;
    const auto lengths = run_engine(wire, rtcp, CryptoDirection::Encrypt);
    sim::LibsrtpSession receiver(master_, sim::LibsrtpSession::Direction::Inbound, kSsrc);
    for (std::size_t i = 0; i < wire.size(); ++i) {
      ASSERT_TRUE(lengths[i].has_value()) << i;
      const int length = static_cast<int>(*lengths[i]);
      const int result = rtcp ? receiver.unprotect_rtcp(wire[i].bytes.data(), length)
                              : receiver.unprotect(wire[i].bytes.data(), length);
      const bool same = result == static_cast<int>(plain[i].length) &&
                        std::equal(plain[i].bytes.begin(), plain[i].bytes.begin() + result, wire[i].bytes.begin());
      if (!same) failures_.push_back(i);
    }
    EXPECT_TRUE(failures_.empty()) << describe_failures(plain);
  }

  void libsrtp_protects_engine_unprotects(bool rtcp) {
    failures_.clear();
    std::vector<Plain> plain = rtcp ? make_rtcp(random_) : make_rtp(random_);
    std::vector<Plain> wire = plain;
    sim::LibsrtpSession sender(master_, sim::LibsrtpSession::Direction::Outbound, kSsrc);
    for (Plain& packet : wire) {
      const int result = rtcp ? sender.protect_rtcp(packet.bytes.data(), static_cast<int>(packet.length))
                              : sender.protect(packet.bytes.data(), static_cast<int>(packet.length));
      ASSERT_GT(result, 0);
      packet.length = static_cast<std::size_t>(result);
    }
    // One tampered copy of a packet: must fail while the rest pass.
    const std::size_t victim = wire.size() / 2;
    std::vector<Plain> tampered{wire[victim]};
    tampered[0].bytes[tampered[0].length - 1 - (rtcp ? 20 : 0)] ^= 0x80;

    const auto lengths = run_engine(wire, rtcp, CryptoDirection::Decrypt);
    for (std::size_t i = 0; i < wire.size(); ++i) {
      const bool same = lengths[i] == std::optional<std::size_t>(plain[i].length) &&
                        std::equal(plain[i].bytes.begin(), plain[i].bytes.begin() + static_cast<long>(plain[i].length),
                                   wire[i].bytes.begin());
      if (!same) failures_.push_back(i);
    }
    EXPECT_TRUE(failures_.empty()) << describe_failures(plain);
    const auto tampered_lengths = run_engine(tampered, rtcp, CryptoDirection::Decrypt);
    EXPECT_EQ(tampered_lengths[0], std::nullopt);
  }

  std::string describe_failures(const std::vector<Plain>& plain) const {
    std::string text = std::to_string(failures_.size()) + " of " + std::to_string(plain.size()) + " packets wrong:";
    for (std::size_t k = 0; k < failures_.size() && k < 8; ++k) {
      text += " #" + std::to_string(failures_[k]) + " (" + std::to_string(plain[failures_[k]].length) + " bytes)";
    }
    return text;
  }

  std::vector<std::size_t> failures_;
  std::unique_ptr<CryptodevEngine> engine_;
  std::unique_ptr<CryptodevEngine> kdf_engine_;
  std::mt19937 random_;
  MasterKey master_;
  StreamKeys keys_;
};

// Both directions in one test: each ctest entry is a process with its own EAL
// start-up (about 0.15 s, mostly TSC calibration), so fewer, fuller cases.
TEST_P(LibsrtpInterop, SrtpBothWays) {
  engine_protects_libsrtp_unprotects(false);
  libsrtp_protects_engine_unprotects(false);
}
TEST_P(LibsrtpInterop, SrtcpBothWays) {
  engine_protects_libsrtp_unprotects(true);
  libsrtp_protects_engine_unprotects(true);
}

INSTANTIATE_TEST_SUITE_P(AllSuites, LibsrtpInterop, ::testing::ValuesIn(all_cases()), case_name);

}  // namespace
}  // namespace mrfp::srtp::test

// CryptodevEngine on its own: known answers (RFC 3711 B.2 keystream, B.3 key
// derivation, RFC 2202 HMAC-SHA1), capability refusal, bad jobs, bursts larger
// than the engine's chunk, GCM tag failure reporting.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "cryptodev/eal_environment.h"
#include "cryptodev/srtp_jobs.h"
#include "dataplane/cryptodev/cryptodev_engine.h"
#include "dataplane/srtp/ipsec_mb_engine.h"

namespace mrfp::srtp::test {
namespace {

std::vector<std::uint8_t> hex(std::string_view text) {
  std::vector<std::uint8_t> bytes;
  for (std::size_t i = 0; i + 1 < text.size(); i += 2) {
    bytes.push_back(static_cast<std::uint8_t>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
  }
  return bytes;
}

SessionKeys aes_cm_keys(std::span<const std::uint8_t> key, std::span<const std::uint8_t> salt,
                        std::span<const std::uint8_t> auth_key) {
  SessionKeys keys;
  keys.suite = key.size() == 32 ? Suite::AesCm256HmacSha1_80 : Suite::AesCm128HmacSha1_80;
  std::copy(key.begin(), key.end(), keys.cipher_key.begin());
  keys.cipher_key_len = static_cast<std::uint8_t>(key.size());
  std::copy(salt.begin(), salt.end(), keys.salt.begin());
  keys.salt_len = static_cast<std::uint8_t>(salt.size());
  std::copy(auth_key.begin(), auth_key.end(), keys.auth_key.begin());
  keys.auth_key_len = static_cast<std::uint8_t>(auth_key.size());
  keys.tag_len = 10;
  return keys;
}

// Every test runs on both ways of driving the device (CryptodevPath).
class CryptodevEngine : public ::testing::TestWithParam<CryptodevPath> {
 protected:
  std::unique_ptr<srtp::CryptodevEngine> make_engine(std::uint8_t dev_id, CryptodevEngineOptions options = {}) {
    options.path = GetParam();
    std::string error;
    auto engine = srtp::CryptodevEngine::create(dev_id, 0, options, error);
    EXPECT_NE(engine, nullptr) << error;
    if (engine) {
      EXPECT_EQ(engine->path(), GetParam());
    }
    return engine;
  }
};

TEST_P(CryptodevEngine, AesCmKeystreamMatchesRfc3711B2) {
  auto engine = make_engine(cryptodev_ids().aesni_mb);
  ASSERT_NE(engine, nullptr);
  const auto key = hex("2B7E151628AED2A6ABF7158809CF4F3C");
  const auto salt = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
  SessionKeys keys = aes_cm_keys(key, salt, std::vector<std::uint8_t>(20, 0));
  keys.engine_state = engine->prepare(keys);
  ASSERT_NE(keys.engine_state, nullptr) << engine->last_error();

  std::vector<std::uint8_t> packet(48, 0);
  CryptoJob job;
  job.keys = &keys;
  job.packet = packet.data();
  job.cipher_length = 48;
  job.auth_length = 48;  // an HMAC must cover something (see the RFC 2202 test)
  aes_cm_iv(job, keys, 0, 0);  // SSRC 0, index 0: IV = salt << 16
  engine->run(std::span(&job, 1));
  EXPECT_FALSE(job.engine_failed);
  EXPECT_EQ(packet, hex("E03EAD0935C95E80E166B16DD92B4EB4"
                        "D23513162B02D0F72A43A2FE4A5F97AB"
                        "41E95B3BB0A2E8DD477901E4FCA894C0"));
  engine->release(keys.engine_state);
}

TEST_P(CryptodevEngine, HmacSha1MatchesRfc2202InBothDirections) {
  auto engine = make_engine(cryptodev_ids().aesni_mb);
  ASSERT_NE(engine, nullptr);
  SessionKeys keys = aes_cm_keys(std::vector<std::uint8_t>(16, 0), std::vector<std::uint8_t>(14, 0),
                                 std::vector<std::uint8_t>(20, 0x0b));
  keys.engine_state = engine->prepare(keys);
  ASSERT_NE(keys.engine_state, nullptr) << engine->last_error();
  // An HMAC over nothing corrupts the ipsec_mb PMD's later HMACs (seen with
  // IPsec-MB 1.3 / DPDK 22.11): the engine refuses it and later jobs stay right.
  std::vector<std::uint8_t> zeros(48, 0);
  CryptoJob empty_auth;
  empty_auth.keys = &keys;
  empty_auth.packet = zeros.data();
  empty_auth.cipher_length = 48;
  empty_auth.auth_length = 0;
  engine->run(std::span(&empty_auth, 1));
  EXPECT_TRUE(empty_auth.engine_failed);
  for (CryptoDirection direction : {CryptoDirection::Encrypt, CryptoDirection::Decrypt}) {
    std::string message = "Hi There";
    CryptoJob job;
    job.keys = &keys;
    job.packet = reinterpret_cast<std::uint8_t*>(message.data());
    job.cipher_offset = static_cast<std::uint32_t>(message.size());
    job.cipher_length = 0;
    job.auth_length = static_cast<std::uint32_t>(message.size());
    job.direction = direction;
    engine->run(std::span(&job, 1));
    EXPECT_FALSE(job.engine_failed);
    // The full 20-byte HMAC, not the 10-byte wire tag (crypto_engine.h).
    EXPECT_EQ(std::vector<std::uint8_t>(job.computed_tag.begin(), job.computed_tag.end()),
              hex("b617318655057264e28bc0b6fb378c8ef146be00"));
  }
  engine->release(keys.engine_state);
}

TEST_P(CryptodevEngine, KeyDerivationMatchesRfc3711B3) {
  auto engine = make_engine(cryptodev_ids().aesni_mb);
  ASSERT_NE(engine, nullptr);
  MasterKey master;
  const auto key = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
  const auto salt = hex("0EC675AD498AFEEBB6960B3AABE6");
  std::copy(key.begin(), key.end(), master.key.begin());
  std::copy(salt.begin(), salt.end(), master.salt.begin());
  master.key_len = 16;
  master.salt_len = 14;
  std::vector<std::uint8_t> cipher_key(16), session_salt(14), auth_key(20);
  derive(*engine, master, 0, cipher_key.data(), cipher_key.size());
  derive(*engine, master, 2, session_salt.data(), session_salt.size());
  derive(*engine, master, 1, auth_key.data(), auth_key.size());
  EXPECT_EQ(cipher_key, hex("C61E7A93744F39EE10734AFE3FF7A087"));
  EXPECT_EQ(session_salt, hex("30CBBC08863D8C85D49DB34A9AE1"));
  EXPECT_EQ(auth_key, hex("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4"));
}

TEST_P(CryptodevEngine, RefusesSuitesTheDeviceLacksWithAClearError) {
  const std::uint8_t gcm_only = cryptodev_ids().aesni_gcm;
  CryptodevEngineOptions options;
  options.required_suites = {Suite::AeadAes128Gcm, Suite::AesCm128HmacSha1_80};
  options.path = GetParam();
  std::string error;
  EXPECT_EQ(srtp::CryptodevEngine::create(gcm_only, 0, options, error), nullptr);
  EXPECT_NE(error.find("crypto_aesni_gcm0"), std::string::npos) << error;
  EXPECT_NE(error.find("AES-CTR"), std::string::npos) << error;
  EXPECT_NE(error.find("AES_CM_128_HMAC_SHA1_80"), std::string::npos) << error;

  // Without the requirement the engine exists and refuses only the suite.
  auto engine = make_engine(gcm_only);
  ASSERT_NE(engine, nullptr);
  EXPECT_TRUE(engine->supports(Suite::AeadAes128Gcm));
  EXPECT_TRUE(engine->supports(Suite::AeadAes256Gcm));
  EXPECT_FALSE(engine->supports(Suite::AesCm256HmacSha1_80));
  SessionKeys keys = aes_cm_keys(std::vector<std::uint8_t>(16, 1), std::vector<std::uint8_t>(14, 2),
                                 std::vector<std::uint8_t>(20, 3));
  EXPECT_EQ(engine->prepare(keys), nullptr);
  EXPECT_NE(engine->last_error().find("AES-CTR"), std::string::npos) << engine->last_error();

  // A job whose keys the engine could not prepare fails alone, not the burst.
  auto mb = make_engine(cryptodev_ids().aesni_mb);
  ASSERT_NE(mb, nullptr);
  SessionKeys good = keys;
  good.engine_state = mb->prepare(good);
  ASSERT_NE(good.engine_state, nullptr);
  std::vector<std::uint8_t> a(64, 0), b(64, 0);
  std::array<CryptoJob, 2> jobs;
  jobs[0].keys = &keys;  // engine_state null
  jobs[0].packet = a.data();
  jobs[0].cipher_length = 32;
  jobs[0].auth_length = 32;
  jobs[1].keys = &good;
  jobs[1].packet = b.data();
  jobs[1].cipher_length = 32;
  jobs[1].auth_length = 32;
  mb->run(jobs);
  EXPECT_TRUE(jobs[0].engine_failed);
  EXPECT_FALSE(jobs[1].engine_failed);
  mb->release(good.engine_state);
}

TEST_P(CryptodevEngine, RejectsMissingDeviceAndUnconfiguredQueuePair) {
  std::string error;
  EXPECT_EQ(srtp::CryptodevEngine::create(200, 0, {}, error), nullptr);
  EXPECT_NE(error.find("does not exist"), std::string::npos) << error;
  EXPECT_EQ(srtp::CryptodevEngine::create(cryptodev_ids().aesni_mb, 7, {}, error), nullptr);
  EXPECT_NE(error.find("queue pair 7"), std::string::npos) << error;
}

// Bursts larger than max_burst run in chunks with the same results as one job
// at a time; many GCM AAD lengths in one burst.
TEST_P(CryptodevEngine, LongBurstsEqualSingleJobs) {
  CryptodevEngineOptions small;
  small.max_burst = 8;
  auto chunked = make_engine(cryptodev_ids().aesni_mb, small);
  auto single = make_engine(cryptodev_ids().aesni_mb);
  ASSERT_NE(chunked, nullptr);
  ASSERT_NE(single, nullptr);
  std::mt19937 random(7);
  for (Suite suite : {Suite::AesCm128HmacSha1_80, Suite::AeadAes128Gcm}) {
    MasterKey master;
    master.suite = suite;
    master.key_len = static_cast<std::uint8_t>(params(suite).master_key_len);
    master.salt_len = static_cast<std::uint8_t>(params(suite).master_salt_len);
    for (auto& byte : master.key) byte = static_cast<std::uint8_t>(random());
    for (auto& byte : master.salt) byte = static_cast<std::uint8_t>(random());
    StreamKeys chunked_keys = derive_session_keys(*single, *chunked, master);
    StreamKeys single_keys = derive_session_keys(*single, *single, master);
    constexpr int kPackets = 100;
    std::vector<std::vector<std::uint8_t>> burst(kPackets), one_by_one(kPackets);
    std::vector<PendingPacket> pending;
    std::vector<CryptoJob> jobs;
    for (int i = 0; i < kPackets; ++i) {
      const std::size_t csrcs = static_cast<std::size_t>(i % 16);
      const std::size_t length = 12 + 4 * csrcs + static_cast<std::size_t>(random() % 300);
      burst[i].assign(length + 32, 0);
      for (std::size_t b = 0; b < length; ++b) burst[i][b] = static_cast<std::uint8_t>(random());
      burst[i][0] = static_cast<std::uint8_t>(0x80 | csrcs);
      one_by_one[i] = burst[i];
      pending.push_back(rtp_job(chunked_keys.rtp, burst[i], length, 3, CryptoDirection::Encrypt));
      jobs.push_back(pending.back().job);
      PendingPacket alone = rtp_job(single_keys.rtp, one_by_one[i], length, 3, CryptoDirection::Encrypt);
      single->run(std::span(&alone.job, 1));
      ASSERT_FALSE(alone.job.engine_failed);
      finish(alone);
    }
    chunked->run(jobs);
    for (int i = 0; i < kPackets; ++i) {
      pending[i].job = jobs[i];
      ASSERT_FALSE(jobs[i].engine_failed) << i;
      ASSERT_TRUE(finish(pending[i]).has_value());
      EXPECT_EQ(burst[i], one_by_one[i]) << name(suite) << " packet " << i;
    }
    for (StreamKeys* keys : {&chunked_keys}) {
      chunked->release(keys->rtp.engine_state);
      chunked->release(keys->rtcp.engine_state);
    }
    single->release(single_keys.rtp.engine_state);
    single->release(single_keys.rtcp.engine_state);
  }
}

// A forged GCM packet: the device's verify fails, the engine reports a tag that
// cannot match (not an engine failure), the layer sees AuthFailed.
TEST_P(CryptodevEngine, GcmTagMismatchIsAnAuthFailureNotAnEngineFailure) {
  for (std::uint8_t dev : {cryptodev_ids().aesni_mb, cryptodev_ids().aesni_gcm}) {
    SCOPED_TRACE(rte_cryptodev_name_get(dev));
    auto engine = make_engine(dev);
    auto kdf = make_engine(cryptodev_ids().aesni_mb);
    ASSERT_NE(engine, nullptr);
    MasterKey master;
    master.suite = Suite::AeadAes256Gcm;
    master.key_len = 32;
    master.salt_len = 12;
    master.key.fill(0x42);
    master.salt.fill(0x17);
    StreamKeys keys = derive_session_keys(*kdf, *engine, master);
    std::vector<std::uint8_t> packet(200, 0x55);
    packet[0] = 0x80;
    PendingPacket protect = rtp_job(keys.rtp, packet, 100, 0, CryptoDirection::Encrypt);
    engine->run(std::span(&protect.job, 1));
    const auto protected_length = finish(protect);
    ASSERT_TRUE(protected_length.has_value());
    std::vector<std::uint8_t> copy = packet;
    PendingPacket good = rtp_job(keys.rtp, copy, *protected_length, 0, CryptoDirection::Decrypt);
    packet[50] ^= 0x01;  // forge one payload bit
    PendingPacket forged = rtp_job(keys.rtp, packet, *protected_length, 0, CryptoDirection::Decrypt);
    std::array<CryptoJob, 2> jobs{good.job, forged.job};
    engine->run(jobs);
    good.job = jobs[0];
    forged.job = jobs[1];
    EXPECT_FALSE(good.job.engine_failed);
    EXPECT_FALSE(forged.job.engine_failed);
    EXPECT_EQ(finish(good), std::optional<std::size_t>(100));
    EXPECT_EQ(finish(forged), std::nullopt);
    engine->release(keys.rtp.engine_state);
    engine->release(keys.rtcp.engine_state);
  }
}

// Job for job, the cryptodev engine and the IPsec-MB engine write the same
// bytes and the same tags (full 20-byte HMAC; GCM tag), protect and unprotect,
// every suite, SRTP and SRTCP, payloads 0..1400, across a ROC wrap.
TEST_P(CryptodevEngine, JobsBitIdenticalToIpsecMbEngine) {
  auto engine = make_engine(cryptodev_ids().aesni_mb);
  ASSERT_NE(engine, nullptr);
  IpsecMbEngine ipsec_mb;
  ASSERT_TRUE(ipsec_mb.ok());
  std::mt19937 random(std::random_device{}());
  for (Suite suite : {Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32, Suite::AesCm256HmacSha1_80,
                      Suite::AeadAes128Gcm, Suite::AeadAes256Gcm}) {
    MasterKey master;
    master.suite = suite;
    master.key_len = static_cast<std::uint8_t>(params(suite).master_key_len);
    master.salt_len = static_cast<std::uint8_t>(params(suite).master_salt_len);
    for (std::size_t b = 0; b < master.key_len; ++b) master.key[b] = static_cast<std::uint8_t>(random());
    for (std::size_t b = 0; b < master.salt_len; ++b) master.salt[b] = static_cast<std::uint8_t>(random());
    StreamKeys ours = derive_session_keys(*engine, *engine, master);
    StreamKeys theirs = derive_session_keys(*engine, ipsec_mb, master);
    ASSERT_NE(theirs.rtp.engine_state, nullptr);
    for (int rtcp = 0; rtcp < 2; ++rtcp) {
      for (CryptoDirection direction : {CryptoDirection::Encrypt, CryptoDirection::Decrypt}) {
        std::vector<std::vector<std::uint8_t>> a, b;
        std::vector<PendingPacket> pa, pb;
        for (std::size_t payload = 0; payload <= 1400; payload += 25) {
          const std::size_t header = rtcp ? 8 : 12;
          const std::size_t length = header + payload;
          std::vector<std::uint8_t> packet(length + 64);
          for (auto& byte : packet) byte = static_cast<std::uint8_t>(random());
          packet[0] = 0x80;
          const auto roc = static_cast<std::uint32_t>(payload % 2);  // 65535 then 0: a wrap
          packet[2] = packet[3] = roc ? 0x00 : 0xff;
          std::size_t wire_length = length;
          if (direction == CryptoDirection::Decrypt) {  // make a valid packet first
            PendingPacket p = rtcp ? rtcp_job(ours.rtcp, packet, length, 7, CryptoDirection::Encrypt)
                                   : rtp_job(ours.rtp, packet, length, roc, CryptoDirection::Encrypt);
            if (rtcp && p.job.aad_length) p.job.aad = p.job.aad_scratch.data();
            engine->run(std::span(&p.job, 1));
            wire_length = *finish(p);
          }
          a.push_back(packet);
          b.push_back(packet);
          const SessionKeys& ka = rtcp ? ours.rtcp : ours.rtp;
          const SessionKeys& kb = rtcp ? theirs.rtcp : theirs.rtp;
          pa.push_back(rtcp ? rtcp_job(ka, a.back(), wire_length, 7, direction)
                            : rtp_job(ka, a.back(), wire_length, roc, direction));
          pb.push_back(rtcp ? rtcp_job(kb, b.back(), wire_length, 7, direction)
                            : rtp_job(kb, b.back(), wire_length, roc, direction));
        }
        std::vector<CryptoJob> ja, jb;
        for (auto& p : pa) ja.push_back(p.job);
        for (auto& p : pb) jb.push_back(p.job);
        for (std::size_t i = 0; i < ja.size(); ++i) {
          if (rtcp && ja[i].aad_length) ja[i].aad = ja[i].aad_scratch.data();
          if (rtcp && jb[i].aad_length) jb[i].aad = jb[i].aad_scratch.data();
        }
        engine->run(ja);
        ipsec_mb.run(jb);
        const std::size_t tag_bytes = params(suite).aead ? 16 : 20;
        for (std::size_t i = 0; i < ja.size(); ++i) {
          ASSERT_FALSE(ja[i].engine_failed);
          ASSERT_FALSE(jb[i].engine_failed);
          EXPECT_EQ(a[i], b[i]) << name(suite) << (rtcp ? " SRTCP" : " SRTP") << " job " << i;
          EXPECT_TRUE(std::equal(ja[i].computed_tag.begin(), ja[i].computed_tag.begin() + static_cast<long>(tag_bytes),
                                 jb[i].computed_tag.begin()))
              << name(suite) << (rtcp ? " SRTCP" : " SRTP") << " job " << i;
        }
      }
    }
    for (auto [e, keys] : {std::pair<CryptoEngine*, StreamKeys*>{engine.get(), &ours}, {&ipsec_mb, &theirs}}) {
      e->release(keys->rtp.engine_state);
      e->release(keys->rtcp.engine_state);
    }
  }
}

TEST(CryptodevEnginePath, AutoPicksCpuCryptoWhereOffered) {
  std::string error;
  auto automatic = srtp::CryptodevEngine::create(cryptodev_ids().aesni_mb, 0, {}, error);
  ASSERT_NE(automatic, nullptr) << error;
  EXPECT_EQ(automatic->path(), CryptodevPath::CpuCrypto);  // ipsec_mb advertises RTE_CRYPTODEV_FF_SYM_CPU_CRYPTO
}

INSTANTIATE_TEST_SUITE_P(Paths, CryptodevEngine,
                         ::testing::Values(CryptodevPath::QueuePair, CryptodevPath::CpuCrypto),
                         [](const ::testing::TestParamInfo<CryptodevPath>& path) {
                           return std::string(path.param == CryptodevPath::QueuePair ? "QueuePair" : "CpuCrypto");
                         });

}  // namespace
}  // namespace mrfp::srtp::test

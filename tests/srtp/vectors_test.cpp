// Known-answer tests, exact bytes from the RFCs:
//   RFC 3711 Appendix B.2 (AES-CM keystream), B.3 (key derivation),
//   RFC 6188 §7.1 (AES-256-CM keystream), §7.2 (AES-256 key derivation),
//   RFC 7714 §16.1, §16.2 (SRTP AES-128/256-GCM), §17.1, §17.2 (SRTCP).
// Plus the engine's HMAC-SHA1 and AES-GCM against OpenSSL.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <random>

#include "dataplane/srtp/ipsec_mb_engine.h"
#include "dataplane/srtp/key_derivation.h"
#include "dataplane/srtp/packet_format.h"
#include "dataplane/srtp/srtp_session.h"
#include "srtp_test_util.h"

namespace mrfp::srtp {
namespace {

using test::hex;
using test::to_hex;

// RFC 3711 Appendix B.2: key 2B7E...4F3C, salt F0F1...FCFD, SSRC 0, index 0.
const char* kB2Key = "2B7E151628AED2A6ABF7158809CF4F3C";
const char* kB2KeystreamStart = "E03EAD0935C95E80E166B16DD92B4EB4"
                                "D23513162B02D0F72A43A2FE4A5F97AB"
                                "41E95B3BB0A2E8DD477901E4FCA894C0";
// ... and the blocks at counters ...FEFF, ...FF00, ...FF01.
const char* kB2KeystreamEnd = "EC8CDF7398607CB0F2D21675EA9EA1E4"
                              "362B7C3C6773516318A077D7FC5073AE"
                              "6A2CC3787889374FBEB4C81B17BA6C44";
// RFC 6188 §7.1: AES-256-CM keystream, same salt.
const char* k6188Key = "57f82fe3613fd170a85ec93c40b1f0922ec4cb0dc025b58272147cc438944a98";
const char* k6188Keystream = "92bdd28a93c3f52511c677d08b5515a4"
                             "9da71b2378a854f67050756ded165bac"
                             "63c4868b7096d88421b563b8c94c9a31";

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::array<std::uint8_t, 16> b2_counter(std::uint8_t hi, std::uint8_t lo) {
  std::array<std::uint8_t, 16> counter = {0xF0, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7,
                                          0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, hi, lo};
  return counter;
}

// Keystream through the engine: encrypt zeros with the counter block as IV.
std::string engine_keystream(CryptoEngine& engine, const std::vector<std::uint8_t>& key,
                             const std::array<std::uint8_t, 16>& counter, std::size_t length) {
  SessionKeys keys;
  keys.suite = key.size() == 32 ? Suite::AesCm256HmacSha1_80 : Suite::AesCm128HmacSha1_80;
  std::copy(key.begin(), key.end(), keys.cipher_key.begin());
  keys.cipher_key_len = static_cast<std::uint8_t>(key.size());
  keys.salt_len = 14;
  keys.auth_key_len = 20;
  keys.tag_len = 10;
  keys.engine_state = engine.prepare(keys);
  std::vector<std::uint8_t> buffer(length + 32, 0);
  CryptoJob job;
  job.keys = &keys;
  job.packet = buffer.data();
  job.cipher_offset = 0;
  job.cipher_length = static_cast<std::uint32_t>(length);
  job.auth_length = static_cast<std::uint32_t>(length);
  job.iv = counter;
  engine.run({&job, 1});
  engine.release(keys.engine_state);
  return to_hex(buffer.data(), length);
}

TEST(Rfc3711, B2AesCmKeystreamPortable) {
  std::uint8_t out[48];
  const auto key = hex(kB2Key);
  const auto start = b2_counter(0, 0);
  std::uint8_t counter[16];
  std::copy(start.begin(), start.end(), counter);
  ASSERT_TRUE(aes_cm_keystream(key, counter, out));
  EXPECT_EQ(to_hex(out, 48), lower(kB2KeystreamStart));
  counter[14] = 0xFE;
  counter[15] = 0xFF;
  ASSERT_TRUE(aes_cm_keystream(key, counter, out));
  EXPECT_EQ(to_hex(out, 48), lower(kB2KeystreamEnd));
}

TEST(Rfc3711, B2AesCmKeystreamIpsecMb) {
  IpsecMbEngine engine;
  ASSERT_TRUE(engine.ok());
  EXPECT_EQ(engine_keystream(engine, hex(kB2Key), b2_counter(0, 0), 48), lower(kB2KeystreamStart));
  EXPECT_EQ(engine_keystream(engine, hex(kB2Key), b2_counter(0xFE, 0xFF), 48), lower(kB2KeystreamEnd));
}

TEST(Rfc3711, B2CounterFromSaltSsrcIndex) {
  SessionKeys keys;
  keys.suite = Suite::AesCm128HmacSha1_80;
  keys.salt_len = 14;
  const auto salt = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
  std::copy(salt.begin(), salt.end(), keys.salt.begin());
  std::array<std::uint8_t, 16> iv{};
  build_iv(keys, 0, 0, iv);
  EXPECT_EQ(to_hex(iv.data(), 16), "f0f1f2f3f4f5f6f7f8f9fafbfcfd0000");
  // RFC 3711 §4.1.1: SSRC at bits 64..95 from the right, index shifted by 16.
  build_iv(keys, 0x01020304, 0x0000aabbccdd, iv);
  EXPECT_EQ(to_hex(iv.data(), 16), "f0f1f2f3f5f7f5f3f8f9504030200000");
}

TEST(Rfc3711, B3KeyDerivation) {
  MasterKey master;
  master.suite = Suite::AesCm128HmacSha1_80;
  const auto key = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
  const auto salt = hex("0EC675AD498AFEEBB6960B3AABE6");
  std::copy(key.begin(), key.end(), master.key.begin());
  std::copy(salt.begin(), salt.end(), master.salt.begin());
  master.key_len = 16;
  master.salt_len = 14;
  SessionKeys session;
  ASSERT_TRUE(derive_session_keys(master, KeyKind::Srtp, 0, 0, session));
  EXPECT_EQ(to_hex(session.cipher_key.data(), 16), "c61e7a93744f39ee10734afe3ff7a087");
  EXPECT_EQ(to_hex(session.salt.data(), 14), "30cbbc08863d8c85d49db34a9ae1");
  EXPECT_EQ(to_hex(session.auth_key.data(), 20), "cebe321f6ff7716b6fd4ab49af256a156d38baa4");
  // B.3 lists 256 bits of auth keystream; the PRF must continue it.
  std::uint8_t auth_stream[32];
  ASSERT_TRUE(derive_key(key, salt, KeyLabel::SrtpAuthentication, 0, 0, auth_stream));
  EXPECT_EQ(to_hex(auth_stream, 32), "cebe321f6ff7716b6fd4ab49af256a156d38baa48f0a0acf3c34e2359e6cdbce");
}

// RFC 3711 §4.3.1 with a non-zero key derivation rate: r = index DIV rate
// enters the key id, so keys change every `rate` packets.
TEST(Rfc3711, KeyDerivationRate) {
  const auto key = hex("E1F97A0D3E018BE0D64FA32C06DE4139");
  const auto salt = hex("0EC675AD498AFEEBB6960B3AABE6");
  std::uint8_t rate0[16], r0[16], r3[16], r3_again[16], by_hand[16];
  ASSERT_TRUE(derive_key(key, salt, KeyLabel::SrtpEncryption, 0, 0, rate0));
  ASSERT_TRUE(derive_key(key, salt, KeyLabel::SrtpEncryption, 0xffff, 0x10000, r0));
  ASSERT_TRUE(derive_key(key, salt, KeyLabel::SrtpEncryption, 3 * 0x10000, 0x10000, r3));
  ASSERT_TRUE(derive_key(key, salt, KeyLabel::SrtpEncryption, 3 * 0x10000 + 0xfffe, 0x10000, r3_again));
  EXPECT_EQ(to_hex(rate0, 16), to_hex(r0, 16)) << "r = 0 inside the first period";
  EXPECT_NE(to_hex(r0, 16), to_hex(r3, 16));
  EXPECT_EQ(to_hex(r3, 16), to_hex(r3_again, 16));
  // x = (label || r) XOR master salt, r = 3 in the low byte of the 48 bits.
  auto x = salt;
  x[13] ^= 3;
  std::uint8_t counter[16] = {};
  std::copy(x.begin(), x.end(), counter);
  ASSERT_TRUE(aes_cm_keystream(key, counter, by_hand));
  EXPECT_EQ(to_hex(by_hand, 16), to_hex(r3, 16));
}

TEST(Rfc6188, AesCm256Keystream) {
  std::uint8_t out[48];
  const auto start = b2_counter(0, 0);
  std::uint8_t counter[16];
  std::copy(start.begin(), start.end(), counter);
  ASSERT_TRUE(aes_cm_keystream(hex(k6188Key), counter, out));
  EXPECT_EQ(to_hex(out, 48), k6188Keystream);
  IpsecMbEngine engine;
  EXPECT_EQ(engine_keystream(engine, hex(k6188Key), start, 48), k6188Keystream);
}

// RFC 6188 §7.2: AES_256_CM_PRF key derivation.
TEST(Rfc6188, Aes256KeyDerivation) {
  MasterKey master;
  master.suite = Suite::AesCm256HmacSha1_80;
  const auto key = hex("f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b6");
  const auto salt = hex("3b04803de51ee7c96423ab5b78d2");
  std::copy(key.begin(), key.end(), master.key.begin());
  std::copy(salt.begin(), salt.end(), master.salt.begin());
  master.key_len = 32;
  master.salt_len = 14;
  SessionKeys session;
  ASSERT_TRUE(derive_session_keys(master, KeyKind::Srtp, 0, 0, session));
  EXPECT_EQ(to_hex(session.cipher_key.data(), 32), "5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4");
  EXPECT_EQ(to_hex(session.salt.data(), 14), "fa31791685ca444a9e07c6c64e93");
  EXPECT_EQ(to_hex(session.auth_key.data(), 20), "fd9c32d39ed5fbb5a9dc96b30818454d1313dc05");
}

// RFC 2104 HMAC-SHA1 through the engine's precomputed ipad/opad equals OpenSSL's.
TEST(HmacSha1, EngineMatchesOpenSsl) {
  IpsecMbEngine engine;
  std::mt19937 random(11);
  SessionKeys keys;
  keys.suite = Suite::AesCm128HmacSha1_80;
  keys.cipher_key_len = 16;
  keys.salt_len = 14;
  keys.auth_key_len = 20;
  keys.tag_len = 10;
  for (auto& b : keys.auth_key) b = static_cast<std::uint8_t>(random());
  keys.engine_state = engine.prepare(keys);
  // (IPsec-MB refuses an empty HMAC message; SRTP always authenticates >= 16 bytes.)
  for (std::size_t length : {1u, 55u, 56u, 63u, 64u, 65u, 200u, 1450u}) {
    std::vector<std::uint8_t> data(length + 32);
    for (auto& b : data) b = static_cast<std::uint8_t>(random());
    CryptoJob job;
    job.keys = &keys;
    job.packet = data.data();
    job.cipher_length = 0;
    job.auth_length = static_cast<std::uint32_t>(length);
    engine.run({&job, 1});
    unsigned char expected[20];
    unsigned int expected_len = 0;
    HMAC(EVP_sha1(), keys.auth_key.data(), 20, data.data(), length, expected, &expected_len);
    EXPECT_FALSE(job.engine_failed) << length;
    EXPECT_EQ(to_hex(job.computed_tag.data(), 20), to_hex(expected, 20)) << length;
  }
  engine.release(keys.engine_state);
}

// RFC 7714 §16.1 inputs: key 00..0f, salt "Quid pro quo", RTP header
// 8040f17b 8041f8d3 5501a0b2; the IV is checked to the RFC's bytes, the
// ciphertext and tag against OpenSSL's AES-GCM.
void gcm_case(const std::vector<std::uint8_t>& key, Suite suite) {
  SessionKeys keys;
  keys.suite = suite;
  std::copy(key.begin(), key.end(), keys.cipher_key.begin());
  keys.cipher_key_len = static_cast<std::uint8_t>(key.size());
  const auto salt = hex("517569642070726f2071756f");
  std::copy(salt.begin(), salt.end(), keys.salt.begin());
  keys.salt_len = 12;
  keys.tag_len = 16;
  std::array<std::uint8_t, 16> iv{};
  build_iv(keys, 0x5501a0b2, 0xf17b, iv);  // ROC 0, SEQ 0xf17b
  ASSERT_EQ(to_hex(iv.data(), 12), "51753c6580c2726f20718414");

  const auto header = hex("8040f17b8041f8d35501a0b2");
  const std::string text = "Gallia est omnis divisa in partes tres";
  std::vector<std::uint8_t> packet(header);
  packet.insert(packet.end(), text.begin(), text.end());
  packet.resize(packet.size() + 32);

  IpsecMbEngine engine;
  keys.engine_state = engine.prepare(keys);
  CryptoJob job;
  job.keys = &keys;
  job.packet = packet.data();
  job.cipher_offset = 12;
  job.cipher_length = static_cast<std::uint32_t>(text.size());
  job.aad = packet.data();
  job.aad_length = 12;
  job.iv = iv;
  engine.run({&job, 1});
  engine.release(keys.engine_state);

  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  ASSERT_EQ(EVP_EncryptInit_ex(ctx, key.size() == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm(), nullptr, nullptr, nullptr), 1);
  ASSERT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr), 1);
  ASSERT_EQ(EVP_EncryptInit_ex(ctx, nullptr, nullptr, key.data(), iv.data()), 1);
  int produced = 0;
  ASSERT_EQ(EVP_EncryptUpdate(ctx, nullptr, &produced, header.data(), 12), 1);
  std::vector<std::uint8_t> expected(text.size());
  ASSERT_EQ(EVP_EncryptUpdate(ctx, expected.data(), &produced, reinterpret_cast<const unsigned char*>(text.data()),
                              static_cast<int>(text.size())), 1);
  ASSERT_EQ(EVP_EncryptFinal_ex(ctx, nullptr, &produced), 1);
  std::uint8_t tag[16];
  ASSERT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
  EVP_CIPHER_CTX_free(ctx);

  EXPECT_EQ(to_hex(packet.data() + 12, text.size()), to_hex(expected.data(), expected.size()));
  EXPECT_EQ(to_hex(job.computed_tag.data(), 16), to_hex(tag, 16));
}

// RFC 7714 §16-17 publish session keys (key 00 01 .. 0f or .. 1f, salt
// "Quid pro quo") and whole packets: run them through the protocol layer.
struct Rfc7714Case {
  Suite suite;
  const char* key;
  const char* protected_rtp;   // §16.1.1 / §16.2.1
  const char* protected_rtcp;  // §17.1 / §17.2
};

const char* kRfc7714Rtp = "8040f17b8041f8d35501a0b247616c6c696120657374206f6d6e697320646976"
                          "69736120696e207061727465732074726573";
const char* kRfc7714Rtcp = "81c8000d4d6172734e5450314e54503252545020" "0000042a0000e9304c756e61"
                           "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";

void rfc7714_case(const Rfc7714Case& c) {
  SessionKeys srtp;
  srtp.suite = c.suite;
  const auto key = hex(c.key);
  std::copy(key.begin(), key.end(), srtp.cipher_key.begin());
  srtp.cipher_key_len = static_cast<std::uint8_t>(key.size());
  const auto salt = hex("517569642070726f2071756f");
  std::copy(salt.begin(), salt.end(), srtp.salt.begin());
  srtp.salt_len = 12;
  srtp.tag_len = 16;
  MasterKey identity;
  identity.suite = c.suite;

  IpsecMbEngine sender_engine, receiver_engine;
  SrtpSession sender(sender_engine), receiver(receiver_engine);
  const KeyHandle sending = sender.add_session_keys(identity, srtp, srtp).handle;
  const KeyHandle receiving = receiver.add_session_keys(identity, srtp, srtp).handle;
  for (std::uint32_t ssrc : {0x5501a0b2u, 0x4d617273u}) {
    ASSERT_EQ(sender.add_stream(ssrc, {&sending, 1}), SetupStatus::Ok);
    ASSERT_EQ(receiver.add_stream(ssrc, {&receiving, 1}), SetupStatus::Ok);
  }

  // §16: SSRC 5501a0b2, ROC 0, SEQ f17b.
  auto rtp = hex(kRfc7714Rtp);
  rtp.resize(rtp.size() + 64);
  PacketView view{rtp.data(), 50, static_cast<std::uint32_t>(rtp.size()), PacketStatus::Ok};
  sender.protect({&view, 1});
  ASSERT_EQ(view.status, PacketStatus::Ok);
  EXPECT_EQ(to_hex(view.data, view.length), c.protected_rtp);
  auto wire = hex(c.protected_rtp);
  PacketView incoming{wire.data(), static_cast<std::uint32_t>(wire.size()), static_cast<std::uint32_t>(wire.size()),
                      PacketStatus::Ok};
  receiver.unprotect({&incoming, 1});
  ASSERT_EQ(incoming.status, PacketStatus::Ok);
  EXPECT_EQ(to_hex(incoming.data, incoming.length), kRfc7714Rtp);

  // §17: SSRC 4d617273, SRTCP index 5d4 (the sender numbers from 0).
  for (std::uint32_t index = 0; index < 0x5d4; ++index) {
    auto filler = hex(kRfc7714Rtcp);
    filler.resize(filler.size() + 64);
    PacketView skip{filler.data(), 52, static_cast<std::uint32_t>(filler.size()), PacketStatus::Ok};
    sender.protect_rtcp({&skip, 1});
    ASSERT_EQ(skip.status, PacketStatus::Ok);
  }
  auto rtcp = hex(kRfc7714Rtcp);
  rtcp.resize(rtcp.size() + 64);
  PacketView report{rtcp.data(), 52, static_cast<std::uint32_t>(rtcp.size()), PacketStatus::Ok};
  sender.protect_rtcp({&report, 1});
  ASSERT_EQ(report.status, PacketStatus::Ok);
  EXPECT_EQ(to_hex(report.data, report.length), c.protected_rtcp);
  auto rtcp_wire = hex(c.protected_rtcp);
  PacketView rtcp_in{rtcp_wire.data(), static_cast<std::uint32_t>(rtcp_wire.size()),
                     static_cast<std::uint32_t>(rtcp_wire.size()), PacketStatus::Ok};
  receiver.unprotect_rtcp({&rtcp_in, 1});
  ASSERT_EQ(rtcp_in.status, PacketStatus::Ok);
  EXPECT_EQ(to_hex(rtcp_in.data, rtcp_in.length), kRfc7714Rtcp);
}

TEST(Rfc7714, Section16_1And17_1Aes128Gcm) {
  rfc7714_case({Suite::AeadAes128Gcm, "000102030405060708090a0b0c0d0e0f",
                "8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf"
                "8833899d7f27beb16a9152cf765ee4390cce",
                "81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded"
                "0bb9275bc84aa45896cf4d2fc5abf87245d9eade800005d4"});
}

TEST(Rfc7714, Section16_2And17_2Aes256Gcm) {
  rfc7714_case({Suite::AeadAes256Gcm, "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
                "8040f17b8041f8d35501a0b232b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3b50b2a0276ffae0f1ba63799"
                "b87b7aa3db36dfffd6b0f9bb7878d7a76c13",
                "81c8000d4d617273d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1110555be8415f658c61de047"
                "6f1b6fad1d1eb30c4446839f57ff6f6cb26ac3be800005d4"});
}

TEST(Rfc7714, Aes128GcmAgainstOpenSsl) { gcm_case(hex("000102030405060708090a0b0c0d0e0f"), Suite::AeadAes128Gcm); }
TEST(Rfc7714, Aes256GcmAgainstOpenSsl) {
  gcm_case(hex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"), Suite::AeadAes256Gcm);
}

}  // namespace
}  // namespace mrfp::srtp

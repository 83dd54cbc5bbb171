// SRTP protection profiles and master keys: the vocabulary shared by the SRTP
// engines, the dataplane and the control API.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string.h>  // explicit_bzero
#include <string_view>

namespace mrfp::srtp {

enum class Suite : std::uint8_t {
  AesCm128HmacSha1_80,  // RFC 3711 §8.2 (SRTP_AES128_CM_HMAC_SHA1_80)
  AesCm128HmacSha1_32,  // RFC 3711 §8.2, 32-bit SRTP tag (SRTCP keeps 80 bits)
  AesCm256HmacSha1_80,  // RFC 6188 §3
  AeadAes128Gcm,        // RFC 7714 §14.2
  AeadAes256Gcm,        // RFC 7714 §14.2
};

struct SuiteParams {
  std::size_t master_key_len;
  std::size_t master_salt_len;
  std::size_t srtp_tag_len;   // authentication tag (HMAC) or AEAD tag on SRTP
  std::size_t srtcp_tag_len;  // the same on SRTCP
  bool aead;
};

constexpr SuiteParams params(Suite suite) {
  switch (suite) {
    case Suite::AesCm128HmacSha1_80: return {16, 14, 10, 10, false};
    case Suite::AesCm128HmacSha1_32: return {16, 14, 4, 10, false};
    case Suite::AesCm256HmacSha1_80: return {32, 14, 10, 10, false};
    case Suite::AeadAes128Gcm: return {16, 12, 16, 16, true};
    case Suite::AeadAes256Gcm: return {32, 12, 16, 16, true};
  }
  return {0, 0, 0, 0, false};
}

// The SDP/IANA names (RFC 4568 §6.2, RFC 6188, RFC 7714 §14.2).
constexpr std::string_view name(Suite suite) {
  switch (suite) {
    case Suite::AesCm128HmacSha1_80: return "AES_CM_128_HMAC_SHA1_80";
    case Suite::AesCm128HmacSha1_32: return "AES_CM_128_HMAC_SHA1_32";
    case Suite::AesCm256HmacSha1_80: return "AES_256_CM_HMAC_SHA1_80";
    case Suite::AeadAes128Gcm: return "AEAD_AES_128_GCM";
    case Suite::AeadAes256Gcm: return "AEAD_AES_256_GCM";
  }
  return "";
}

constexpr std::optional<Suite> suite_from_name(std::string_view text) {
  for (Suite s : {Suite::AesCm128HmacSha1_80, Suite::AesCm128HmacSha1_32, Suite::AesCm256HmacSha1_80,
                  Suite::AeadAes128Gcm, Suite::AeadAes256Gcm}) {
    if (name(s) == text) return s;
  }
  return std::nullopt;
}

inline constexpr std::size_t kMaxMasterKeyLen = 32;
inline constexpr std::size_t kMaxMasterSaltLen = 14;
inline constexpr std::size_t kMaxMkiLen = 16;

// A master key, salt and optional MKI (RFC 3711 §3.1). Fixed-size storage so it
// can be copied into the dataplane without allocating; zeroised when dropped.
struct MasterKey {
  Suite suite = Suite::AesCm128HmacSha1_80;
  std::array<std::uint8_t, kMaxMasterKeyLen> key{};
  std::array<std::uint8_t, kMaxMasterSaltLen> salt{};
  std::array<std::uint8_t, kMaxMkiLen> mki{};
  std::uint8_t key_len = 0;
  std::uint8_t salt_len = 0;
  std::uint8_t mki_len = 0;  // 0: no MKI field in the packets

  std::span<const std::uint8_t> key_bytes() const { return {key.data(), key_len}; }
  std::span<const std::uint8_t> salt_bytes() const { return {salt.data(), salt_len}; }
  std::span<const std::uint8_t> mki_bytes() const { return {mki.data(), mki_len}; }

  MasterKey() = default;
  MasterKey(const MasterKey&) = default;
  MasterKey& operator=(const MasterKey&) = default;
  ~MasterKey() { wipe(); }
  void wipe() {
    explicit_bzero(key.data(), key.size());
    explicit_bzero(salt.data(), salt.size());
    key_len = salt_len = 0;
  }
};

}  // namespace mrfp::srtp

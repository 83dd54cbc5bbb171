// The seam between the SRTP protocol layer and the crypto: the protocol layer
// (header parsing, index and ROC, replay, MKI, key choice) turns a burst of
// packets into a burst of CryptoJobs; a CryptoEngine executes them; the protocol
// layer then checks or places the tags and updates the replay state.
//
// An engine only ever sees: which prepared session keys, a counter block/IV,
// a cipher range, an authenticated range (or AAD) and a place for the tag.
// It knows nothing about RTP, SSRCs, indexes or replay. Engines: IPsec-MB
// (ipsec_mb_engine.h), DPDK cryptodev (dataplane/srtp, another owner).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string.h>  // explicit_bzero
#include <string_view>

#include "dataplane/srtp/suite.h"

namespace mrfp::srtp {

inline constexpr std::size_t kMaxSessionKeyLen = 32;   // AES-256
inline constexpr std::size_t kMaxSessionSaltLen = 14;  // AES-CM 112 bits; GCM uses 12
inline constexpr std::size_t kSessionAuthKeyLen = 20;  // RFC 3711 §4.2.1: n_a = 160 bits
inline constexpr std::size_t kMaxTagLen = 20;          // a full HMAC-SHA1; GCM tags are 16

// Whatever an engine precomputes once per set of session keys (AES key
// schedules, HMAC ipad/opad digests, GHASH tables, a cryptodev session...).
// Each engine derives its own type; the protocol layer only stores the pointer.
// (A cryptodev engine would keep its rte_cryptodev_sym_session here.)
class EngineKeyState {
 public:
  virtual ~EngineKeyState() = default;
};

// Session keys of one direction-independent kind (SRTP or SRTCP) derived from
// one master key (RFC 3711 §4.3). With key derivation rate 0 they do not depend
// on the SSRC, so every stream under the same master key shares one instance.
struct SessionKeys {
  Suite suite = Suite::AesCm128HmacSha1_80;
  std::array<std::uint8_t, kMaxSessionKeyLen> cipher_key{};
  std::array<std::uint8_t, kMaxSessionSaltLen> salt{};
  std::array<std::uint8_t, kSessionAuthKeyLen> auth_key{};  // unused by AEAD suites
  std::uint8_t cipher_key_len = 0;
  std::uint8_t salt_len = 0;
  std::uint8_t auth_key_len = 0;   // 0 for AEAD suites
  std::uint8_t tag_len = 0;        // bytes of tag on the wire for this kind
  EngineKeyState* engine_state = nullptr;  // owned by the engine that prepared it

  bool aead() const { return params(suite).aead; }
  void wipe() {  // key material never outlives its use (design.md)
    explicit_bzero(cipher_key.data(), cipher_key.size());
    explicit_bzero(salt.data(), salt.size());
    explicit_bzero(auth_key.data(), auth_key.size());
  }
};

enum class CryptoDirection : std::uint8_t {
  Encrypt,  // protect: cipher, then authenticate the ciphertext (RFC 3711 §3.3 step 4-5)
  Decrypt,  // unprotect: authenticate the ciphertext, then decipher
};

// One packet's crypto work. The protocol layer fills the "in" part; the engine
// fills `computed_tag` (and `engine_failed`). All ranges are offsets into
// `packet`, which is modified in place (cipher range only).
//
// AES-CM + HMAC-SHA1 (RFC 3711 §4.1.1, §4.2):
//   - `iv` is the 16-byte counter block; the keystream starts at counter iv and
//     the low 16 bits count blocks.
//   - the authenticated data is packet[0, auth_length). For SRTP the protocol
//     layer has already written the ROC (big endian) in the 4 bytes after the
//     encrypted portion, inside the room reserved for MKI/tag, and counted them
//     in auth_length (RFC 3711 §4.2: M = packet || ROC).
//   - the engine writes the full 20-byte HMAC-SHA1 into computed_tag; the
//     protocol layer truncates, places or compares it.
// AEAD_AES_*_GCM (RFC 7714 §8-§10):
//   - `iv` holds the 12-byte IV; aad/aad_length the associated data; the tag
//     (16 bytes) is computed over aad and the ciphertext into computed_tag.
//   - auth_length is unused.
struct CryptoJob {
  // in
  const SessionKeys* keys = nullptr;
  std::uint8_t* packet = nullptr;
  std::uint32_t cipher_offset = 0;
  std::uint32_t cipher_length = 0;
  std::uint32_t auth_length = 0;
  const std::uint8_t* aad = nullptr;
  std::uint32_t aad_length = 0;
  CryptoDirection direction = CryptoDirection::Encrypt;
  alignas(16) std::array<std::uint8_t, 16> iv{};
  // scratch the protocol layer may point `aad` at (SRTCP GCM: header || E||index)
  alignas(16) std::array<std::uint8_t, 16> aad_scratch{};
  // out
  alignas(16) std::array<std::uint8_t, kMaxTagLen> computed_tag{};
  bool engine_failed = false;
};

// A crypto engine: prepares per-session-key state on the control path and runs
// bursts of jobs on the packet path. One engine instance per lcore (engines hold
// per-thread state such as an IPsec-MB manager or a cryptodev queue pair).
class CryptoEngine {
 public:
  virtual ~CryptoEngine() = default;
  virtual std::string_view name() const = 0;

  // Control path (may allocate): precompute what the engine needs for `keys`
  // and return it; nullptr if the engine cannot (unsupported suite, no memory).
  // The caller stores the result in keys.engine_state.
  virtual EngineKeyState* prepare(const SessionKeys& keys) = 0;
  // Control path: zeroise and free state returned by prepare().
  virtual void release(EngineKeyState* state) = 0;

  // Packet path: execute every job; must not allocate. Jobs may use different
  // keys and suites (SRTP and SRTCP, HMAC and AEAD) in one call. On return
  // every job is complete: computed_tag filled, or engine_failed set. The
  // protocol layer may run a job twice in a row (same IV and keys) to undo a
  // decryption under the wrong key: the cipher must be a pure XOR keystream.
  virtual void run(std::span<CryptoJob> jobs) = 0;
};

}  // namespace mrfp::srtp

// RFC 3711 §4.3 key derivation with the AES-CM PRF (§4.3.3), for AES-128 and
// AES-256 master keys (RFC 6188 §5) and the 96-bit GCM master salt (RFC 7714 §11).
// Control path only: runs once per master key (rate 0) or once per
// key_derivation_rate packets.
#pragma once

#include <cstdint>
#include <span>

#include "dataplane/srtp/crypto_engine.h"
#include "dataplane/srtp/suite.h"

namespace mrfp::srtp {

enum class KeyKind : std::uint8_t { Srtp, Srtcp };

// RFC 3711 §4.3.1 labels.
enum class KeyLabel : std::uint8_t {
  SrtpEncryption = 0x00,
  SrtpAuthentication = 0x01,
  SrtpSalt = 0x02,
  SrtcpEncryption = 0x03,
  SrtcpAuthentication = 0x04,
  SrtcpSalt = 0x05,
};

// PRF_n(k_master, x) of §4.3.3: AES-CM keystream of `out.size()` bytes under the
// master key, with x = (label || r) XOR master_salt and r = index DIV rate
// (0 when rate is 0). The master salt may be 14 bytes or 12 (GCM, padded with
// zeros on the right to 112 bits, RFC 7714 erratum 4938). Returns false on
// bad lengths.
bool derive_key(std::span<const std::uint8_t> master_key, std::span<const std::uint8_t> master_salt,
                KeyLabel label, std::uint64_t index, std::uint64_t key_derivation_rate,
                std::span<std::uint8_t> out);

// All session keys of one kind for `master`; tag_len filled from the suite.
// engine_state is left null. Returns false on bad lengths.
bool derive_session_keys(const MasterKey& master, KeyKind kind, std::uint64_t index,
                         std::uint64_t key_derivation_rate, SessionKeys& out);

// The AES-CM keystream itself (RFC 3711 §4.1.1): `out` filled from counter
// block `counter`, incrementing its low 16 bits. Used by the PRF and the tests.
bool aes_cm_keystream(std::span<const std::uint8_t> key, const std::uint8_t (&counter)[16],
                      std::span<std::uint8_t> out);

}  // namespace mrfp::srtp

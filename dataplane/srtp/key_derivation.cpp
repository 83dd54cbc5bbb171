#include "dataplane/srtp/key_derivation.h"

#include <openssl/evp.h>

#include <array>
#include <cstring>

namespace mrfp::srtp {

bool aes_cm_keystream(std::span<const std::uint8_t> key, const std::uint8_t (&counter)[16],
                      std::span<std::uint8_t> out) {
  const EVP_CIPHER* cipher = nullptr;
  if (key.size() == 16) cipher = EVP_aes_128_ecb();
  else if (key.size() == 32) cipher = EVP_aes_256_ecb();
  else return false;
  // RFC 3711 §4.1.1: the low 16 bits of the counter block count blocks, so a
  // keystream is at most 2^16 blocks long.
  if (out.size() > (std::size_t{1} << 16) * 16) return false;

  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return false;
  bool ok = EVP_EncryptInit_ex(ctx, cipher, nullptr, key.data(), nullptr) == 1 &&
            EVP_CIPHER_CTX_set_padding(ctx, 0) == 1;
  std::array<std::uint8_t, 16> block{};
  std::array<std::uint8_t, 16> keystream{};
  std::memcpy(block.data(), counter, 16);
  const std::uint16_t first = static_cast<std::uint16_t>((counter[14] << 8) | counter[15]);
  for (std::size_t done = 0, n = 0; ok && done < out.size(); ++n) {
    const auto blockno = static_cast<std::uint16_t>(first + n);
    block[14] = static_cast<std::uint8_t>(blockno >> 8);
    block[15] = static_cast<std::uint8_t>(blockno);
    int produced = 0;
    ok = EVP_EncryptUpdate(ctx, keystream.data(), &produced, block.data(), 16) == 1 && produced == 16;
    const std::size_t take = std::min<std::size_t>(16, out.size() - done);
    std::memcpy(out.data() + done, keystream.data(), take);
    done += take;
  }
  explicit_bzero(keystream.data(), keystream.size());
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

bool derive_key(std::span<const std::uint8_t> master_key, std::span<const std::uint8_t> master_salt,
                KeyLabel label, std::uint64_t index, std::uint64_t key_derivation_rate,
                std::span<std::uint8_t> out) {
  if (master_salt.size() != 14 && master_salt.size() != 12) return false;
  // RFC 3711 §4.3.1: r = index DIV key_derivation_rate (0 if the rate is 0),
  // key_id = label || r (8 + 48 bits), x = key_id XOR master_salt, both
  // right-aligned in 112 bits. A 96-bit GCM salt is multiplied by 2^16 (left-
  // aligned, zero padded) to make the 112-bit PRF salt: RFC 7714 §11 as
  // corrected by erratum 4938, and what libsrtp does (the cross tests).
  const std::uint64_t r = key_derivation_rate == 0 ? 0 : index / key_derivation_rate;
  std::uint8_t x[16] = {};
  std::memcpy(x, master_salt.data(), master_salt.size());
  x[7] ^= static_cast<std::uint8_t>(label);
  for (int byte = 0; byte < 6; ++byte) {
    x[8 + byte] ^= static_cast<std::uint8_t>(r >> (8 * (5 - byte)));
  }
  // §4.3.3: PRF input block is x * 2^16.
  x[14] = x[15] = 0;
  return aes_cm_keystream(master_key, x, out);
}

bool derive_session_keys(const MasterKey& master, KeyKind kind, std::uint64_t index,
                         std::uint64_t key_derivation_rate, SessionKeys& out) {
  const SuiteParams p = params(master.suite);
  if (master.key_len != p.master_key_len || master.salt_len != p.master_salt_len) return false;
  const bool rtp = kind == KeyKind::Srtp;
  out.suite = master.suite;
  out.cipher_key_len = static_cast<std::uint8_t>(p.master_key_len);  // n_e = master key length
  out.salt_len = static_cast<std::uint8_t>(p.master_salt_len);       // 112 bits, 96 for GCM
  out.auth_key_len = p.aead ? 0 : static_cast<std::uint8_t>(kSessionAuthKeyLen);
  out.tag_len = static_cast<std::uint8_t>(rtp ? p.srtp_tag_len : p.srtcp_tag_len);
  out.engine_state = nullptr;
  const auto key = master.key_bytes();
  const auto salt = master.salt_bytes();
  bool ok = derive_key(key, salt, rtp ? KeyLabel::SrtpEncryption : KeyLabel::SrtcpEncryption, index,
                       key_derivation_rate, {out.cipher_key.data(), out.cipher_key_len}) &&
            derive_key(key, salt, rtp ? KeyLabel::SrtpSalt : KeyLabel::SrtcpSalt, index,
                       key_derivation_rate, {out.salt.data(), out.salt_len});
  if (ok && !p.aead) {
    ok = derive_key(key, salt, rtp ? KeyLabel::SrtpAuthentication : KeyLabel::SrtcpAuthentication,
                    index, key_derivation_rate, {out.auth_key.data(), out.auth_key_len});
  }
  if (!ok) out.wipe();
  return ok;
}

}  // namespace mrfp::srtp

// A minimal SRTP/SRTCP protocol layer for tests at the CryptoJob level: key
// derivation (RFC 3711 §4.3, RFC 6188 §3, RFC 7714 §11), counter blocks and
// GCM IVs, ROC placement and tag handling, written straight from the RFCs so
// the engine can be checked against libsrtp2 before (and independently of)
// the project's SrtpSession. No replay, no MKI: the tests choose the indexes.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include "dataplane/srtp/crypto_engine.h"
#include "dataplane/srtp/suite.h"

namespace mrfp::srtp::test {

inline void put_be32(std::uint8_t* at, std::uint32_t value) {
  at[0] = static_cast<std::uint8_t>(value >> 24);
  at[1] = static_cast<std::uint8_t>(value >> 16);
  at[2] = static_cast<std::uint8_t>(value >> 8);
  at[3] = static_cast<std::uint8_t>(value);
}
inline std::uint32_t get_be32(const std::uint8_t* at) {
  return (std::uint32_t{at[0]} << 24) | (std::uint32_t{at[1]} << 16) | (std::uint32_t{at[2]} << 8) | at[3];
}

// RFC 3711 §4.3.1 with key derivation rate 0: AES-CM keystream of the master
// key at IV = (master_salt XOR label << 48) << 16, computed by `engine` itself
// (a job over zeros; its HMAC, over the keystream, is ignored).
inline void derive(CryptoEngine& engine, const MasterKey& master, std::uint8_t label, std::uint8_t* out,
                   std::size_t length) {
  SessionKeys kdf;
  kdf.suite = master.key_len == 32 ? Suite::AesCm256HmacSha1_80 : Suite::AesCm128HmacSha1_80;
  std::copy_n(master.key.begin(), master.key_len, kdf.cipher_key.begin());
  kdf.cipher_key_len = master.key_len;
  kdf.auth_key_len = kSessionAuthKeyLen;
  kdf.salt_len = 14;
  kdf.tag_len = 10;
  kdf.engine_state = engine.prepare(kdf);
  std::array<std::uint8_t, 64> zeros{};
  CryptoJob job;
  job.keys = &kdf;
  job.packet = zeros.data();
  job.cipher_length = static_cast<std::uint32_t>(length);
  job.auth_length = static_cast<std::uint32_t>(length);  // engines refuse empty HMACs
  job.direction = CryptoDirection::Encrypt;
  job.iv = {};
  // A 12-byte GCM master salt is used left-aligned, zero-padded to 112 bits
  // (RFC 7714 §11, as libsrtp2 does).
  std::copy_n(master.salt.begin(), master.salt_len, job.iv.begin());
  job.iv[7] ^= label;
  engine.run(std::span(&job, 1));
  std::copy_n(zeros.begin(), length, out);
  engine.release(kdf.engine_state);
}

struct StreamKeys {
  SessionKeys rtp;
  SessionKeys rtcp;
};

// Session keys of both kinds, prepared on `engine` (engine_state set).
inline StreamKeys derive_session_keys(CryptoEngine& kdf_engine, CryptoEngine& engine, const MasterKey& master) {
  const SuiteParams suite_params = params(master.suite);
  StreamKeys result;
  for (int rtcp = 0; rtcp < 2; ++rtcp) {
    SessionKeys& keys = rtcp ? result.rtcp : result.rtp;
    const auto base = static_cast<std::uint8_t>(rtcp ? 3 : 0);  // RFC 3711 §4.3.2 labels
    keys.suite = master.suite;
    keys.cipher_key_len = master.key_len;
    derive(kdf_engine, master, base, keys.cipher_key.data(), master.key_len);
    keys.salt_len = static_cast<std::uint8_t>(suite_params.master_salt_len);
    derive(kdf_engine, master, static_cast<std::uint8_t>(base + 2), keys.salt.data(), keys.salt_len);
    if (!suite_params.aead) {
      keys.auth_key_len = kSessionAuthKeyLen;
      derive(kdf_engine, master, static_cast<std::uint8_t>(base + 1), keys.auth_key.data(), kSessionAuthKeyLen);
    }
    keys.tag_len = static_cast<std::uint8_t>(rtcp ? suite_params.srtcp_tag_len : suite_params.srtp_tag_len);
    keys.engine_state = engine.prepare(keys);
  }
  return result;
}

inline std::size_t rtp_header_length(const std::uint8_t* packet) {
  std::size_t length = 12 + 4 * std::size_t{packet[0] & 0x0fu};
  if (packet[0] & 0x10u) {  // X bit: RFC 3550 §5.3.1 extension
    length += 4 + 4 * ((std::size_t{packet[length + 2]} << 8) | packet[length + 3]);
  }
  return length;
}

// One packet on its way through the engine: the job plus what the tests' layer
// needs to finish it.
struct PendingPacket {
  CryptoJob job;
  std::vector<std::uint8_t>* buffer = nullptr;
  std::size_t length = 0;           // bytes before the call
  std::size_t tag_at = 0;           // where the tag goes / was
  std::array<std::uint8_t, kMaxTagLen> received_tag{};  // HMAC tag saved before the ROC overwrote it
  std::uint32_t srtcp_word = 0;     // E || SRTCP index
  bool rtcp = false;
};

// RFC 3711 §4.1.1 counter block: (salt << 16) XOR (SSRC << 64) XOR (index << 16).
inline void aes_cm_iv(CryptoJob& job, const SessionKeys& keys, std::uint32_t ssrc, std::uint64_t index) {
  job.iv = {};
  std::copy_n(keys.salt.begin(), 14, job.iv.begin());
  for (int b = 0; b < 4; ++b) job.iv[4 + b] ^= static_cast<std::uint8_t>(ssrc >> (24 - 8 * b));
  for (int b = 0; b < 6; ++b) job.iv[8 + b] ^= static_cast<std::uint8_t>(index >> (40 - 8 * b));
}

// RFC 7714 §8.1 (SRTP: 00 00 || SSRC || ROC || SEQ) and §9.1 (SRTCP:
// 00 00 || SSRC || 00 00 || 0 || index): the low 48 bits are ROC||SEQ or the
// SRTCP index; the whole XOR the 12-byte session salt.
inline void gcm_iv(CryptoJob& job, const SessionKeys& keys, std::uint32_t ssrc, std::uint64_t low48) {
  job.iv = {};
  put_be32(job.iv.data() + 2, ssrc);
  for (int b = 0; b < 6; ++b) job.iv[6 + b] = static_cast<std::uint8_t>(low48 >> (40 - 8 * b));
  for (int b = 0; b < 12; ++b) job.iv[b] ^= keys.salt[b];
}

// SRTP, RFC 3711 §3.3 / RFC 7714 §8-§9. The buffer must have room for the tag
// (and the ROC) after `length` bytes.
inline PendingPacket rtp_job(const SessionKeys& keys, std::vector<std::uint8_t>& buffer, std::size_t length,
                             std::uint32_t roc, CryptoDirection direction) {
  PendingPacket pending;
  pending.buffer = &buffer;
  pending.length = length;
  std::uint8_t* packet = buffer.data();
  CryptoJob& job = pending.job;
  job.keys = &keys;
  job.packet = packet;
  job.direction = direction;
  const std::size_t header = rtp_header_length(packet);
  const std::size_t tag_len = keys.tag_len;
  const std::size_t payload_end = direction == CryptoDirection::Encrypt ? length : length - tag_len;
  pending.tag_at = payload_end;
  job.cipher_offset = static_cast<std::uint32_t>(header);
  job.cipher_length = static_cast<std::uint32_t>(payload_end - header);
  const std::uint32_t ssrc = get_be32(packet + 8);
  const std::uint16_t seq = static_cast<std::uint16_t>((packet[2] << 8) | packet[3]);
  if (keys.aead()) {
    gcm_iv(job, keys, ssrc, (std::uint64_t{roc} << 16) | seq);
    job.aad = packet;
    job.aad_length = static_cast<std::uint32_t>(header);
  } else {
    aes_cm_iv(job, keys, ssrc, (std::uint64_t{roc} << 16) | seq);
    std::copy_n(packet + payload_end, tag_len, pending.received_tag.begin());
    put_be32(packet + payload_end, roc);  // RFC 3711 §4.2: M = packet || ROC
    job.auth_length = static_cast<std::uint32_t>(payload_end + 4);
  }
  return pending;
}

// SRTCP, RFC 3711 §3.4 / RFC 7714 §9.
inline PendingPacket rtcp_job(const SessionKeys& keys, std::vector<std::uint8_t>& buffer, std::size_t length,
                              std::uint32_t srtcp_index, CryptoDirection direction) {
  PendingPacket pending;
  pending.buffer = &buffer;
  pending.length = length;
  pending.rtcp = true;
  std::uint8_t* packet = buffer.data();
  CryptoJob& job = pending.job;
  job.keys = &keys;
  job.packet = packet;
  job.direction = direction;
  const std::size_t tag_len = keys.tag_len;
  std::size_t encrypted_end = length;
  if (direction == CryptoDirection::Decrypt) {
    // [header][encrypted][tag][E||index] for GCM (RFC 7714 §9), [header][encrypted][E||index][tag] for AES-CM.
    encrypted_end = keys.aead() ? length - 4 - tag_len : length - tag_len - 4;
    pending.srtcp_word = get_be32(packet + (keys.aead() ? length - 4 : length - tag_len - 4));
    srtcp_index = pending.srtcp_word & 0x7fffffffu;
  } else {
    pending.srtcp_word = 0x80000000u | srtcp_index;  // E = 1: encrypted
  }
  job.cipher_offset = 8;
  job.cipher_length = static_cast<std::uint32_t>(encrypted_end - 8);
  const std::uint32_t ssrc = get_be32(packet + 4);
  if (keys.aead()) {
    gcm_iv(job, keys, ssrc, srtcp_index);
    std::copy_n(packet, 8, job.aad_scratch.begin());
    put_be32(job.aad_scratch.data() + 8, pending.srtcp_word);
    job.aad = job.aad_scratch.data();  // re-point it wherever the job is copied
    job.aad_length = 12;
    pending.tag_at = encrypted_end;
  } else {
    aes_cm_iv(job, keys, ssrc, srtcp_index);
    put_be32(packet + encrypted_end, pending.srtcp_word);
    job.auth_length = static_cast<std::uint32_t>(encrypted_end + 4);
    pending.tag_at = encrypted_end + 4;
    if (direction == CryptoDirection::Decrypt) std::copy_n(packet + pending.tag_at, tag_len, pending.received_tag.begin());
  }
  return pending;
}

// After the engine ran: places the tag (protect) or checks it (unprotect).
// Returns the new length, or nullopt if the tag does not match / the engine failed.
inline std::optional<std::size_t> finish(PendingPacket& pending) {
  const CryptoJob& job = pending.job;
  if (job.engine_failed) return std::nullopt;
  const std::size_t tag_len = job.keys->tag_len;
  std::uint8_t* packet = pending.buffer->data();
  if (job.direction == CryptoDirection::Encrypt) {
    std::copy_n(job.computed_tag.begin(), tag_len, packet + pending.tag_at);
    std::size_t length = pending.tag_at + tag_len;
    if (pending.rtcp && job.keys->aead()) {
      put_be32(packet + length, pending.srtcp_word);
      length += 4;
    }
    return length;
  }
  const std::uint8_t* received = job.keys->aead() ? packet + pending.tag_at : pending.received_tag.data();
  if (!std::equal(received, received + tag_len, job.computed_tag.begin())) return std::nullopt;
  return pending.rtcp ? std::size_t{job.cipher_offset + job.cipher_length} : std::size_t{pending.tag_at};
}

}  // namespace mrfp::srtp::test

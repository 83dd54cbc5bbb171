// How the SRTP/SRTCP trailer is laid out for a stream's keys, shared by the
// protect and unprotect halves of SrtpSession (internal to the library).
#pragma once

#include <cstdint>

#include "dataplane/srtp/key_store.h"

namespace mrfp::srtp {

inline const SessionKeys& session_keys(const MasterKeySlot& slot, bool srtcp) { return srtcp ? slot.srtcp : slot.srtp; }

// Bytes after the encrypted portion (and after the SRTCP E||index word):
// HMAC suites put MKI then tag; AEAD suites put the tag (part of the
// ciphertext, RFC 7714 §8.2) then the MKI.
struct TrailerLayout {
  std::uint32_t tag_len;
  std::uint32_t mki_len;
  bool aead;
  std::uint32_t total() const { return tag_len + mki_len; }
};
inline TrailerLayout trailer_layout(const MasterKeySlot& slot, bool srtcp) {
  const SessionKeys& keys = session_keys(slot, srtcp);
  return {keys.tag_len, slot.master.mki_len, keys.aead()};
}

}  // namespace mrfp::srtp

// Master keys and the session keys derived from them, shared by every stream
// that uses them (design.md: one group key for a whole conference; with key
// derivation rate 0 the session keys do not depend on the SSRC, RFC 3711 §4.3).
// Slots are preallocated; a slot's address is stable for its whole life, so
// stream contexts hold plain pointers to it.
#pragma once

#include <cstdint>
#include <memory>

#include "dataplane/srtp/crypto_engine.h"
#include "dataplane/srtp/srtp_processor.h"
#include "dataplane/srtp/suite.h"

namespace mrfp::srtp {

struct MasterKeySlot {
  MasterKey master;
  SessionKeys srtp;   // labels 0, 1, 2
  SessionKeys srtcp;  // labels 3, 4, 5
  // RFC 3711 §9.2 key lifetime: packets protected under this master key, all
  // streams together.
  std::uint64_t srtp_packets_protected = 0;
  std::uint64_t srtcp_packets_protected = 0;
  std::uint32_t streams_using = 0;
  std::uint16_t generation = 0;  // makes a stale KeyHandle fail instead of aliasing
  bool live = false;

  KeyHandle handle(std::uint32_t index) const { return (std::uint32_t{generation} << 16) | index; }
};

class KeyStore {
 public:
  KeyStore(std::uint32_t capacity, CryptoEngine& engine);
  ~KeyStore();
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  KeyResult add(const MasterKey& key);
  // Session keys derived elsewhere (published known-answer vectors such as
  // RFC 7714 §16-17 give session keys, not master keys); `identity` supplies
  // the suite and MKI, its key and salt are not used.
  KeyResult add_derived(const MasterKey& identity, const SessionKeys& srtp, const SessionKeys& srtcp);
  SetupStatus remove(KeyHandle handle);
  MasterKeySlot* find(KeyHandle handle);
  const MasterKeySlot* find(KeyHandle handle) const;

 private:
  KeyResult install(std::uint32_t index);  // engine-prepare a filled slot
  void wipe(MasterKeySlot& slot);

  CryptoEngine& engine_;
  std::uint32_t capacity_;
  std::unique_ptr<MasterKeySlot[]> slots_;
};

// RFC 3711 §3.1 / RFC 4568: lengths must match the suite; MKI up to 16 bytes.
bool master_key_is_valid(const MasterKey& key);

}  // namespace mrfp::srtp

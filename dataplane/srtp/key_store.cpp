#include "dataplane/srtp/key_store.h"

#include <algorithm>

#include "dataplane/srtp/key_derivation.h"

namespace mrfp::srtp {

bool master_key_is_valid(const MasterKey& key) {
  const SuiteParams p = params(key.suite);
  return p.master_key_len != 0 && key.key_len == p.master_key_len &&
         key.salt_len == p.master_salt_len && key.mki_len <= kMaxMkiLen;
}

// KeyHandle keeps the slot index in 16 bits.
KeyStore::KeyStore(std::uint32_t capacity, CryptoEngine& engine)
    : engine_(engine),
      capacity_(std::min<std::uint32_t>(capacity, 0x10000)),
      slots_(std::make_unique<MasterKeySlot[]>(capacity_)) {}

KeyStore::~KeyStore() {
  for (std::uint32_t i = 0; i < capacity_; ++i) {
    if (slots_[i].live) wipe(slots_[i]);
  }
}

KeyResult KeyStore::add(const MasterKey& key) {
  if (!master_key_is_valid(key)) return {SetupStatus::InvalidKey, 0};
  for (std::uint32_t i = 0; i < capacity_; ++i) {
    MasterKeySlot& slot = slots_[i];
    if (slot.live) continue;
    slot.master = key;
    // Rate 0 (the only rate SDES/MIKEY conferences use here): one derivation
    // per master key, shared by every SSRC.
    if (!derive_session_keys(key, KeyKind::Srtp, 0, 0, slot.srtp) ||
        !derive_session_keys(key, KeyKind::Srtcp, 0, 0, slot.srtcp)) {
      wipe(slot);
      return {SetupStatus::InvalidKey, 0};
    }
    return install(i);
  }
  return {SetupStatus::TableFull, 0};
}

KeyResult KeyStore::add_derived(const MasterKey& identity, const SessionKeys& srtp, const SessionKeys& srtcp) {
  const SuiteParams p = params(identity.suite);
  const auto fits = [&](const SessionKeys& keys, std::size_t tag_len) {
    return keys.suite == identity.suite && keys.cipher_key_len == p.master_key_len &&
           keys.salt_len == p.master_salt_len && keys.tag_len == tag_len &&
           keys.auth_key_len == (p.aead ? 0 : kSessionAuthKeyLen);
  };
  if (identity.mki_len > kMaxMkiLen || !fits(srtp, p.srtp_tag_len) || !fits(srtcp, p.srtcp_tag_len)) {
    return {SetupStatus::InvalidKey, 0};
  }
  for (std::uint32_t i = 0; i < capacity_; ++i) {
    MasterKeySlot& slot = slots_[i];
    if (slot.live) continue;
    slot.master = identity;
    slot.master.wipe();  // no master key behind these session keys
    slot.master.mki = identity.mki;
    slot.master.mki_len = identity.mki_len;
    slot.srtp = srtp;
    slot.srtcp = srtcp;
    return install(i);
  }
  return {SetupStatus::TableFull, 0};
}

KeyResult KeyStore::install(std::uint32_t index) {
  MasterKeySlot& slot = slots_[index];
  slot.srtp.engine_state = engine_.prepare(slot.srtp);
  slot.srtcp.engine_state = engine_.prepare(slot.srtcp);
  if (slot.srtp.engine_state == nullptr || slot.srtcp.engine_state == nullptr) {
    wipe(slot);
    return {SetupStatus::EngineRefused, 0};
  }
  slot.srtp_packets_protected = slot.srtcp_packets_protected = 0;
  slot.streams_using = 0;
  slot.live = true;
  return {SetupStatus::Ok, slot.handle(index)};
}

SetupStatus KeyStore::remove(KeyHandle handle) {
  MasterKeySlot* slot = find(handle);
  if (slot == nullptr) return SetupStatus::UnknownKey;
  if (slot->streams_using != 0) return SetupStatus::KeyInUse;
  wipe(*slot);
  return SetupStatus::Ok;
}

MasterKeySlot* KeyStore::find(KeyHandle handle) {
  const std::uint32_t index = handle & 0xffff;
  if (index >= capacity_) return nullptr;
  MasterKeySlot& slot = slots_[index];
  if (!slot.live || slot.generation != (handle >> 16)) return nullptr;
  return &slot;
}

const MasterKeySlot* KeyStore::find(KeyHandle handle) const {
  return const_cast<KeyStore*>(this)->find(handle);
}

void KeyStore::wipe(MasterKeySlot& slot) {
  if (slot.srtp.engine_state != nullptr) engine_.release(slot.srtp.engine_state);
  if (slot.srtcp.engine_state != nullptr) engine_.release(slot.srtcp.engine_state);
  slot.srtp.engine_state = slot.srtcp.engine_state = nullptr;
  slot.srtp.wipe();
  slot.srtcp.wipe();
  slot.master.wipe();
  explicit_bzero(slot.master.mki.data(), slot.master.mki.size());
  slot.master.mki_len = 0;
  slot.live = false;
  ++slot.generation;
}

}  // namespace mrfp::srtp

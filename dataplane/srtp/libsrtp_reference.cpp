#include "dataplane/srtp/libsrtp_reference.h"

#include <srtp2/srtp.h>

#include <arpa/inet.h>
#include <cstring>
#include <mutex>

#include "dataplane/srtp/libsrtp_policy.h"
#include "dataplane/srtp/packet_format.h"

namespace mrfp::srtp {
namespace {

PacketStatus from_libsrtp(srtp_err_status_t status) {
  switch (status) {
    case srtp_err_status_ok: return PacketStatus::Ok;
    case srtp_err_status_auth_fail: return PacketStatus::AuthFailed;
    case srtp_err_status_replay_fail: return PacketStatus::Replayed;
    case srtp_err_status_replay_old: return PacketStatus::TooOld;
    case srtp_err_status_bad_mki: return PacketStatus::UnknownMki;
    case srtp_err_status_key_expired: return PacketStatus::KeyExpired;
    case srtp_err_status_no_ctx: return PacketStatus::NoContext;
    case srtp_err_status_bad_param:
    case srtp_err_status_parse_err: return PacketStatus::Malformed;
    default: return PacketStatus::EngineError;
  }
}

std::uint32_t packet_ssrc(const PacketView& packet, bool rtcp) {
  const std::uint32_t at = rtcp ? 4 : 8;
  return packet.length >= at + 4 ? load_be32(packet.data + at) : 0;
}

}  // namespace

void libsrtp_crypto_policy(Suite suite, srtp_crypto_policy_t& rtp, srtp_crypto_policy_t& rtcp) {
  switch (suite) {
    case Suite::AesCm128HmacSha1_80:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&rtcp);
      break;
    case Suite::AesCm128HmacSha1_32:
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&rtp);
      srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&rtcp);  // RFC 4568 §6.2.1: SRTCP keeps 80 bits
      break;
    case Suite::AesCm256HmacSha1_80:
      srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&rtp);
      srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&rtcp);
      break;
    case Suite::AeadAes128Gcm:
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&rtp);
      srtp_crypto_policy_set_aes_gcm_128_16_auth(&rtcp);
      break;
    case Suite::AeadAes256Gcm:
      srtp_crypto_policy_set_aes_gcm_256_16_auth(&rtp);
      srtp_crypto_policy_set_aes_gcm_256_16_auth(&rtcp);
      break;
  }
}

LibsrtpReference::LibsrtpReference(const ProcessorOptions& options)
    : options_(options), keys_(std::make_unique<KeySlot[]>(options.max_master_keys)) {
  // libsrtp2 refuses a second srtp_init in a process (its debug modules are
  // already registered), e.g. after a libsrtp2 peer in the same test process;
  // the library is ready either way, and srtp_create below tells a real failure.
  static std::once_flag initialised;
  std::call_once(initialised, [] { srtp_init(); });
  srtp_t session = nullptr;
  if (srtp_create(&session, nullptr) == srtp_err_status_ok) session_ = session;
  streams_.reserve(options.max_streams);
}

LibsrtpReference::~LibsrtpReference() {
  if (session_ != nullptr) srtp_dealloc(session_);
  for (std::uint32_t i = 0; i < options_.max_master_keys; ++i) keys_[i].key.wipe();
}

const LibsrtpReference::KeySlot* LibsrtpReference::find_key(KeyHandle handle) const {
  const std::uint32_t index = handle & 0xffff;
  if (index >= options_.max_master_keys) return nullptr;
  const KeySlot& slot = keys_[index];
  return slot.live && slot.generation == (handle >> 16) ? &slot : nullptr;
}

KeyResult LibsrtpReference::add_master_key(const MasterKey& key) {
  const SuiteParams p = params(key.suite);
  if (key.key_len != p.master_key_len || key.salt_len != p.master_salt_len) return {SetupStatus::InvalidKey, 0};
  for (std::uint32_t i = 0; i < options_.max_master_keys; ++i) {
    KeySlot& slot = keys_[i];
    if (slot.live) continue;
    slot.key = key;
    slot.live = true;
    slot.streams_using = 0;
    return {SetupStatus::Ok, (std::uint32_t{slot.generation} << 16) | i};
  }
  return {SetupStatus::TableFull, 0};
}

SetupStatus LibsrtpReference::remove_master_key(KeyHandle handle) {
  auto* slot = const_cast<KeySlot*>(find_key(handle));
  if (slot == nullptr) return SetupStatus::UnknownKey;
  if (slot->streams_using != 0) return SetupStatus::KeyInUse;
  slot->key.wipe();
  slot->live = false;
  ++slot->generation;
  return SetupStatus::Ok;
}

SetupStatus LibsrtpReference::add_stream(std::uint32_t ssrc, std::span<const KeyHandle> keys, std::size_t sending) {
  if (session_ == nullptr) return SetupStatus::EngineRefused;
  if (keys.empty() || keys.size() > kMaxKeysPerStream || sending >= keys.size()) return SetupStatus::InvalidKey;
  if (streams_.count(ssrc) != 0) return SetupStatus::AlreadyExists;
  if (streams_.size() >= options_.max_streams) return SetupStatus::TableFull;

  std::array<const KeySlot*, kMaxKeysPerStream> slots{};
  for (std::size_t i = 0; i < keys.size(); ++i) {
    slots[i] = find_key(keys[i]);
    if (slots[i] == nullptr) return SetupStatus::UnknownKey;
  }
  const MasterKey& first = slots[0]->key;
  const bool use_mki = first.mki_len > 0;
  if (!use_mki && keys.size() > 1) return SetupStatus::Unsupported;

  // libsrtp wants key || salt in one buffer per master key.
  std::array<std::array<unsigned char, kMaxMasterKeyLen + kMaxMasterSaltLen>, kMaxKeysPerStream> material{};
  std::array<std::array<unsigned char, kMaxMkiLen>, kMaxKeysPerStream> mkis{};
  std::array<srtp_master_key_t, kMaxKeysPerStream> master_keys{};
  std::array<srtp_master_key_t*, kMaxKeysPerStream> master_key_list{};
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const MasterKey& key = slots[i]->key;
    if (key.suite != first.suite || key.mki_len != first.mki_len) return SetupStatus::InvalidKey;
    std::memcpy(material[i].data(), key.key.data(), key.key_len);
    std::memcpy(material[i].data() + key.key_len, key.salt.data(), key.salt_len);
    std::memcpy(mkis[i].data(), key.mki.data(), key.mki_len);
    master_keys[i] = {material[i].data(), mkis[i].data(), key.mki_len};
    master_key_list[i] = &master_keys[i];
  }
  srtp_policy_t policy{};
  libsrtp_crypto_policy(first.suite, policy.rtp, policy.rtcp);
  policy.ssrc.type = ssrc_specific;
  policy.ssrc.value = ssrc;
  if (use_mki) {
    policy.keys = master_key_list.data();
    policy.num_master_keys = keys.size();
  } else {
    policy.key = material[0].data();
  }
  policy.window_size = options_.replay_window;
  policy.allow_repeat_tx = 0;
  const srtp_err_status_t status = srtp_add_stream(session_, &policy);
  for (auto& m : material) explicit_bzero(m.data(), m.size());
  if (status != srtp_err_status_ok) return SetupStatus::EngineRefused;

  Stream stream;
  for (std::size_t i = 0; i < keys.size(); ++i) stream.keys[i] = keys[i];
  stream.key_count = keys.size();
  stream.sending = sending;
  stream.use_mki = use_mki;
  const SuiteParams p = params(first.suite);
  stream.trailer_srtp = p.srtp_tag_len + first.mki_len;
  stream.trailer_srtcp = p.srtcp_tag_len + first.mki_len + kSrtcpIndexLen;
  streams_.emplace(ssrc, stream);
  for (std::size_t i = 0; i < keys.size(); ++i) ++const_cast<KeySlot*>(slots[i])->streams_using;
  return SetupStatus::Ok;
}

SetupStatus LibsrtpReference::remove_stream(std::uint32_t ssrc) {
  auto found = streams_.find(ssrc);
  if (found == streams_.end()) return SetupStatus::UnknownSsrc;
  srtp_remove_stream(session_, htonl(ssrc));
  for (std::size_t i = 0; i < found->second.key_count; ++i) {
    if (auto* slot = const_cast<KeySlot*>(find_key(found->second.keys[i]))) --slot->streams_using;
  }
  streams_.erase(found);
  return SetupStatus::Ok;
}

SetupStatus LibsrtpReference::add_stream_key(std::uint32_t, KeyHandle) { return SetupStatus::Unsupported; }
// libsrtp 2.5 has no call to set a stream's ROC (srtp_set_stream_roc came in 2.6).
SetupStatus LibsrtpReference::set_stream_roc(std::uint32_t, std::uint32_t) { return SetupStatus::Unsupported; }
SetupStatus LibsrtpReference::remove_stream_key(std::uint32_t, KeyHandle) { return SetupStatus::Unsupported; }

SetupStatus LibsrtpReference::switch_sending_key(std::uint32_t ssrc, KeyHandle key) {
  auto found = streams_.find(ssrc);
  if (found == streams_.end()) return SetupStatus::UnknownSsrc;
  Stream& stream = found->second;
  for (std::size_t i = 0; i < stream.key_count; ++i) {
    if (stream.keys[i] == key) {
      stream.sending = i;
      stream.switch_pending = true;
      stream.first_sequence_under_sending_key.reset();
      return SetupStatus::Ok;
    }
  }
  return SetupStatus::UnknownKey;
}

std::optional<StreamInfo> LibsrtpReference::stream_info(std::uint32_t ssrc) const {
  auto found = streams_.find(ssrc);
  if (found == streams_.end()) return std::nullopt;
  StreamInfo info;
  info.sending_key = found->second.keys[found->second.sending];
  info.first_sequence_under_sending_key = found->second.first_sequence_under_sending_key;
  return info;
}

template <bool rtcp>
void LibsrtpReference::protect_each(std::span<PacketView> burst) {
  for (PacketView& packet : burst) {
    auto found = streams_.find(packet_ssrc(packet, rtcp));
    if (found == streams_.end()) {
      packet.status = packet.length < (rtcp ? 8u : 12u) ? PacketStatus::Malformed : PacketStatus::NoContext;
      continue;
    }
    Stream& stream = found->second;
    const std::size_t trailer = rtcp ? stream.trailer_srtcp : stream.trailer_srtp;
    if (packet.capacity < packet.length || packet.capacity - packet.length < trailer) {
      packet.status = PacketStatus::NoRoom;
      continue;
    }
    int length = static_cast<int>(packet.length);
    const auto use_mki = static_cast<unsigned>(stream.use_mki);
    const auto mki_index = static_cast<unsigned>(stream.sending);
    const srtp_err_status_t status = rtcp ? srtp_protect_rtcp_mki(session_, packet.data, &length, use_mki, mki_index)
                                          : srtp_protect_mki(session_, packet.data, &length, use_mki, mki_index);
    packet.status = from_libsrtp(status);
    if (status != srtp_err_status_ok) continue;
    if (!rtcp && stream.switch_pending) {
      stream.switch_pending = false;
      stream.first_sequence_under_sending_key = load_be16(packet.data + 2);
    }
    packet.length = static_cast<std::uint32_t>(length);
  }
}

template <bool rtcp>
void LibsrtpReference::unprotect_each(std::span<PacketView> burst) {
  for (PacketView& packet : burst) {
    auto found = streams_.find(packet_ssrc(packet, rtcp));
    if (found == streams_.end()) {
      packet.status = packet.length < (rtcp ? 8u : 12u) ? PacketStatus::Malformed : PacketStatus::NoContext;
      continue;
    }
    int length = static_cast<int>(packet.length);
    const auto use_mki = static_cast<unsigned>(found->second.use_mki);
    const srtp_err_status_t status = rtcp ? srtp_unprotect_rtcp_mki(session_, packet.data, &length, use_mki)
                                          : srtp_unprotect_mki(session_, packet.data, &length, use_mki);
    packet.status = from_libsrtp(status);
    if (status == srtp_err_status_ok) packet.length = static_cast<std::uint32_t>(length);
  }
}

void LibsrtpReference::protect(std::span<PacketView> burst) { protect_each<false>(burst); }
void LibsrtpReference::protect_rtcp(std::span<PacketView> burst) { protect_each<true>(burst); }
void LibsrtpReference::unprotect(std::span<PacketView> burst) { unprotect_each<false>(burst); }
void LibsrtpReference::unprotect_rtcp(std::span<PacketView> burst) { unprotect_each<true>(burst); }

}  // namespace mrfp::srtp

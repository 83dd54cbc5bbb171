#include "dataplane/srtp/srtp_session.h"

#include <cstring>

#include "dataplane/srtp/packet_format.h"

namespace mrfp::srtp {
namespace {

// Every key of one stream must share the wire layout: the same suite (tag
// lengths) and the same MKI length (RFC 3711 §3.1: the MKI length is fixed per
// context), and distinct MKIs so the receiver can choose.
bool key_fits_stream(const StreamContext& stream, const MasterKeySlot& candidate) {
  for (std::uint8_t i = 0; i < stream.key_count; ++i) {
    const MasterKey& existing = stream.keys[i]->master;
    if (existing.suite != candidate.master.suite || existing.mki_len != candidate.master.mki_len) return false;
    if (existing.mki_len > 0 && tags_equal(existing.mki.data(), candidate.master.mki.data(), existing.mki_len)) {
      return false;
    }
  }
  return true;
}

const SessionKeys& session_keys(const MasterKeySlot& slot, bool srtcp) { return srtcp ? slot.srtcp : slot.srtp; }

// Bytes after the encrypted portion (and after the SRTCP E||index word):
// HMAC suites put MKI then tag; AEAD suites put the tag (part of the
// ciphertext, RFC 7714 §8.2) then the MKI.
struct TrailerLayout {
  std::uint32_t tag_len;
  std::uint32_t mki_len;
  bool aead;
  std::uint32_t total() const { return tag_len + mki_len; }
};
TrailerLayout trailer_layout(const MasterKeySlot& slot, bool srtcp) {
  const SessionKeys& keys = session_keys(slot, srtcp);
  return {keys.tag_len, slot.master.mki_len, keys.aead()};
}

// RFC 3711 §3.3.1: the index of the next packet from the highest one so far;
// the first packet of a stream fixes s_l, its ROC is 0 or the signalled one.
std::int64_t packet_index(const StreamContext& stream, std::uint16_t sequence) {
  if (stream.srtp_window.started()) return estimate_srtp_index(stream.srtp_window.highest(), sequence);
  return static_cast<std::int64_t>((std::uint64_t{stream.initial_roc} << 16) | sequence);
}

// Which of the stream's keys an inbound packet is under: by MKI when the keys
// have one (RFC 3711 §3.1), else the key that last worked first.
PacketStatus choose_receive_key(const StreamContext& stream, const std::uint8_t* mki, std::uint8_t& slot) {
  const std::uint8_t mki_len = stream.keys[0]->master.mki_len;
  if (mki_len == 0) {
    slot = stream.receive_hint;
    return PacketStatus::Ok;
  }
  for (std::uint8_t i = 0; i < stream.key_count; ++i) {
    if (tags_equal(stream.keys[i]->master.mki.data(), mki, mki_len)) {
      slot = i;
      return PacketStatus::Ok;
    }
  }
  return PacketStatus::UnknownMki;
}

}  // namespace

SrtpSession::SrtpSession(CryptoEngine& engine, const ProcessorOptions& options)
    : engine_(engine),
      options_(options),
      keys_(options.max_master_keys, engine),
      streams_(options.max_streams, options.replay_window) {}

SrtpSession::~SrtpSession() = default;

// ---------------------------------------------------------------- control path

KeyResult SrtpSession::add_master_key(const MasterKey& key) { return keys_.add(key); }

KeyResult SrtpSession::add_session_keys(const MasterKey& identity, const SessionKeys& srtp, const SessionKeys& srtcp) {
  return keys_.add_derived(identity, srtp, srtcp);
}

SetupStatus SrtpSession::remove_master_key(KeyHandle key) { return keys_.remove(key); }

SetupStatus SrtpSession::add_stream(std::uint32_t ssrc, std::span<const KeyHandle> keys, std::size_t sending) {
  if (keys.empty() || keys.size() > kMaxKeysPerStream || sending >= keys.size()) return SetupStatus::InvalidKey;
  if (streams_.find(ssrc) != nullptr) return SetupStatus::AlreadyExists;
  StreamContext probe;
  for (KeyHandle handle : keys) {
    MasterKeySlot* slot = keys_.find(handle);
    if (slot == nullptr) return SetupStatus::UnknownKey;
    if (!key_fits_stream(probe, *slot)) return SetupStatus::InvalidKey;
    probe.keys[probe.key_count] = slot;
    probe.key_handles[probe.key_count] = handle;
    ++probe.key_count;
  }
  StreamContext* stream = streams_.insert(ssrc);
  if (stream == nullptr) return SetupStatus::TableFull;
  stream->keys = probe.keys;
  stream->key_handles = probe.key_handles;
  stream->key_count = probe.key_count;
  stream->sending = static_cast<std::uint8_t>(sending);
  stream->receive_hint = static_cast<std::uint8_t>(sending);
  for (std::uint8_t i = 0; i < stream->key_count; ++i) ++stream->keys[i]->streams_using;
  return SetupStatus::Ok;
}

SetupStatus SrtpSession::remove_stream(std::uint32_t ssrc) {
  StreamContext* stream = streams_.find(ssrc);
  if (stream == nullptr) return SetupStatus::UnknownSsrc;
  for (std::uint8_t i = 0; i < stream->key_count; ++i) --stream->keys[i]->streams_using;
  streams_.erase(ssrc);
  return SetupStatus::Ok;
}

SetupStatus SrtpSession::add_stream_key(std::uint32_t ssrc, KeyHandle key) {
  StreamContext* stream = streams_.find(ssrc);
  if (stream == nullptr) return SetupStatus::UnknownSsrc;
  MasterKeySlot* slot = keys_.find(key);
  if (slot == nullptr) return SetupStatus::UnknownKey;
  if (stream->slot_of(key) >= 0) return SetupStatus::AlreadyExists;
  if (stream->key_count == kMaxKeysPerStream) return SetupStatus::TableFull;
  if (!key_fits_stream(*stream, *slot)) return SetupStatus::InvalidKey;
  stream->keys[stream->key_count] = slot;
  stream->key_handles[stream->key_count] = key;
  ++stream->key_count;
  ++slot->streams_using;
  return SetupStatus::Ok;
}

SetupStatus SrtpSession::switch_sending_key(std::uint32_t ssrc, KeyHandle key) {
  StreamContext* stream = streams_.find(ssrc);
  if (stream == nullptr) return SetupStatus::UnknownSsrc;
  const int slot = stream->slot_of(key);
  if (slot < 0) return SetupStatus::UnknownKey;
  // The switch happens at the next protected packet: one packet boundary.
  stream->sending = static_cast<std::uint8_t>(slot);
  stream->switch_pending = true;
  stream->has_first_sequence = false;
  return SetupStatus::Ok;
}

SetupStatus SrtpSession::remove_stream_key(std::uint32_t ssrc, KeyHandle key) {
  StreamContext* stream = streams_.find(ssrc);
  if (stream == nullptr) return SetupStatus::UnknownSsrc;
  const int slot = stream->slot_of(key);
  if (slot < 0) return SetupStatus::UnknownKey;
  if (slot == stream->sending) return SetupStatus::KeyInUse;
  --stream->keys[static_cast<std::size_t>(slot)]->streams_using;
  for (int i = slot; i + 1 < stream->key_count; ++i) {
    stream->keys[static_cast<std::size_t>(i)] = stream->keys[static_cast<std::size_t>(i) + 1];
    stream->key_handles[static_cast<std::size_t>(i)] = stream->key_handles[static_cast<std::size_t>(i) + 1];
  }
  --stream->key_count;
  stream->keys[stream->key_count] = nullptr;
  if (stream->sending > slot) --stream->sending;
  stream->receive_hint = stream->sending;
  return SetupStatus::Ok;
}

SetupStatus SrtpSession::set_stream_roc(std::uint32_t ssrc, std::uint32_t roc) {
  StreamContext* stream = streams_.find(ssrc);
  if (stream == nullptr) return SetupStatus::UnknownSsrc;
  if (stream->srtp_window.started()) return SetupStatus::StreamStarted;
  stream->initial_roc = roc;
  return SetupStatus::Ok;
}

std::optional<StreamInfo> SrtpSession::stream_info(std::uint32_t ssrc) const {
  const StreamContext* stream = streams_.find(ssrc);
  if (stream == nullptr) return std::nullopt;
  StreamInfo info;
  const std::uint64_t highest =
      stream->srtp_window.started() ? stream->srtp_window.highest() : std::uint64_t{stream->initial_roc} << 16;
  info.roc = static_cast<std::uint32_t>(highest >> 16);
  info.highest_sequence = static_cast<std::uint16_t>(highest);
  info.srtcp_index = stream->srtcp_window.started() ? static_cast<std::uint32_t>(stream->srtcp_window.highest())
                                                    : stream->next_srtcp_index;
  info.sending_key = stream->key_handles[stream->sending];
  if (stream->has_first_sequence) info.first_sequence_under_sending_key = stream->first_sequence_under_sending_key;
  return info;
}

// ----------------------------------------------------------------- packet path

void SrtpSession::protect(std::span<PacketView> burst) {
  for (std::size_t at = 0; at < burst.size(); at += kChunk) {
    protect_chunk<Kind::Srtp>(burst.subspan(at, std::min(kChunk, burst.size() - at)));
  }
}
void SrtpSession::protect_rtcp(std::span<PacketView> burst) {
  for (std::size_t at = 0; at < burst.size(); at += kChunk) {
    protect_chunk<Kind::Srtcp>(burst.subspan(at, std::min(kChunk, burst.size() - at)));
  }
}
void SrtpSession::unprotect(std::span<PacketView> burst) {
  for (std::size_t at = 0; at < burst.size(); at += kChunk) {
    unprotect_chunk<Kind::Srtp>(burst.subspan(at, std::min(kChunk, burst.size() - at)));
  }
}
void SrtpSession::unprotect_rtcp(std::span<PacketView> burst) {
  for (std::size_t at = 0; at < burst.size(); at += kChunk) {
    unprotect_chunk<Kind::Srtcp>(burst.subspan(at, std::min(kChunk, burst.size() - at)));
  }
}

template <SrtpSession::Kind kind>
void SrtpSession::protect_chunk(std::span<PacketView> chunk) {
  std::size_t jobs = 0;
  for (PacketView& packet : chunk) {
    CryptoJob& job = jobs_[jobs];
    Pending& pending = pending_[jobs];
    const PacketStatus status = kind == Kind::Srtp ? prepare_protect_rtp(packet, job, pending)
                                                   : prepare_protect_rtcp(packet, job, pending);
    packet.status = status;
    if (status == PacketStatus::Ok) ++jobs;
  }
  if (jobs == 0) return;
  engine_.run({jobs_.data(), jobs});
  for (std::size_t i = 0; i < jobs; ++i) finish_protect(kind, jobs_[i], pending_[i]);
}

template <SrtpSession::Kind kind>
void SrtpSession::unprotect_chunk(std::span<PacketView> chunk) {
  std::size_t waiting = 0;
  for (PacketView& packet : chunk) waiting_[waiting++] = &packet;
  // Rounds: a second packet of a stream already in this round waits for the
  // next one, after the first has (or has not) authenticated.
  while (waiting > 0) {
    ++unprotect_round_;
    std::size_t jobs = 0;
    std::size_t deferred = 0;
    for (std::size_t i = 0; i < waiting; ++i) {
      PacketView& packet = *waiting_[i];
      bool defer = false;
      const PacketStatus status = kind == Kind::Srtp ? prepare_unprotect_rtp(packet, jobs_[jobs], pending_[jobs], defer)
                                                     : prepare_unprotect_rtcp(packet, jobs_[jobs], pending_[jobs], defer);
      if (defer) {
        waiting_[deferred++] = &packet;
        continue;
      }
      packet.status = status;
      if (status == PacketStatus::Ok) ++jobs;
    }
    run_unprotect_jobs<kind>(jobs);
    waiting = deferred;
  }
}

template <SrtpSession::Kind kind>
void SrtpSession::run_unprotect_jobs(std::size_t jobs) {
  // Without MKI a stream in a rekey grace window has two keys and the packet
  // does not say which (RFC 3711 §3.1 leaves it to "the key management"):
  // failures retry under the other keys. The engine runs the failed job once
  // more first: the CTR/GCM keystream applied twice restores the ciphertext.
  while (jobs > 0) {
    engine_.run({jobs_.data(), jobs});
    std::size_t retries = 0;
    for (std::size_t i = 0; i < jobs; ++i) {
      if (finish_unprotect(kind, jobs_[i], pending_[i]) == Finish::RetryOtherKey) {
        const bool aad_in_scratch = jobs_[i].aad == jobs_[i].aad_scratch.data();
        jobs_[retries] = jobs_[i];
        if (aad_in_scratch) jobs_[retries].aad = jobs_[retries].aad_scratch.data();
        pending_[retries] = pending_[i];
        ++retries;
      }
    }
    if (retries == 0) break;
    engine_.run({jobs_.data(), retries});  // restore the ciphertext
    for (std::size_t i = 0; i < retries; ++i) {
      std::uint8_t slot = 0;
      next_untried_key(pending_[i], slot);
      use_key(kind, jobs_[i], pending_[i], slot);
    }
    jobs = retries;
  }
}

void SrtpSession::use_key(Kind kind, CryptoJob& job, Pending& pending, std::uint8_t slot) {
  const SessionKeys& keys = session_keys(*pending.context->keys[slot], kind == Kind::Srtcp);
  pending.key_slot = slot;
  pending.keys_tried = static_cast<std::uint8_t>(pending.keys_tried | (1u << slot));
  job.keys = &keys;
  build_iv(keys, pending.context->ssrc, pending.index, job.iv);
}

bool SrtpSession::next_untried_key(const Pending& pending, std::uint8_t& slot) const {
  for (std::uint8_t i = 0; i < pending.context->key_count; ++i) {
    if (!(pending.keys_tried & (1u << i))) {
      slot = i;
      return true;
    }
  }
  return false;
}

// RFC 3711 §3.3: SRTP protect. Layout after: header | ciphertext | [MKI] | tag
// (AEAD: header | ciphertext | tag | [MKI], RFC 7714 §8.2 and §9).
PacketStatus SrtpSession::prepare_protect_rtp(PacketView& packet, CryptoJob& job, Pending& pending) {
  const std::uint32_t header = rtp_header_length(packet.data, packet.length);
  if (header == 0) return PacketStatus::Malformed;
  StreamContext* stream = streams_.find(load_be32(packet.data + 8));
  if (stream == nullptr) return PacketStatus::NoContext;
  MasterKeySlot& key = *stream->keys[stream->sending];
  const TrailerLayout trailer = trailer_layout(key, false);
  if (packet.capacity < packet.length || packet.capacity - packet.length < trailer.total()) return PacketStatus::NoRoom;
  // RFC 3711 §9.2: at most 2^48 SRTP packets under one master key.
  if (key.srtp_packets_protected >= options_.max_srtp_packets_per_key) return PacketStatus::KeyExpired;

  // RFC 3711 §3.3.1: the sender's ROC follows its own sequence numbers.
  const std::uint16_t sequence = load_be16(packet.data + 2);
  const std::int64_t estimated = packet_index(*stream, sequence);
  if (estimated < 0) return PacketStatus::TooOld;
  const auto index = static_cast<std::uint64_t>(estimated);
  if (index >= (std::uint64_t{1} << 48)) return PacketStatus::KeyExpired;
  // Protecting one index twice would reuse keystream: refuse like a replay.
  switch (stream->srtp_window.check(index)) {
    case ReplayCheck::Replayed: return PacketStatus::Replayed;
    case ReplayCheck::TooOld: return PacketStatus::TooOld;
    case ReplayCheck::Fresh: break;
  }
  stream->srtp_window.add(index);
  ++key.srtp_packets_protected;
  if (stream->switch_pending) {
    stream->switch_pending = false;
    stream->has_first_sequence = true;
    stream->first_sequence_under_sending_key = sequence;
  }

  pending = Pending{};
  pending.packet = &packet;
  pending.context = stream;
  pending.index = index;
  pending.payload_end = packet.length;
  job.packet = packet.data;
  job.direction = CryptoDirection::Encrypt;
  job.cipher_offset = header;
  job.cipher_length = packet.length - header;
  if (trailer.aead) {
    job.aad = packet.data;  // RFC 7714 §8.2: the AAD is the whole RTP header
    job.aad_length = header;
    job.auth_length = 0;
  } else {
    // RFC 3711 §4.2: M = authenticated portion || ROC; the ROC sits where the
    // MKI/tag will go (at least 4 bytes: the shortest tag is 32 bits).
    store_be32(packet.data + packet.length, static_cast<std::uint32_t>(index >> 16));
    job.auth_length = packet.length + 4;
    job.aad = nullptr;
    job.aad_length = 0;
  }
  use_key(Kind::Srtp, job, pending, stream->sending);
  return PacketStatus::Ok;
}

// RFC 3711 §3.4: SRTCP protect. Layout after: header(8) | ciphertext |
// E||index | [MKI] | tag (AEAD, RFC 7714 §9: ... ciphertext | tag | E||index | [MKI]).
PacketStatus SrtpSession::prepare_protect_rtcp(PacketView& packet, CryptoJob& job, Pending& pending) {
  if (packet.length < kRtcpHeaderLen || (packet.data[0] >> 6) != 2) return PacketStatus::Malformed;
  StreamContext* stream = streams_.find(load_be32(packet.data + 4));
  if (stream == nullptr) return PacketStatus::NoContext;
  MasterKeySlot& key = *stream->keys[stream->sending];
  const TrailerLayout trailer = trailer_layout(key, true);
  if (packet.capacity < packet.length || packet.capacity - packet.length < kSrtcpIndexLen + trailer.total()) {
    return PacketStatus::NoRoom;
  }
  // RFC 3711 §9.2 / §3.4: 2^31 SRTCP packets per master key, and the index is
  // 31 bits per stream.
  if (key.srtcp_packets_protected >= options_.max_srtcp_packets_per_key ||
      stream->next_srtcp_index > 0x7fffffffu) {
    return PacketStatus::KeyExpired;
  }
  const std::uint32_t index = stream->next_srtcp_index++;
  ++key.srtcp_packets_protected;

  pending = Pending{};
  pending.packet = &packet;
  pending.context = stream;
  pending.index = index;
  pending.payload_end = packet.length;
  job.packet = packet.data;
  job.direction = CryptoDirection::Encrypt;
  job.cipher_offset = kRtcpHeaderLen;
  job.cipher_length = packet.length - kRtcpHeaderLen;
  const std::uint32_t e_and_index = kSrtcpEncryptedFlag | index;
  if (trailer.aead) {
    // RFC 7714 §9.2: AAD = first 8 bytes of the header || E||SRTCP index.
    std::memcpy(job.aad_scratch.data(), packet.data, kRtcpHeaderLen);
    store_be32(job.aad_scratch.data() + kRtcpHeaderLen, e_and_index);
    job.aad = job.aad_scratch.data();
    job.aad_length = kRtcpHeaderLen + kSrtcpIndexLen;
    job.auth_length = 0;
  } else {
    // RFC 3711 §3.4: the E||index word is authenticated, no ROC.
    store_be32(packet.data + packet.length, e_and_index);
    job.auth_length = packet.length + kSrtcpIndexLen;
    job.aad = nullptr;
    job.aad_length = 0;
  }
  use_key(Kind::Srtcp, job, pending, stream->sending);
  return PacketStatus::Ok;
}

void SrtpSession::finish_protect(Kind kind, const CryptoJob& job, Pending& pending) {
  PacketView& packet = *pending.packet;
  if (job.engine_failed) {
    packet.status = PacketStatus::EngineError;
    return;
  }
  const MasterKeySlot& key = *pending.context->keys[pending.key_slot];
  const TrailerLayout trailer = trailer_layout(key, kind == Kind::Srtcp);
  std::uint8_t* end = packet.data + pending.payload_end;
  if (trailer.aead) {
    std::memcpy(end, job.computed_tag.data(), trailer.tag_len);
    end += trailer.tag_len;
    if (kind == Kind::Srtcp) {
      store_be32(end, kSrtcpEncryptedFlag | static_cast<std::uint32_t>(pending.index));
      end += kSrtcpIndexLen;
    }
    std::memcpy(end, key.master.mki.data(), trailer.mki_len);
    end += trailer.mki_len;
  } else {
    if (kind == Kind::Srtcp) end += kSrtcpIndexLen;  // already in place
    std::memcpy(end, key.master.mki.data(), trailer.mki_len);
    end += trailer.mki_len;
    std::memcpy(end, job.computed_tag.data(), trailer.tag_len);
    end += trailer.tag_len;
  }
  packet.length = static_cast<std::uint32_t>(end - packet.data);
  packet.status = PacketStatus::Ok;
}

PacketStatus SrtpSession::prepare_unprotect_rtp(PacketView& packet, CryptoJob& job, Pending& pending, bool& defer) {
  const std::uint32_t header = rtp_header_length(packet.data, packet.length);
  if (header == 0) return PacketStatus::Malformed;
  StreamContext* stream = streams_.find(load_be32(packet.data + 8));
  if (stream == nullptr) return PacketStatus::NoContext;
  if (stream->unprotect_round == unprotect_round_) {
    defer = true;
    return PacketStatus::Ok;
  }
  const TrailerLayout trailer = trailer_layout(*stream->keys[0], false);
  if (packet.length - header < trailer.total()) return PacketStatus::Malformed;
  const std::uint32_t payload_end = packet.length - trailer.total();
  const std::uint8_t* mki = packet.data + payload_end + (trailer.aead ? trailer.tag_len : 0);
  const std::uint8_t* tag = packet.data + (trailer.aead ? payload_end : packet.length - trailer.tag_len);
  std::uint8_t slot = 0;
  if (const PacketStatus chosen = choose_receive_key(*stream, mki, slot); chosen != PacketStatus::Ok) return chosen;

  // RFC 3711 §3.3.1: estimate the index, then §3.3.2: replay check before crypto.
  const std::uint16_t sequence = load_be16(packet.data + 2);
  const std::int64_t estimated = packet_index(*stream, sequence);
  if (estimated < 0) return PacketStatus::TooOld;
  const auto index = static_cast<std::uint64_t>(estimated);
  switch (stream->srtp_window.check(index)) {
    case ReplayCheck::Replayed: return PacketStatus::Replayed;
    case ReplayCheck::TooOld: return PacketStatus::TooOld;
    case ReplayCheck::Fresh: break;
  }

  pending = Pending{};
  pending.packet = &packet;
  pending.context = stream;
  pending.index = index;
  pending.payload_end = payload_end;
  pending.try_other_keys = trailer.mki_len == 0 && stream->key_count > 1;
  std::memcpy(pending.received_tag.data(), tag, trailer.tag_len);
  job.packet = packet.data;
  job.direction = CryptoDirection::Decrypt;
  job.cipher_offset = header;
  job.cipher_length = payload_end - header;
  if (trailer.aead) {
    job.aad = packet.data;
    job.aad_length = header;
    job.auth_length = 0;
  } else {
    // The ROC overwrites the (saved) MKI/tag bytes: M = packet || ROC.
    store_be32(packet.data + payload_end, static_cast<std::uint32_t>(index >> 16));
    job.auth_length = payload_end + 4;
    job.aad = nullptr;
    job.aad_length = 0;
  }
  stream->unprotect_round = unprotect_round_;
  use_key(Kind::Srtp, job, pending, slot);
  return PacketStatus::Ok;
}

PacketStatus SrtpSession::prepare_unprotect_rtcp(PacketView& packet, CryptoJob& job, Pending& pending, bool& defer) {
  if (packet.length < kRtcpHeaderLen || (packet.data[0] >> 6) != 2) return PacketStatus::Malformed;
  StreamContext* stream = streams_.find(load_be32(packet.data + 4));
  if (stream == nullptr) return PacketStatus::NoContext;
  if (stream->unprotect_round == unprotect_round_) {
    defer = true;
    return PacketStatus::Ok;
  }
  const TrailerLayout trailer = trailer_layout(*stream->keys[0], true);
  if (packet.length - kRtcpHeaderLen < kSrtcpIndexLen + trailer.total()) return PacketStatus::Malformed;
  // HMAC: ... | E||index | [MKI] | tag      AEAD: ... | tag | E||index | [MKI]
  const std::uint32_t index_at =
      trailer.aead ? packet.length - trailer.mki_len - kSrtcpIndexLen : packet.length - trailer.total() - kSrtcpIndexLen;
  const std::uint32_t payload_end = trailer.aead ? index_at - trailer.tag_len : index_at;
  const std::uint8_t* mki = packet.data + packet.length - trailer.mki_len - (trailer.aead ? 0 : trailer.tag_len);
  const std::uint8_t* tag = packet.data + (trailer.aead ? payload_end : packet.length - trailer.tag_len);
  std::uint8_t slot = 0;
  if (const PacketStatus chosen = choose_receive_key(*stream, mki, slot); chosen != PacketStatus::Ok) return chosen;

  const std::uint32_t e_and_index = load_be32(packet.data + index_at);
  const bool encrypted = (e_and_index & kSrtcpEncryptedFlag) != 0;
  const std::uint32_t index = e_and_index & 0x7fffffffu;
  switch (stream->srtcp_window.check(index)) {
    case ReplayCheck::Replayed: return PacketStatus::Replayed;
    case ReplayCheck::TooOld: return PacketStatus::TooOld;
    case ReplayCheck::Fresh: break;
  }

  pending = Pending{};
  pending.packet = &packet;
  pending.context = stream;
  pending.index = index;
  pending.payload_end = payload_end;
  pending.try_other_keys = trailer.mki_len == 0 && stream->key_count > 1;
  std::memcpy(pending.received_tag.data(), tag, trailer.tag_len);
  job.packet = packet.data;
  job.direction = CryptoDirection::Decrypt;
  job.cipher_offset = kRtcpHeaderLen;
  job.cipher_length = encrypted ? payload_end - kRtcpHeaderLen : 0;
  if (trailer.aead) {
    if (encrypted) {
      std::memcpy(job.aad_scratch.data(), packet.data, kRtcpHeaderLen);
      store_be32(job.aad_scratch.data() + kRtcpHeaderLen, e_and_index);
      job.aad = job.aad_scratch.data();
      job.aad_length = kRtcpHeaderLen + kSrtcpIndexLen;
    } else {
      // RFC 7714 §9.2 with E = 0: everything but the tag is AAD. Move the
      // E||index word over the (saved) tag so the AAD is contiguous.
      store_be32(packet.data + payload_end, e_and_index);
      job.aad = packet.data;
      job.aad_length = payload_end + kSrtcpIndexLen;
    }
    job.auth_length = 0;
  } else {
    job.auth_length = index_at + kSrtcpIndexLen;
    job.aad = nullptr;
    job.aad_length = 0;
  }
  stream->unprotect_round = unprotect_round_;
  use_key(Kind::Srtcp, job, pending, slot);
  return PacketStatus::Ok;
}

SrtpSession::Finish SrtpSession::finish_unprotect(Kind kind, const CryptoJob& job, Pending& pending) {
  PacketView& packet = *pending.packet;
  if (job.engine_failed) {
    packet.status = PacketStatus::EngineError;
    return Finish::Done;
  }
  StreamContext& stream = *pending.context;
  const SessionKeys& keys = *job.keys;
  if (!tags_equal(job.computed_tag.data(), pending.received_tag.data(), keys.tag_len)) {
    std::uint8_t other = 0;
    if (pending.try_other_keys && next_untried_key(pending, other)) return Finish::RetryOtherKey;
    packet.status = PacketStatus::AuthFailed;
    return Finish::Done;
  }
  // Authenticated: only now may the replay state move (RFC 3711 §3.3.2). Check
  // again: the same index may have come twice in this burst.
  ReplayWindow& window = kind == Kind::Srtp ? stream.srtp_window : stream.srtcp_window;
  switch (window.check(pending.index)) {
    case ReplayCheck::Replayed: packet.status = PacketStatus::Replayed; return Finish::Done;
    case ReplayCheck::TooOld: packet.status = PacketStatus::TooOld; return Finish::Done;
    case ReplayCheck::Fresh: break;
  }
  window.add(pending.index);
  stream.receive_hint = pending.key_slot;
  packet.length = pending.payload_end;
  packet.status = PacketStatus::Ok;
  return Finish::Done;
}

}  // namespace mrfp::srtp

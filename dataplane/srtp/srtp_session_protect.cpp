#include <algorithm>
#include <cstring>

#include "dataplane/srtp/packet_format.h"
#include "dataplane/srtp/srtp_session.h"
#include "dataplane/srtp/trailer_layout.h"

// SrtpSession, part 2: protect (RFC 3711 §3.3 sender side, §3.4 for SRTCP)
// over a burst: prepare every packet's job, run the engine once, finish.

namespace mrfp::srtp {

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
  const std::int64_t estimated = stream->srtp_index_of(sequence);
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

}  // namespace mrfp::srtp

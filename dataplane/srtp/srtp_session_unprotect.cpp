#include <algorithm>
#include <cstring>

#include "dataplane/srtp/packet_format.h"
#include "dataplane/srtp/srtp_session.h"
#include "dataplane/srtp/trailer_layout.h"

// SrtpSession, part 3: unprotect (RFC 3711 §3.3 receiver side, §3.4 for
// SRTCP) over a burst: key choice by MKI, index estimation, replay check,
// one engine run per round, tag check, replay window update.

namespace mrfp::srtp {
namespace {

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
void SrtpSession::unprotect_chunk(std::span<PacketView> chunk) {
  std::size_t waiting = 0;
  for (PacketView& packet : chunk) {
    waiting_[waiting++] = &packet;
    // RFC 3550 §5.1 / RFC 3550 §6.4.1: the SSRC at offset 8 in RTP, 4 in RTCP.
    const std::size_t at = kind == Kind::Srtp ? 8 : 4;
    if (packet.length >= at + 4) streams_.prefetch(load_be32(packet.data + at));
  }
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

// What SRTP and SRTCP unprotect share once the index passed the replay check:
// the pending record (with the received tag, before decryption overwrites
// anything) and the job's packet and direction.
void SrtpSession::begin_unprotect(PacketView& packet, StreamContext* stream, std::uint64_t index,
                                  std::uint32_t payload_end, const TrailerLayout& trailer, const std::uint8_t* tag,
                                  CryptoJob& job, Pending& pending) {
  pending = Pending{};
  pending.packet = &packet;
  pending.context = stream;
  pending.index = index;
  pending.payload_end = payload_end;
  pending.try_other_keys = trailer.mki_len == 0 && stream->key_count > 1;
  std::memcpy(pending.received_tag.data(), tag, trailer.tag_len);
  job.packet = packet.data;
  job.direction = CryptoDirection::Decrypt;
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
  const std::int64_t estimated = stream->srtp_index_of(sequence);
  if (estimated < 0) return PacketStatus::TooOld;
  const auto index = static_cast<std::uint64_t>(estimated);
  switch (stream->srtp_window.check(index)) {
    case ReplayCheck::Replayed: return PacketStatus::Replayed;
    case ReplayCheck::TooOld: return PacketStatus::TooOld;
    case ReplayCheck::Fresh: break;
  }

  begin_unprotect(packet, stream, index, payload_end, trailer, tag, job, pending);
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

  begin_unprotect(packet, stream, index, payload_end, trailer, tag, job, pending);
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

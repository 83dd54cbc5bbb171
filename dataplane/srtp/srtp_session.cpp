#include "dataplane/srtp/srtp_session.h"

#include "dataplane/srtp/packet_format.h"
#include "dataplane/srtp/trailer_layout.h"

// SrtpSession, part 1: construction and the control path (keys, streams,
// rekey), and the key choice shared by both packet directions. Packet path:
// srtp_session_protect.cpp and srtp_session_unprotect.cpp.

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

// ------------------------------------------------- key choice, both directions

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

}  // namespace mrfp::srtp

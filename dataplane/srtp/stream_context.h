// The per-SSRC cryptographic context of RFC 3711 §3.2, minus the keys: those
// live once per master key in the KeyStore and are referenced here. What is
// left per stream is the index state (ROC and highest sequence number, kept as
// the replay window's highest index), the SRTCP index and both replay windows.
#pragma once

#include <array>
#include <cstdint>

#include "dataplane/srtp/key_store.h"
#include "dataplane/srtp/replay_window.h"
#include "dataplane/srtp/srtp_processor.h"

namespace mrfp::srtp {

struct StreamContext {
  std::uint32_t ssrc = 0;

  // RFC 3711 §3.1: several master keys per stream, told apart by MKI. Outbound
  // uses keys[sending]; inbound without MKI tries keys[receive_hint] first.
  std::array<MasterKeySlot*, kMaxKeysPerStream> keys{};
  std::array<KeyHandle, kMaxKeysPerStream> key_handles{};
  std::uint8_t key_count = 0;
  std::uint8_t sending = 0;
  std::uint8_t receive_hint = 0;

  // Rekey report: the first sequence number protected after a key switch.
  bool switch_pending = false;
  bool has_first_sequence = false;
  std::uint16_t first_sequence_under_sending_key = 0;

  // SRTP: the highest index (ROC || SEQ, RFC 3711 §3.3.1) protected or
  // authenticated; protect also refuses to reuse an index (a keystream reuse).
  ReplayWindow srtp_window;
  std::uint32_t initial_roc = 0;  // ROC of the first packet (set_stream_roc)
  // SRTCP: next index to send (RFC 3711 §3.4) and the receive window.
  std::uint32_t next_srtcp_index = 0;
  ReplayWindow srtcp_window;

  // Unprotect handles one packet per stream per engine run, so the index of
  // the next packet is estimated from an authenticated state (RFC 3711
  // §3.3.1 assumes packets are processed one after the other).
  std::uint32_t unprotect_round = 0;

  // RFC 3711 §3.3.1: the index of a packet with `sequence`, from the highest
  // index so far; the first packet of a stream fixes s_l, its ROC is 0 or the
  // signalled one. -1: before index 0.
  std::int64_t srtp_index_of(std::uint16_t sequence) const {
    if (srtp_window.started()) return estimate_srtp_index(srtp_window.highest(), sequence);
    return static_cast<std::int64_t>((std::uint64_t{initial_roc} << 16) | sequence);
  }

  int slot_of(KeyHandle handle) const {
    for (int i = 0; i < key_count; ++i) {
      if (key_handles[static_cast<std::size_t>(i)] == handle) return i;
    }
    return -1;
  }
};

}  // namespace mrfp::srtp

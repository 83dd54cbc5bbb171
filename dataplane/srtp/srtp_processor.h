// What the dataplane calls: SRTP/SRTCP protect and unprotect over a burst of
// packets of many SSRCs, and the control-path calls that create, rekey and drop
// the per-SSRC contexts. Two implementations: SrtpSession (our protocol layer
// over any CryptoEngine) and LibsrtpReference (libsrtp2, the reference).
//
// On a worker lcore (one engine and one session per lcore, no locks):
//
//   IpsecMbEngine engine;                        // or the DPDK cryptodev engine
//   SrtpSession srtp(engine, {.max_streams = 4096, .replay_window = 256});
//   KeyHandle group = srtp.add_master_key(conference.group_key).handle;  // derive once
//   srtp.add_stream(participant_ssrc, {&group, 1});   // inbound stream
//   srtp.add_stream(common_output_ssrc, {&group, 1}); // outbound stream
//   ...
//   srtp.unprotect(rx_burst);   // per packet: view.status, view.length shrunk
//   srtp.protect(tx_burst);     // per packet: view.status, view.length grown
//
// Rekey (design.md): next = add_master_key(new_key); add_stream_key(ssrc, next)
// on every stream of the conference (inbound accepts both keys from now on);
// switch_sending_key(ssrc, next) on the output streams (the next packet is
// the first under the new key; stream_info() reports its sequence number);
// after the grace window switch_sending_key + remove_stream_key(ssrc, old) on
// the inbound streams, then remove_master_key(old) zeroises it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "dataplane/srtp/packet.h"
#include "dataplane/srtp/suite.h"

namespace mrfp::srtp {

// A master key installed in a processor; shared by every stream that uses it.
using KeyHandle = std::uint32_t;
inline constexpr std::size_t kMaxKeysPerStream = 4;

enum class SetupStatus : std::uint8_t {
  Ok,
  TableFull,      // stream or key capacity reached (preallocated, never grows)
  AlreadyExists,  // a stream with this SSRC exists
  UnknownSsrc,
  UnknownKey,     // not a live KeyHandle, or not a key of this stream
  InvalidKey,     // lengths do not match the suite, or MKI rules broken
  KeyInUse,       // removing a master key that streams still use / the sending key
  EngineRefused,  // the crypto engine could not prepare the keys
  Unsupported,    // this implementation cannot do it (the reference engine)
  StreamStarted,  // the stream has already protected or accepted a packet
};

struct ProcessorOptions {
  std::uint32_t max_streams = 1024;     // SSRC contexts, preallocated
  std::uint32_t max_master_keys = 64;   // master keys, preallocated
  std::uint32_t replay_window = 128;    // RFC 3711 §3.3.2, 64..1024, multiple of 64
  // RFC 3711 §9.2 key lifetime; lowered only by tests.
  std::uint64_t max_srtp_packets_per_key = std::uint64_t{1} << 48;
  std::uint64_t max_srtcp_packets_per_key = std::uint64_t{1} << 31;
};

struct KeyResult {
  SetupStatus status = SetupStatus::Ok;
  KeyHandle handle = 0;
};

// Read-only view of a stream's state, for statistics and for the rekey report.
struct StreamInfo {
  std::uint32_t roc = 0;                 // RFC 3711 §3.2.1 rollover counter (send or highest received)
  std::uint16_t highest_sequence = 0;
  std::uint32_t srtcp_index = 0;         // next SRTCP index to send / highest received
  KeyHandle sending_key = 0;
  // The first sequence number protected under the sending key after the last
  // switch_sending_key(); empty until such a packet was protected.
  std::optional<std::uint16_t> first_sequence_under_sending_key;
};

class SrtpProcessor {
 public:
  virtual ~SrtpProcessor() = default;

  // ---- control path (may allocate only in add_master_key's engine prepare) ----
  // Derives the session keys once (RFC 3711 §4.3, rate 0) and precomputes the
  // engine state; every stream added with this handle shares them.
  virtual KeyResult add_master_key(const MasterKey& key) = 0;
  // Zeroises and frees the key; fails with KeyInUse while a stream uses it.
  virtual SetupStatus remove_master_key(KeyHandle key) = 0;

  // A stream with one or more master keys (RFC 3711 §3.1: several keys are
  // told apart by their MKI). keys[sending] protects outbound packets; inbound
  // packets are accepted under any of them.
  virtual SetupStatus add_stream(std::uint32_t ssrc, std::span<const KeyHandle> keys,
                                 std::size_t sending = 0) = 0;
  virtual SetupStatus remove_stream(std::uint32_t ssrc) = 0;

  // Rekey: add the next key (inbound accepts it at once), switch the sending
  // key at one packet boundary, later remove the old key (end of grace window).
  virtual SetupStatus add_stream_key(std::uint32_t ssrc, KeyHandle key) = 0;
  virtual SetupStatus switch_sending_key(std::uint32_t ssrc, KeyHandle key) = 0;
  virtual SetupStatus remove_stream_key(std::uint32_t ssrc, KeyHandle key) = 0;

  // RFC 3711 §3.3.1: the ROC a stream starts with when it does not start at 0
  // (a receiver joining a running stream, the ROC signalled by MIKEY). Only
  // before the stream's first packet.
  virtual SetupStatus set_stream_roc(std::uint32_t ssrc, std::uint32_t roc) = 0;

  virtual std::optional<StreamInfo> stream_info(std::uint32_t ssrc) const = 0;

  // ---- packet path: in place, every packet gets a status, never throws ----
  virtual void protect(std::span<PacketView> burst) = 0;        // RFC 3711 §3.3
  virtual void unprotect(std::span<PacketView> burst) = 0;      // RFC 3711 §3.3
  virtual void protect_rtcp(std::span<PacketView> burst) = 0;   // RFC 3711 §3.4
  virtual void unprotect_rtcp(std::span<PacketView> burst) = 0; // RFC 3711 §3.4
};

}  // namespace mrfp::srtp

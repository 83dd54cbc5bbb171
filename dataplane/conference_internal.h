// What the conference's source files share and nobody else needs: the
// participant and output-stream records, the constants of the packet path, and
// small helpers. conference.cpp (life cycle), conference_keys.cpp (rekey),
// conference_receive.cpp (stage and flush), conference_send.cpp (the tick).
#pragma once

#include <arpa/inet.h>
#include <time.h>

#include <cstring>
#include <string>

#include "dataplane/conference.h"

namespace mrfp::dataplane {

inline constexpr std::size_t kTxSlotBytes = 1600;
// RFC 3550 §6.2: an SR at least every 5 s per stream (audio conferences send
// far below the 5% RTCP bandwidth share at that rate).
inline constexpr std::int64_t kSenderReportIntervalUs = 5'000'000;
// A stream's reports go to at most this many listeners per tick, a fresh SR
// each tick, until every listener has had one. Sent to all 15,000 listeners of
// a common stream at once, they doubled that tick's output (30,000 frames),
// more than a 16,384-frame TX ring holds; 256 a tick cover 15,000 in 1.2 s.
inline constexpr std::size_t kSenderReportsPerTick = 256;
inline constexpr std::int64_t kEventRateLimitUs = 1'000'000;
// A tick later than this many frames resynchronises the clock instead of
// catching up (e.g. after the process was stopped), and counts an overrun.
inline constexpr int kMaxCatchUpTicks = 50;
// RFC 3550 §6.3.5 times a member out after five report intervals without
// hearing from it; at the 5 s minimum interval that is 25 s. We report it (the
// MRFC decides whether to remove the participant), once per silence.
inline constexpr std::int64_t kInactivityTimeoutUs = 25'000'000;
inline constexpr std::uint64_t kInactivityCheckTicks = 50;

inline bool same_endpoint(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return x.sin6_port == y.sin6_port && std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
  }
  return false;
}

inline Error setup_error(srtp::SetupStatus status, const std::string& what) {
  switch (status) {
    case srtp::SetupStatus::TableFull:
      return {ErrorCode::ResourceExhausted, what + ": SRTP context table is full"};
    case srtp::SetupStatus::AlreadyExists:
      return {ErrorCode::AlreadyExists, what + ": SRTP context exists"};
    case srtp::SetupStatus::InvalidKey:
      return {ErrorCode::InvalidArgument, what + ": key, salt or MKI length does not fit the suite"};
    case srtp::SetupStatus::EngineRefused:
      return {ErrorCode::FailedPrecondition, what + ": the SRTP engine cannot use this suite"};
    default:
      return {ErrorCode::Internal, what + ": SRTP setup failed (status " +
                                       std::to_string(static_cast<int>(status)) + ")"};
  }
}

inline std::uint64_t ntp_now() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  constexpr std::uint64_t kUnixToNtp = 2208988800ull;  // RFC 5905: 1900 to 1970
  const std::uint64_t seconds = static_cast<std::uint64_t>(now.tv_sec) + kUnixToNtp;
  const std::uint64_t fraction = (static_cast<std::uint64_t>(now.tv_nsec) << 32) / 1'000'000'000ull;
  return seconds << 32 | fraction;
}


// Every received packet reads the fields up to and including the first line of
// `counters` (its rx counts), so they come first, in four cache lines from a
// line start: Conference::prefetch() asks for those four for a whole burst.
// (At 15,000 participants stage() waited on the counters and last_packet_us,
// which lay on lines 5 and 8, outside the two lines it prefetched.)
struct alignas(64) Conference::Participant {
  ParticipantId id = 0;
  mixer::ParticipantHandle handle{};
  mixer::Codec codec{};
  std::uint8_t payload_type = 0;
  mixer::Direction direction{};
  std::uint8_t level_ext_id = 0;
  bool mute = false, deaf = false, hold = false;
  bool timed_out = false;
  std::optional<std::uint32_t> ssrc;      // declared, or latched from the first authenticated packet
  std::optional<std::uint32_t> latching;  // SSRC tried in this burst, not yet authenticated
  std::int64_t last_packet_us = 0;  // 0: none yet since it joined (then join time counts)
  std::optional<sockaddr_storage> remote;  // configured, or learned from the first authenticated packet
  Counters counters;
  std::uint32_t local_port_index = 0;
  Endpoint local;
  std::optional<srtp::KeyHandle> own_key;
  OutputStream* common = nullptr;     // the stream it hears while not speaking
  OutputStream* mix_minus = nullptr;  // the stream it hears while speaking
  double jitter_ms = 0, round_trip_ms = 0, fraction_lost = 0;
  std::int64_t last_event_us = -kEventRateLimitUs;

  bool sending() const { return mixer::sends_to_mixer(direction) && !hold; }
};

struct Conference::OutputStream {
  std::uint32_t ssrc = 0;
  // sequence = frame index + sequence_offset; see move_to_fresh_ssrc() for why an
  // SSRC carries fewer than 2^15 packets.
  std::uint16_t sequence_offset = 0;
  std::uint16_t next_sequence = 0;
  std::uint32_t packets_under_ssrc = 0;
  bool restart_sequence = false;  // a new SSRC: its sequence starts at next_sequence
  bool mark_next = false;  // the first packet under a new SSRC carries the marker
  std::uint32_t packets = 0, octets = 0;
  std::int64_t next_report_us = 0;
  std::size_t report_cursor = 0;  // listeners of this round's SR already sent to; 0: no round open
  std::string purpose;
};

}  // namespace mrfp::dataplane

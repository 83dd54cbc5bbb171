// Receives every listener's stream from the transport and keeps per-listener
// counts; for the sampled listeners it also decrypts (libsrtp2, the group key)
// and decodes, placing each frame's audio and arrival time by its RTP
// timestamp, for the tone and latency analysis after the run.
#pragma once

#include <opus/opus.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "bench/loadgen/load_plan.h"
#include "bench/loadgen/transport.h"
#include "bench/peer/libsrtp_session.h"

namespace mrfp::loadgen {

struct ListenerRecord {
  std::uint64_t packets = 0, bytes = 0, rtcp = 0;
  std::uint64_t unique_frames = 0, duplicates = 0, reordered = 0;
  std::uint64_t auth_failures = 0;  // sampled listeners only
  std::uint64_t ssrc_changes = 0;
  bool started = false;
  std::uint32_t first_timestamp = 0, last_ssrc = 0;
  std::int64_t lowest_frame = 0, highest_frame = 0;
  // RFC 3550 §6.4.1 interarrival jitter, in nanoseconds.
  double jitter_ns = 0;
  std::int64_t previous_arrival_ns = 0, previous_transit_ns = 0;
  std::int64_t max_gap_ns = 0;
  std::vector<std::uint8_t> seen;  // by frame index (+ kFrameBias)

  // Sampled listeners.
  std::unique_ptr<sim::LibsrtpSession> inbound;
  OpusDecoder* opus = nullptr;
  std::vector<std::int16_t> audio;        // frame i at [i * samples_per_frame, ...)
  std::vector<std::int64_t> arrival_ns;   // by frame index; 0: never arrived

  std::uint64_t lost() const {
    if (!started) return 0;
    const auto expected = static_cast<std::uint64_t>(highest_frame - lowest_frame + 1);
    return expected > unique_frames ? expected - unique_frames : 0;
  }
};

class ListenerMonitor {
 public:
  // Frames of a listener may arrive this many frames before the first one seen
  // (reordering at the start) and still be placed.
  static constexpr std::int64_t kFrameBias = 256;

  ListenerMonitor(const LoadPlan& plan, Transport& transport, const std::vector<srtp::MasterKey>& group_keys);
  ~ListenerMonitor();
  ListenerMonitor(const ListenerMonitor&) = delete;
  ListenerMonitor& operator=(const ListenerMonitor&) = delete;

  // The receive loop; returns when `stop` is set (checked every 50 ms).
  void run(const std::atomic<bool>& stop);
  // One receive (waiting up to timeout_ms; 0 polls once) and every datagram in
  // it checked; `batch` holds at least one datagram. Returns how many arrived.
  std::size_t receive(std::span<ReceivedDatagram> batch, int timeout_ms);

  const std::vector<ListenerRecord>& listeners() const { return listeners_; }
  std::uint64_t socket_drops() const { return transport_.receive_drops(); }
  std::uint64_t stray_packets() const { return stray_ + transport_.stray_packets(); }
  std::uint64_t total_packets() const { return total_.load(std::memory_order_relaxed); }

 private:
  void on_packet(std::uint32_t participant, std::uint8_t* packet, std::size_t length, std::int64_t arrival_ns);
  void decode_sampled(ListenerRecord& listener, std::uint8_t* packet, std::size_t length, std::int64_t frame);

  const LoadPlan& plan_;
  Transport& transport_;
  std::vector<ListenerRecord> listeners_;
  std::uint64_t stray_ = 0;
  std::atomic<std::uint64_t> total_{0};
};

}  // namespace mrfp::loadgen

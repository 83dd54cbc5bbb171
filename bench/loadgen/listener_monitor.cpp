#include "bench/loadgen/listener_monitor.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "bench/peer/sim_audio.h"

namespace mrfp::loadgen {

namespace {
std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t get32(const std::uint8_t* p) { return std::uint32_t{get16(p)} << 16 | get16(p + 2); }

// Floor division: frames before the first one seen get negative indexes.
std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
}  // namespace

ListenerMonitor::ListenerMonitor(const LoadPlan& plan, Transport& transport,
                                 const std::vector<srtp::MasterKey>& group_keys)
    : plan_(plan), transport_(transport), listeners_(plan.participant_count()) {
  const std::size_t frame_slots = plan.frames() + 2 * kFrameBias + 64;
  for (std::uint32_t p = 0; p < plan.participant_count(); ++p) {
    auto& listener = listeners_[p];
    listener.seen.assign(frame_slots, 0);
    if (!plan.sampled(p)) continue;
    listener.inbound = std::make_unique<sim::LibsrtpSession>(group_keys[plan.conference_of(p)],
                                                             sim::LibsrtpSession::Direction::Inbound);
    listener.audio.assign(frame_slots * plan.samples_per_frame(), 0);
    listener.arrival_ns.assign(frame_slots, 0);
    if (plan.options().codec == mixer::Codec::Opus) {
      int error = 0;
      listener.opus = opus_decoder_create(48000, 1, &error);
      if (!listener.opus) throw std::runtime_error("opus_decoder_create failed");
    }
  }
}

ListenerMonitor::~ListenerMonitor() {
  for (auto& listener : listeners_) {
    if (listener.opus) opus_decoder_destroy(listener.opus);
  }
}

void ListenerMonitor::run(const std::atomic<bool>& stop) {
  std::vector<ReceivedDatagram> batch(transport_.max_receive_batch());
  while (!stop.load(std::memory_order_relaxed)) receive(batch, 50);
}

std::size_t ListenerMonitor::receive(std::span<ReceivedDatagram> batch, int timeout_ms) {
  const std::size_t received = transport_.receive(batch, timeout_ms);
  for (std::size_t i = 0; i < received; ++i) {
    const ReceivedDatagram& datagram = batch[i];
    if (datagram.participant >= listeners_.size()) {
      ++stray_;
      continue;
    }
    on_packet(datagram.participant, datagram.bytes, datagram.length, datagram.arrival_ns);
  }
  total_.fetch_add(received, std::memory_order_relaxed);
  return received;
}

void ListenerMonitor::on_packet(std::uint32_t participant, std::uint8_t* packet, std::size_t length,
                                std::int64_t arrival_ns) {
  ListenerRecord& listener = listeners_[participant];
  if (length < 12 || (packet[0] >> 6) != 2) {
    ++stray_;
    return;
  }
  // RFC 5761 §4: RTCP packet types 200-204 sit where RTP has M + PT.
  if (packet[1] >= 192 && packet[1] <= 223) {
    ++listener.rtcp;
    return;
  }
  ++listener.packets;
  listener.bytes += length;
  const std::uint32_t timestamp = get32(packet + 4);
  const std::uint32_t ssrc = get32(packet + 8);
  if (!listener.started) {
    listener.started = true;
    listener.first_timestamp = timestamp;
    listener.last_ssrc = ssrc;
  }
  if (ssrc != listener.last_ssrc) {
    ++listener.ssrc_changes;
    listener.last_ssrc = ssrc;
  }
  // Every output stream of a conference shares one RTP clock, so the timestamp
  // numbers the listener's frames across SSRC switches; sequence numbers do not.
  const auto ticks = static_cast<std::int64_t>(static_cast<std::int32_t>(timestamp - listener.first_timestamp));
  const std::int64_t frame = floor_div(ticks, plan_.rtp_ticks_per_frame());
  const std::int64_t slot = frame + kFrameBias;
  if (slot < 0 || static_cast<std::size_t>(slot) >= listener.seen.size()) return;
  if (listener.seen[static_cast<std::size_t>(slot)]) {
    ++listener.duplicates;
    return;
  }
  listener.seen[static_cast<std::size_t>(slot)] = 1;
  ++listener.unique_frames;
  if (listener.unique_frames == 1) {
    listener.lowest_frame = listener.highest_frame = frame;
  } else if (frame < listener.highest_frame) {
    ++listener.reordered;
    listener.lowest_frame = std::min(listener.lowest_frame, frame);
  } else {
    listener.highest_frame = frame;
  }
  const double clock = mixer::rtp_clock_rate(plan_.options().codec);
  const auto transit = arrival_ns - static_cast<std::int64_t>(static_cast<double>(ticks) * 1e9 / clock);
  if (listener.previous_arrival_ns != 0) {
    const double difference = std::abs(static_cast<double>(transit - listener.previous_transit_ns));
    listener.jitter_ns += (difference - listener.jitter_ns) / 16;
    listener.max_gap_ns = std::max(listener.max_gap_ns, arrival_ns - listener.previous_arrival_ns);
  }
  listener.previous_arrival_ns = arrival_ns;
  listener.previous_transit_ns = transit;
  if (listener.inbound) {
    listener.arrival_ns[static_cast<std::size_t>(slot)] = arrival_ns;
    decode_sampled(listener, packet, length, slot);
  }
}

void ListenerMonitor::decode_sampled(ListenerRecord& listener, std::uint8_t* packet, std::size_t length,
                                     std::int64_t slot) {
  const int plain = listener.inbound->unprotect(packet, static_cast<int>(length));
  if (plain < 12) {
    ++listener.auth_failures;
    return;
  }
  auto end = static_cast<std::size_t>(plain);
  std::size_t header = 12 + 4u * (packet[0] & 0x0F);
  if ((packet[0] & 0x10) && end >= header + 4) header += 4 + 4u * get16(packet + header + 2);
  if ((packet[0] & 0x20) && end > header) end -= packet[end - 1];  // RFC 3550 §5.1 padding
  if (header >= end) return;
  const std::size_t samples = plan_.samples_per_frame();
  std::int16_t* out = listener.audio.data() + static_cast<std::size_t>(slot) * samples;
  const std::uint8_t* payload = packet + header;
  const std::size_t payload_length = end - header;
  switch (plan_.options().codec) {
    case mixer::Codec::Pcmu:
      for (std::size_t i = 0; i < std::min(samples, payload_length); ++i) out[i] = sim::linear_from_pcmu(payload[i]);
      break;
    case mixer::Codec::Pcma:
      for (std::size_t i = 0; i < std::min(samples, payload_length); ++i) out[i] = sim::linear_from_pcma(payload[i]);
      break;
    case mixer::Codec::Opus: {
      std::int16_t pcm[5760];
      const int decoded = opus_decode(listener.opus, payload, static_cast<opus_int32>(payload_length), pcm, 5760, 0);
      if (decoded > 0) std::copy_n(pcm, std::min(samples, static_cast<std::size_t>(decoded)), out);
      break;
    }
  }
}

}  // namespace mrfp::loadgen

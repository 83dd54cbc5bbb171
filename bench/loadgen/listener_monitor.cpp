#include "bench/loadgen/listener_monitor.h"

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "bench/peer/paced_sender.h"
#include "bench/peer/sim_audio.h"

namespace mrfp::loadgen {

namespace {
constexpr std::size_t kBatch = 256;
constexpr std::size_t kMaxDatagram = 2048;

std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t get32(const std::uint8_t* p) { return std::uint32_t{get16(p)} << 16 | get16(p + 2); }

std::int64_t clock_ns(clockid_t clock) {
  timespec now{};
  clock_gettime(clock, &now);
  return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

// Floor division: frames before the first one seen get negative indexes.
std::int64_t floor_div(std::int64_t a, std::int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
}  // namespace

ListenerMonitor::ListenerMonitor(const LoadPlan& plan, int socket_fd, const std::vector<srtp::MasterKey>& group_keys)
    : plan_(plan), fd_(socket_fd), listeners_(plan.participant_count()) {
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
  // Kernel receive stamps are CLOCK_REALTIME; the sender's deadlines are monotonic.
  realtime_to_monotonic_ns_ = clock_ns(CLOCK_MONOTONIC) - clock_ns(CLOCK_REALTIME);
}

ListenerMonitor::~ListenerMonitor() {
  for (auto& listener : listeners_) {
    if (listener.opus) opus_decoder_destroy(listener.opus);
  }
}

void ListenerMonitor::run(const std::atomic<bool>& stop) {
  struct Slot {
    std::uint8_t data[kMaxDatagram];
    alignas(cmsghdr) std::uint8_t control[256];
    sockaddr_in source;
    iovec iov;
  };
  std::vector<Slot> slots(kBatch);
  std::vector<mmsghdr> messages(kBatch);
  while (!stop.load(std::memory_order_relaxed)) {
    pollfd waiting{fd_, POLLIN, 0};
    if (poll(&waiting, 1, 50) <= 0) continue;
    for (;;) {
      for (std::size_t i = 0; i < kBatch; ++i) {
        slots[i].iov = {slots[i].data, kMaxDatagram};
        msghdr& header = messages[i].msg_hdr;
        header = {};
        header.msg_name = &slots[i].source;
        header.msg_namelen = sizeof(sockaddr_in);
        header.msg_iov = &slots[i].iov;
        header.msg_iovlen = 1;
        header.msg_control = slots[i].control;
        header.msg_controllen = sizeof slots[i].control;
      }
      const int received = recvmmsg(fd_, messages.data(), kBatch, MSG_DONTWAIT, nullptr);
      if (received <= 0) break;
      const std::int64_t fallback_arrival = clock_ns(CLOCK_MONOTONIC);
      for (int i = 0; i < received; ++i) {
        msghdr& header = messages[static_cast<std::size_t>(i)].msg_hdr;
        std::int64_t arrival = fallback_arrival;
        bool addressed = false;
        std::uint32_t participant = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&header); c; c = CMSG_NXTHDR(&header, c)) {
          if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo info{};
            std::memcpy(&info, CMSG_DATA(c), sizeof info);
            addressed = participant_index_of(info.ipi_addr, participant);
          } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
            timespec stamp{};
            std::memcpy(&stamp, CMSG_DATA(c), sizeof stamp);
            arrival = std::int64_t{stamp.tv_sec} * 1'000'000'000 + stamp.tv_nsec + realtime_to_monotonic_ns_;
          } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
            std::uint32_t drops = 0;
            std::memcpy(&drops, CMSG_DATA(c), sizeof drops);
            socket_drops_ = std::max<std::uint64_t>(socket_drops_, drops);
          }
        }
        if (!addressed || participant >= listeners_.size()) {
          ++stray_;
          continue;
        }
        on_packet(participant, slots[static_cast<std::size_t>(i)].data, messages[static_cast<std::size_t>(i)].msg_len,
                  arrival);
      }
      total_.fetch_add(static_cast<std::uint64_t>(received), std::memory_order_relaxed);
      if (static_cast<std::size_t>(received) < kBatch) break;
    }
  }
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

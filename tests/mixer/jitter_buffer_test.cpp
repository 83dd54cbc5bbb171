// The jitter buffer against simulated networks: packets are sent every 20 ms
// (8 kHz RTP clock, 160 units a frame), delayed, reordered, duplicated or
// lost, and the mixer's tick pops one frame every 20 ms.
#include "mixer/jitter_buffer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <vector>

namespace mrfp::mixer {
namespace {

constexpr std::uint32_t kFrameTs = 160;
constexpr std::int64_t kFrameUs = 20000;

struct SimPacket {
  std::uint16_t sequence;
  std::uint32_t timestamp;
  std::int64_t arrival_us;
  std::array<std::uint8_t, 4> payload;  // the packet's index, to check what plays
  std::optional<AudioLevel> level;
};

std::uint32_t index_of(std::span<const std::uint8_t> payload) {
  return static_cast<std::uint32_t>(payload[0]) | static_cast<std::uint32_t>(payload[1]) << 8 |
         static_cast<std::uint32_t>(payload[2]) << 16 | static_cast<std::uint32_t>(payload[3]) << 24;
}

// A sender's stream: packet i sent at i * period, sequence and timestamp from
// the given starting points; the network adds `delay_us(i)`.
template <typename DelayFn>
std::vector<SimPacket> make_stream(int count, DelayFn delay_us, std::uint16_t first_sequence = 1000,
                                   std::uint32_t first_timestamp = 50000, double period_us = kFrameUs) {
  std::vector<SimPacket> packets;
  packets.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    const auto index = static_cast<std::uint32_t>(i);
    SimPacket packet{};
    packet.sequence = static_cast<std::uint16_t>(first_sequence + index);
    packet.timestamp = first_timestamp + index * kFrameTs;
    packet.arrival_us = static_cast<std::int64_t>(period_us * i) + delay_us(i);
    packet.payload = {static_cast<std::uint8_t>(index), static_cast<std::uint8_t>(index >> 8),
                      static_cast<std::uint8_t>(index >> 16), static_cast<std::uint8_t>(index >> 24)};
    packets.push_back(packet);
  }
  return packets;
}

RtpPacketInfo info_of(const SimPacket& packet) {
  return RtpPacketInfo{packet.sequence, packet.timestamp, packet.payload, packet.level, packet.arrival_us};
}

struct Played {
  PlayoutKind kind;
  std::uint32_t index;        // packet index for Packet, or of the FEC payload for Conceal
  bool has_payload;
  std::uint32_t depth_frames; // depth before the pop
  std::uint32_t target_frames;
};

// Delivers packets in arrival order and ticks every 20 ms (half a frame after
// the sender's grid) until `ticks` pops have been made. Each pop is told the
// tick's time unless `tell_time` is false.
class Simulation {
 public:
  explicit Simulation(JitterBufferConfig config, bool tell_time = true) : buffer_(config), tell_time_(tell_time) {}

  std::vector<Played> run(std::vector<SimPacket> packets, int ticks, std::int64_t first_tick_us = kFrameUs / 2) {
    std::stable_sort(packets.begin(), packets.end(),
                     [](const SimPacket& a, const SimPacket& b) { return a.arrival_us < b.arrival_us; });
    std::vector<Played> played;
    played.reserve(static_cast<std::size_t>(ticks));
    std::size_t next = 0;
    for (int tick = 0; tick < ticks; ++tick) {
      const std::int64_t now = first_tick_us + tick * kFrameUs;
      while (next < packets.size() && packets[next].arrival_us <= now) {
        results_.push_back(buffer_.push(info_of(packets[next])));
        ++next;
      }
      max_buffered_ = std::max(max_buffered_, buffer_.buffered_packets());
      const std::uint32_t depth = buffer_.current_depth_frames();
      const std::uint32_t target = buffer_.target_depth_frames();
      const PlayoutFrame frame = tell_time_ ? buffer_.pop(now) : buffer_.pop();
      played.push_back(Played{frame.kind, frame.payload.empty() ? 0 : index_of(frame.payload), !frame.payload.empty(),
                              depth, target});
    }
    return played;
  }

  JitterBuffer& buffer() { return buffer_; }
  const std::vector<PushResult>& push_results() const { return results_; }
  std::size_t max_buffered() const { return max_buffered_; }

 private:
  JitterBuffer buffer_;
  bool tell_time_;
  std::vector<PushResult> results_;
  std::size_t max_buffered_ = 0;
};

JitterBufferConfig narrowband(std::uint32_t min_depth = 1) {
  JitterBufferConfig config;
  config.clock_rate_hz = 8000;
  config.frame_ms = 20;
  config.min_depth_frames = min_depth;
  return config;
}

// The packet indices played, in order.
std::vector<std::uint32_t> packets_played(const std::vector<Played>& played) {
  std::vector<std::uint32_t> indices;
  for (const Played& p : played) {
    if (p.kind == PlayoutKind::Packet) indices.push_back(p.index);
  }
  return indices;
}

std::vector<std::uint32_t> range(std::uint32_t first, std::uint32_t count) {
  std::vector<std::uint32_t> indices(count);
  for (std::uint32_t i = 0; i < count; ++i) indices[i] = first + i;
  return indices;
}

auto constant_delay(std::int64_t us) {
  return [us](int) { return us; };
}

TEST(JitterBuffer, IdleUntilTheFirstPacket) {
  JitterBuffer buffer(narrowband());
  EXPECT_EQ(buffer.pop().kind, PlayoutKind::Idle);
  EXPECT_EQ(buffer.latest_audio_level(), std::nullopt);
}

TEST(JitterBuffer, SteadyStreamPlaysEveryPacketInOrderAtMinimumDepth) {
  Simulation sim(narrowband());
  const auto played = sim.run(make_stream(100, constant_delay(3000)), 100);
  EXPECT_EQ(packets_played(played), range(0, 100));
  const auto& stats = sim.buffer().stats();
  EXPECT_EQ(stats.concealed, 0u);
  EXPECT_EQ(stats.lost, 0u);
  EXPECT_EQ(sim.buffer().target_depth_frames(), 1u);
  EXPECT_LE(sim.max_buffered(), 2u);
}

TEST(JitterBuffer, ReorderedPacketsPlayInSequence) {
  // Every odd packet overtakes the even one before it by 12 ms.
  Simulation sim(narrowband(2));
  const auto played = sim.run(make_stream(100, [](int i) { return i % 2 == 0 ? 14000 : 2000; }), 102);
  EXPECT_EQ(packets_played(played), range(0, 100));
  EXPECT_EQ(sim.buffer().stats().concealed, 0u);
  EXPECT_EQ(sim.buffer().stats().late, 0u);
}

TEST(JitterBuffer, PacketOvertakingTheFirstOneStillPlaysFirst) {
  // Packet 1 arrives before packet 0, both before the first tick.
  Simulation sim(narrowband());
  const auto played = sim.run(make_stream(20, [](int i) { return i == 0 ? 8000 : 2000 - kFrameUs; }), 21);
  EXPECT_EQ(packets_played(played), range(0, 20));
  EXPECT_EQ(sim.buffer().stats().late, 0u);
}

TEST(JitterBuffer, PacketOvertakingTheFirstOneAcrossTheSequenceWrap) {
  // Sequence numbers 65534, 65535, 0, ...: the one numbered 0 arrives first.
  Simulation sim(narrowband());
  const auto played =
      sim.run(make_stream(20, [](int i) { return i < 2 ? 9000 : 2000 - 2 * kFrameUs; }, 65534), 21);
  EXPECT_EQ(packets_played(played), range(0, 20));
  EXPECT_EQ(sim.buffer().stats().late, 0u);
}

TEST(JitterBuffer, WidebandClockStreamWithLoss) {
  // Opus: 48 kHz RTP clock, 960 units a frame; a loss with FEC offered.
  JitterBufferConfig config;
  config.clock_rate_hz = 48000;
  config.min_depth_frames = 2;
  JitterBuffer buffer(config);
  std::array<std::uint8_t, 4> payload{};
  int packets = 0;
  int concealed_with_fec = 0;
  for (int i = 0; i < 50; ++i) {
    if (i != 25) {
      payload[0] = static_cast<std::uint8_t>(i);
      buffer.push(RtpPacketInfo{static_cast<std::uint16_t>(7 + i), 960u * static_cast<std::uint32_t>(i), payload,
                                std::nullopt, i * kFrameUs});
    }
    const PlayoutFrame frame = buffer.pop();
    if (frame.kind == PlayoutKind::Packet) ++packets;
    if (frame.kind == PlayoutKind::Conceal && !frame.payload.empty()) {
      ++concealed_with_fec;
      EXPECT_EQ(frame.payload[0], 26);
    }
  }
  EXPECT_EQ(packets, 48);  // 49 sent, the last still buffered at depth 2
  EXPECT_EQ(concealed_with_fec, 1);
  EXPECT_EQ(buffer.stats().lost, 1u);
  EXPECT_EQ(buffer.extended_highest_sequence(), 7 + 49);
}

TEST(JitterBuffer, DuplicatesAreDroppedWhetherBufferedOrAlreadyPlayed) {
  auto packets = make_stream(50, constant_delay(2000));
  auto copies = make_stream(50, constant_delay(3000));  // a copy 1 ms behind: still buffered
  auto stale = make_stream(10, constant_delay(300000));  // a copy 300 ms behind: long played
  packets.insert(packets.end(), copies.begin(), copies.end());
  packets.insert(packets.end(), stale.begin(), stale.end());
  Simulation sim(narrowband());
  const auto played = sim.run(packets, 50);
  EXPECT_EQ(packets_played(played), range(0, 50));
  EXPECT_EQ(sim.buffer().stats().duplicate, 60u);
  EXPECT_EQ(sim.buffer().stats().late, 0u);
  EXPECT_EQ(std::count(sim.push_results().begin(), sim.push_results().end(), PushResult::Duplicate), 60);
}

TEST(JitterBuffer, LostPacketIsConcealedWithTheNextPacketOfferedForFec) {
  auto packets = make_stream(40, constant_delay(2000));
  packets.erase(packets.begin() + 10);
  Simulation sim(narrowband(2));
  const auto played = sim.run(packets, 41);  // one tick of priming at depth 2, then 40 frames
  // Find the concealed frame: between packets 9 and 11, carrying packet 11 for FEC.
  auto conceal = std::find_if(played.begin(), played.end(), [](const Played& p) { return p.kind == PlayoutKind::Conceal; });
  ASSERT_NE(conceal, played.end());
  EXPECT_TRUE(conceal->has_payload);
  EXPECT_EQ(conceal->index, 11u);
  EXPECT_EQ((conceal - 1)->index, 9u);
  EXPECT_EQ((conceal + 1)->kind, PlayoutKind::Packet);
  EXPECT_EQ((conceal + 1)->index, 11u);
  const auto& stats = sim.buffer().stats();
  EXPECT_EQ(stats.lost, 1u);
  EXPECT_EQ(stats.concealed, 1u);
  EXPECT_EQ(stats.fec_offered, 1u);
  EXPECT_EQ(stats.played, 39u);
}

TEST(JitterBuffer, LossAtMinimumDepthConcealsWithoutFec) {
  // At depth 1 the next packet is not there yet when the gap is due: plain PLC.
  auto packets = make_stream(40, constant_delay(2000));
  packets.erase(packets.begin() + 10);
  Simulation sim(narrowband(1));
  const auto played = sim.run(packets, 40);
  EXPECT_EQ(sim.buffer().stats().concealed, 1u);
  EXPECT_EQ(sim.buffer().stats().fec_offered, 0u);
  EXPECT_EQ(sim.buffer().stats().lost, 1u);
  auto indices = packets_played(played);
  EXPECT_EQ(std::count(indices.begin(), indices.end(), 10u), 0);
}

TEST(JitterBuffer, PacketArrivingAfterItsFrameIsCountedLateAndDropped) {
  // Packet 10 is 70 ms late: by then 11 and 12 have played.
  Simulation sim(narrowband());
  const auto played = sim.run(make_stream(40, [](int i) { return i == 10 ? 72000 : 2000; }), 40);
  const auto& stats = sim.buffer().stats();
  EXPECT_EQ(stats.late, 1u);
  EXPECT_EQ(stats.concealed, 1u);
  EXPECT_EQ(stats.lost, 1u);
  const auto indices = packets_played(played);
  EXPECT_EQ(std::count(indices.begin(), indices.end(), 10u), 0);
  EXPECT_TRUE(std::is_sorted(indices.begin(), indices.end()));
  EXPECT_EQ(std::count(sim.push_results().begin(), sim.push_results().end(), PushResult::Late), 1);
}

TEST(JitterBuffer, DelaySpikePlaysLatePacketsAndGrowsTheDelay) {
  // From packet 20 on, everything arrives 60 ms later (a route change): the
  // buffer conceals the hole, then plays on from packet 20, 3 frames deeper.
  Simulation sim(narrowband());
  const auto played = sim.run(make_stream(60, [](int i) { return i < 20 ? 2000 : 62000; }), 60);
  const auto indices = packets_played(played);
  EXPECT_EQ(indices, range(0, static_cast<std::uint32_t>(indices.size())));
  EXPECT_EQ(sim.buffer().stats().lost, 0u);
  EXPECT_EQ(sim.buffer().stats().concealed, 3u);
  EXPECT_EQ(sim.buffer().stats().stretched, 3u);
}

TEST(JitterBuffer, DepthAdaptsUpUnderJitterThenBackDown) {
  // 10 s calm, 10 s of up to 80 ms random extra delay, 20 s calm.
  std::mt19937 random(7);
  std::uniform_int_distribution<std::int64_t> jitter_us(0, 80000);
  constexpr int kCalm = 500;
  constexpr int kBurstEnd = 1000;
  constexpr int kTotal = 2000;
  auto delay = [&](int i) { return 2000 + (i >= kCalm && i < kBurstEnd ? jitter_us(random) : 0); };
  Simulation sim(narrowband());
  const auto played = sim.run(make_stream(kTotal, delay), kTotal);

  auto mean_target = [&](int from, int to) {
    double sum = 0;
    for (int i = from; i < to; ++i) sum += played[static_cast<std::size_t>(i)].target_frames;
    return sum / (to - from);
  };
  auto mean_depth = [&](int from, int to) {
    double sum = 0;
    for (int i = from; i < to; ++i) sum += played[static_cast<std::size_t>(i)].depth_frames;
    return sum / (to - from);
  };
  auto concealed = [&](int from, int to) {
    return std::count_if(played.begin() + from, played.begin() + to,
                         [](const Played& p) { return p.kind == PlayoutKind::Conceal; });
  };
  const double calm_target = mean_target(kCalm - 100, kCalm);
  const double burst_target = mean_target(kBurstEnd - 250, kBurstEnd);
  const double after_target = mean_target(kTotal - 100, kTotal);
  const double burst_depth = mean_depth(kBurstEnd - 250, kBurstEnd);
  const double after_depth = mean_depth(kTotal - 100, kTotal);
  RecordProperty("burst_target_frames", std::to_string(burst_target));
  RecordProperty("burst_depth_frames", std::to_string(burst_depth));
  RecordProperty("after_depth_frames", std::to_string(after_depth));
  RecordProperty("burst_concealed", std::to_string(concealed(kCalm, kBurstEnd + 100)));
  RecordProperty("late", std::to_string(sim.buffer().stats().late));
  RecordProperty("stretched", std::to_string(sim.buffer().stats().stretched));
  RecordProperty("dropped_for_depth", std::to_string(sim.buffer().stats().dropped_for_depth));
  EXPECT_EQ(calm_target, 1.0);
  EXPECT_GE(burst_target, 3.0) << "RFC 3550 jitter of uniform 0..80 ms is ~26 ms";
  EXPECT_GE(burst_depth, 3.0);
  EXPECT_LE(after_target, 1.0);
  EXPECT_LE(after_depth, 2.0) << "the delay comes back down";
  // The burst settles: its second half conceals far less than 1 frame in 10.
  EXPECT_LT(concealed(kBurstEnd - 250, kBurstEnd), 25);
  EXPECT_EQ(concealed(kBurstEnd + 100, kTotal), 0);
  const auto indices = packets_played(played);
  EXPECT_TRUE(std::is_sorted(indices.begin(), indices.end()));
  EXPECT_GT(sim.buffer().stats().dropped_for_depth, 0u);
}

// Frames of delay at each tick: the tick's index less the packet index it played.
std::vector<int> delay_frames(const std::vector<Played>& played) {
  std::vector<int> delays;
  for (std::size_t tick = 0; tick < played.size(); ++tick) {
    if (played[tick].kind == PlayoutKind::Packet) delays.push_back(static_cast<int>(tick) - static_cast<int>(played[tick].index));
  }
  return delays;
}

// Packets arrive 8 ms before their tick with +-0.3 ms of jitter: one frame of
// delay is enough, but the jitter makes the target 2 frames (1 + 3 J covers
// part of a frame). Packet 30, late past its tick but before the next,
// grows the delay to 2 frames.
auto early_arrivals_with_one_late(std::int64_t before_tick_us, std::int64_t late_us = 15000) {
  return [before_tick_us, late_us](int i) -> std::int64_t {
    const std::int64_t base = kFrameUs / 2 - before_tick_us + (i % 2 ? 300 : -300);
    return i == 30 ? base + late_us : base;
  };
}

TEST(JitterBuffer, DelayNobodyNeededIsTakenOutWhenPacketsWaitedAFrame) {
  Simulation sim(narrowband());
  const auto played = sim.run(make_stream(600, early_arrivals_with_one_late(8000)), 600);
  const auto delays = delay_frames(played);
  ASSERT_GT(delays.size(), 500u);
  EXPECT_EQ(delays[10], 0) << "one frame of delay (the tick that plays a packet is the one after it)";
  EXPECT_EQ(played[40].target_frames, 2u) << "the jitter alone sets the target to 2 frames";
  EXPECT_EQ(delays[60], 1) << "the late packet grew the delay by a frame";
  // Within two 50-tick windows the frame nobody needs goes again, and stays gone.
  for (std::size_t i = 200; i < delays.size(); ++i) ASSERT_EQ(delays[i], 0) << "packet " << i;
  EXPECT_EQ(sim.buffer().stats().dropped_for_depth, 1u);
  EXPECT_EQ(sim.buffer().stats().concealed, 1u) << "only the late packet's own frame";
  EXPECT_EQ(sim.buffer().stats().late, 0u);
}

TEST(JitterBuffer, WithoutTheTicksTimeTheDelayStaysAtTheTarget) {
  // The same stream through pop() without a time: the depth rule alone keeps the frame.
  Simulation sim(narrowband(), /*tell_time=*/false);
  const auto delays = delay_frames(sim.run(make_stream(600, early_arrivals_with_one_late(8000)), 600));
  EXPECT_EQ(delays.back(), 1);
  EXPECT_EQ(sim.buffer().stats().dropped_for_depth, 0u);
}

TEST(JitterBuffer, DelayStaysWhenPacketsArriveJustBeforeTheirTick) {
  // 0.8 ms before the tick, +-0.3 ms: a frame less would leave less than the
  // guard (1 ms + 3 J), so the second frame stays.
  Simulation sim(narrowband());
  const auto played = sim.run(make_stream(600, early_arrivals_with_one_late(800, 10000)), 600);
  const auto delays = delay_frames(played);
  for (std::size_t i = 60; i < delays.size(); ++i) ASSERT_EQ(delays[i], 1) << "packet " << i;
  EXPECT_EQ(sim.buffer().stats().dropped_for_depth, 0u);
  EXPECT_EQ(sim.buffer().stats().concealed, 1u);
}

TEST(JitterBuffer, DelayIsTakenOutOnAQuietFrameNotInSpeech) {
  // Speech (RFC 6464 level -20 dBov, voice) until packet 300, then background
  // noise (-70 dBov): the frame goes on the first quiet packet.
  auto packets = make_stream(600, early_arrivals_with_one_late(8000));
  for (std::size_t i = 0; i < packets.size(); ++i) {
    packets[i].level = i < 300 ? AudioLevel{20, true} : AudioLevel{70, false};
  }
  Simulation sim(narrowband());
  const auto played = sim.run(packets, 600);
  const auto delays = delay_frames(played);
  for (std::size_t i = 60; i < 300; ++i) ASSERT_EQ(delays[i], 1) << "packet " << i;
  for (std::size_t i = 302; i < delays.size(); ++i) ASSERT_EQ(delays[i], 0) << "packet " << i;
  const auto indices = packets_played(played);
  EXPECT_EQ(std::count(indices.begin(), indices.end(), 300u), 0) << "the first quiet packet was the one dropped";
  EXPECT_EQ(sim.buffer().stats().dropped_for_depth, 1u);
}

// A sender whose clock runs 100 ppm fast sends one frame too many every 200 s;
// one 100 ppm slow, one too few. Over an hour the buffer must neither grow
// nor starve: it drops or conceals about one frame per 200 s.
TEST(JitterBuffer, SenderClockDriftOf100PpmStaysBounded) {
  constexpr int kFrames = 180000;  // one hour of 20 ms frames
  for (const double ppm : {+100.0, -100.0}) {
    const double period_us = kFrameUs / (1.0 + ppm * 1e-6);
    Simulation sim(narrowband(2));
    const auto played = sim.run(make_stream(kFrames, constant_delay(5000), 1000, 50000, period_us), kFrames - 100);
    std::uint32_t deepest = 0;
    for (const Played& p : played) deepest = std::max(deepest, p.depth_frames);
    const auto& stats = sim.buffer().stats();
    RecordProperty(ppm > 0 ? "fast_dropped" : "slow_concealed",
                   std::to_string(ppm > 0 ? stats.dropped_for_depth : stats.concealed));
    EXPECT_LE(deepest, 4u) << ppm << " ppm";
    EXPECT_LE(sim.max_buffered(), 5u) << ppm << " ppm";
    // 3600 s x 100e-6 = 0.36 s = 18 frames of drift.
    if (ppm > 0) {
      EXPECT_NEAR(static_cast<double>(stats.dropped_for_depth), 18.0, 4.0);
      EXPECT_EQ(stats.concealed, 0u);
    } else {
      EXPECT_NEAR(static_cast<double>(stats.concealed), 18.0, 4.0);
      EXPECT_LE(stats.dropped_for_depth, 2u);
    }
    EXPECT_EQ(stats.lost, 0u);
    EXPECT_EQ(stats.late, 0u);
  }
}

TEST(JitterBuffer, SequenceAndTimestampWrap) {
  // Sequence numbers cross 65535 -> 0 and timestamps cross 2^32 -> 0 mid-stream,
  // with a little reordering around the wrap.
  auto packets = make_stream(60, [](int i) { return i == 20 ? 25000 : 2000; }, 65520, 0xFFFFFFFFu - 160u * 25u);
  Simulation sim(narrowband(2));
  const auto played = sim.run(packets, 61);
  EXPECT_EQ(packets_played(played), range(0, 60));
  EXPECT_EQ(sim.buffer().stats().concealed, 0u);
  EXPECT_EQ(sim.buffer().stats().lost, 0u);
  EXPECT_EQ(sim.buffer().stats().out_of_window, 0u);
  EXPECT_EQ(sim.buffer().extended_highest_sequence(), 65520 + 59);  // counted on past 65535
}

TEST(JitterBuffer, DtxGapIsSilenceNotLoss) {
  // Packets 0..19, then the sender pauses 200 ms (10 frames: timestamps jump,
  // sequence numbers do not), then 20 more.
  std::vector<SimPacket> packets = make_stream(20, constant_delay(2000));
  auto after = make_stream(20, constant_delay(2000), 1020, 50000 + 30 * kFrameTs);
  for (std::size_t i = 0; i < after.size(); ++i) {
    after[i].arrival_us += 30 * kFrameUs;
    after[i].payload[0] = static_cast<std::uint8_t>(20 + i);
  }
  packets.insert(packets.end(), after.begin(), after.end());
  Simulation sim(narrowband());
  const auto played = sim.run(packets, 50);
  EXPECT_EQ(packets_played(played), range(0, 40));
  EXPECT_EQ(sim.buffer().stats().lost, 0u);
  // The first ticks of the pause cannot tell DTX from loss (nothing is
  // buffered): they conceal, then give up; no audio was skipped.
  const auto quiet = std::count_if(played.begin(), played.end(), [](const Played& p) {
    return p.kind == PlayoutKind::Conceal || p.kind == PlayoutKind::Silence || p.kind == PlayoutKind::Idle;
  });
  EXPECT_EQ(quiet, 10);
}

TEST(JitterBuffer, LongSilenceFromTheSenderTurnsIdle) {
  Simulation sim(narrowband());
  const auto played = sim.run(make_stream(10, constant_delay(2000)), 30);
  const auto& config = sim.buffer().config();
  EXPECT_EQ(sim.buffer().stats().concealed, config.max_conceal_frames);
  EXPECT_EQ(played.back().kind, PlayoutKind::Idle);
}

TEST(JitterBuffer, SequenceJumpNeedsTwoPacketsToResync) {
  JitterBuffer buffer(narrowband());
  std::array<std::uint8_t, 4> payload{};
  auto packet = [&](std::uint16_t sequence, std::uint32_t timestamp, std::int64_t arrival) {
    return RtpPacketInfo{sequence, timestamp, payload, std::nullopt, arrival};
  };
  EXPECT_EQ(buffer.push(packet(100, 1000, 0)), PushResult::Accepted);
  EXPECT_EQ(buffer.pop().kind, PlayoutKind::Packet);
  // A stray packet far away is ignored ...
  EXPECT_EQ(buffer.push(packet(30000, 9000000, 20000)), PushResult::OutOfWindow);
  EXPECT_EQ(buffer.push(packet(101, 1160, 20000)), PushResult::Accepted);
  EXPECT_EQ(buffer.pop().kind, PlayoutKind::Packet);
  // ... two in sequence mean the source restarted.
  EXPECT_EQ(buffer.push(packet(5000, 777, 40000)), PushResult::OutOfWindow);
  EXPECT_EQ(buffer.push(packet(5001, 937, 40000)), PushResult::Resynced);
  const PlayoutFrame frame = buffer.pop();
  EXPECT_EQ(frame.kind, PlayoutKind::Packet);
  EXPECT_EQ(frame.sequence, 5001);
  EXPECT_EQ(buffer.stats().resyncs, 1u);
  EXPECT_EQ(buffer.stats().out_of_window, 2u);
}

TEST(JitterBuffer, OversizedPayloadIsRefused) {
  JitterBuffer buffer(narrowband());
  std::vector<std::uint8_t> huge(kMaxPayloadBytes + 1);
  EXPECT_EQ(buffer.push(RtpPacketInfo{1, 0, huge, std::nullopt, 0}), PushResult::TooLarge);
  EXPECT_EQ(buffer.stats().too_large, 1u);
  EXPECT_EQ(buffer.buffered_packets(), 0u);
  std::vector<std::uint8_t> largest(kMaxPayloadBytes, 0xAB);
  EXPECT_EQ(buffer.push(RtpPacketInfo{1, 0, largest, std::nullopt, 0}), PushResult::Accepted);
  const PlayoutFrame frame = buffer.pop();
  ASSERT_EQ(frame.payload.size(), kMaxPayloadBytes);
  EXPECT_EQ(frame.payload.back(), 0xAB);
}

TEST(JitterBuffer, LatestLevelIsKnownEvenForPacketsNeverDecoded) {
  JitterBuffer buffer(narrowband());
  std::array<std::uint8_t, 4> payload{};
  EXPECT_EQ(buffer.push(RtpPacketInfo{10, 1600, payload, AudioLevel{40, true}, 0}), PushResult::Accepted);
  EXPECT_EQ(buffer.push(RtpPacketInfo{11, 1760, payload, AudioLevel{35, true}, 20000}), PushResult::Accepted);
  // Not popped yet, still the level is known.
  ASSERT_TRUE(buffer.latest_audio_level().has_value());
  EXPECT_EQ(buffer.latest_audio_level()->level, 35);
  EXPECT_EQ(buffer.latest_audio_level_arrival_us(), 20000);
  // A duplicate carries a level too: it is still what the sender measured.
  EXPECT_EQ(buffer.push(RtpPacketInfo{11, 1760, payload, AudioLevel{35, true}, 21000}), PushResult::Duplicate);
  EXPECT_EQ(buffer.latest_audio_level_arrival_us(), 21000);
  const PlayoutFrame frame = buffer.pop();
  ASSERT_TRUE(frame.audio_level.has_value());
  EXPECT_EQ(frame.audio_level->level, 40);
}

TEST(JitterBuffer, JitterEstimateFollowsRfc3550) {
  // Transit alternating 0 / 10 ms: |D| = 80 units every packet, so J -> 80.
  JitterBuffer buffer(narrowband());
  std::array<std::uint8_t, 4> payload{};
  for (int i = 0; i < 200; ++i) {
    const auto index = static_cast<std::uint32_t>(i);
    const std::int64_t arrival = i * kFrameUs + (i % 2) * 10000;
    buffer.push(RtpPacketInfo{static_cast<std::uint16_t>(i), index * kFrameTs, payload, std::nullopt, arrival});
    buffer.pop();
  }
  EXPECT_NEAR(buffer.jitter_rtp_units(), 80, 2);
  EXPECT_NEAR(buffer.jitter_ms(), 10.0, 0.3);
  // 3 x 10 ms rounds up to 2 frames beyond the one every packet needs.
  EXPECT_EQ(buffer.target_depth_frames(), 3u);
}

TEST(JitterBuffer, RandomTrafficKeepsItsInvariants) {
  // Hostile input: sequence numbers near and far, timestamps that jump, any
  // payload size, pops at random. Nothing may break, the buffer never holds
  // more than its capacity, and what plays is what was pushed under that number.
  std::mt19937 random(1234);
  JitterBuffer buffer(narrowband(2));
  std::vector<std::uint8_t> payload(kMaxPayloadBytes + 10);
  std::uint16_t sequence = 100;
  std::uint32_t timestamp = 0;
  std::int64_t now = 0;
  for (int step = 0; step < 20000; ++step) {
    const int action = static_cast<int>(random() % 10);
    if (action < 6) {
      const int jump = static_cast<int>(random() % 100) < 90 ? static_cast<int>(random() % 5) - 1
                                                              : static_cast<int>(random() % 65536);
      sequence = static_cast<std::uint16_t>(sequence + jump);
      timestamp += static_cast<std::uint32_t>(jump) * kFrameTs + (random() % 50 == 0 ? random() : 0);
      const std::size_t size = random() % 50 == 0 ? payload.size() : random() % 200;
      std::fill(payload.begin(), payload.end(), static_cast<std::uint8_t>(sequence));
      buffer.push(RtpPacketInfo{sequence, timestamp, std::span(payload).first(size), std::nullopt, now});
    } else {
      now += kFrameUs;
      const PlayoutFrame frame = buffer.pop();
      if (frame.kind == PlayoutKind::Packet) {
        for (const std::uint8_t byte : frame.payload) ASSERT_EQ(byte, static_cast<std::uint8_t>(frame.sequence));
      }
    }
    ASSERT_LE(buffer.buffered_packets(), buffer.config().capacity_frames);
    ASSERT_LE(buffer.target_depth_frames(), buffer.config().max_depth_frames);
  }
  const auto& stats = buffer.stats();
  EXPECT_GT(stats.played, 0u);
  EXPECT_GT(stats.duplicate + stats.late, 0u);
  EXPECT_GT(stats.resyncs, 0u);
  EXPECT_GT(stats.too_large, 0u);
}

TEST(JitterBuffer, ResetForgetsTheStream) {
  JitterBuffer buffer(narrowband());
  std::array<std::uint8_t, 4> payload{};
  buffer.push(RtpPacketInfo{10, 1600, payload, AudioLevel{30, true}, 0});
  buffer.push(RtpPacketInfo{11, 1760, payload, std::nullopt, 20000});
  buffer.reset();
  EXPECT_EQ(buffer.buffered_packets(), 0u);
  EXPECT_EQ(buffer.latest_audio_level(), std::nullopt);
  EXPECT_EQ(buffer.extended_highest_sequence(), -1);
  EXPECT_EQ(buffer.pop().kind, PlayoutKind::Idle);
  // A new SSRC's stream starts anywhere.
  EXPECT_EQ(buffer.push(RtpPacketInfo{40000, 99, payload, std::nullopt, 40000}), PushResult::Accepted);
  const PlayoutFrame frame = buffer.pop();
  EXPECT_EQ(frame.kind, PlayoutKind::Packet);
  EXPECT_EQ(frame.sequence, 40000);
}

TEST(JitterBuffer, MemoryIsFixedAtConstruction) {
  // Flood: 1000 packets arrive at once; the buffer keeps at most its capacity
  // and resyncs rather than growing.
  JitterBufferConfig config = narrowband();
  Simulation sim(config);
  sim.run(make_stream(1000, [](int i) { return -i * kFrameUs; }), 5);
  EXPECT_LE(sim.max_buffered(), sim.buffer().config().capacity_frames);
  EXPECT_GT(sim.buffer().stats().out_of_window, 0u);
}

}  // namespace
}  // namespace mrfp::mixer

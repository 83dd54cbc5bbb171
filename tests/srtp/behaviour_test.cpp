// What the protocol layer does with bad, replayed, reordered, expired and
// rekeyed traffic (RFC 3711 §3.1, §3.3, §3.4, §9.2), on the IPsec-MB engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "dataplane/srtp/ipsec_mb_engine.h"
#include "dataplane/srtp/srtp_session.h"
#include "srtp_test_util.h"

namespace mrfp::srtp {
namespace {

using test::Buffer;

// A sender and a receiver session, each on its own engine (as on two lcores).
struct Link {
  explicit Link(const ProcessorOptions& options = {}) : sender(sender_engine, options), receiver(receiver_engine, options) {}

  // The same master key in both; returns {sender handle, receiver handle}.
  std::pair<KeyHandle, KeyHandle> add_key(const MasterKey& key) {
    const KeyResult a = sender.add_master_key(key);
    const KeyResult b = receiver.add_master_key(key);
    EXPECT_EQ(a.status, SetupStatus::Ok);
    EXPECT_EQ(b.status, SetupStatus::Ok);
    return {a.handle, b.handle};
  }
  void add_stream(std::uint32_t ssrc, std::pair<KeyHandle, KeyHandle> key) {
    ASSERT_EQ(sender.add_stream(ssrc, {&key.first, 1}), SetupStatus::Ok);
    ASSERT_EQ(receiver.add_stream(ssrc, {&key.second, 1}), SetupStatus::Ok);
  }
  static PacketStatus run(void (SrtpSession::*op)(std::span<PacketView>), SrtpSession& session, Buffer& buffer) {
    PacketView view = buffer.view();
    (session.*op)({&view, 1});
    if (view.status == PacketStatus::Ok) buffer.length = view.length;
    return view.status;
  }
  PacketStatus protect(Buffer& b) { return run(&SrtpSession::protect, sender, b); }
  PacketStatus unprotect(Buffer& b) { return run(&SrtpSession::unprotect, receiver, b); }
  PacketStatus protect_rtcp(Buffer& b) { return run(&SrtpSession::protect_rtcp, sender, b); }
  PacketStatus unprotect_rtcp(Buffer& b) { return run(&SrtpSession::unprotect_rtcp, receiver, b); }

  IpsecMbEngine sender_engine;
  IpsecMbEngine receiver_engine;
  SrtpSession sender;
  SrtpSession receiver;
};

class EverySuite : public ::testing::TestWithParam<Suite> {
 protected:
  std::mt19937 random_{static_cast<std::uint32_t>(GetParam()) + 17};
};

std::string suite_name(const ::testing::TestParamInfo<Suite>& info) { return std::string(name(info.param)); }

// RFC 3711 §3.3 step 5 / RFC 7714: any single flipped bit is caught. Header
// bits that change the SSRC, version or lengths may be caught earlier (no
// context, malformed); payload, MKI and tag bits fail authentication or the
// MKI lookup. Nothing flipped is ever accepted.
TEST_P(EverySuite, FlippedBitAnywhereIsRejected) {
  Link link;
  const auto key = link.add_key(test::random_key(GetParam(), random_, 4));
  link.add_stream(0x11223344, key);
  Buffer packet = test::make_rtp(0x11223344, 1000, 48, random_, 1, 1);
  const std::uint32_t header = 12 + 4 + 8;
  ASSERT_EQ(link.protect(packet), PacketStatus::Ok);
  const std::uint32_t tag_len = static_cast<std::uint32_t>(params(GetParam()).srtp_tag_len);
  const std::uint32_t mki_at = params(GetParam()).aead ? packet.length - 4 : packet.length - tag_len - 4;
  for (std::uint32_t bit = 0; bit < packet.length * 8; ++bit) {
    Buffer corrupt = packet;
    corrupt.bytes[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    const PacketStatus status = link.unprotect(corrupt);
    ASSERT_NE(status, PacketStatus::Ok) << "bit " << bit;
    const std::uint32_t byte = bit / 8;
    if (byte >= mki_at && byte < mki_at + 4) {
      EXPECT_EQ(status, PacketStatus::UnknownMki) << "bit " << bit;
    } else if (byte >= header) {
      EXPECT_EQ(status, PacketStatus::AuthFailed) << "bit " << bit;
    }
  }
  EXPECT_EQ(link.unprotect(packet), PacketStatus::Ok) << "failures must not touch the replay state";
}

TEST_P(EverySuite, FlippedBitInSrtcpIsRejected) {
  Link link;
  const auto key = link.add_key(test::random_key(GetParam(), random_));
  link.add_stream(77, key);
  Buffer packet = test::make_rtcp(77, 16, random_);
  ASSERT_EQ(link.protect_rtcp(packet), PacketStatus::Ok);
  for (std::uint32_t bit = 0; bit < packet.length * 8; ++bit) {
    Buffer corrupt = packet;
    corrupt.bytes[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    ASSERT_NE(link.unprotect_rtcp(corrupt), PacketStatus::Ok) << "bit " << bit;
  }
  EXPECT_EQ(link.unprotect_rtcp(packet), PacketStatus::Ok);
}

TEST_P(EverySuite, ReplayReorderAndTooOld) {
  ProcessorOptions options;
  options.replay_window = 64;
  Link link(options);
  const auto key = link.add_key(test::random_key(GetParam(), random_));
  link.add_stream(5, key);
  std::vector<Buffer> sent;
  for (std::uint16_t seq = 0; seq < 200; ++seq) {
    sent.push_back(test::make_rtp(5, seq, 20, random_));
    ASSERT_EQ(link.protect(sent.back()), PacketStatus::Ok);
  }
  auto receive = [&](int seq) {
    Buffer copy = sent[static_cast<std::size_t>(seq)];
    return link.unprotect(copy);
  };
  EXPECT_EQ(receive(199), PacketStatus::Ok);
  EXPECT_EQ(receive(199), PacketStatus::Replayed);
  EXPECT_EQ(receive(150), PacketStatus::Ok);    // reordered, inside the window
  EXPECT_EQ(receive(150), PacketStatus::Replayed);
  EXPECT_EQ(receive(136), PacketStatus::Ok);    // 199 - 63: last slot of the window
  EXPECT_EQ(receive(135), PacketStatus::TooOld);
  EXPECT_EQ(receive(10), PacketStatus::TooOld);
  // A burst holding a packet twice: the second copy is a replay.
  Buffer a = sent[170], b = sent[170], c = sent[171];
  std::array<PacketView, 3> burst{a.view(), b.view(), c.view()};
  link.receiver.unprotect(burst);
  EXPECT_EQ(burst[0].status, PacketStatus::Ok);
  EXPECT_EQ(burst[1].status, PacketStatus::Replayed);
  EXPECT_EQ(burst[2].status, PacketStatus::Ok);
}

TEST_P(EverySuite, SrtcpReplay) {
  Link link;
  const auto key = link.add_key(test::random_key(GetParam(), random_));
  link.add_stream(9, key);
  Buffer first = test::make_rtcp(9, 0, random_);
  Buffer second = test::make_rtcp(9, 8, random_);
  ASSERT_EQ(link.protect_rtcp(first), PacketStatus::Ok);
  ASSERT_EQ(link.protect_rtcp(second), PacketStatus::Ok);
  Buffer replay = second;
  EXPECT_EQ(link.unprotect_rtcp(second), PacketStatus::Ok);
  EXPECT_EQ(link.unprotect_rtcp(first), PacketStatus::Ok);
  EXPECT_EQ(link.unprotect_rtcp(replay), PacketStatus::Replayed);
  EXPECT_EQ(link.receiver.stream_info(9)->srtcp_index, 1u);
}

TEST_P(EverySuite, TruncatedAndMalformed) {
  Link link;
  const auto key = link.add_key(test::random_key(GetParam(), random_, 2));
  link.add_stream(3, key);
  Buffer packet = test::make_rtp(3, 1, 30, random_);
  ASSERT_EQ(link.protect(packet), PacketStatus::Ok);
  const std::uint32_t trailer = static_cast<std::uint32_t>(params(GetParam()).srtp_tag_len) + 2;
  for (std::uint32_t length = 0; length < 12 + trailer; ++length) {
    Buffer cut = packet;
    cut.length = length;
    const PacketStatus status = link.unprotect(cut);
    EXPECT_TRUE(status == PacketStatus::Malformed) << length << " " << to_string(status);
  }
  Buffer not_v2 = packet;
  not_v2.bytes[0] = 0x40;
  EXPECT_EQ(link.unprotect(not_v2), PacketStatus::Malformed);
  Buffer rtcp = test::make_rtcp(3, 0, random_);
  ASSERT_EQ(link.protect_rtcp(rtcp), PacketStatus::Ok);
  for (std::uint32_t length = 0; length < 8 + 4 + trailer; ++length) {
    Buffer cut = rtcp;
    cut.length = length;
    EXPECT_EQ(link.unprotect_rtcp(cut), PacketStatus::Malformed) << length;
  }
  Buffer tight = test::make_rtp(3, 2, 30, random_);
  PacketView view = tight.view();
  view.capacity = view.length + trailer - 1;
  link.sender.protect({&view, 1});
  EXPECT_EQ(view.status, PacketStatus::NoRoom);
  Buffer unknown = test::make_rtp(4, 1, 30, random_);
  EXPECT_EQ(link.protect(unknown), PacketStatus::NoContext);
  EXPECT_EQ(link.unprotect(unknown), PacketStatus::NoContext);
}

TEST_P(EverySuite, KeyLifetimeIsSharedByTheStreamsOfAMasterKey) {
  ProcessorOptions options;
  options.max_srtp_packets_per_key = 5;
  options.max_srtcp_packets_per_key = 3;
  Link link(options);
  const auto key = link.add_key(test::random_key(GetParam(), random_));
  link.add_stream(1, key);
  link.add_stream(2, key);
  for (std::uint16_t seq = 0; seq < 5; ++seq) {
    Buffer packet = test::make_rtp(1 + seq % 2, seq, 10, random_);
    EXPECT_EQ(link.protect(packet), PacketStatus::Ok);
  }
  Buffer sixth = test::make_rtp(1, 100, 10, random_);
  EXPECT_EQ(link.protect(sixth), PacketStatus::KeyExpired);
  for (int i = 0; i < 3; ++i) {
    Buffer report = test::make_rtcp(2, 0, random_);
    EXPECT_EQ(link.protect_rtcp(report), PacketStatus::Ok);
  }
  Buffer fourth = test::make_rtcp(1, 0, random_);
  EXPECT_EQ(link.protect_rtcp(fourth), PacketStatus::KeyExpired);
}

TEST_P(EverySuite, UnknownMki) {
  Link link;
  MasterKey key = test::random_key(GetParam(), random_, 4);
  const KeyHandle sending = link.sender.add_master_key(key).handle;
  key.mki[0] ^= 1;
  const KeyHandle receiving = link.receiver.add_master_key(key).handle;
  ASSERT_EQ(link.sender.add_stream(8, {&sending, 1}), SetupStatus::Ok);
  ASSERT_EQ(link.receiver.add_stream(8, {&receiving, 1}), SetupStatus::Ok);
  Buffer packet = test::make_rtp(8, 1, 30, random_);
  ASSERT_EQ(link.protect(packet), PacketStatus::Ok);
  EXPECT_EQ(link.unprotect(packet), PacketStatus::UnknownMki);
  Buffer report = test::make_rtcp(8, 0, random_);
  ASSERT_EQ(link.protect_rtcp(report), PacketStatus::Ok);
  EXPECT_EQ(link.unprotect_rtcp(report), PacketStatus::UnknownMki);
}

TEST_P(EverySuite, ProtectRefusesToReuseAnIndex) {
  Link link;
  const auto key = link.add_key(test::random_key(GetParam(), random_));
  link.add_stream(6, key);
  Buffer a = test::make_rtp(6, 42, 10, random_);
  Buffer b = test::make_rtp(6, 42, 10, random_);
  EXPECT_EQ(link.protect(a), PacketStatus::Ok);
  EXPECT_EQ(link.protect(b), PacketStatus::Replayed) << "same index twice is a keystream reuse";
}

// Rekey with MKI (RFC 3711 §3.1): the sender switches at one packet boundary,
// the receiver takes both keys by MKI during the grace window, reordered
// across the switch; after the old key is removed its packets are unknown.
TEST_P(EverySuite, RekeyWithMki) {
  Link link;
  MasterKey old_key = test::random_key(GetParam(), random_, 1);
  MasterKey new_key = test::random_key(GetParam(), random_, 1);
  old_key.mki[0] = 1;
  new_key.mki[0] = 2;
  const auto old_handles = link.add_key(old_key);
  const auto new_handles = link.add_key(new_key);
  link.add_stream(0xabc, old_handles);
  ASSERT_EQ(link.receiver.add_stream_key(0xabc, new_handles.second), SetupStatus::Ok);
  ASSERT_EQ(link.sender.add_stream_key(0xabc, new_handles.first), SetupStatus::Ok);

  std::vector<Buffer> sent;
  for (std::uint16_t seq = 65530; sent.size() < 20; ++seq) {
    if (sent.size() == 10) {
      ASSERT_EQ(link.sender.switch_sending_key(0xabc, new_handles.first), SetupStatus::Ok);
      EXPECT_FALSE(link.sender.stream_info(0xabc)->first_sequence_under_sending_key.has_value());
    }
    sent.push_back(test::make_rtp(0xabc, seq, 30, random_));
    ASSERT_EQ(link.protect(sent.back()), PacketStatus::Ok);
  }
  EXPECT_EQ(link.sender.stream_info(0xabc)->first_sequence_under_sending_key, std::uint16_t{65530 + 10 - 65536});
  // The 1-byte MKI: before the tag (HMAC) or last (AEAD, tag first).
  const std::size_t mki_at = params(GetParam()).aead ? sent[9].length - 1 : sent[9].length - params(GetParam()).srtp_tag_len - 1;
  EXPECT_EQ(sent[9].bytes[mki_at], 1) << "old key up to the switch";
  EXPECT_EQ(sent[10].bytes[mki_at], 2) << "new key from the switch on";
  std::vector<PacketView> views;
  std::vector<Buffer> received = sent;
  std::swap(received[9], received[12]);  // an old-key packet after new-key ones
  for (auto& b : received) views.push_back(b.view());
  link.receiver.unprotect(views);
  for (auto& v : views) EXPECT_EQ(v.status, PacketStatus::Ok);
  // End of the grace window: the receiver moves to the new key, drops the old.
  ASSERT_EQ(link.receiver.switch_sending_key(0xabc, new_handles.second), SetupStatus::Ok);
  ASSERT_EQ(link.receiver.remove_stream_key(0xabc, old_handles.second), SetupStatus::Ok);
  ASSERT_EQ(link.sender.remove_stream_key(0xabc, new_handles.first), SetupStatus::KeyInUse);
  EXPECT_EQ(link.receiver.remove_master_key(old_handles.second), SetupStatus::Ok);
  // A packet under the old key now names an unknown MKI.
  Link old_only;
  const auto only = old_only.add_key(old_key);
  old_only.add_stream(0xabc, only);
  Buffer old_packet = test::make_rtp(0xabc, 100, 10, random_);
  ASSERT_EQ(old_only.protect(old_packet), PacketStatus::Ok);
  EXPECT_EQ(link.unprotect(old_packet), PacketStatus::UnknownMki);
}

// Rekey without MKI: the receiver tries the key that worked last, then the
// other; packets of both keys interleave across the switch and all pass once.
TEST_P(EverySuite, RekeyWithoutMki) {
  Link link;
  const MasterKey old_key = test::random_key(GetParam(), random_);
  const auto old_handles = link.add_key(old_key);
  const auto new_handles = link.add_key(test::random_key(GetParam(), random_));
  link.add_stream(0xdef, old_handles);
  ASSERT_EQ(link.sender.add_stream_key(0xdef, new_handles.first), SetupStatus::Ok);
  ASSERT_EQ(link.receiver.add_stream_key(0xdef, new_handles.second), SetupStatus::Ok);
  std::vector<Buffer> sent;
  std::vector<Buffer> reports;
  for (std::uint16_t seq = 500; seq < 540; ++seq) {
    if (seq == 520) {
      ASSERT_EQ(link.sender.switch_sending_key(0xdef, new_handles.first), SetupStatus::Ok);
    }
    sent.push_back(test::make_rtp(0xdef, seq, 1 + seq % 50, random_));
    ASSERT_EQ(link.protect(sent.back()), PacketStatus::Ok);
    reports.push_back(test::make_rtcp(0xdef, seq % 3 * 4, random_));
    ASSERT_EQ(link.protect_rtcp(reports.back()), PacketStatus::Ok);
  }
  EXPECT_EQ(link.sender.stream_info(0xdef)->first_sequence_under_sending_key, std::uint16_t{520});
  std::shuffle(sent.begin() + 1, sent.end(), random_);
  std::shuffle(reports.begin() + 1, reports.end(), random_);
  std::vector<PacketView> views, report_views;
  std::vector<Buffer> received = sent, received_reports = reports;
  for (auto& b : received) views.push_back(b.view());
  for (auto& b : received_reports) report_views.push_back(b.view());
  link.receiver.unprotect(views);
  link.receiver.unprotect_rtcp(report_views);
  for (auto& v : views) EXPECT_EQ(v.status, PacketStatus::Ok);
  for (auto& v : report_views) EXPECT_EQ(v.status, PacketStatus::Ok);
  for (std::size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(views[i].length + params(GetParam()).srtp_tag_len, sent[i].length);
  }
  // Replays stay replays whichever key they were under.
  Buffer again = sent[5];
  EXPECT_EQ(link.unprotect(again), PacketStatus::Replayed);
  // Grace over: old-key traffic fails authentication.
  ASSERT_EQ(link.receiver.switch_sending_key(0xdef, new_handles.second), SetupStatus::Ok);
  ASSERT_EQ(link.receiver.remove_stream_key(0xdef, old_handles.second), SetupStatus::Ok);
  Link old_only;
  old_only.add_stream(0xdef, old_only.add_key(old_key));
  Buffer old_packet = test::make_rtp(0xdef, 600, 10, random_);
  ASSERT_EQ(old_only.protect(old_packet), PacketStatus::Ok);
  EXPECT_EQ(link.unprotect(old_packet), PacketStatus::AuthFailed);
}

// RFC 3711 §3.3.1: a receiver joining a running stream must be told its ROC.
TEST_P(EverySuite, SignalledRolloverCounter) {
  Link link;
  const auto key = link.add_key(test::random_key(GetParam(), random_));
  link.add_stream(12, key);
  ASSERT_EQ(link.sender.set_stream_roc(12, 5), SetupStatus::Ok);
  Buffer packet = test::make_rtp(12, 100, 20, random_);
  ASSERT_EQ(link.protect(packet), PacketStatus::Ok);
  EXPECT_EQ(link.sender.stream_info(12)->roc, 5u);
  EXPECT_EQ(link.sender.set_stream_roc(12, 6), SetupStatus::StreamStarted);
  Buffer copy = packet;
  EXPECT_EQ(link.unprotect(copy), PacketStatus::AuthFailed) << "receiver assumes ROC 0";
  ASSERT_EQ(link.receiver.set_stream_roc(12, 5), SetupStatus::Ok);
  EXPECT_EQ(link.unprotect(packet), PacketStatus::Ok);
  EXPECT_EQ(link.receiver.stream_info(12)->roc, 5u);
  EXPECT_EQ(link.receiver.set_stream_roc(99, 1), SetupStatus::UnknownSsrc);
}

// Bursts longer than the internal chunk, many packets per stream per burst.
TEST_P(EverySuite, LongBurstsOfFewStreams) {
  Link link;
  const auto key = link.add_key(test::random_key(GetParam(), random_));
  for (std::uint32_t ssrc = 1; ssrc <= 3; ++ssrc) link.add_stream(ssrc, key);
  std::vector<Buffer> plain;
  std::array<std::uint16_t, 4> seq = {0, 65530, 65525, 65520};  // every stream wraps
  for (int i = 0; i < 150; ++i) {
    const std::uint32_t ssrc = 1 + static_cast<std::uint32_t>(random_() % 3);
    plain.push_back(test::make_rtp(ssrc, seq[ssrc]++, random_() % 200, random_));
  }
  std::vector<Buffer> wire = plain;
  std::vector<PacketView> views;
  for (auto& b : wire) views.push_back(b.view());
  link.sender.protect(views);
  for (std::size_t i = 0; i < wire.size(); ++i) {
    ASSERT_EQ(views[i].status, PacketStatus::Ok);
    wire[i].length = views[i].length;
  }
  views.clear();
  for (auto& b : wire) views.push_back(b.view());
  link.receiver.unprotect(views);
  for (std::size_t i = 0; i < wire.size(); ++i) {
    ASSERT_EQ(views[i].status, PacketStatus::Ok) << i;
    ASSERT_TRUE(test::same_bytes(views[i].data, views[i].length, plain[i].bytes.data(), plain[i].length));
  }
  for (std::uint32_t ssrc = 1; ssrc <= 3; ++ssrc) EXPECT_EQ(link.receiver.stream_info(ssrc)->roc, 1u) << ssrc;
}

INSTANTIATE_TEST_SUITE_P(AllSuites, EverySuite, ::testing::ValuesIn(test::kAllSuites), suite_name);

// Counts prepare() calls: one master key, many SSRCs, derivation happens once.
class CountingEngine final : public CryptoEngine {
 public:
  std::string_view name() const override { return "counting"; }
  EngineKeyState* prepare(const SessionKeys& keys) override {
    ++prepared;
    return inner.prepare(keys);
  }
  void release(EngineKeyState* state) override {
    ++released;
    inner.release(state);
  }
  void run(std::span<CryptoJob> jobs) override { inner.run(jobs); }
  IpsecMbEngine inner;
  int prepared = 0;
  int released = 0;
};

TEST(ConferenceKeys, SessionKeysAreDerivedOncePerMasterKey) {
  std::mt19937 random(5);
  CountingEngine engine;
  {
    ProcessorOptions options;
    options.max_streams = 2000;
    SrtpSession session(engine, options);
    const KeyResult group = session.add_master_key(test::random_key(Suite::AesCm128HmacSha1_80, random));
    ASSERT_EQ(group.status, SetupStatus::Ok);
    for (std::uint32_t ssrc = 1; ssrc <= 2000; ++ssrc) ASSERT_EQ(session.add_stream(ssrc, {&group.handle, 1}), SetupStatus::Ok);
    EXPECT_EQ(engine.prepared, 2) << "SRTP and SRTCP session keys, once for all streams";
    EXPECT_EQ(session.add_stream(2001, {&group.handle, 1}), SetupStatus::TableFull);
    EXPECT_EQ(session.remove_master_key(group.handle), SetupStatus::KeyInUse);
    for (std::uint32_t ssrc = 1; ssrc <= 2000; ++ssrc) ASSERT_EQ(session.remove_stream(ssrc), SetupStatus::Ok);
    EXPECT_EQ(session.remove_master_key(group.handle), SetupStatus::Ok);
    EXPECT_EQ(engine.released, 2);
    EXPECT_EQ(session.add_stream(1, {&group.handle, 1}), SetupStatus::UnknownKey) << "stale handle";
  }
}

TEST(ConferenceKeys, InvalidKeysAreRefused) {
  IpsecMbEngine engine;
  SrtpSession session(engine);
  MasterKey key;
  key.suite = Suite::AeadAes256Gcm;
  key.key_len = 16;
  key.salt_len = 12;
  EXPECT_EQ(session.add_master_key(key).status, SetupStatus::InvalidKey);
  std::mt19937 random(1);
  const KeyHandle a = session.add_master_key(test::random_key(Suite::AesCm128HmacSha1_80, random)).handle;
  const KeyHandle b = session.add_master_key(test::random_key(Suite::AeadAes128Gcm, random)).handle;
  const KeyHandle both[] = {a, b};
  EXPECT_EQ(session.add_stream(1, both), SetupStatus::InvalidKey) << "one wire layout per stream";
}

}  // namespace
}  // namespace mrfp::srtp

// Fuzzes the SRTP/SRTCP receive path (our protocol layer on the IPsec-MB
// engine): arbitrary bytes through unprotect, and packets our sender protected
// (then the fuzzer's bytes are the plaintext) through protect → unprotect, which
// must give back exactly the plaintext or say why not (replay, too old).
//   first input byte: bit 0 RTP/RTCP, bit 1 raw/round trip, bit 2 AES-CM-80/GCM+MKI
#include <array>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/srtp/ipsec_mb_engine.h"
#include "dataplane/srtp/srtp_session.h"
#include "fuzz/fuzz_target.h"

namespace mrfp::fuzz {
namespace {

// The SSRCs of the seed packets (fuzz/seed_packets.cpp) and one more.
constexpr std::uint32_t kSsrcs[] = {0xC0FFEE, 0x12345678, 0x1000};

srtp::MasterKey key_for(srtp::Suite suite, std::uint8_t fill, bool with_mki) {
  srtp::MasterKey key;
  key.suite = suite;
  key.key_len = static_cast<std::uint8_t>(srtp::params(suite).master_key_len);
  key.salt_len = static_cast<std::uint8_t>(srtp::params(suite).master_salt_len);
  for (std::size_t i = 0; i < key.key_len; ++i) key.key[i] = static_cast<std::uint8_t>(fill + i);
  for (std::size_t i = 0; i < key.salt_len; ++i) key.salt[i] = static_cast<std::uint8_t>(fill ^ (i * 7));
  if (with_mki) {
    key.mki_len = 4;
    key.mki = {0xDE, 0xAD, 0xBE, 0xEF};
  }
  return key;
}

// A sender and a receiver sharing one master key, with a stream per SSRC.
struct Pair {
  Pair(srtp::CryptoEngine& engine, const srtp::MasterKey& key) : sender(engine), receiver(engine) {
    for (auto* session : {&sender, &receiver}) {
      const auto handle = session->add_master_key(key).handle;
      for (const auto ssrc : kSsrcs) session->add_stream(ssrc, {&handle, 1});
    }
  }
  srtp::SrtpSession sender, receiver;
};

struct Fixture {
  srtp::IpsecMbEngine engine;
  Pair aes_cm{engine, key_for(srtp::Suite::AesCm128HmacSha1_80, 0x11, false)};
  Pair gcm_with_mki{engine, key_for(srtp::Suite::AeadAes128Gcm, 0x5A, true)};
};

Fixture& fixture() {
  static Fixture instance;  // state (ROC, replay windows) carries across inputs
  return instance;
}

}  // namespace
}  // namespace mrfp::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mrfp;
  if (size < 1) return 0;
  const std::uint8_t mode = data[0];
  const bool rtcp = mode & 1, round_trip = mode & 2;
  auto& pair = (mode & 4) ? fuzz::fixture().gcm_with_mki : fuzz::fixture().aes_cm;
  const std::span<const std::uint8_t> body(data + 1, size - 1);
  // Room for the largest trailer (SRTCP index, MKI, tag); exact size so ASan sees overruns.
  std::vector<std::uint8_t> buffer(body.begin(), body.end());
  buffer.resize(body.size() + 4 + srtp::kMaxMkiLen + 20);
  srtp::PacketView view{buffer.data(), static_cast<std::uint32_t>(body.size()),
                        static_cast<std::uint32_t>(buffer.size())};
  if (round_trip) {
    rtcp ? pair.sender.protect_rtcp({&view, 1}) : pair.sender.protect({&view, 1});
    if (view.status != srtp::PacketStatus::Ok) return 0;  // not RTP/RTCP, or an index sent before
  }
  rtcp ? pair.receiver.unprotect_rtcp({&view, 1}) : pair.receiver.unprotect({&view, 1});
  if (view.length > view.capacity) fuzz::invariant_broken();
  if (view.status == srtp::PacketStatus::Ok) fuzz::touch({view.data, view.length});
  if (round_trip) {
    // What our sender protected, our receiver takes back byte for byte, unless
    // its replay window says the index came before (RFC 3711 §3.3.2).
    if (view.status == srtp::PacketStatus::Ok) {
      if (view.length != body.size() || std::memcmp(view.data, body.data(), body.size()) != 0) {
        fuzz::invariant_broken();
      }
    } else if (view.status != srtp::PacketStatus::Replayed && view.status != srtp::PacketStatus::TooOld) {
      fuzz::invariant_broken();
    }
  }
  return 0;
}

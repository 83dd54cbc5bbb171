// Our SRTP/SRTCP protocol layer over any CryptoEngine. Per burst it runs
// three steps: prepare (parse, find the context, choose the key, estimate the
// index, check replay and key lifetime, build a CryptoJob), the engine's run
// over all jobs at once, and finish (place or compare the tag, update the
// replay window). No allocation after construction.
#pragma once

#include <array>
#include <cstdint>

#include "dataplane/srtp/context_table.h"
#include "dataplane/srtp/crypto_engine.h"
#include "dataplane/srtp/key_store.h"
#include "dataplane/srtp/srtp_processor.h"

namespace mrfp::srtp {

struct TrailerLayout;

class SrtpSession final : public SrtpProcessor {
 public:
  // `engine` must outlive the session; one session per lcore.
  explicit SrtpSession(CryptoEngine& engine, const ProcessorOptions& options = {});
  ~SrtpSession() override;

  KeyResult add_master_key(const MasterKey& key) override;
  // Session keys handed over ready-made (see KeyStore::add_derived).
  KeyResult add_session_keys(const MasterKey& identity, const SessionKeys& srtp, const SessionKeys& srtcp);
  SetupStatus remove_master_key(KeyHandle key) override;
  SetupStatus add_stream(std::uint32_t ssrc, std::span<const KeyHandle> keys, std::size_t sending = 0) override;
  SetupStatus remove_stream(std::uint32_t ssrc) override;
  SetupStatus add_stream_key(std::uint32_t ssrc, KeyHandle key) override;
  SetupStatus switch_sending_key(std::uint32_t ssrc, KeyHandle key) override;
  SetupStatus remove_stream_key(std::uint32_t ssrc, KeyHandle key) override;
  SetupStatus set_stream_roc(std::uint32_t ssrc, std::uint32_t roc) override;
  std::optional<StreamInfo> stream_info(std::uint32_t ssrc) const override;

  void protect(std::span<PacketView> burst) override;
  void unprotect(std::span<PacketView> burst) override;
  void protect_rtcp(std::span<PacketView> burst) override;
  void unprotect_rtcp(std::span<PacketView> burst) override;

  CryptoEngine& engine() { return engine_; }

 private:
  // Bursts longer than this are processed in chunks of this size.
  static constexpr std::size_t kChunk = 64;

  // Protocol-layer state of one packet between prepare and finish.
  struct Pending {
    PacketView* packet = nullptr;
    StreamContext* context = nullptr;
    std::uint64_t index = 0;          // SRTP 48-bit index or SRTCP index
    std::uint32_t payload_end = 0;    // end of the encrypted portion (SRTCP: without E||index)
    std::uint8_t key_slot = 0;        // which of the stream's keys this attempt uses
    std::uint8_t keys_tried = 0;      // bit mask, for inbound without MKI
    bool try_other_keys = false;      // no MKI and more than one key on the stream
    std::array<std::uint8_t, kMaxTagLen> received_tag{};
  };

  enum class Kind { Srtp, Srtcp };
  enum class Finish { Done, RetryOtherKey };

  template <Kind kind>
  void protect_chunk(std::span<PacketView> chunk);
  template <Kind kind>
  void unprotect_chunk(std::span<PacketView> chunk);

  PacketStatus prepare_protect_rtp(PacketView& packet, CryptoJob& job, Pending& pending);
  PacketStatus prepare_protect_rtcp(PacketView& packet, CryptoJob& job, Pending& pending);
  void finish_protect(Kind kind, const CryptoJob& job, Pending& pending);
  PacketStatus prepare_unprotect_rtp(PacketView& packet, CryptoJob& job, Pending& pending, bool& defer);
  void begin_unprotect(PacketView& packet, StreamContext* stream, std::uint64_t index, std::uint32_t payload_end,
                       const TrailerLayout& trailer, const std::uint8_t* tag, CryptoJob& job, Pending& pending);
  PacketStatus prepare_unprotect_rtcp(PacketView& packet, CryptoJob& job, Pending& pending, bool& defer);
  template <Kind kind>
  void run_unprotect_jobs(std::size_t jobs);
  Finish finish_unprotect(Kind kind, const CryptoJob& job, Pending& pending);
  // Points `job` at the stream's key `slot` (keys and IV); the ranges stay.
  void use_key(Kind kind, CryptoJob& job, Pending& pending, std::uint8_t slot);
  bool next_untried_key(const Pending& pending, std::uint8_t& slot) const;

  CryptoEngine& engine_;
  ProcessorOptions options_;
  KeyStore keys_;
  ContextTable streams_;
  std::array<CryptoJob, kChunk> jobs_{};
  std::array<Pending, kChunk> pending_{};
  std::array<PacketView*, kChunk> waiting_{};
  std::uint32_t unprotect_round_ = 0;
};

}  // namespace mrfp::srtp

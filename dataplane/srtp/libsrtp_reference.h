// The reference: libsrtp2 behind the same SrtpProcessor burst interface, so
// the tests and benchmarks can put it next to our engines packet for packet.
// libsrtp does everything itself (index, replay, keys), one packet at a time.
// Limits: a stream's keys are fixed at add_stream (add/remove_stream_key are
// Unsupported); several keys need MKIs.
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>

#include "dataplane/srtp/srtp_processor.h"

struct srtp_ctx_t_;

namespace mrfp::srtp {

class LibsrtpReference final : public SrtpProcessor {
 public:
  explicit LibsrtpReference(const ProcessorOptions& options = {});
  ~LibsrtpReference() override;
  LibsrtpReference(const LibsrtpReference&) = delete;
  LibsrtpReference& operator=(const LibsrtpReference&) = delete;

  bool ok() const { return session_ != nullptr; }

  KeyResult add_master_key(const MasterKey& key) override;
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

 private:
  struct Stream {
    std::array<KeyHandle, kMaxKeysPerStream> keys{};
    std::size_t key_count = 0;
    std::size_t sending = 0;
    bool use_mki = false;
    std::size_t trailer_srtp = 0;   // tag + MKI bytes protect appends
    std::size_t trailer_srtcp = 0;  // tag + MKI + E||index
    bool switch_pending = false;
    std::optional<std::uint16_t> first_sequence_under_sending_key;
  };
  struct KeySlot {
    MasterKey key;
    std::uint32_t streams_using = 0;
    std::uint16_t generation = 0;
    bool live = false;
  };
  const KeySlot* find_key(KeyHandle handle) const;
  template <bool rtcp>
  void protect_each(std::span<PacketView> burst);
  template <bool rtcp>
  void unprotect_each(std::span<PacketView> burst);

  ProcessorOptions options_;
  srtp_ctx_t_* session_ = nullptr;
  std::unique_ptr<KeySlot[]> keys_;
  std::unordered_map<std::uint32_t, Stream> streams_;
};

}  // namespace mrfp::srtp

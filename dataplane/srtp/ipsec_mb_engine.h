// The fast software engine: Intel IPsec-MB's multi-buffer job manager runs
// AES-CTR + HMAC-SHA1 (RFC 3711) and AES-GCM (RFC 7714) for a whole burst, so
// the SIMD lanes fill with packets of many streams at once. The architecture
// (SSE/AVX2/AVX-512) is chosen at run time by init_mb_mgr_auto.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "dataplane/srtp/crypto_engine.h"

struct IMB_MGR;

namespace mrfp::srtp {

enum class IpsecMbArch : std::uint8_t { Auto, Sse, Avx2, Avx512 };

struct IpsecMbOptions {
  IpsecMbArch arch = IpsecMbArch::Auto;  // Auto: init_mb_mgr_auto picks the best the CPU has
  // Bursts of at most this many jobs go to a second, SSE manager instead: its
  // HMAC-SHA1 uses the SHA extensions one buffer at a time, where the wide
  // AVX-512 manager would flush 16 lanes for one packet. 0: never. Measured
  // here (AES-CM + HMAC-SHA1-80, 160 bytes): 1 job 333 ns SSE / 829 ns AVX-512;
  // 8 jobs 290 / 277 ns per packet: the crossover is between 4 and 8.
  std::size_t small_burst_jobs = 4;
};

class IpsecMbEngine final : public CryptoEngine {
 public:
  explicit IpsecMbEngine(const IpsecMbOptions& options = {});
  ~IpsecMbEngine() override;
  IpsecMbEngine(const IpsecMbEngine&) = delete;
  IpsecMbEngine& operator=(const IpsecMbEngine&) = delete;

  // False if the manager could not be allocated or initialised.
  bool ok() const { return manager_ != nullptr; }
  std::string_view name() const override { return name_; }

  EngineKeyState* prepare(const SessionKeys& keys) override;
  void release(EngineKeyState* state) override;
  void run(std::span<CryptoJob> jobs) override;

 private:
  void run_on(IMB_MGR* manager, std::span<CryptoJob> jobs);

  IMB_MGR* manager_ = nullptr;
  IMB_MGR* small_burst_manager_ = nullptr;
  std::size_t small_burst_jobs_ = 0;
  std::string name_;
};

}  // namespace mrfp::srtp

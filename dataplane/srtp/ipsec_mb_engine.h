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

class IpsecMbEngine final : public CryptoEngine {
 public:
  IpsecMbEngine();
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
  IMB_MGR* manager_ = nullptr;
  std::string name_;
};

}  // namespace mrfp::srtp

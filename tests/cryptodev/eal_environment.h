// One EAL per test process (DPDK can initialise EAL only once per process):
// a GoogleTest global environment brings up EAL with the two software crypto
// PMDs and configures them before the first test. ctest runs every test case
// as its own process; --no-shconf lets those processes run in parallel
// (shared/dpdk.md).
#pragma once

#include <gtest/gtest.h>
#include <rte_cryptodev.h>
#include <rte_eal.h>

#include <array>
#include <cstdint>
#include <string>

#include "dataplane/cryptodev/cryptodev_engine.h"

namespace mrfp::srtp::test {

struct CryptodevIds {
  std::uint8_t aesni_mb = 0;   // crypto_aesni_mb0: AES-CTR, HMAC-SHA1, AES-GCM
  std::uint8_t aesni_gcm = 0;  // crypto_aesni_gcm0: AES-GCM only
};

inline CryptodevIds& cryptodev_ids() {
  static CryptodevIds ids;
  return ids;
}

class EalEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    std::array<const char*, 16> args = {"mrfp_cryptodev_test", "--no-huge", "-m", "128", "--no-pci",
                                        "--no-shconf", "--no-telemetry", "-l", "0",
                                        "--vdev", "crypto_aesni_mb0", "--vdev", "crypto_aesni_gcm0",
                                        "--log-level", "*:warning", nullptr};
    const int argc = static_cast<int>(args.size()) - 1;
    ASSERT_GE(rte_eal_init(argc, const_cast<char**>(args.data())), 0) << "rte_eal_init failed";
    const int mb = rte_cryptodev_get_dev_id("crypto_aesni_mb0");
    const int gcm = rte_cryptodev_get_dev_id("crypto_aesni_gcm0");
    ASSERT_GE(mb, 0) << "crypto_aesni_mb0 did not probe";
    ASSERT_GE(gcm, 0) << "crypto_aesni_gcm0 did not probe";
    cryptodev_ids().aesni_mb = static_cast<std::uint8_t>(mb);
    cryptodev_ids().aesni_gcm = static_cast<std::uint8_t>(gcm);
    ASSERT_EQ(configure_cryptodev(cryptodev_ids().aesni_mb, 1), "");
    ASSERT_EQ(configure_cryptodev(cryptodev_ids().aesni_gcm, 1), "");
  }
  // No rte_eal_cleanup(): engines owned by tests may outlive TearDown ordering;
  // the process ends right after.
};

// Registers the environment in every test executable that includes this header.
inline ::testing::Environment* const kEalEnvironment = ::testing::AddGlobalTestEnvironment(new EalEnvironment);

}  // namespace mrfp::srtp::test

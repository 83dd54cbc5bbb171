// CryptodevEngine: the SRTP crypto offload path. Executes the protocol layer's
// CryptoJobs (dataplane/srtp/crypto_engine.h) on any DPDK cryptodev: the
// ipsec_mb software PMD (`--vdev crypto_aesni_mb0`) on ordinary CPUs, a QAT or
// mlx5 device in production. The device is chosen by the EAL arguments; the
// engine only takes a cryptodev id and a queue pair id.
//
// Life cycle (control path):
//   1. rte_eal_init() once per process, with the cryptodev vdev or PCI device.
//   2. configure_cryptodev(dev_id, queue_pairs): configure, set up the queue
//      pairs and start the device, once per device (not per engine).
//   3. CryptodevEngine::create(dev_id, queue_pair, options): one engine per
//      lcore, each on its own queue pair (a queue pair is single-threaded).
//   4. prepare()/release() per SessionKeys, run() per burst on that lcore.
//
// How the seam's CryptoJob maps onto cryptodev (DPDK 22.11 cryptodev guide,
// "Symmetric Cryptography"):
//   - AES-CM + HMAC-SHA1: one chained session per direction. Protect is
//     cipher(encrypt) -> auth(generate); unprotect is auth(generate) ->
//     cipher(decrypt), so the MAC is always computed over the ciphertext
//     (RFC 3711 §3.3 steps 4-5) and written to job.computed_tag; the protocol
//     layer compares it. The digest is the full 20-byte HMAC-SHA1 when the
//     device can produce it, otherwise the wire tag length (a truncated HMAC is
//     a prefix of the full one, RFC 2104 §5), which is all the layer compares.
//   - AEAD AES-GCM: cryptodev fixes the AAD length in the session, while the
//     SRTP AAD (the RTP header, RFC 7714 §8.2) varies with CSRCs and header
//     extensions; each SessionKeys therefore holds a small set of sessions,
//     one per AAD length seen (12 bytes made at prepare(), the others on first
//     use from the preallocated session pool, never from the heap).
//   - GCM unprotect: cryptodev verifies the AEAD tag itself and never returns
//     the computed one. The engine points the device at the received tag, which
//     RFC 7714 §8 (SRTP) and §9 (SRTCP) place right after the
//     ciphertext: on success computed_tag = received tag, on
//     RTE_CRYPTO_OP_STATUS_AUTH_FAILED computed_tag = received tag with every
//     bit flipped, so the layer's comparison fails exactly when the device's did.
//     Unencrypted GCM SRTCP (E = 0, RFC 7714 §9) has no tag there once the
//     layer has laid out its AAD: such jobs fail (engine_failed) until the seam
//     carries a pointer to the received tag.
//   - An HMAC over zero bytes is refused (engine_failed): on the ipsec_mb PMD
//     it corrupts later HMACs on the queue pair; SRTP never asks for one.
//
// Zero copy either way (CryptodevPath): on the queue pair every job's packet is
// attached to a preallocated mbuf as an external buffer
// (rte_pktmbuf_attach_extbuf) and ops come from an op pool in bulk; with CPU
// crypto the packets are handed over as plain buffers. No allocation in run()
// (a GCM session for a new AAD length comes from the preallocated pool).
// Addresses go to the device as IOVAs: with EAL in IOVA-as-VA mode any buffer
// works; in PA mode (some hardware) the packets and jobs must live in DPDK
// memory, as mbuf data does.
// run() returns when the device has handed back every op of the burst; a
// device that never completes an op would keep the lcore polling (a hardware
// fault the dataplane's watchdog, not the engine, must catch).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/srtp/crypto_engine.h"
#include "dataplane/srtp/suite.h"

struct rte_crypto_op;
struct rte_crypto_sgl;
struct rte_crypto_va_iova_ptr;
struct rte_crypto_vec;
struct rte_mbuf;
struct rte_mbuf_ext_shared_info;
struct rte_mempool;
union rte_crypto_sym_ofs;

namespace mrfp::srtp {

// Configures `dev_id` with `queue_pairs` queue pairs of `descriptors` each and
// starts it. Call once per device after rte_eal_init(), before creating
// engines. Returns an empty string on success, otherwise what failed.
std::string configure_cryptodev(std::uint8_t dev_id, std::uint16_t queue_pairs,
                                std::uint32_t descriptors = 2048);

// How run() drives the device.
enum class CryptodevPath : std::uint8_t {
  // CpuCrypto when the device offers it, else QueuePair.
  Auto,
  // Ops enqueued on the queue pair and dequeued until all are back: works on
  // every PMD, and the only way to a hardware device (QAT, mlx5).
  QueuePair,
  // rte_cryptodev_sym_cpu_crypto_process on plain buffers, synchronously on
  // the calling lcore (RTE_CRYPTODEV_FF_SYM_CPU_CRYPTO: the ipsec_mb and
  // aesni_gcm software PMDs); no ops, no mbufs, no rings.
  CpuCrypto,
};

struct CryptodevEngineOptions {
  CryptodevPath path = CryptodevPath::Auto;
  // Jobs are enqueued in chunks of at most this many ops (and mbufs).
  std::uint32_t max_burst = 64;
  // Sessions in the engine's pool: AES-CM keys take 2, GCM keys 2 per AAD length.
  std::uint32_t max_sessions = 2048;
  // create() fails unless the device can run every one of these suites.
  std::vector<Suite> required_suites{};
};

class CryptodevEngine final : public CryptoEngine {
 public:
  // Checks the device and queue pair, reads the device's capabilities and
  // preallocates the op, mbuf and session pools. Returns nullptr and sets
  // `error` (naming the device and the missing capability) on failure.
  static std::unique_ptr<CryptodevEngine> create(std::uint8_t dev_id, std::uint16_t queue_pair,
                                                 const CryptodevEngineOptions& options,
                                                 std::string& error);
  ~CryptodevEngine() override;
  CryptodevEngine(const CryptodevEngine&) = delete;
  CryptodevEngine& operator=(const CryptodevEngine&) = delete;

  std::string_view name() const override { return "cryptodev"; }
  EngineKeyState* prepare(const SessionKeys& keys) override;
  void release(EngineKeyState* state) override;
  void run(std::span<CryptoJob> jobs) override;

  // Whether the device can run `suite`; if not, why (names device and algorithm).
  bool supports(Suite suite) const;
  std::string unsupported_reason(Suite suite) const;
  // Why the last prepare() returned nullptr.
  const std::string& last_error() const { return last_error_; }
  const std::string& device_name() const { return device_name_; }
  // The path run() takes (Auto resolved at creation).
  CryptodevPath path() const { return use_cpu_crypto_ ? CryptodevPath::CpuCrypto : CryptodevPath::QueuePair; }

  struct KeyState;  // implementation detail, defined in the .cpp

 private:
  CryptodevEngine(std::uint8_t dev_id, std::uint16_t queue_pair, const CryptodevEngineOptions& options);
  std::string initialise();
  // Checks each job and picks its session; returns how many go to the device
  // (listed in job_of_op_/session_of_op_/span_of_op_), the rest stay failed.
  std::uint32_t plan_chunk(std::span<CryptoJob> jobs);
  void run_queue_pair(std::span<CryptoJob> jobs, std::uint32_t op_count);
  void run_cpu_crypto(std::span<CryptoJob> jobs, std::uint32_t accepted);
  static rte_crypto_sym_ofs cpu_crypto_offsets(const CryptoJob& job, std::uint32_t span);
  // Records the device's verdict on `job` (see the GCM notes above).
  static void complete(CryptoJob& job, bool device_ok, bool tag_mismatch);
  std::uint64_t iova_of(const void* address) const;
  void* session_for(CryptoJob& job);
  void* create_session(const SessionKeys& keys, CryptoDirection direction, std::uint32_t aad_length);

  std::uint8_t dev_id_;
  std::uint16_t queue_pair_;
  CryptodevEngineOptions options_;
  std::string device_name_;
  std::string last_error_;
  bool iova_is_va_ = true;
  bool use_cpu_crypto_ = false;
  std::uint8_t hmac_digest_len_ = kMaxTagLen;  // 20, or 0: the wire tag length

  rte_mempool* session_pool_ = nullptr;
  rte_mempool* op_pool_ = nullptr;
  rte_mempool* mbuf_pool_ = nullptr;
  std::vector<rte_mbuf*> mbufs_;                      // one per op of a chunk, kept for life
  std::vector<rte_mbuf_ext_shared_info> ext_info_;  // their external-buffer descriptors
  std::vector<rte_crypto_op*> ops_;
  // Per accepted job of a chunk (index i < accepted):
  std::vector<std::uint32_t> job_of_op_;  // its index in the chunk
  std::vector<void*> session_of_op_;      // its cryptodev session
  std::vector<std::uint32_t> span_of_op_; // bytes of the packet the device touches
  // CPU crypto: one group (same session and offsets) at a time.
  std::vector<bool> grouped_;
  std::vector<std::uint32_t> group_;
  std::vector<rte_crypto_vec> data_vecs_;
  std::vector<rte_crypto_sgl> sgls_;
  std::vector<rte_crypto_va_iova_ptr> ivs_;
  std::vector<rte_crypto_va_iova_ptr> digests_;
  std::vector<rte_crypto_va_iova_ptr> aads_;
  std::vector<std::int32_t> statuses_;
};

}  // namespace mrfp::srtp

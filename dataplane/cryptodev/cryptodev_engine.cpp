#include "dataplane/cryptodev/cryptodev_engine.h"

#include <rte_crypto.h>
#include <rte_cryptodev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include <rte_mempool.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>

namespace mrfp::srtp {
namespace {

// The op's private area (after rte_crypto_sym_op) holds the IV the device reads
// (cryptodev API: cipher.iv.offset / aead.iv.offset count from the op start)
// and the index of the job the op carries, since a PMD may complete ops out of
// order.
constexpr std::uint16_t kIvOffset = sizeof(rte_crypto_op) + sizeof(rte_crypto_sym_op);
constexpr std::uint16_t kJobIndexOffset = kIvOffset + 16;
constexpr std::uint16_t kOpPrivateSize = 16 + sizeof(std::uint32_t);

constexpr std::uint16_t kAesCmIvLen = 16;   // the full RFC 3711 §4.1.1 counter block
constexpr std::uint16_t kGcmIvLen = 12;     // RFC 7714 §8.1
constexpr std::uint16_t kGcmTagLen = 16;    // AEAD_AES_*_GCM: RFC 5116 §5.1, RFC 7714 §14.2
constexpr std::uint32_t kDefaultAadLen = 12;  // RTP header alone (RFC 7714 §8.2); SRTCP header + E||index (§9)
// Distinct GCM AAD (RTP header) lengths per key: CSRC counts times extension
// sizes seen in practice stay well below this.
constexpr std::size_t kMaxAadVariants = 64;
constexpr std::uint16_t kDequeueBurst = 64;
constexpr std::uint32_t kMaxBurst = 4096;  // op counts are 16-bit in the cryptodev burst API

std::string unique_pool_name(const char* kind) {
  static std::atomic<std::uint32_t> counter{0};
  // Mempool names are limited to RTE_MEMPOOL_NAMESIZE (26) characters.
  return std::string("mrfp_") + kind + std::to_string(counter.fetch_add(1));
}

void ignore_external_buffer_free(void*, void*) {
  // The packet buffers belong to the caller; detaching an mbuf from one must
  // not free anything.
}

std::string dpdk_error(int code) { return rte_strerror(code < 0 ? -code : code); }

}  // namespace

// Per-SessionKeys state: the cryptodev sessions made from the keys. GCM keeps
// one encrypt/decrypt pair per AAD length (see the header). The keys are kept
// (zeroised on release) only to create GCM sessions for AAD lengths seen later.
struct CryptodevEngine::KeyState final : EngineKeyState {
  struct SessionPair {
    std::uint32_t aad_length = 0;
    void* encrypt = nullptr;
    void* decrypt = nullptr;
  };
  SessionKeys keys;  // engine_state left null: the copy never reaches the layer
  std::array<SessionPair, kMaxAadVariants> sessions{};
  std::size_t session_count = 0;

  ~KeyState() override { keys.wipe(); }
};

std::string configure_cryptodev(std::uint8_t dev_id, std::uint16_t queue_pairs,
                                 std::uint32_t descriptors) {
  if (!rte_cryptodev_is_valid_dev(dev_id)) {
    return "cryptodev " + std::to_string(dev_id) + " does not exist (was its --vdev or PCI device probed?)";
  }
  const std::string name = rte_cryptodev_name_get(dev_id);
  rte_cryptodev_info info{};
  rte_cryptodev_info_get(dev_id, &info);
  if (queue_pairs == 0 || queue_pairs > info.max_nb_queue_pairs) {
    return name + ": " + std::to_string(queue_pairs) + " queue pairs requested, the device has " +
           std::to_string(info.max_nb_queue_pairs);
  }
  if ((info.feature_flags & RTE_CRYPTODEV_FF_SYMMETRIC_CRYPTO) == 0) {
    return name + ": no symmetric crypto (RTE_CRYPTODEV_FF_SYMMETRIC_CRYPTO)";
  }
  rte_cryptodev_config config{};
  config.socket_id = rte_cryptodev_socket_id(dev_id);
  config.nb_queue_pairs = queue_pairs;
  if (int rc = rte_cryptodev_configure(dev_id, &config); rc < 0) {
    return name + ": rte_cryptodev_configure failed: " + dpdk_error(rc);
  }
  rte_cryptodev_qp_conf qp_conf{};
  qp_conf.nb_descriptors = descriptors;
  qp_conf.mp_session = nullptr;  // sessions only, never sessionless ops
  for (std::uint16_t qp = 0; qp < queue_pairs; ++qp) {
    if (int rc = rte_cryptodev_queue_pair_setup(dev_id, qp, &qp_conf, config.socket_id); rc < 0) {
      return name + ": queue pair " + std::to_string(qp) + " setup failed: " + dpdk_error(rc);
    }
  }
  if (int rc = rte_cryptodev_start(dev_id); rc < 0) {
    return name + ": rte_cryptodev_start failed: " + dpdk_error(rc);
  }
  return {};
}

CryptodevEngine::CryptodevEngine(std::uint8_t dev_id, std::uint16_t queue_pair,
                                 const CryptodevEngineOptions& options)
    : dev_id_(dev_id), queue_pair_(queue_pair), options_(options) {}

std::unique_ptr<CryptodevEngine> CryptodevEngine::create(std::uint8_t dev_id, std::uint16_t queue_pair,
                                                         const CryptodevEngineOptions& options,
                                                         std::string& error) {
  std::unique_ptr<CryptodevEngine> engine(new CryptodevEngine(dev_id, queue_pair, options));
  error = engine->initialise();
  if (!error.empty()) return nullptr;
  return engine;
}

std::string CryptodevEngine::initialise() {
  if (!rte_cryptodev_is_valid_dev(dev_id_)) {
    return "cryptodev " + std::to_string(dev_id_) + " does not exist (was its --vdev or PCI device probed?)";
  }
  device_name_ = rte_cryptodev_name_get(dev_id_);
  if (queue_pair_ >= rte_cryptodev_queue_pair_count(dev_id_)) {
    return device_name_ + ": queue pair " + std::to_string(queue_pair_) + " is not configured (the device has " +
           std::to_string(rte_cryptodev_queue_pair_count(dev_id_)) + "; call configure_cryptodev first)";
  }
  if (options_.max_burst == 0 || options_.max_burst > kMaxBurst || options_.max_sessions == 0) {
    return device_name_ + ": max_burst must be 1.." + std::to_string(kMaxBurst) + " and max_sessions positive";
  }
  iova_is_va_ = rte_eal_iova_mode() == RTE_IOVA_VA;
  {
    rte_cryptodev_info info{};
    rte_cryptodev_info_get(dev_id_, &info);
    const bool has_cpu_crypto = (info.feature_flags & RTE_CRYPTODEV_FF_SYM_CPU_CRYPTO) != 0;
    if (options_.path == CryptodevPath::CpuCrypto && !has_cpu_crypto) {
      return device_name_ + " has no CPU crypto (RTE_CRYPTODEV_FF_SYM_CPU_CRYPTO); use CryptodevPath::QueuePair";
    }
    use_cpu_crypto_ = options_.path == CryptodevPath::CpuCrypto ||
                      (options_.path == CryptodevPath::Auto && has_cpu_crypto);
  }

  // HMAC-SHA1 digest length: the full 20 bytes if the device produces them.
  rte_cryptodev_sym_capability_idx hmac_idx{};
  hmac_idx.type = RTE_CRYPTO_SYM_XFORM_AUTH;
  hmac_idx.algo.auth = RTE_CRYPTO_AUTH_SHA1_HMAC;
  if (const auto* cap = rte_cryptodev_sym_capability_get(dev_id_, &hmac_idx);
      cap != nullptr && rte_cryptodev_sym_capability_check_auth(cap, kSessionAuthKeyLen, kMaxTagLen, 0) != 0) {
    hmac_digest_len_ = 0;  // fall back to the wire tag length, checked in unsupported_reason()
  }

  for (Suite suite : options_.required_suites) {
    if (std::string reason = unsupported_reason(suite); !reason.empty()) return reason;
  }

  const int socket = rte_cryptodev_socket_id(dev_id_);
  const unsigned session_size = rte_cryptodev_sym_get_private_session_size(dev_id_);
  session_pool_ = rte_cryptodev_sym_session_pool_create(unique_pool_name("sess").c_str(), options_.max_sessions,
                                                        session_size, 0, 0, socket);
  if (session_pool_ == nullptr) {
    return device_name_ + ": session pool of " + std::to_string(options_.max_sessions) +
           " failed: " + dpdk_error(rte_errno);
  }
  // The op pool holds exactly one chunk: run() returns every op before it
  // returns, so a chunk never waits for ops.
  op_pool_ = rte_crypto_op_pool_create(unique_pool_name("ops").c_str(), RTE_CRYPTO_OP_TYPE_SYMMETRIC,
                                       options_.max_burst, 0, kOpPrivateSize, socket);
  if (op_pool_ == nullptr) {
    return device_name_ + ": op pool failed: " + dpdk_error(rte_errno);
  }
  // mbufs with no data room of their own: they only ever carry external buffers.
  mbuf_pool_ = rte_pktmbuf_pool_create(unique_pool_name("mbuf").c_str(), options_.max_burst, 0, 0, 0, socket);
  if (mbuf_pool_ == nullptr) {
    return device_name_ + ": mbuf pool failed: " + dpdk_error(rte_errno);
  }
  mbufs_.assign(options_.max_burst, nullptr);
  if (rte_pktmbuf_alloc_bulk(mbuf_pool_, mbufs_.data(), options_.max_burst) != 0) {
    mbufs_.clear();
    return device_name_ + ": mbuf allocation failed";
  }
  ext_info_.assign(options_.max_burst, rte_mbuf_ext_shared_info{});
  for (auto& info : ext_info_) {
    info.free_cb = ignore_external_buffer_free;
    info.fcb_opaque = nullptr;
  }
  ops_.assign(options_.max_burst, nullptr);
  job_of_op_.assign(options_.max_burst, 0);
  session_of_op_.assign(options_.max_burst, nullptr);
  span_of_op_.assign(options_.max_burst, 0);
  grouped_.assign(options_.max_burst, false);
  group_.assign(options_.max_burst, 0);
  data_vecs_.assign(options_.max_burst, rte_crypto_vec{});
  sgls_.assign(options_.max_burst, rte_crypto_sgl{});
  ivs_.assign(options_.max_burst, rte_crypto_va_iova_ptr{});
  digests_.assign(options_.max_burst, rte_crypto_va_iova_ptr{});
  aads_.assign(options_.max_burst, rte_crypto_va_iova_ptr{});
  statuses_.assign(options_.max_burst, 0);
  return {};
}

CryptodevEngine::~CryptodevEngine() {
  for (rte_mbuf* mbuf : mbufs_) rte_pktmbuf_free(mbuf);
  rte_mempool_free(mbuf_pool_);
  rte_mempool_free(op_pool_);
  // Sessions still prepared belong to the layer, which must release them first;
  // freeing the pool under them is what the cryptodev API allows at teardown.
  rte_mempool_free(session_pool_);
}

std::string CryptodevEngine::unsupported_reason(Suite suite) const {
  const SuiteParams suite_params = params(suite);
  const std::string suite_name(srtp::name(suite));
  if (suite_params.aead) {
    rte_cryptodev_sym_capability_idx idx{};
    idx.type = RTE_CRYPTO_SYM_XFORM_AEAD;
    idx.algo.aead = RTE_CRYPTO_AEAD_AES_GCM;
    const auto* cap = rte_cryptodev_sym_capability_get(dev_id_, &idx);
    if (cap == nullptr) return device_name_ + " has no AES-GCM (needed by " + suite_name + ")";
    if (rte_cryptodev_sym_capability_check_aead(cap, static_cast<std::uint16_t>(suite_params.master_key_len),
                                                kGcmTagLen, kDefaultAadLen, kGcmIvLen) != 0) {
      return device_name_ + " cannot do AES-GCM with a " + std::to_string(suite_params.master_key_len) +
             "-byte key, 16-byte tag and 12-byte IV (needed by " + suite_name + ")";
    }
    return {};
  }
  rte_cryptodev_sym_capability_idx cipher_idx{};
  cipher_idx.type = RTE_CRYPTO_SYM_XFORM_CIPHER;
  cipher_idx.algo.cipher = RTE_CRYPTO_CIPHER_AES_CTR;
  const auto* cipher_cap = rte_cryptodev_sym_capability_get(dev_id_, &cipher_idx);
  if (cipher_cap == nullptr) return device_name_ + " has no AES-CTR (needed by " + suite_name + ")";
  if (rte_cryptodev_sym_capability_check_cipher(cipher_cap, static_cast<std::uint16_t>(suite_params.master_key_len),
                                                kAesCmIvLen) != 0) {
    return device_name_ + " cannot do AES-CTR with a " + std::to_string(suite_params.master_key_len) +
           "-byte key and a 16-byte counter block (needed by " + suite_name + ")";
  }
  rte_cryptodev_sym_capability_idx auth_idx{};
  auth_idx.type = RTE_CRYPTO_SYM_XFORM_AUTH;
  auth_idx.algo.auth = RTE_CRYPTO_AUTH_SHA1_HMAC;
  const auto* auth_cap = rte_cryptodev_sym_capability_get(dev_id_, &auth_idx);
  if (auth_cap == nullptr) return device_name_ + " has no HMAC-SHA1 (needed by " + suite_name + ")";
  // Without the full digest, both tag lengths the layer compares must be producible.
  for (std::size_t tag : {suite_params.srtp_tag_len, suite_params.srtcp_tag_len}) {
    const std::size_t digest = hmac_digest_len_ != 0 ? hmac_digest_len_ : tag;
    if (rte_cryptodev_sym_capability_check_auth(auth_cap, kSessionAuthKeyLen, static_cast<std::uint16_t>(digest),
                                                0) != 0) {
      return device_name_ + " cannot do HMAC-SHA1 with a 20-byte key and a " + std::to_string(digest) +
             "-byte digest (needed by " + suite_name + ")";
    }
  }
  rte_cryptodev_info info{};
  rte_cryptodev_info_get(dev_id_, &info);
  if ((info.feature_flags & RTE_CRYPTODEV_FF_SYM_OPERATION_CHAINING) == 0) {
    return device_name_ + " cannot chain cipher and auth (RTE_CRYPTODEV_FF_SYM_OPERATION_CHAINING, needed by " +
           suite_name + ")";
  }
  return {};
}

bool CryptodevEngine::supports(Suite suite) const { return unsupported_reason(suite).empty(); }

void* CryptodevEngine::create_session(const SessionKeys& keys, CryptoDirection direction,
                                      std::uint32_t aad_length) {
  const bool encrypt = direction == CryptoDirection::Encrypt;
  if (keys.aead()) {
    rte_crypto_sym_xform aead{};
    aead.type = RTE_CRYPTO_SYM_XFORM_AEAD;
    aead.aead.op = encrypt ? RTE_CRYPTO_AEAD_OP_ENCRYPT : RTE_CRYPTO_AEAD_OP_DECRYPT;
    aead.aead.algo = RTE_CRYPTO_AEAD_AES_GCM;
    aead.aead.key.data = keys.cipher_key.data();
    aead.aead.key.length = keys.cipher_key_len;
    aead.aead.iv.offset = kIvOffset;
    aead.aead.iv.length = kGcmIvLen;
    aead.aead.digest_length = kGcmTagLen;
    aead.aead.aad_length = static_cast<std::uint16_t>(aad_length);
    return rte_cryptodev_sym_session_create(dev_id_, &aead, session_pool_);
  }
  rte_crypto_sym_xform cipher{};
  cipher.type = RTE_CRYPTO_SYM_XFORM_CIPHER;
  // AES-CTR deciphers by enciphering (NIST SP 800-38A §6.5: the same keystream
  // XOR). The unprotect chain is auth(generate) -> cipher, which the ipsec_mb
  // PMD accepts only with a cipher "encrypt" (its chain table pairs generate
  // with encrypt, verify with decrypt); other PMDs may want "decrypt", tried second.
  cipher.cipher.op = RTE_CRYPTO_CIPHER_OP_ENCRYPT;
  cipher.cipher.algo = RTE_CRYPTO_CIPHER_AES_CTR;
  cipher.cipher.key.data = keys.cipher_key.data();
  cipher.cipher.key.length = keys.cipher_key_len;
  cipher.cipher.iv.offset = kIvOffset;
  cipher.cipher.iv.length = kAesCmIvLen;
  rte_crypto_sym_xform auth{};
  auth.type = RTE_CRYPTO_SYM_XFORM_AUTH;
  // Generate in both directions: the protocol layer compares the tag itself.
  auth.auth.op = RTE_CRYPTO_AUTH_OP_GENERATE;
  auth.auth.algo = RTE_CRYPTO_AUTH_SHA1_HMAC;
  auth.auth.key.data = keys.auth_key.data();
  auth.auth.key.length = keys.auth_key_len;
  auth.auth.digest_length = hmac_digest_len_ != 0 ? hmac_digest_len_ : keys.tag_len;
  // RFC 3711 §3.3: protect encrypts then authenticates the ciphertext;
  // unprotect authenticates the ciphertext before deciphering it.
  if (encrypt) {
    cipher.next = &auth;
    return rte_cryptodev_sym_session_create(dev_id_, &cipher, session_pool_);
  }
  auth.next = &cipher;
  if (void* session = rte_cryptodev_sym_session_create(dev_id_, &auth, session_pool_)) return session;
  cipher.cipher.op = RTE_CRYPTO_CIPHER_OP_DECRYPT;
  return rte_cryptodev_sym_session_create(dev_id_, &auth, session_pool_);
}

EngineKeyState* CryptodevEngine::prepare(const SessionKeys& keys) {
  if (std::string reason = unsupported_reason(keys.suite); !reason.empty()) {
    last_error_ = std::move(reason);
    return nullptr;
  }
  if (!keys.aead() && keys.auth_key_len != kSessionAuthKeyLen) {
    last_error_ = device_name_ + ": HMAC-SHA1 session key must be 20 bytes, got " + std::to_string(keys.auth_key_len);
    return nullptr;
  }
  auto state = std::make_unique<KeyState>();
  state->keys = keys;
  state->keys.engine_state = nullptr;
  KeyState::SessionPair& pair = state->sessions[0];
  pair.aad_length = keys.aead() ? kDefaultAadLen : 0;
  pair.encrypt = create_session(keys, CryptoDirection::Encrypt, pair.aad_length);
  pair.decrypt = pair.encrypt != nullptr ? create_session(keys, CryptoDirection::Decrypt, pair.aad_length) : nullptr;
  if (pair.encrypt == nullptr || pair.decrypt == nullptr) {
    last_error_ = device_name_ + ": session creation for " + std::string(srtp::name(keys.suite)) +
                  " failed: " + dpdk_error(rte_errno);
    if (pair.encrypt != nullptr) rte_cryptodev_sym_session_free(dev_id_, pair.encrypt);
    return nullptr;
  }
  state->session_count = 1;
  if (!keys.aead()) state->keys.wipe();  // all it needs lives in the sessions now
  return state.release();
}

void CryptodevEngine::release(EngineKeyState* state) {
  auto* key_state = static_cast<KeyState*>(state);
  if (key_state == nullptr) return;
  for (std::size_t i = 0; i < key_state->session_count; ++i) {
    // Freeing has the PMD clear its private session data (its sym_session_clear op).
    rte_cryptodev_sym_session_free(dev_id_, key_state->sessions[i].encrypt);
    rte_cryptodev_sym_session_free(dev_id_, key_state->sessions[i].decrypt);
  }
  delete key_state;
}

void* CryptodevEngine::session_for(CryptoJob& job) {
  if (job.keys == nullptr || job.keys->engine_state == nullptr) return nullptr;
  auto* state = static_cast<KeyState*>(job.keys->engine_state);
  const bool encrypt = job.direction == CryptoDirection::Encrypt;
  const std::uint32_t aad_length = job.keys->aead() ? job.aad_length : 0;
  for (std::size_t i = 0; i < state->session_count; ++i) {
    auto& pair = state->sessions[i];
    if (pair.aad_length == aad_length) return encrypt ? pair.encrypt : pair.decrypt;
  }
  // A GCM AAD length not seen before (an RTP header with CSRCs or an
  // extension): make its sessions from the preallocated pool, once.
  if (state->session_count == state->sessions.size() || aad_length > UINT16_MAX) return nullptr;
  void* encrypt_session = create_session(state->keys, CryptoDirection::Encrypt, aad_length);
  if (encrypt_session == nullptr) return nullptr;
  void* decrypt_session = create_session(state->keys, CryptoDirection::Decrypt, aad_length);
  if (decrypt_session == nullptr) {
    rte_cryptodev_sym_session_free(dev_id_, encrypt_session);
    return nullptr;
  }
  state->sessions[state->session_count++] = {aad_length, encrypt_session, decrypt_session};
  return encrypt ? encrypt_session : decrypt_session;
}

void CryptodevEngine::run(std::span<CryptoJob> jobs) {
  while (!jobs.empty()) {
    const std::size_t chunk = std::min<std::size_t>(jobs.size(), options_.max_burst);
    const std::uint32_t accepted = plan_chunk(jobs.first(chunk));
    if (accepted > 0) {
      if (use_cpu_crypto_) {
        run_cpu_crypto(jobs.first(chunk), accepted);
      } else {
        run_queue_pair(jobs.first(chunk), accepted);
      }
    }
    jobs = jobs.subspan(chunk);
  }
}

rte_iova_t CryptodevEngine::iova_of(const void* address) const {
  // Software PMDs ignore IOVAs; hardware needs the packet in DPDK memory (an
  // mbuf's buffer) unless EAL runs with IOVA as VA.
  return iova_is_va_ ? reinterpret_cast<rte_iova_t>(address) : rte_mem_virt2iova(address);
}

std::uint32_t CryptodevEngine::plan_chunk(std::span<CryptoJob> jobs) {
  std::uint32_t accepted = 0;
  for (std::uint32_t j = 0; j < jobs.size(); ++j) {
    CryptoJob& job = jobs[j];
    job.engine_failed = true;  // until the device says otherwise
    void* session = session_for(job);
    if (session == nullptr || job.packet == nullptr) continue;
    const bool aead = job.keys->aead();
    const std::uint64_t cipher_end = std::uint64_t{job.cipher_offset} + job.cipher_length;
    // The bytes the device touches: the cipher range and, for HMAC, [0, auth_length).
    const std::uint64_t span_end = aead ? cipher_end : std::max<std::uint64_t>(cipher_end, job.auth_length);
    if (span_end > UINT16_MAX || (aead && job.aad_length > 0 && job.aad == nullptr)) continue;
    // GCM unprotect: the device verifies the tag it finds right after the
    // ciphertext. When the AAD covers those bytes (SRTCP with E = 0, RFC 7714
    // §9, where the layer moves E||index over the tag) the tag is not there:
    // an engine error rather than a wrong verdict.
    if (aead && job.direction == CryptoDirection::Decrypt && job.aad == job.packet &&
        job.aad_length > cipher_end) {
      continue;
    }
    // An HMAC over zero bytes leaves the ipsec_mb PMD (IPsec-MB 1.3, DPDK
    // 22.11) computing wrong HMACs for later jobs on the queue pair. SRTP
    // always authenticates at least a header and the ROC (RFC 3711 §4.2), so
    // such a job is a caller bug: refuse it rather than poison the device.
    if (!aead && job.auth_length == 0) continue;
    job_of_op_[accepted] = j;
    session_of_op_[accepted] = session;
    span_of_op_[accepted] = static_cast<std::uint32_t>(span_end);
    ++accepted;
  }
  return accepted;
}

void CryptodevEngine::complete(CryptoJob& job, bool device_ok, bool tag_mismatch) {
  const bool gcm_decrypt = job.keys->aead() && job.direction == CryptoDirection::Decrypt;
  const std::uint8_t* received_tag = job.packet + job.cipher_offset + job.cipher_length;
  if (device_ok) {
    job.engine_failed = false;
    // The device verified the received tag: hand it back as the computed one.
    if (gcm_decrypt) std::memcpy(job.computed_tag.data(), received_tag, kGcmTagLen);
  } else if (gcm_decrypt && tag_mismatch) {
    // Not an engine failure: the packet is forged or damaged. Hand the layer a
    // tag that cannot match, so it reports AuthFailed.
    job.engine_failed = false;
    for (std::size_t b = 0; b < kGcmTagLen; ++b) job.computed_tag[b] = static_cast<std::uint8_t>(~received_tag[b]);
  }
}

void CryptodevEngine::run_queue_pair(std::span<CryptoJob> jobs, std::uint32_t op_count) {
  // Zero copy: each packet becomes the external buffer of one of the engine's
  // own mbufs for the time of the call (rte_pktmbuf_attach_extbuf).
  for (std::uint32_t i = 0; i < op_count; ++i) {
    CryptoJob& job = jobs[job_of_op_[i]];
    rte_mbuf* mbuf = mbufs_[i];
    rte_mbuf_ext_shared_info* info = &ext_info_[i];
    rte_mbuf_ext_refcnt_set(info, 1);
    const auto span = static_cast<std::uint16_t>(span_of_op_[i]);
    rte_pktmbuf_attach_extbuf(mbuf, job.packet, iova_of(job.packet), span, info);
    mbuf->data_len = span;
    mbuf->pkt_len = span;
  }
  const auto count = static_cast<std::uint16_t>(op_count);
  if (rte_crypto_op_bulk_alloc(op_pool_, RTE_CRYPTO_OP_TYPE_SYMMETRIC, ops_.data(), count) != count) {
    for (std::uint32_t i = 0; i < op_count; ++i) rte_pktmbuf_detach(mbufs_[i]);
    return;  // cannot happen (the pool holds one chunk); the jobs stay engine_failed
  }
  for (std::uint32_t i = 0; i < op_count; ++i) {
    CryptoJob& job = jobs[job_of_op_[i]];
    rte_crypto_op* op = ops_[i];
    rte_crypto_sym_op* sym = op->sym;
    rte_crypto_op_attach_sym_session(op, session_of_op_[i]);
    sym->m_src = mbufs_[i];
    sym->m_dst = nullptr;  // in place
    std::memcpy(rte_crypto_op_ctod_offset(op, std::uint8_t*, kIvOffset), job.iv.data(), kAesCmIvLen);
    std::memcpy(rte_crypto_op_ctod_offset(op, std::uint32_t*, kJobIndexOffset), &job_of_op_[i],
                sizeof(std::uint32_t));
    if (job.keys->aead()) {
      sym->aead.data.offset = job.cipher_offset;
      sym->aead.data.length = job.cipher_length;
      sym->aead.aad.data = const_cast<std::uint8_t*>(job.aad);
      sym->aead.aad.phys_addr = job.aad != nullptr ? iova_of(job.aad) : 0;
      // Unprotect: the device verifies the received tag, which follows the ciphertext.
      std::uint8_t* digest = job.direction == CryptoDirection::Decrypt
                                 ? job.packet + job.cipher_offset + job.cipher_length
                                 : job.computed_tag.data();
      sym->aead.digest.data = digest;
      sym->aead.digest.phys_addr = iova_of(digest);
    } else {
      sym->cipher.data.offset = job.cipher_offset;
      sym->cipher.data.length = job.cipher_length;
      sym->auth.data.offset = 0;
      sym->auth.data.length = job.auth_length;
      sym->auth.digest.data = job.computed_tag.data();
      sym->auth.digest.phys_addr = iova_of(job.computed_tag.data());
    }
  }

  // Enqueue the whole chunk, dequeue until every op is back (the queue pair
  // may take fewer than offered when its ring is full; a PMD may complete out
  // of order, hence the job index in each op).
  std::uint16_t enqueued = 0;
  std::uint16_t dequeued = 0;
  while (dequeued < count) {
    if (enqueued < count) {
      enqueued = static_cast<std::uint16_t>(
          enqueued + rte_cryptodev_enqueue_burst(dev_id_, queue_pair_, ops_.data() + enqueued,
                                                 static_cast<std::uint16_t>(count - enqueued)));
    }
    rte_crypto_op* done[kDequeueBurst];
    const std::uint16_t got = rte_cryptodev_dequeue_burst(dev_id_, queue_pair_, done, kDequeueBurst);
    for (std::uint16_t k = 0; k < got; ++k) {
      rte_crypto_op* op = done[k];
      std::uint32_t job_index = 0;
      std::memcpy(&job_index, rte_crypto_op_ctod_offset(op, std::uint32_t*, kJobIndexOffset), sizeof job_index);
      complete(jobs[job_index], op->status == RTE_CRYPTO_OP_STATUS_SUCCESS,
               op->status == RTE_CRYPTO_OP_STATUS_AUTH_FAILED);
    }
    dequeued = static_cast<std::uint16_t>(dequeued + got);
  }
  for (std::uint32_t i = 0; i < op_count; ++i) rte_pktmbuf_detach(mbufs_[i]);
  rte_mempool_put_bulk(op_pool_, reinterpret_cast<void**>(ops_.data()), count);
}

void CryptodevEngine::run_cpu_crypto(std::span<CryptoJob> jobs, std::uint32_t accepted) {
  // rte_cryptodev_sym_cpu_crypto_process takes one session and one set of
  // head/tail offsets per call (DPDK cryptodev guide, "CPU crypto"): group the
  // jobs by both. An SRTP burst under one key has a handful of header lengths,
  // so a handful of calls.
  std::fill_n(grouped_.begin(), accepted, false);
  for (std::uint32_t first = 0; first < accepted; ++first) {
    if (grouped_[first]) continue;
    const rte_crypto_sym_ofs group_ofs = cpu_crypto_offsets(jobs[job_of_op_[first]], span_of_op_[first]);
    std::uint32_t members = 0;
    for (std::uint32_t i = first; i < accepted; ++i) {
      if (grouped_[i] || session_of_op_[i] != session_of_op_[first]) continue;
      CryptoJob& job = jobs[job_of_op_[i]];
      if (cpu_crypto_offsets(job, span_of_op_[i]).raw != group_ofs.raw) continue;
      grouped_[i] = true;
      group_[members] = i;
      // GCM: the buffer is the cipher range itself (the aesni_gcm PMD ignores
      // the offsets, DPDK 22.11 aesni_gcm_process_bulk); HMAC chains: [0, span).
      const bool aead = job.keys->aead();
      std::uint8_t* base = aead ? job.packet + job.cipher_offset : job.packet;
      const std::uint32_t length = aead ? job.cipher_length : span_of_op_[i];
      rte_crypto_vec& data = data_vecs_[members];
      data.base = base;
      data.iova = iova_of(base);
      data.len = length;
      data.tot_len = length;
      sgls_[members] = rte_crypto_sgl{&data, 1};
      ivs_[members] = {job.iv.data(), iova_of(job.iv.data())};
      std::uint8_t* digest = job.keys->aead() && job.direction == CryptoDirection::Decrypt
                                 ? job.packet + job.cipher_offset + job.cipher_length
                                 : job.computed_tag.data();
      digests_[members] = {digest, iova_of(digest)};
      aads_[members] = {const_cast<std::uint8_t*>(job.aad), job.aad != nullptr ? iova_of(job.aad) : 0};
      statuses_[members] = 0;
      ++members;
    }
    rte_crypto_sym_vec vec{};
    vec.num = members;
    vec.src_sgl = sgls_.data();
    vec.dest_sgl = nullptr;  // in place
    vec.iv = ivs_.data();
    vec.digest = digests_.data();
    vec.aad = aads_.data();
    vec.status = statuses_.data();
    rte_cryptodev_sym_cpu_crypto_process(dev_id_, session_of_op_[first], group_ofs, &vec);
    for (std::uint32_t m = 0; m < members; ++m) {
      // 0: done; EBADMSG: the AEAD tag did not verify (the PMDs' convention).
      complete(jobs[job_of_op_[group_[m]]], statuses_[m] == 0, statuses_[m] == EBADMSG);
    }
  }
}

rte_crypto_sym_ofs CryptodevEngine::cpu_crypto_offsets(const CryptoJob& job, std::uint32_t span) {
  // Offsets count from the start (head) and the end (tail) of the buffer:
  // [0, span) for HMAC chains; for GCM the buffer is the cipher range, so no
  // offsets, and every GCM job of a session falls in one group.
  rte_crypto_sym_ofs ofs{};
  if (job.keys->aead()) return ofs;
  ofs.ofs.cipher.head = static_cast<std::uint16_t>(job.cipher_offset);
  ofs.ofs.cipher.tail = static_cast<std::uint16_t>(span - (job.cipher_offset + job.cipher_length));
  ofs.ofs.auth.head = 0;
  ofs.ofs.auth.tail = static_cast<std::uint16_t>(span - job.auth_length);
  return ofs;
}

}  // namespace mrfp::srtp

#include "dataplane/srtp/ipsec_mb_engine.h"

#include <intel-ipsec-mb.h>

#include <cstring>
#include <new>

namespace mrfp::srtp {
namespace {

// Everything IPsec-MB needs per set of session keys, computed once
// (design.md: no per-packet key setup).
struct alignas(64) IpsecMbKeyState final : EngineKeyState {
  ~IpsecMbKeyState() override {
    explicit_bzero(aes_schedule, sizeof aes_schedule);
    explicit_bzero(aes_decrypt_schedule, sizeof aes_decrypt_schedule);
    explicit_bzero(hmac_ipad_state, sizeof hmac_ipad_state);
    explicit_bzero(hmac_opad_state, sizeof hmac_opad_state);
    explicit_bzero(static_cast<void*>(&gcm_keys), sizeof gcm_keys);
  }

  // AES-CTR: encryption key schedule (CTR decrypts with it too).
  alignas(16) std::uint8_t aes_schedule[16 * 15] = {};
  alignas(16) std::uint8_t aes_decrypt_schedule[16 * 15] = {};  // required by the key expansion call
  // HMAC-SHA1 (RFC 2104): inner and outer states after the key block.
  alignas(16) std::uint8_t hmac_ipad_state[32] = {};
  alignas(16) std::uint8_t hmac_opad_state[32] = {};
  // AES-GCM: round keys and GHASH tables.
  gcm_key_data gcm_keys{};
  IMB_KEY_SIZE_BYTES key_size = IMB_KEY_128_BYTES;
  bool aead = false;
};

// HMAC ipad/opad states (RFC 2104): SHA1 of one 64-byte block (key XOR pad).
void precompute_hmac(IMB_MGR* manager, const SessionKeys& keys, IpsecMbKeyState& state) {
  alignas(16) std::uint8_t block[64];
  std::memset(block, 0x36, sizeof block);
  for (std::size_t i = 0; i < keys.auth_key_len; ++i) block[i] ^= keys.auth_key[i];
  IMB_SHA1_ONE_BLOCK(manager, block, state.hmac_ipad_state);
  std::memset(block, 0x5c, sizeof block);
  for (std::size_t i = 0; i < keys.auth_key_len; ++i) block[i] ^= keys.auth_key[i];
  IMB_SHA1_ONE_BLOCK(manager, block, state.hmac_opad_state);
  explicit_bzero(block, sizeof block);
}

void fill_job(IMB_JOB& imb, CryptoJob& job) {
  const auto& state = *static_cast<const IpsecMbKeyState*>(job.keys->engine_state);
  const bool encrypt = job.direction == CryptoDirection::Encrypt;
  // IPsec-MB reads from src + cipher offset but writes to dst itself.
  imb.src = job.packet;
  imb.dst = job.packet + job.cipher_offset;
  imb.cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
  // Encrypt-then-MAC on protect, MAC-then-decrypt on unprotect (RFC 3711 §3.3).
  imb.chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
  imb.key_len_in_bytes = state.key_size;
  imb.cipher_start_src_offset_in_bytes = job.cipher_offset;
  imb.msg_len_to_cipher_in_bytes = job.cipher_length;
  imb.iv = job.iv.data();
  imb.auth_tag_output = job.computed_tag.data();
  imb.user_data = &job;
  if (state.aead) {
    // RFC 7714 §8-§9: AES-GCM over the payload with the header (or the SRTCP
    // header || E||index) as AAD, 16-byte tag.
    imb.cipher_mode = IMB_CIPHER_GCM;
    imb.hash_alg = IMB_AUTH_AES_GMAC;
    imb.enc_keys = &state.gcm_keys;
    imb.dec_keys = &state.gcm_keys;
    imb.iv_len_in_bytes = 12;
    imb.hash_start_src_offset_in_bytes = job.cipher_offset;
    imb.msg_len_to_hash_in_bytes = job.cipher_length;
    imb.u.GCM.aad = job.aad;
    imb.u.GCM.aad_len_in_bytes = job.aad_length;
    imb.auth_tag_output_len_in_bytes = 16;
  } else {
    // RFC 3711 §4.1.1 AES-CM is CTR mode with a 16-byte counter block;
    // an empty payload needs no cipher at all.
    imb.cipher_mode = job.cipher_length == 0 ? IMB_CIPHER_NULL : IMB_CIPHER_CNTR;
    imb.enc_keys = state.aes_schedule;
    imb.dec_keys = state.aes_schedule;
    imb.iv_len_in_bytes = 16;
    // RFC 3711 §4.2: HMAC-SHA1 over the authenticated portion (|| ROC); the
    // full 20 bytes are produced and the protocol layer truncates.
    imb.hash_alg = IMB_AUTH_HMAC_SHA_1;
    imb.hash_start_src_offset_in_bytes = 0;
    imb.msg_len_to_hash_in_bytes = job.auth_length;
    imb.u.HMAC._hashed_auth_key_xor_ipad = state.hmac_ipad_state;
    imb.u.HMAC._hashed_auth_key_xor_opad = state.hmac_opad_state;
    imb.auth_tag_output_len_in_bytes = 20;
  }
}

void complete(const IMB_JOB* imb) {
  auto* job = static_cast<CryptoJob*>(imb->user_data);
  if (job != nullptr) job->engine_failed = imb->status != IMB_STATUS_COMPLETED;
}

}  // namespace

namespace {

const char* arch_name(IMB_ARCH arch) {
  switch (arch) {
    case IMB_ARCH_AVX512: return "avx512";
    case IMB_ARCH_AVX2: return "avx2";
    case IMB_ARCH_AVX: return "avx";
    case IMB_ARCH_SSE: return "sse";
    default: return "noaesni";
  }
}

// A manager for `wanted`, or nullptr if the CPU or the library cannot.
IMB_MGR* make_manager(IpsecMbArch wanted, IMB_ARCH& got) {
  IMB_MGR* manager = alloc_mb_mgr(0);
  if (manager == nullptr) return nullptr;
  got = IMB_ARCH_NONE;
  switch (wanted) {
    case IpsecMbArch::Auto: init_mb_mgr_auto(manager, &got); break;
    case IpsecMbArch::Sse: init_mb_mgr_sse(manager); got = IMB_ARCH_SSE; break;
    case IpsecMbArch::Avx2: init_mb_mgr_avx2(manager); got = IMB_ARCH_AVX2; break;
    case IpsecMbArch::Avx512: init_mb_mgr_avx512(manager); got = IMB_ARCH_AVX512; break;
  }
  if (got == IMB_ARCH_NONE || imb_get_errno(manager) != 0) {
    free_mb_mgr(manager);
    return nullptr;
  }
  return manager;
}

}  // namespace

IpsecMbEngine::IpsecMbEngine(const IpsecMbOptions& options) {
  IMB_ARCH arch = IMB_ARCH_NONE;
  manager_ = make_manager(options.arch, arch);
  if (manager_ == nullptr) return;
  name_ = std::string("ipsec-mb/") + arch_name(arch);
  if (options.small_burst_jobs > 0 && arch != IMB_ARCH_SSE) {
    IMB_ARCH small_arch = IMB_ARCH_NONE;
    small_burst_manager_ = make_manager(IpsecMbArch::Sse, small_arch);
    if (small_burst_manager_ != nullptr) {
      small_burst_jobs_ = options.small_burst_jobs;
      name_ += "+sse<=" + std::to_string(small_burst_jobs_);
    }
  }
}

IpsecMbEngine::~IpsecMbEngine() {
  if (manager_ != nullptr) free_mb_mgr(manager_);
  if (small_burst_manager_ != nullptr) free_mb_mgr(small_burst_manager_);
}

EngineKeyState* IpsecMbEngine::prepare(const SessionKeys& keys) {
  if (manager_ == nullptr) return nullptr;
  auto* state = new (std::nothrow) IpsecMbKeyState();
  if (state == nullptr) return nullptr;
  state->aead = keys.aead();
  state->key_size = keys.cipher_key_len == 32 ? IMB_KEY_256_BYTES : IMB_KEY_128_BYTES;
  if (keys.cipher_key_len != 16 && keys.cipher_key_len != 32) {
    delete state;
    return nullptr;
  }
  const bool aes256 = keys.cipher_key_len == 32;
  if (state->aead) {
    if (aes256) IMB_AES256_GCM_PRE(manager_, keys.cipher_key.data(), &state->gcm_keys);
    else IMB_AES128_GCM_PRE(manager_, keys.cipher_key.data(), &state->gcm_keys);
  } else {
    if (aes256) IMB_AES_KEYEXP_256(manager_, keys.cipher_key.data(), state->aes_schedule, state->aes_decrypt_schedule);
    else IMB_AES_KEYEXP_128(manager_, keys.cipher_key.data(), state->aes_schedule, state->aes_decrypt_schedule);
    precompute_hmac(manager_, keys, *state);
  }
  return state;
}

void IpsecMbEngine::release(EngineKeyState* state) { delete state; }

void IpsecMbEngine::run(std::span<CryptoJob> jobs) {
  // GCM key data is laid out per architecture: AEAD jobs stay on the main manager.
  bool small = jobs.size() <= small_burst_jobs_;
  for (std::size_t i = 0; small && i < jobs.size(); ++i) small = !jobs[i].keys->aead();
  run_on(small ? small_burst_manager_ : manager_, jobs);
}

void IpsecMbEngine::run_on(IMB_MGR* manager, std::span<CryptoJob> jobs) {
  // Submit every job; the manager hands back completed jobs (in submission
  // order) as lanes fill; the flush at the end drains the partly full lanes.
  for (CryptoJob& job : jobs) {
    IMB_JOB* imb = IMB_GET_NEXT_JOB(manager);
    fill_job(*imb, job);
    job.engine_failed = false;
    for (IMB_JOB* done = IMB_SUBMIT_JOB(manager); done != nullptr; done = IMB_GET_COMPLETED_JOB(manager)) {
      complete(done);
    }
  }
  for (IMB_JOB* done = IMB_FLUSH_JOB(manager); done != nullptr; done = IMB_FLUSH_JOB(manager)) complete(done);
}

}  // namespace mrfp::srtp

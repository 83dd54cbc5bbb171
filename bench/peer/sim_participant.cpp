#include "bench/peer/sim_participant.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <stdexcept>

namespace mrfp::sim {

namespace {
constexpr std::size_t kMaxPacket = 1500;

void put16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}
void put32(std::uint8_t* p, std::uint32_t v) {
  put16(p, static_cast<std::uint16_t>(v >> 16));
  put16(p + 2, static_cast<std::uint16_t>(v));
}
std::uint16_t get16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t get32(const std::uint8_t* p) { return std::uint32_t{get16(p)} << 16 | get16(p + 2); }
}  // namespace

srtp::MasterKey make_key(srtp::Suite suite, std::uint64_t seed, std::span<const std::uint8_t> mki) {
  std::mt19937_64 random(seed);
  srtp::MasterKey key;
  key.suite = suite;
  const auto p = srtp::params(suite);
  key.key_len = static_cast<std::uint8_t>(p.master_key_len);
  key.salt_len = static_cast<std::uint8_t>(p.master_salt_len);
  for (std::size_t i = 0; i < key.key_len; ++i) key.key[i] = static_cast<std::uint8_t>(random());
  for (std::size_t i = 0; i < key.salt_len; ++i) key.salt[i] = static_cast<std::uint8_t>(random());
  key.mki_len = static_cast<std::uint8_t>(mki.size());
  std::copy(mki.begin(), mki.end(), key.mki.begin());
  return key;
}

SimParticipant::SimParticipant(ParticipantConfig config)
    : config_(std::move(config)),
      tone_(config_.tone_hz, config_.amplitude, mixer::native_pcm_rate(config_.codec)),
      seq_(static_cast<std::uint16_t>(config_.ssrc * 2654435761u >> 16)),
      timestamp_(config_.ssrc ^ 0x5a5a5a5au),
      samples_per_frame_(mixer::native_pcm_rate(config_.codec) * config_.frame_ms / 1000) {
  sockaddr_storage local{};
  socklen_t local_len = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&local);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&local);
  if (inet_pton(AF_INET, config_.bind_host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    local_len = sizeof(sockaddr_in);
  } else if (inet_pton(AF_INET6, config_.bind_host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    local_len = sizeof(sockaddr_in6);
  } else {
    throw std::invalid_argument("bind_host is not an IP address: " + config_.bind_host);
  }
  socket_ = ::socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (socket_ < 0) throw std::runtime_error("socket() failed");
  int buffer = 4 << 20;
  setsockopt(socket_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  if (::bind(socket_, reinterpret_cast<sockaddr*>(&local), local_len) != 0) {
    throw std::runtime_error("bind() failed");
  }
  getsockname(socket_, reinterpret_cast<sockaddr*>(&local), &local_len);
  local_port_ = ntohs(local.ss_family == AF_INET ? v4->sin_port : v6->sin6_port);

  outbound_ = std::make_unique<LibsrtpSession>(config_.send_key, LibsrtpSession::Direction::Outbound,
                                               config_.ssrc);
  inbound_.push_back(std::make_unique<LibsrtpSession>(config_.receive_key, LibsrtpSession::Direction::Inbound));
  frame_.resize(samples_per_frame_);
  if (config_.codec == mixer::Codec::Opus) {
    int error = 0;
    opus_encoder_ = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &error);
    opus_decoder_ = opus_decoder_create(48000, 1, &error);
    if (!opus_encoder_ || !opus_decoder_) throw std::runtime_error("opus create failed");
    opus_encoder_ctl(opus_encoder_, OPUS_SET_BITRATE(32000));
  }
}

double SimParticipant::encoder_delay_ms() const {
  if (!opus_encoder_) return 0;
  opus_int32 lookahead = 0;
  opus_encoder_ctl(opus_encoder_, OPUS_GET_LOOKAHEAD(&lookahead));
  return lookahead * 1000.0 / 48000.0;
}

SimParticipant::~SimParticipant() {
  if (socket_ >= 0) ::close(socket_);
  if (opus_encoder_) opus_encoder_destroy(opus_encoder_);
  if (opus_decoder_) opus_decoder_destroy(opus_decoder_);
}

std::size_t SimParticipant::encode(std::span<const std::int16_t> pcm, std::uint8_t* out, std::size_t capacity) {
  switch (config_.codec) {
    case mixer::Codec::Pcmu:
      for (std::size_t i = 0; i < pcm.size(); ++i) out[i] = pcmu_from_linear(pcm[i]);
      return pcm.size();
    case mixer::Codec::Pcma:
      for (std::size_t i = 0; i < pcm.size(); ++i) out[i] = pcma_from_linear(pcm[i]);
      return pcm.size();
    case mixer::Codec::Opus: {
      const auto bytes = opus_encode(opus_encoder_, pcm.data(), static_cast<int>(pcm.size()), out,
                                     static_cast<opus_int32>(capacity));
      return bytes < 0 ? 0 : static_cast<std::size_t>(bytes);
    }
  }
  return 0;
}

std::vector<std::uint8_t> SimParticipant::make_packet(bool talking) {
  if (talking) {
    tone_.fill(frame_);
  } else {
    std::fill(frame_.begin(), frame_.end(), 0);
  }
  std::vector<std::uint8_t> packet(kMaxPacket);
  std::uint8_t* p = packet.data();
  // RFC 3550 §5.1 fixed header.
  const bool with_level = config_.level_ext_id != 0;
  p[0] = with_level ? 0x90 : 0x80;
  p[1] = config_.payload_type & 0x7F;
  put16(p + 2, seq_++);
  put32(p + 4, timestamp_);
  put32(p + 8, config_.ssrc);
  timestamp_ += static_cast<std::uint32_t>(mixer::rtp_clock_rate(config_.codec) * config_.frame_ms / 1000);
  std::size_t length = 12;
  if (with_level) {
    // RFC 8285 §4.2 one-byte header; RFC 6464 §3: V flag and level in -dBov.
    put16(p + 12, 0xBEDE);
    put16(p + 14, 1);
    p[16] = static_cast<std::uint8_t>(config_.level_ext_id << 4);
    p[17] = static_cast<std::uint8_t>((talking ? 0x80 : 0) | audio_level_dbov(frame_));
    p[18] = p[19] = 0;
    length = 20;
  }
  length += encode(frame_, p + length, kMaxPacket - length - SRTP_MAX_TRAILER_LEN);
  const int protected_length = outbound_->protect(p, static_cast<int>(length));
  if (protected_length < 0) throw std::runtime_error("libsrtp2 protect failed");
  packet.resize(static_cast<std::size_t>(protected_length));
  return packet;
}

bool SimParticipant::send_raw(std::span<const std::uint8_t> bytes) {
  const socklen_t length = mixer_.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  return ::sendto(socket_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&mixer_),
                  length) == static_cast<ssize_t>(bytes.size());
}

bool SimParticipant::send_frame(bool talking) {
  const auto packet = make_packet(talking);
  const bool ok = send_raw(packet);
  sent_ += ok;
  return ok;
}

void SimParticipant::switch_send_key(const srtp::MasterKey& key) {
  outbound_ = std::make_unique<LibsrtpSession>(key, LibsrtpSession::Direction::Outbound, config_.ssrc);
}

void SimParticipant::add_receive_key(const srtp::MasterKey& key) {
  inbound_.insert(inbound_.begin(), std::make_unique<LibsrtpSession>(key, LibsrtpSession::Direction::Inbound));
  if (inbound_.size() > 2) inbound_.pop_back();
}

void SimParticipant::receive_available() {
  std::uint8_t buffer[kMaxPacket];
  for (;;) {
    const auto n = ::recv(socket_, buffer, sizeof buffer, 0);
    if (n <= 0) return;
    // RFC 5761 §4: RTCP packet types 192..223 in the second byte.
    if (n >= 2 && buffer[1] >= 192 && buffer[1] <= 223) {
      for (auto& session : inbound_) {
        std::uint8_t copy[kMaxPacket];
        std::memcpy(copy, buffer, static_cast<std::size_t>(n));
        const int length = session->unprotect_rtcp(copy, static_cast<int>(n));
        if (length >= 0) {
          ++rtcp_received_;
          // RFC 3550 §6.1: walk the compound for a BYE (packet type 203).
          for (int offset = 0; offset + 4 <= length;) {
            if (copy[offset + 1] == 203) ++byes_received_;
            offset += 4 * (get16(copy + offset + 2) + 1);
          }
          break;
        }
      }
      continue;
    }
    int length = -1;
    for (auto& session : inbound_) {
      std::uint8_t copy[kMaxPacket];
      std::memcpy(copy, buffer, static_cast<std::size_t>(n));
      length = session->unprotect(copy, static_cast<int>(n));
      if (length >= 0) {
        std::memcpy(buffer, copy, static_cast<std::size_t>(length));
        break;
      }
    }
    if (length < 12) {
      ++auth_failures_;
      continue;
    }
    ++received_;
    const std::uint16_t seq = get16(buffer + 2);
    const std::uint32_t ssrc = get32(buffer + 8);
    auto& stream = streams_[ssrc];
    ++stream.packets;
    if (buffer[1] & 0x80) ++stream.markers;
    if (stream.last_seq) {
      const auto delta = static_cast<std::uint16_t>(seq - *stream.last_seq);
      if (delta == 0 || delta > 0x8000) {
        ++stream.duplicates_or_reordered;
      } else {
        stream.lost += delta - 1u;
      }
    }
    stream.last_seq = seq;
    stream.last_timestamp = get32(buffer + 4);
    std::size_t header = 12 + 4u * (buffer[0] & 0x0F);
    if ((buffer[0] & 0x10) && static_cast<std::size_t>(length) >= header + 4) {
      header += 4 + 4u * get16(buffer + header + 2);
    }
    std::size_t end = static_cast<std::size_t>(length);
    if ((buffer[0] & 0x20) && end > header) end -= buffer[end - 1];  // RFC 3550 §5.1 padding
    if (header > end) continue;
    decode({buffer + header, end - header});
  }
}

void SimParticipant::decode(std::span<const std::uint8_t> payload) {
  switch (config_.codec) {
    case mixer::Codec::Pcmu:
      for (auto code : payload) audio_.push_back(linear_from_pcmu(code));
      return;
    case mixer::Codec::Pcma:
      for (auto code : payload) audio_.push_back(linear_from_pcma(code));
      return;
    case mixer::Codec::Opus: {
      std::int16_t pcm[5760];
      const int samples = opus_decode(opus_decoder_, payload.data(), static_cast<opus_int32>(payload.size()),
                                      pcm, 5760, 0);
      if (samples > 0) audio_.insert(audio_.end(), pcm, pcm + samples);
      return;
    }
  }
}

std::uint64_t SimParticipant::lost() const {
  std::uint64_t total = 0;
  for (const auto& [ssrc, stream] : streams_) total += stream.lost;
  return total;
}

double SimParticipant::received_tone_power(double hz, std::size_t last_samples) const {
  std::span<const std::int16_t> audio(audio_);
  if (last_samples && last_samples < audio.size()) audio = audio.last(last_samples);
  return tone_power(audio, hz, received_rate_hz());
}

}  // namespace mrfp::sim

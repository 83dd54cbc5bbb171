// One simulated conference participant on a UDP socket: sends a tone (or
// silence) as SRTP made by libsrtp2 at the conference's frame pacing, and
// receives, decrypts (libsrtp2, the group key) and decodes what the mixer sends.
// Used by the end-to-end tests, the load generator and the demo.
#pragma once

#include <netinet/in.h>
#include <opus/opus.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bench/peer/libsrtp_session.h"
#include "bench/peer/sim_audio.h"
#include "dataplane/srtp/suite.h"
#include "mixer/media_types.h"

namespace mrfp::sim {

struct ParticipantConfig {
  mixer::Codec codec = mixer::Codec::Pcmu;
  std::uint8_t payload_type = 0;
  std::uint32_t ssrc = 0;
  double tone_hz = 440;
  double amplitude = 0.3;  // of full scale
  std::uint32_t frame_ms = 20;
  std::uint8_t level_ext_id = 0;  // RFC 6464 extension id; 0: none
  srtp::MasterKey send_key;       // the participant's inbound key at the mixer
  srtp::MasterKey receive_key;    // the conference group key
  std::string bind_host = "127.0.0.1";
};

struct StreamReceipt {
  std::uint64_t packets = 0, lost = 0, duplicates_or_reordered = 0, markers = 0;
  std::optional<std::uint16_t> last_seq;
  std::uint32_t last_timestamp = 0;
};

class SimParticipant {
 public:
  explicit SimParticipant(ParticipantConfig config);
  ~SimParticipant();
  SimParticipant(const SimParticipant&) = delete;
  SimParticipant& operator=(const SimParticipant&) = delete;

  std::uint16_t local_port() const { return local_port_; }
  void set_mixer_endpoint(const sockaddr_storage& endpoint) { mixer_ = endpoint; }
  const ParticipantConfig& config() const { return config_; }

  // How late the audio of a frame sent now starts in the decoded signal because
  // of this endpoint's own encoder: Opus's lookahead (OPUS_GET_LOOKAHEAD,
  // 6.5 ms), 0 for G.711. A latency measured from the send time includes it.
  double encoder_delay_ms() const;

  // Encodes, protects and sends the next frame: the tone when talking,
  // silence otherwise. Returns false if the send failed.
  bool send_frame(bool talking);
  // Sends raw bytes to the mixer (bad-input tests).
  bool send_raw(std::span<const std::uint8_t> bytes);
  // The next packet as it would be sent, protected, without sending it.
  std::vector<std::uint8_t> make_packet(bool talking);

  // Rekey: packets from the next one on are protected with `key` (outbound
  // switches at one packet boundary). Inbound accepts both the old and new key.
  void switch_send_key(const srtp::MasterKey& key);
  void add_receive_key(const srtp::MasterKey& key);

  // Drains the socket: unprotects, decodes and appends to received audio.
  void receive_available();

  std::uint64_t sent() const { return sent_; }
  std::uint64_t received() const { return received_; }
  std::uint64_t auth_failures() const { return auth_failures_; }
  std::uint64_t rtcp_received() const { return rtcp_received_; }
  std::uint64_t byes_received() const { return byes_received_; }
  std::uint64_t lost() const;
  const std::map<std::uint32_t, StreamReceipt>& streams() const { return streams_; }
  // Decoded audio in arrival order, at the codec's native rate.
  const std::vector<std::int16_t>& received_audio() const { return audio_; }
  double received_rate_hz() const { return mixer::native_pcm_rate(config_.codec); }
  double received_tone_power(double hz, std::size_t last_samples = 0) const;

 private:
  std::size_t encode(std::span<const std::int16_t> pcm, std::uint8_t* out, std::size_t capacity);
  void decode(std::span<const std::uint8_t> payload);

  ParticipantConfig config_;
  int socket_ = -1;
  std::uint16_t local_port_ = 0;
  sockaddr_storage mixer_{};
  std::unique_ptr<LibsrtpSession> outbound_;
  std::vector<std::unique_ptr<LibsrtpSession>> inbound_;  // newest first
  ToneGenerator tone_;
  std::uint16_t seq_;
  std::uint32_t timestamp_;
  std::size_t samples_per_frame_;
  OpusEncoder* opus_encoder_ = nullptr;
  OpusDecoder* opus_decoder_ = nullptr;
  std::vector<std::int16_t> frame_;
  std::vector<std::int16_t> audio_;
  std::map<std::uint32_t, StreamReceipt> streams_;
  std::uint64_t sent_ = 0, received_ = 0, auth_failures_ = 0, rtcp_received_ = 0, byes_received_ = 0;
};

// A master key from a deterministic seed (tests and load generation).
srtp::MasterKey make_key(srtp::Suite suite, std::uint64_t seed, std::span<const std::uint8_t> mki = {});

}  // namespace mrfp::sim

// What a load run does: the options, and the deterministic parts derived from
// them (each participant's tone, who talks when, which listeners are sampled),
// shared by the packet precomputation, the receiver and the analysis.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/srtp/suite.h"
#include "mixer/media_types.h"

namespace mrfp::loadgen {

struct LoadOptions {
  std::string server = "127.0.0.1:50051";
  std::uint32_t conferences = 2;
  std::uint32_t participants_per_conference = 4;
  mixer::Codec codec = mixer::Codec::Pcmu;
  std::uint32_t frame_ms = 20;
  srtp::Suite suite = srtp::Suite::AesCm128HmacSha1_80;
  bool every_participant_policy = false;  // false: SHARED_STREAMS
  std::uint32_t speakers = 3;             // the conference's top-K
  bool levels = true;                     // RFC 6464 in every packet
  double duration_s = 10;                 // media time, warm-up included
  double warmup_s = 1;                    // everybody silent first: streams settle before the first onset
  std::uint32_t talkers = 2;              // how many talk at once in each conference
  double spurt_s = 3;                     // talkers rotate this often
  bool all_talk = false;                  // everybody talks from the end of the warm-up on
  bool join_at_once = false;              // every stream starts on the first frame (worst case);
                                          // default: each starts at a random frame of the warm-up,
                                          // as participants join a real conference one by one
  bool same_phase = false;                // every participant sends at the same instant of the frame
                                          // (worst case); default: each its own phase, as real
                                          // endpoints that joined at different moments
  double jitter_ms = 0;                   // each packet leaves up to this much after its deadline
  double loss_percent = 0;                // packets never sent
  double reorder_percent = 0;             // packets swapped with their successor
  std::uint32_t sample_listeners = 50;    // listeners whose audio is decrypted and checked
  double latency_bound_ms = 0;            // p99 mixer-added latency the verdict allows; 0: the
                                          // issue's bound, one frame plus the jitter-buffer depth
  int mrfpd_pid = 0;                      // for CPU from /proc/<pid>/stat; 0: not measured
  bool realtime_sender = false;           // SCHED_FIFO for the pacing thread (and the memif receiver)
  int io_core = -1;                       // pin the sender and receiver threads here; -1: anywhere
  bool progress = false;                  // a line of GetStats once a second
  std::string json_path, wav_path, summary_kv_path;
  // Transport: kernel UDP sockets on loopback (default), or DPDK net_memif to
  // mrfpd's memif server socket at this path.
  std::string memif_socket;
  std::vector<std::string> eal_args;           // empty: default_memif_eal_args()
  std::string memif_address = "198.18.0.2";    // ours on the memif link (mrfpd's --dpdk-gateway)
  std::string memif_mixer_address = "198.18.0.1";  // mrfpd's --media-address, resolved by ARP at start
  std::uint64_t seed = 1;
  double amplitude = 0.25;                // of full scale, per talker
};

// Everything indexed by global participant number p = conference * size + member.
class LoadPlan {
 public:
  explicit LoadPlan(const LoadOptions& options);

  const LoadOptions& options() const { return options_; }
  std::uint32_t participant_count() const { return options_.conferences * size_; }
  std::uint32_t conference_size() const { return size_; }
  std::uint32_t conference_of(std::uint32_t participant) const { return participant / size_; }
  std::uint32_t member_of(std::uint32_t participant) const { return participant % size_; }
  std::uint32_t frames() const { return frames_; }
  // The frame a participant's stream starts on: a random one of the warm-up
  // (fixed by the seed), or 0 with join_at_once. Its first packet is the first
  // one it protects too, so the receiver's ROC starts where the sender's does.
  std::uint32_t first_frame(std::uint32_t participant) const;
  std::uint32_t warmup_frames() const { return warmup_frames_; }
  std::uint32_t frames_per_spurt() const { return frames_per_spurt_; }
  std::uint32_t samples_per_frame() const;
  std::uint32_t rtp_ticks_per_frame() const;
  // Window w covers frames [warmup + w * frames_per_spurt, ...): a talk-spurt.
  std::uint32_t windows() const;
  std::uint32_t window_first_frame(std::uint32_t window) const {
    return warmup_frames_ + window * frames_per_spurt_;
  }

  // Distinct within a conference of up to 20 (150 Hz apart); larger conferences
  // reuse the 20 tones by member modulo 20 (rotating talkers stay distinct).
  // The same plan in every conference.
  double tone_hz(std::uint32_t member) const;
  std::uint32_t tone_count() const { return tone_count_; }
  std::uint32_t tone_of(std::uint32_t member) const { return member % tone_count_; }
  double tone_hz_of_index(std::uint32_t tone) const { return tone_hz(tone); }
  // Whether member talks in any window of the run (the others send silence only).
  bool ever_talks(std::uint32_t member) const;
  // The members talking in `window` (cleared first).
  void talkers_in_window(std::uint32_t window, std::vector<std::uint32_t>& members) const;
  bool talks_in_window(std::uint32_t member, std::uint32_t window) const;
  bool talking(std::uint32_t member, std::uint32_t frame) const;
  // Whether a listener must hear `member` in `window`: it talks, it is not the
  // listener itself, and top-K leaves room for every talker.
  bool audible_to(std::uint32_t member, std::uint32_t listener_member, std::uint32_t window) const;
  bool sampled(std::uint32_t participant) const { return sampled_[participant] != 0; }

 private:
  LoadOptions options_;
  std::uint32_t size_;
  std::uint32_t frames_, warmup_frames_, frames_per_spurt_;
  std::uint32_t tone_count_;
  double tone_spacing_hz_;
  std::vector<std::uint8_t> sampled_;
};

}  // namespace mrfp::loadgen

// mrfp-loadgen: drives a running mrfpd over its Mp gRPC API with simulated
// SRTP participants (libsrtp2), checks what every listener receives, and
// prints a summary (and --json). Exit 0 when the run met every bound, 3 when
// it did not, 4 when it did not while the load generator itself fell behind
// (void: the run measured the load generator), 1 when it could not run.
#include <CLI/CLI.hpp>
#include <iostream>
#include <map>
#include <sstream>

#include "bench/loadgen/load_run.h"
#include "bench/loadgen/report.h"

int main(int argc, char** argv) {
  using mrfp::loadgen::LoadOptions;
  CLI::App app{"mrfp-loadgen: SRTP conference load against mrfpd (gRPC control, libsrtp2 participants)"};
  LoadOptions options;
  std::string codec = "pcmu", suite = "AES_CM_128_HMAC_SHA1_80", policy = "shared";
  bool no_levels = false;
  app.add_option("--server", options.server, "mrfpd Mp endpoint")->capture_default_str();
  app.add_option("--conferences,-c", options.conferences, "conferences")->capture_default_str()->check(CLI::Range(1u, 100000u));
  app.add_option("--size,-n", options.participants_per_conference, "participants per conference")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100000u));
  app.add_option("--codec", codec, "pcmu, pcma or opus")->capture_default_str()->check(CLI::IsMember({"pcmu", "pcma", "opus"}));
  app.add_option("--frame-ms", options.frame_ms, "packet time")->capture_default_str()->check(CLI::IsMember({10, 20, 30, 40, 60}));
  app.add_option("--suite", suite, "SRTP suite (SDP name)")->capture_default_str();
  app.add_option("--policy", policy, "shared (SHARED_STREAMS) or every (EVERY_PARTICIPANT)")
      ->capture_default_str()
      ->check(CLI::IsMember({"shared", "every"}));
  app.add_option("--speakers", options.speakers, "the conference's top-K (0: everybody)")->capture_default_str();
  app.add_flag("--no-levels", no_levels, "send no RFC 6464 audio level (the mixer computes levels)");
  app.add_option("--duration", options.duration_s, "seconds of media, warm-up included")->capture_default_str();
  app.add_option("--warmup", options.warmup_s, "seconds of silence before the first talk-spurt")->capture_default_str();
  app.add_option("--talkers", options.talkers, "participants talking at once per conference")->capture_default_str();
  app.add_option("--spurt", options.spurt_s, "seconds before the talkers rotate")->capture_default_str();
  app.add_flag("--all-talk", options.all_talk, "everybody talks all the time (after the warm-up)");
  app.add_flag("--join-at-once", options.join_at_once,
               "every stream starts on the first frame (worst case; default: at a random moment of the warm-up)");
  app.add_flag("--same-phase", options.same_phase,
               "every participant sends at the same instant of each frame (worst case; default: a random phase each)");
  app.add_option("--jitter-ms", options.jitter_ms, "send each packet up to this late (uniform)")->capture_default_str();
  app.add_option("--loss-percent", options.loss_percent, "packets the participants never send")->capture_default_str();
  app.add_option("--reorder-percent", options.reorder_percent, "packets swapped with the next")->capture_default_str();
  app.add_option("--sample", options.sample_listeners, "listeners whose audio is decrypted and checked")->capture_default_str();
  app.add_option("--latency-bound-ms", options.latency_bound_ms, "p99 mixer-added latency allowed; 0: one frame plus the jitter-buffer depth mrfpd reports")->capture_default_str();
  app.add_option("--mrfpd-pid", options.mrfpd_pid, "mrfpd's pid: measure its CPU from /proc/<pid>/stat");
  app.add_flag("--realtime-sender", options.realtime_sender,
               "pace from a SCHED_FIFO thread (root): deadlines hold on a busy machine");
  app.add_option("--io-core", options.io_core, "pin the I/O thread(s) to this CPU, and every other thread once the packets are precomputed (off mrfpd's core)");
  app.add_flag("--progress", options.progress, "print mrfpd's GetStats once a second");
  app.add_option("--json", options.json_path, "write the full result as JSON");
  app.add_option("--wav", options.wav_path, "write the first sampled listener's decrypted mix as WAV");
  app.add_option("--summary-kv", options.summary_kv_path, "write key=value lines for scripts");
  app.add_option("--seed", options.seed, "keys, impairments")->capture_default_str();
  std::string eal;
  app.add_option("--memif", options.memif_socket,
                 "DPDK net_memif transport: connect (client) to mrfpd's memif server socket at this path "
                 "(mrfpd --dpdk --media-address 198.18.0.1 --dpdk-gateway 198.18.0.2 -- --vdev "
                 "net_memif0,role=server,socket=PATH,socket-abstract=no); default: kernel UDP sockets on loopback");
  app.add_option("--eal", eal, "EAL arguments for --memif, one string (default: --no-huge -m 512 --no-pci --no-shconf)");
  app.add_option("--memif-address", options.memif_address, "our IPv4 address on the memif link (mrfpd's --dpdk-gateway)")
      ->capture_default_str();
  app.add_option("--memif-mixer-address", options.memif_mixer_address,
                 "mrfpd's --media-address on the memif link (resolved by ARP before the set-up)")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  {
    std::istringstream words(eal);
    for (std::string word; words >> word;) options.eal_args.push_back(word);
  }
  if (!options.eal_args.empty() && options.memif_socket.empty()) {
    std::cerr << "--eal needs --memif\n";
    return 1;
  }

  const std::map<std::string, mrfp::mixer::Codec> codecs{
      {"pcmu", mrfp::mixer::Codec::Pcmu}, {"pcma", mrfp::mixer::Codec::Pcma}, {"opus", mrfp::mixer::Codec::Opus}};
  options.codec = codecs.at(codec);
  const auto parsed_suite = mrfp::srtp::suite_from_name(suite);
  if (!parsed_suite) {
    std::cerr << "unknown --suite " << suite << "\n";
    return 1;
  }
  options.suite = *parsed_suite;
  options.every_participant_policy = policy == "every";
  options.levels = !no_levels;

  try {
    const auto result = mrfp::loadgen::run_load(options);
    mrfp::loadgen::print_summary(result, std::cout);
    if (!options.json_path.empty()) mrfp::loadgen::write_json(result, options.json_path);
    if (!options.summary_kv_path.empty()) mrfp::loadgen::write_summary_kv(result, options.summary_kv_path);
    if (!options.wav_path.empty()) mrfp::loadgen::write_wav(result, options.wav_path);
    // 3: mrfpd failed a check; 4: void, the load generator fell behind (load_run.h).
    switch (result.verdict()) {
      case mrfp::loadgen::Verdict::held: return 0;
      case mrfp::loadgen::Verdict::failed: return 3;
      case mrfp::loadgen::Verdict::void_run: return 4;
    }
    return 3;
  } catch (const std::exception& error) {
    std::cerr << "mrfp-loadgen: " << error.what() << "\n";
    return 1;
  }
}

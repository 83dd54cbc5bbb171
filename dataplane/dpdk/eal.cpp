#include "dataplane/dpdk/eal.h"

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_errno.h>
#include <sched.h>

#include <memory>
#include <mutex>
#include <optional>

namespace mrfp::dataplane {

namespace {

struct EalState {
  std::mutex mutex;
  std::optional<Status> outcome;  // set by the first init_eal
  // rte_eal_init may keep pointers into argv (device arguments): keep them alive
  // for the life of the process.
  std::vector<std::string> storage;
  std::vector<char*> argv;
};

EalState& state() {
  static EalState eal;
  return eal;
}

// `allowed` less the cores of EAL's worker lcores; `allowed` itself when that
// leaves nothing (every core a worker's: control threads must run somewhere).
cpu_set_t control_cores(const cpu_set_t& allowed) {
  cpu_set_t control = allowed;
  unsigned lcore = 0;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    const rte_cpuset_t worker = rte_lcore_cpuset(lcore);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
      if (CPU_ISSET(cpu, &worker)) CPU_CLR(cpu, &control);
    }
  }
  return CPU_COUNT(&control) > 0 ? control : allowed;
}

}  // namespace

Status init_eal(const std::vector<std::string>& args) {
  EalState& eal = state();
  std::lock_guard lock(eal.mutex);
  if (eal.outcome) return *eal.outcome;
  eal.storage.reserve(args.size() + 1);
  eal.storage.push_back("mrfpd");
  eal.storage.insert(eal.storage.end(), args.begin(), args.end());
  for (std::string& arg : eal.storage) eal.argv.push_back(arg.data());
  eal.argv.push_back(nullptr);
  cpu_set_t before{};
  const bool had_affinity = sched_getaffinity(0, sizeof before, &before) == 0;
  const int parsed = rte_eal_init(static_cast<int>(eal.storage.size()), eal.argv.data());
  // EAL pins the calling thread to the main lcore, and every thread it makes
  // later inherits that. Ours is a control thread: give it back the cores it had,
  // so control threads do not crowd one core, less the worker lcores' cores, which
  // are the workers' own (DpdkBackend::attach_worker_thread pins them there): a
  // gRPC thread preempting a worker delays every packet of its conferences.
  if (parsed >= 0 && had_affinity) {
    const cpu_set_t control = control_cores(before);
    sched_setaffinity(0, sizeof control, &control);
  }
  if (parsed < 0) {
    std::string joined;
    for (const std::string& arg : args) joined += " " + arg;
    eal.outcome = Error{ErrorCode::Unavailable,
                        "rte_eal_init(" + joined + " ) failed: " + rte_strerror(rte_errno)};
  } else {
    eal.outcome = ok_status();
  }
  return *eal.outcome;
}

bool eal_initialised() {
  EalState& eal = state();
  std::lock_guard lock(eal.mutex);
  return eal.outcome && eal.outcome->ok();
}

}  // namespace mrfp::dataplane

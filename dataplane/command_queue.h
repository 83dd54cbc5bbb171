// The only way into a worker: control threads post commands, the worker runs
// them between bursts. The worker never blocks and takes no lock: it pops from
// a single-consumer ring. Producers (gRPC threads) serialise on a mutex among
// themselves, which is fine off the packet path.
#pragma once

#include <cstddef>
#include <functional>
#include <mutex>
#include <utility>

#include "dataplane/spsc_ring.h"

namespace mrfp::dataplane {

template <class Command, std::size_t Capacity = 1024>
class CommandQueue {
 public:
  // False when full: the caller answers UNAVAILABLE rather than wait forever.
  bool post(Command command) {
    std::lock_guard lock(producer_mutex_);
    return ring_.try_push(std::move(command));
  }

  // Worker side: runs every command posted so far.
  template <class Apply>
  std::size_t drain(Apply&& apply) {
    return drain_while(std::forward<Apply>(apply), [] { return true; });
  }

  // Worker side: runs at least one waiting command, then more while
  // keep_going() says so; the rest wait for the next call.
  template <class Apply, class KeepGoing>
  std::size_t drain_while(Apply&& apply, KeepGoing&& keep_going) {
    std::size_t applied = 0;
    while (auto command = ring_.try_pop()) {
      apply(*command);
      ++applied;
      if (!keep_going()) break;
    }
    return applied;
  }

 private:
  SpscRing<Command, Capacity> ring_;
  std::mutex producer_mutex_;
};

}  // namespace mrfp::dataplane

#include "backends/vulkan/idle_submitter.h"

#include <unistd.h>

#include <algorithm>

namespace lumen::vulkan {

namespace {
// How long one wait for the GPU lasts before the thread looks for a stop.
constexpr uint64_t kPollNs = 2'000'000;
}  // namespace

IdleSubmitter::IdleSubmitter() : owner_pid_(getpid()), thread_([this] { loop(); }) {}

IdleSubmitter::~IdleSubmitter() { stop(); }

void IdleSubmitter::watch(CommandStream& cs) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (std::find(watched_.begin(), watched_.end(), &cs) == watched_.end()) watched_.push_back(&cs);
  }
  cv_.notify_one();
}

void IdleSubmitter::stop() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stop_) return;
    stop_ = true;
  }
  cv_.notify_one();
  // A forked child has no such thread to join (threads do not survive fork).
  if (getpid() != owner_pid_) return;
  if (thread_.joinable()) thread_.join();
}

void IdleSubmitter::loop() {
  std::unique_lock<std::mutex> lk(mu_);
  while (true) {
    cv_.wait(lk, [this] { return stop_ || !watched_.empty(); });
    if (stop_) return;
    std::vector<CommandStream*> streams;
    streams.swap(watched_);
    lk.unlock();
    std::vector<CommandStream*> waiting;
    for (CommandStream* cs : streams) {
      try {
        if (cs->submit_when_idle(kPollNs)) waiting.push_back(cs);
      } catch (...) {
        // A lost device: the next wait on the stream reports it.
      }
    }
    lk.lock();
    for (CommandStream* cs : waiting) {
      if (std::find(watched_.begin(), watched_.end(), cs) == watched_.end()) watched_.push_back(cs);
    }
  }
}

}  // namespace lumen::vulkan

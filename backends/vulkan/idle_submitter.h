// Submits the command streams' deferred batches once the GPU has run out of
// submitted work (see CommandStream: evaluations that end while the GPU is
// busy leave their batch open for the next ones). Without it, a batch no
// evaluation follows and nobody waits for would never start. One thread per
// device; it sleeps while no batch is deferred.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "backends/vulkan/command_stream.h"

namespace lumen::vulkan {

class IdleSubmitter {
 public:
  IdleSubmitter();
  ~IdleSubmitter();
  IdleSubmitter(const IdleSubmitter&) = delete;
  IdleSubmitter& operator=(const IdleSubmitter&) = delete;

  // `cs` has a deferred batch to submit when the GPU is idle.
  void watch(CommandStream& cs);
  // Ends the thread (at process exit, before the driver is torn down);
  // deferred batches are then submitted only by waits.
  void stop();

 private:
  void loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<CommandStream*> watched_;
  bool stop_ = false;
  int owner_pid_;
  std::thread thread_;
};

}  // namespace lumen::vulkan

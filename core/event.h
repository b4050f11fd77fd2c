// Completion of scheduled work: arrays scheduled by async_eval hold one. The
// scheduler signals it once every kernel of the evaluation has run or been
// recorded; work a backend submitted but did not wait for (GPU command
// buffers) is listed as pending, and waiting for the event waits for it too.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <vector>

#include <lumen/stream.h>

namespace lumen {

class Backend;

class Event {
 public:
  // Submitted work on a backend's stream, named by a ticket of Backend::submit.
  struct Pending {
    Backend* backend;
    Stream stream;
    uint64_t ticket;
  };

  void signal(std::exception_ptr error = nullptr, std::vector<Pending> pending = {});
  // Blocks until signalled and the pending work is done; rethrows the error
  // of the work (a kernel's, or one the device reports), if any.
  void wait();
  // Whether wait() would return at once.
  bool is_signaled() const;

 private:
  // Waits for the pending work (once: later waiters see its outcome).
  void complete_pending();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::exception_ptr error_;
  std::vector<Pending> pending_;
  std::mutex pending_mu_;  // held while one waiter waits for the pending work
};

}  // namespace lumen

// Completion of scheduled work: arrays scheduled by async_eval hold one.
#pragma once

#include <condition_variable>
#include <exception>
#include <mutex>

namespace lumen {

class Event {
 public:
  void signal(std::exception_ptr error = nullptr) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      done_ = true;
      error_ = error;
    }
    cv_.notify_all();
  }
  // Blocks until signalled; rethrows the error of the work, if any.
  void wait() {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [this] { return done_; });
    if (error_) std::rethrow_exception(error_);
  }
  bool is_signaled() const {
    std::lock_guard<std::mutex> lk(mu_);
    return done_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::exception_ptr error_;
};

}  // namespace lumen

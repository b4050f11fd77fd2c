#include "lumen/event.h"

#include "lumen/backend.h"

namespace lumen {

void Event::signal(std::exception_ptr error, std::vector<Pending> pending) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    done_ = true;
    error_ = error;
    pending_ = std::move(pending);
  }
  cv_.notify_all();
}

void Event::wait() {
  {
    std::unique_lock<std::mutex> lk(mu_);
    cv_.wait(lk, [this] { return done_; });
    if (pending_.empty()) {
      if (error_) std::rethrow_exception(error_);
      return;
    }
  }
  complete_pending();
  std::lock_guard<std::mutex> lk(mu_);
  if (error_) std::rethrow_exception(error_);
}

void Event::complete_pending() {
  std::lock_guard<std::mutex> once(pending_mu_);
  std::vector<Pending> pending;
  {
    std::lock_guard<std::mutex> lk(mu_);
    pending = pending_;
  }
  if (pending.empty()) return;  // another waiter did it
  std::exception_ptr error;
  for (auto& p : pending) {
    try {
      p.backend->wait_for(p.stream, p.ticket);
    } catch (...) {
      if (!error) error = std::current_exception();
    }
  }
  std::lock_guard<std::mutex> lk(mu_);
  pending_.clear();
  if (!error_) error_ = error;
}

bool Event::is_signaled() const {
  std::lock_guard<std::mutex> lk(mu_);
  if (!done_) return false;
  for (auto& p : pending_) {
    if (!p.backend->is_done(p.stream, p.ticket)) return false;
  }
  return true;
}

}  // namespace lumen

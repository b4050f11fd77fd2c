#include "lumen/threadpool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace lumen::detail {

namespace {

class Pool {
 public:
  explicit Pool(int n) {
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { loop(); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void push(std::function<void()> f) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      q_.push_back(std::move(f));
    }
    cv_.notify_one();
  }
  // Run one queued task on the caller, if any (helps while waiting).
  bool try_run_one() {
    std::function<void()> f;
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (q_.empty()) return false;
      f = std::move(q_.front());
      q_.pop_front();
    }
    f();
    return true;
  }
  int size() const { return static_cast<int>(threads_.size()); }

 private:
  void loop() {
    while (true) {
      std::function<void()> f;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [this] { return stop_ || !q_.empty(); });
        if (q_.empty()) return;
        f = std::move(q_.front());
        q_.pop_front();
      }
      f();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> q_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

int configured_threads() {
  if (const char* env = std::getenv("LUMEN_NUM_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  return std::max(1u, std::thread::hardware_concurrency());
}

Pool& pool() {
  static Pool p(configured_threads() - 1);
  return p;
}

}  // namespace

int cpu_threads() { return pool().size() + 1; }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  int64_t chunks = std::min<int64_t>(cpu_threads(), (n + grain - 1) / grain);
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  int64_t step = (n + chunks - 1) / chunks;
  std::atomic<int64_t> remaining(chunks - 1);
  std::mutex mu;
  std::condition_variable cv;
  std::exception_ptr error;
  for (int64_t c = 1; c < chunks; ++c) {
    int64_t b = c * step, e = std::min(n, b + step);
    pool().push([&, b, e] {
      try {
        if (b < e) fn(b, e);
      } catch (...) {
        std::lock_guard<std::mutex> lk(mu);
        if (!error) error = std::current_exception();
      }
      // Decrement under the lock: the waiter may return (destroying mu and
      // cv) as soon as it sees zero, so nothing may touch them after that.
      std::lock_guard<std::mutex> lk(mu);
      if (remaining.fetch_sub(1) == 1) cv.notify_all();
    });
  }
  try {
    fn(0, std::min(n, step));
  } catch (...) {
    std::lock_guard<std::mutex> lk(mu);
    if (!error) error = std::current_exception();
  }
  // Help with queued chunks (also covers nested parallel_for) before sleeping.
  while (remaining.load() > 0 && pool().try_run_one()) {
  }
  {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait(lk, [&] { return remaining.load() == 0; });
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace lumen::detail

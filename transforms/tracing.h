// The tracing flag: true while any transform (grad, vjp, jvp, vmap, compile)
// traces a function. Fused and chunked fast paths check it and build the plain
// composition instead, so transforms only see primitives with rules.
#pragma once

#include <vector>

namespace lumen {
class array;

namespace detail {

bool in_tracing();
int tracing_depth();

// Marks a region as tracing (thread-local depth; nests).
class TracingGuard {
 public:
  TracingGuard();
  ~TracingGuard();
  TracingGuard(const TracingGuard&) = delete;
  TracingGuard& operator=(const TracingGuard&) = delete;
};

// Suspends tracing on this thread for a scope: evaluation run on a tracing
// caller's thread sees what it would see on the scheduler's worker.
class TracingPause {
 public:
  TracingPause();
  ~TracingPause();
  TracingPause(const TracingPause&) = delete;
  TracingPause& operator=(const TracingPause&) = delete;

 private:
  int saved_;
};

bool any_tracer(const std::vector<array>& arrays);

}  // namespace detail
}  // namespace lumen

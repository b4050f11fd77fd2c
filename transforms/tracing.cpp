#include "lumen/tracing.h"

#include "lumen/array.h"

namespace lumen::detail {

namespace {
thread_local int depth = 0;
}

bool in_tracing() { return depth > 0; }
int tracing_depth() { return depth; }
TracingGuard::TracingGuard() { ++depth; }
TracingGuard::~TracingGuard() { --depth; }
TracingPause::TracingPause() : saved_(depth) { depth = 0; }
TracingPause::~TracingPause() { depth = saved_; }

bool any_tracer(const std::vector<array>& arrays) {
  if (depth == 0) return false;
  for (auto& a : arrays) {
    if (a.is_valid() && a.is_tracer()) return true;
  }
  return false;
}

}  // namespace lumen::detail

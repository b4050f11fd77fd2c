// A fixed pool of worker threads for CPU kernels.
#pragma once

#include <cstdint>
#include <functional>

namespace lumen::detail {

int cpu_threads();

// Runs fn(begin, end) over [0, n) split into chunks of at least `grain`
// items, on the pool and the calling thread; returns when all are done.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace lumen::detail

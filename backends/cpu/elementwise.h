// Shared machinery of the elementwise kernels: output allocation (donating a
// dying input's buffer when possible) and the parallel strided loop.
#pragma once

#include <algorithm>
#include <tuple>
#include <utility>
#include <vector>

#include "backends/cpu/strided.h"
#include "lumen/allocator.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

// Give `out` a buffer: reuse an input that nobody else holds, is dense in
// row-major order and has the same element size; else allocate.
void alloc_elementwise_output(const std::vector<array>& inputs, array& out);

// out[i] = f(in0[i], in1[i], ...) over the whole shape. Inputs may be any
// strided views (broadcasts included); `out` must be row-contiguous.
template <typename Out, typename... In, typename F>
void elementwise_loop(const std::vector<array>& inputs, array& out, F f) {
  constexpr size_t N = sizeof...(In) + 1;
  std::array<const Strides*, N> strides;
  Strides out_strides = out.strides();
  strides[0] = &out_strides;
  for (size_t k = 1; k < N; ++k) strides[k] = &inputs[k - 1].strides();
  auto layout = collapse<N>(out.shape(), strides);
  Out* dst = out.data<Out>();
  std::array<const char*, N - 1> src;
  for (size_t k = 0; k + 1 < N; ++k) src[k] = inputs[k].template data<char>();
  int64_t n = static_cast<int64_t>(out.size());
  detail::parallel_for(n, 1 << 15, [&](int64_t b, int64_t e) {
    for_each_run<N>(layout, b, e, [&](const std::array<int64_t, N>& off, int64_t count,
                                      const std::array<int64_t, N>& st) {
      Out* o = dst + off[0];
      auto call = [&]<size_t... K>(std::index_sequence<K...>) {
        auto p = std::make_tuple(reinterpret_cast<const In*>(src[K]) + off[K + 1]...);
        bool dense = st[0] == 1 && ((st[K + 1] == 1) && ...);
        if (dense) {
          for (int64_t i = 0; i < count; ++i) o[i] = f(std::get<K>(p)[i]...);
        } else {
          for (int64_t i = 0; i < count; ++i) o[i * st[0]] = f(std::get<K>(p)[i * st[K + 1]]...);
        }
      };
      call(std::index_sequence_for<In...>{});
    });
  });
}

}  // namespace lumen::cpu

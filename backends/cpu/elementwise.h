// Shared machinery of the elementwise kernels: output allocation (donating a
// dying input's buffer when possible), a parallel driver that splits the
// output into runs along its innermost (collapsed) dimension, and the typed
// run loops that the op kernels instantiate.
//
// The driver is compiled once; each (op, dtype) pair only instantiates a run
// loop, whose dense and scalar-broadcast forms are plain indexed loops the
// compiler vectorizes.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "lumen/array.h"

namespace lumen::cpu {

// Give each output a buffer: reuse an input that nobody else holds, is
// dense in row-major order and has the output's element size (each input at
// most once); else allocate. Pass the kernel's own `inputs` vector: a copy
// of an input holds a second reference and stops the reuse.
void alloc_elementwise_outputs(const std::vector<array>& inputs, const std::vector<array*>& outputs);
inline void alloc_elementwise_output(const std::vector<array>& inputs, array& out) {
  alloc_elementwise_outputs(inputs, {&out});
}

// One run: `count` consecutive output elements (outputs are row-contiguous),
// read from inputs that advance by `stride[k]` elements per output element
// (0 for a broadcast value, 1 when dense).
struct Run {
  static constexpr int max_outputs = 2;
  static constexpr int max_inputs = 3;
  std::array<char*, max_outputs> out{};
  std::array<const char*, max_inputs> in{};
  std::array<int64_t, max_inputs> stride{};
  int64_t count = 0;
};
using RunKernel = void (*)(const Run&);

// Runs `kernel` over the whole shape of `outputs` (which have data, one shape
// and row-contiguous layout) reading `inputs` (any strided views of that
// shape), in parallel.
void run_elementwise(const std::vector<array>& inputs, const std::vector<array*>& outputs,
                     RunKernel kernel);
inline void run_elementwise(const std::vector<array>& inputs, array& out, RunKernel kernel) {
  run_elementwise(inputs, std::vector<array*>{&out}, kernel);
}

// out[i] = F{}(a[i])
template <typename Out, typename In, typename F>
void unary_run(const Run& r) {
  Out* o = reinterpret_cast<Out*>(r.out[0]);
  const In* a = reinterpret_cast<const In*>(r.in[0]);
  const int64_t n = r.count, sa = r.stride[0];
  F f;
  if (sa == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
  } else if (sa == 0) {
    const Out v = f(a[0]);
    for (int64_t i = 0; i < n; ++i) o[i] = v;
  } else {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i * sa]);
  }
}

// out[i] = F{}(a[i], b[i]), with loops of their own for a scalar on either
// side (so `x * 2` vectorizes like `x * y`).
template <typename Out, typename In, typename F>
void binary_run(const Run& r) {
  Out* o = reinterpret_cast<Out*>(r.out[0]);
  const In* a = reinterpret_cast<const In*>(r.in[0]);
  const In* b = reinterpret_cast<const In*>(r.in[1]);
  const int64_t n = r.count, sa = r.stride[0], sb = r.stride[1];
  F f;
  if (sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
  } else if (sa == 1 && sb == 0) {
    const In y = b[0];
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], y);
  } else if (sa == 0 && sb == 1) {
    const In x = a[0];
    for (int64_t i = 0; i < n; ++i) o[i] = f(x, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i * sa], b[i * sb]);
  }
}

}  // namespace lumen::cpu

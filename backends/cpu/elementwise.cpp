#include "backends/cpu/elementwise.h"

#include "backends/common/donation.h"
#include "backends/cpu/strided.h"
#include "core/detail/errors.h"
#include "lumen/allocator.h"
#include "lumen/threadpool.h"

namespace lumen::cpu {

void alloc_elementwise_outputs(const std::vector<array>& inputs, const std::vector<array*>& outputs) {
  std::vector<bool> taken(inputs.size(), false);
  for (array* out : outputs) {
    bool donated = false;
    for (size_t k = 0; k < inputs.size() && !donated; ++k) {
      const array& in = inputs[k];
      if (!taken[k] && backends::can_donate(in, *out)) {
        backends::take_donated(*out, in);
        taken[k] = donated = true;
      }
    }
    if (!donated) out->set_data(allocator::allocator(Device::cpu).malloc(out->nbytes()));
  }
}

namespace {

// Elements per parallel chunk: large enough that scheduling costs little
// next to even the cheapest op.
constexpr int64_t grain = 1 << 15;

template <size_t NIn>
void drive(const std::vector<array>& inputs, const std::vector<array*>& outputs, RunKernel kernel) {
  // Layout slot 0 is the outputs' (shared) row-major order, 1.. the inputs.
  constexpr size_t N = NIn + 1;
  const array& out0 = *outputs[0];
  std::array<const Strides*, N> strides;
  strides[0] = &out0.strides();
  for (size_t k = 0; k < NIn; ++k) strides[k + 1] = &inputs[k].strides();
  auto layout = collapse<N>(out0.shape(), strides);

  Run base;
  std::array<int64_t, Run::max_outputs> out_item{};
  for (size_t j = 0; j < outputs.size(); ++j) {
    base.out[j] = outputs[j]->data<char>();
    out_item[j] = static_cast<int64_t>(outputs[j]->itemsize());
  }
  std::array<int64_t, NIn> in_item{};
  for (size_t k = 0; k < NIn; ++k) {
    base.in[k] = inputs[k].data<char>();
    in_item[k] = static_cast<int64_t>(inputs[k].itemsize());
  }
  const size_t nout = outputs.size();
  detail::parallel_for(static_cast<int64_t>(out0.size()), grain, [&](int64_t b, int64_t e) {
    for_each_run<N>(layout, b, e,
                    [&](const std::array<int64_t, N>& off, int64_t count,
                        const std::array<int64_t, N>& st) {
                      Run r;
                      for (size_t j = 0; j < nout; ++j) r.out[j] = base.out[j] + off[0] * out_item[j];
                      for (size_t k = 0; k < NIn; ++k) {
                        r.in[k] = base.in[k] + off[k + 1] * in_item[k];
                        r.stride[k] = st[k + 1];
                      }
                      r.count = count;
                      kernel(r);
                    });
  });
}

}  // namespace

void run_elementwise(const std::vector<array>& inputs, const std::vector<array*>& outputs,
                     RunKernel kernel) {
  if (outputs[0]->size() == 0) return;
  switch (inputs.size()) {
    case 1: drive<1>(inputs, outputs, kernel); break;
    case 2: drive<2>(inputs, outputs, kernel); break;
    case 3: drive<3>(inputs, outputs, kernel); break;
    default: detail::throw_invalid("[cpu] elementwise kernels take 1 to 3 inputs, got {}", inputs.size());
  }
}

}  // namespace lumen::cpu

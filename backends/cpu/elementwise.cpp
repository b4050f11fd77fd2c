#include "backends/cpu/elementwise.h"

namespace lumen::cpu {

void alloc_elementwise_output(const std::vector<array>& inputs, array& out) {
  for (auto& in : inputs) {
    if (in.itemsize() == out.itemsize() && in.is_donatable() && in.flags().row_contiguous &&
        in.data_size() == in.size() && in.size() == out.size() && in.offset() == 0) {
      out.copy_shared_buffer(in);
      return;
    }
  }
  out.set_data(allocator::allocator(Device::cpu).malloc(out.nbytes()));
}

}  // namespace lumen::cpu

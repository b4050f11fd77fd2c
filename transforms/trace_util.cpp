#include "transforms/detail/trace_util.h"

#include <fmt/format.h>

#include "lumen/elementwise.h"
#include "lumen/elementwise_primitives.h"

namespace lumen::detail {

Stream stream_of(const array& a) {
  return a.has_primitive() ? a.primitive().stream() : default_stream(default_device());
}

array make_tracer(const array& p) {
  if (!p.is_valid()) throw std::invalid_argument("[transforms] an input is an empty array handle");
  // A copy gives each argument its own node even when the same array is
  // passed twice or is also captured by the function.
  auto t = copy(p, stream_of(p));
  t.set_tracer(true);
  return t;
}

void check_outputs(const char* transform, const std::vector<array>& outputs) {
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (!outputs[i].is_valid()) {
      throw std::invalid_argument(fmt::format(
          "[{}] output {} of the function is not an array (an empty handle)", transform, i));
    }
  }
}

bool is_stop_gradient(const Primitive& p) {
  auto* u = dynamic_cast<const Unary*>(&p);
  return u && u->op() == UnaryOp::StopGradient;
}

std::string rule_context(const char* transform, const Primitive& p, int argument) {
  if (argument < 0) return fmt::format(" (in the {} of primitive {})", transform, p.name());
  return fmt::format(" (in the {} of primitive {}, which depends on argument {} of the function)",
                     transform, p.name(), argument);
}

}  // namespace lumen::detail

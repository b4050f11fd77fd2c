// Vulkan kernel of Arange, with the CPU's values bit for bit. The CPU
// accumulates start + step + step ... in the output dtype (MLX's kernel):
// integers then follow start + i * step modulo their width, but floats round
// at every addition. Within a binade (values of one ulp u and one sign) that
// rounding is the same at every step once the parity of the value is
// settled, so the sequence is arithmetic there: A + j * M in units of u. The
// host walks the sequence segment by segment (a few per binade crossed, each
// checked against the real recurrence at its first steps) and the shader
// (shaders/arange.comp) evaluates every element from its segment.
#include <cmath>
#include <complex>
#include <cstring>

#include "backends/cpu/dispatch.h"
#include "backends/cpu/math.h"
#include "backends/vulkan/kernels/launch.h"
#include "backends/vulkan/shaders/ids.h"
#include "core/detail/errors.h"
#include "lumen/backend.h"
#include "lumen/creation_primitives.h"

namespace lumen::vulkan {

namespace {

constexpr int64_t kRaw = 0x7fffffff;  // shaders/arange.comp's RAW

// Significand bits (with the implicit one) and smallest normal exponent.
struct Format {
  int precision;
  int min_exponent;
};

template <typename T>
Format format_of() {
  if constexpr (std::is_same_v<T, float16_t>) return {11, -14};
  else if constexpr (std::is_same_v<T, bfloat16_t>) return {8, -126};
  else if constexpr (std::is_same_v<T, double>) return {53, -1022};
  else return {24, -126};  // float, and complex64's real part
}

// Rows of the segment table: first position, A, M, E.
using Segments = std::vector<int64_t>;

// Positions [first, ...) of a segment whose value `x` (in units of 2^e)
// steps by `m` units: how many of them stay where one rounding rule holds.
// Normal binade: magnitudes in units in [2^(p-1), 2^p), one sign, and a
// step towards zero must stay above 2^(p-1) (below, the ulp halves).
// Subnormals (and zero): magnitudes below 2^(p-1), either sign.
int64_t segment_length(int64_t a, int64_t m, int p, bool subnormal) {
  const int64_t top = (int64_t{1} << p) - 1, half = int64_t{1} << (p - 1);
  int64_t jmax;
  if (subnormal) {
    jmax = m > 0 ? (half - 1 - a) / m : (half - 1 + a) / -m;
  } else {
    int64_t mag = a < 0 ? -a : a, step = m < 0 ? -m : m;
    bool away = (a < 0) == (m < 0);
    jmax = away ? (top - mag) / step : (mag - half - 1) / step;
  }
  return std::max<int64_t>(jmax, 0) + 1;
}

template <typename T>
int64_t raw_bits(T v) {
  int64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  return bits;
}

template <typename T>
Segments float_segments(int64_t n, double start, double step) {
  using C = cpu::compute_t<T>;
  const Format fmt = format_of<T>();
  const T first = detail::convert_scalar<T>(start);
  const C delta = static_cast<C>(detail::convert_scalar<T>(start + step)) - static_cast<C>(first);
  auto next = [&](T v) { return static_cast<T>(static_cast<C>(v) + delta); };
  auto value = [](T v) { return static_cast<double>(std::real(static_cast<C>(v))); };
  Segments table;
  T v = first;
  for (int64_t i = 0; i < n;) {
    const double x = value(v);
    const T v1 = next(v), v2 = next(v1);
    const double x1 = value(v1), x2 = value(v2);
    if (!std::isfinite(x) || (raw_bits(v1) == raw_bits(v) && raw_bits(v2) == raw_bits(v))) {
      // Infinity stays, and so does a value the step no longer moves.
      table.insert(table.end(), {i, raw_bits(v), 0, kRaw});
      break;
    }
    bool subnormal = std::fabs(x) < std::ldexp(1.0, fmt.min_exponent);
    int e = (subnormal ? fmt.min_exponent : std::ilogb(x)) - fmt.precision + 1;
    double units = std::ldexp(x1 - x, -e);
    bool arithmetic = x != 0 && std::isfinite(x1) && std::isfinite(x2) && units == std::floor(units) &&
                      std::fabs(units) < std::ldexp(1.0, fmt.precision);
    int64_t a = arithmetic ? static_cast<int64_t>(std::ldexp(x, -e)) : 0;
    int64_t m = arithmetic ? static_cast<int64_t>(units) : 0;
    // Exactly two equal steps (differences of doubles may round for float64).
    arithmetic = arithmetic && std::ldexp(static_cast<double>(a + m), e) == x1 &&
                 std::ldexp(static_cast<double>(a + 2 * m), e) == x2;
    if (!arithmetic) {  // one element as it is
      table.insert(table.end(), {i, raw_bits(v), 0, kRaw});
      v = v1;
      ++i;
      continue;
    }
    int64_t len = m == 0 ? n - i : std::min(n - i, segment_length(a, m, fmt.precision, subnormal));
    table.insert(table.end(), {i, a, m, e});
    i += len;
    v = next(detail::convert_scalar<T>(std::ldexp(static_cast<double>(a + (len - 1) * m), e)));
  }
  return table;
}

template <typename T>
Segments integer_segments(double start, double step) {
  T a = detail::convert_scalar<T>(start);
  T delta = cpu::wrapping_sub(detail::convert_scalar<T>(start + step), a);
  // Sign- or zero-extended: the shader's 64-bit wrapping arithmetic then
  // truncates to the width.
  return {0, static_cast<int64_t>(a), static_cast<int64_t>(delta), 0};
}

Segments segments_for(Dtype d, int64_t n, double start, double step) {
  return cpu::dispatch_dtype(d, [&](auto tag) -> Segments {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) {
      detail::throw_invalid("[Arange] bool not supported for arange");
    } else if constexpr (std::is_integral_v<T>) {
      return integer_segments<T>(start, step);
    } else {
      return float_segments<T>(n, start, step);
    }
  });
}

struct ArangePush {
  uint64_t out;
  uint64_t n;
  uint64_t table;
  uint32_t segments;
  uint32_t pad;
};

void arange_kernel(const Primitive& p, const std::vector<array>&, std::vector<array>& outputs) {
  KernelContext k(p);
  const auto& prim = static_cast<const Arange&>(p);
  array& out = outputs[0];
  k.allocate(out);
  if (out.size() == 0) return;
  auto n = static_cast<int64_t>(out.size());
  Segments table = segments_for(out.dtype(), n, prim.start(), prim.step());
  ArangePush push{};
  push.out = address_of(out);
  push.n = out.size();
  push.table = k.stream().upload(table.data(), table.size() * sizeof(int64_t));
  push.segments = static_cast<uint32_t>(table.size() / 4);
  k.dispatch("arange", {0, 0, 0, 0, 0, 0, 0, 0, dtype_id(out.dtype())}, &push, sizeof(push), out.size(), {},
             {&out});
}

LUMEN_REGISTER_KERNEL(Device::gpu, Arange, arange_kernel);

}  // namespace
}  // namespace lumen::vulkan

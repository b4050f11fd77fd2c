// Double-precision references of fast::rms_norm, fast::layer_norm and
// fast::rope on row-major values, shared by the tests of the ops and of
// their kernels' layouts.
#pragma once

#include <cmath>
#include <vector>

#include "float_op_util.h"

namespace lumen::test {

// Per-row reference of a normalization over the last axis of row-major x.
template <typename RowFn>
std::vector<double> per_row(const std::vector<double>& x, int64_t D, RowFn fn) {
  std::vector<double> out(x.size());
  for (size_t r = 0; r * D < x.size(); ++r) fn(&x[r * D], &out[r * D]);
  return out;
}

inline std::vector<double> ref_rms_norm(const std::vector<double>& x, int64_t D,
                                 const std::vector<double>& w, float eps) {
  return per_row(x, D, [&](const double* v, double* o) {
    double ms = 0;
    for (int64_t j = 0; j < D; ++j) ms += v[j] * v[j];
    double inv = 1.0 / std::sqrt(ms / D + eps);
    for (int64_t j = 0; j < D; ++j) o[j] = v[j] * inv * (w.empty() ? 1.0 : w[j]);
  });
}

inline std::vector<double> ref_layer_norm(const std::vector<double>& x, int64_t D,
                                   const std::vector<double>& w, const std::vector<double>& b,
                                   float eps) {
  return per_row(x, D, [&](const double* v, double* o) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < D; ++j) mean += v[j];
    mean /= D;
    for (int64_t j = 0; j < D; ++j) var += (v[j] - mean) * (v[j] - mean);
    double inv = 1.0 / std::sqrt(var / D + eps);
    for (int64_t j = 0; j < D; ++j) {
      o[j] = (v[j] - mean) * inv * (w.empty() ? 1.0 : w[j]) + (b.empty() ? 0.0 : b[j]);
    }
  });
}

struct RopeArgs {
  int dims;
  bool traditional;
  double base;                  // used when freqs is empty
  std::vector<double> freqs;    // dims / 2 entries, or empty
  double scale;
  std::vector<int64_t> offset;  // one, or one per batch entry
  bool forward = true;
};

// Rotary embedding of row-major x [B, ..., T, D] in double.
inline std::vector<double> ref_rope(const std::vector<double>& x, const Shape& shape, const RopeArgs& r) {
  const int64_t B = shape.front(), T = shape[shape.size() - 2], D = shape.back();
  const int64_t N = static_cast<int64_t>(x.size()) / (B * T * D);
  const int half = r.dims / 2;
  std::vector<double> out = x;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t off = r.offset.size() == 1 ? r.offset[0] : r.offset[b];
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t t = 0; t < T; ++t) {
        const double* v = &x[((b * N + n) * T + t) * D];
        double* o = &out[((b * N + n) * T + t) * D];
        for (int i = 0; i < half; ++i) {
          double inv = r.freqs.empty() ? std::pow(r.base, -static_cast<double>(i) / half)
                                       : 1.0 / r.freqs[i];
          double theta = (t + off) * r.scale * inv;
          double c = std::cos(theta), sn = r.forward ? std::sin(theta) : -std::sin(theta);
          int j1 = r.traditional ? 2 * i : i, j2 = r.traditional ? 2 * i + 1 : i + half;
          o[j1] = v[j1] * c - v[j2] * sn;
          o[j2] = v[j1] * sn + v[j2] * c;
        }
      }
    }
  }
  return out;
}

// Rotations use float32 angles for float32 and half inputs: about 1e-6
// absolute on top of the output's rounding.
inline Tol rope_tol(Dtype d) {
  Tol t = rounded_once_tol(d);
  if (d != float64) t.atol = std::max(t.atol, 2e-5);
  return t;
}

}  // namespace lumen::test

// Helpers for the tests of floating-point ops (linalg, fast): random inputs
// rounded to each float dtype, tolerances for results rounded once to a
// dtype, and checks of error messages.
#pragma once

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <lumen/lumen.h>

namespace lumen::test {

inline const std::vector<Dtype> kFloatTypes = {float16, bfloat16, float32, float64};

// Uniform values in [lo, hi), rounded to `dtype` (references read them back
// with to_doubles, so they see exactly what the op sees).
inline array random_array(const Shape& shape, Dtype dtype, uint32_t seed, float lo = -1.0f,
                          float hi = 1.0f) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  int64_t n = 1;
  for (auto d : shape) n *= d;
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(gen);
  return array(v.begin(), shape, dtype);
}

struct Tol {
  double rtol, atol;
};

// A result computed in float32 (float64 for float64) and rounded once to
// `d`: half an ulp of d relative, plus `atol_per_term` per accumulated term.
inline Tol rounded_once_tol(Dtype d, int64_t terms = 1) {
  const double k = static_cast<double>(terms < 1 ? 1 : terms);
  switch (d) {
    case float64: return {1e-12, 1e-14 * k};
    case float16: return {1e-3, 1e-5 * k};   // half ulp 2^-11
    case bfloat16: return {4e-3, 1e-5 * k};  // half ulp 2^-8
    default: return {1e-5, 1e-6 * k};
  }
}

// f() must throw std::invalid_argument whose message contains every part
// (the op's name, the offending shapes or dtypes).
template <typename F>
void expect_invalid_message(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no exception; expected one naming " << parts.front();
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    for (auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << msg << " lacks " << p;
  }
}

}  // namespace lumen::test

// Scalar math the C library lacks, shared by CPU kernels.
#pragma once

#include <cmath>

namespace lumen::cpu {

template <typename T>
T sigmoid(T x) {
  // 1 / (1 + e^-x), evaluated so it never overflows
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  T e = std::exp(x);
  return e / (T(1) + e);
}

// Inverse error function: Giles' single-precision approximation, refined by
// two Newton steps in the argument's precision.
template <typename T>
T erfinv(T a) {
  if (a <= T(-1)) return a == T(-1) ? -INFINITY : NAN;
  if (a >= T(1)) return a == T(1) ? INFINITY : NAN;
  double x = a;
  double w = -std::log((1.0 - x) * (1.0 + x));
  double p;
  if (w < 5.0) {
    w -= 2.5;
    p = 2.81022636e-08;
    p = 3.43273939e-07 + p * w;
    p = -3.5233877e-06 + p * w;
    p = -4.39150654e-06 + p * w;
    p = 0.00021858087 + p * w;
    p = -0.00125372503 + p * w;
    p = -0.00417768164 + p * w;
    p = 0.246640727 + p * w;
    p = 1.50140941 + p * w;
  } else {
    w = std::sqrt(w) - 3.0;
    p = -0.000200214257;
    p = 0.000100950558 + p * w;
    p = 0.00134934322 + p * w;
    p = -0.00367342844 + p * w;
    p = 0.00573950773 + p * w;
    p = -0.0076224613 + p * w;
    p = 0.00943887047 + p * w;
    p = 1.00167406 + p * w;
    p = 2.83297682 + p * w;
  }
  double y = p * x;
  for (int i = 0; i < 2; ++i) {
    double err = std::erf(y) - x;
    y -= err / (1.1283791670955126 * std::exp(-y * y));
  }
  return static_cast<T>(y);
}

}  // namespace lumen::cpu

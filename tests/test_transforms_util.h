// Helpers of the transform tests: random inputs, and derivative checks of
// vjp and jvp against Jacobians from central finite differences in float64
// on the CPU.
#pragma once

#include <random>

#include "test_util.h"

namespace lumen::test {

// A function under test, built on the given stream.
using StreamFn = std::function<std::vector<array>(const std::vector<array>&, const Stream&)>;

struct Arg {
  std::vector<double> values;
  Shape shape;
};

inline std::vector<double> uniform_values(size_t n, double lo, double hi, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<double> v(n);
  for (auto& x : v) x = dist(gen);
  return v;
}

inline size_t shape_size(const Shape& shape) {
  size_t n = 1;
  for (auto d : shape) n *= static_cast<size_t>(d);
  return n;
}

inline Arg uniform_arg(Shape shape, double lo, double hi, uint64_t seed) {
  return {uniform_values(shape_size(shape), lo, hi, seed), std::move(shape)};
}

inline array make_array(const Arg& a, Dtype dtype) {
  return array(a.values.begin(), a.shape, dtype);
}

// jac[o][i] is the Jacobian block of output o with respect to argument i, a
// row-major (size_o x size_i) matrix, by central differences.
inline std::vector<std::vector<std::vector<double>>> fd_jacobian(const StreamFn& fn,
                                                                 const std::vector<Arg>& args,
                                                                 double h = 1e-6) {
  auto cpu = default_stream(Device::cpu);
  auto eval_at = [&](const std::vector<Arg>& at) {
    std::vector<array> xs;
    for (auto& a : at) xs.push_back(make_array(a, float64));
    std::vector<std::vector<double>> outs;
    for (auto& o : fn(xs, cpu)) outs.push_back(to_doubles(o));
    return outs;
  };
  auto base = eval_at(args);
  std::vector<std::vector<std::vector<double>>> jac(base.size());
  for (size_t o = 0; o < base.size(); ++o) jac[o].resize(args.size());
  for (size_t i = 0; i < args.size(); ++i) {
    size_t n_in = args[i].values.size();
    for (size_t o = 0; o < base.size(); ++o) jac[o][i].assign(base[o].size() * n_in, 0.0);
    for (size_t j = 0; j < n_in; ++j) {
      auto plus = args, minus = args;
      plus[i].values[j] += h;
      minus[i].values[j] -= h;
      auto fp = eval_at(plus), fm = eval_at(minus);
      for (size_t o = 0; o < base.size(); ++o) {
        for (size_t r = 0; r < base[o].size(); ++r) {
          jac[o][i][r * n_in + j] = (fp[o][r] - fm[o][r]) / (2 * h);
        }
      }
    }
  }
  return jac;
}

// Checks vjp and jvp of `fn` on stream `s` (inputs, tangents and cotangents
// in `dtype`) against the finite-difference Jacobian.
inline void check_derivatives(const StreamFn& fn, const std::vector<Arg>& args, const Stream& s,
                              Dtype dtype, double rtol, double atol, const std::string& what) {
  auto jac = fd_jacobian(fn, args);
  std::vector<array> xs, tangents;
  std::vector<std::vector<double>> v;
  for (size_t i = 0; i < args.size(); ++i) {
    xs.push_back(make_array(args[i], dtype));
    v.push_back(uniform_values(args[i].values.size(), -1, 1, 100 + i));
    tangents.push_back(make_array({v.back(), args[i].shape}, dtype));
  }
  auto fun = [&](const std::vector<array>& in) { return fn(in, s); };
  auto outs = fun(xs);
  std::vector<array> cotangents;
  std::vector<std::vector<double>> u;
  for (size_t o = 0; o < outs.size(); ++o) {
    u.push_back(uniform_values(outs[o].size(), -1, 1, 200 + o));
    cotangents.push_back(make_array({u.back(), outs[o].shape()}, dtype));
  }

  auto [vjp_outs, grads] = vjp(fun, xs, cotangents);
  ASSERT_EQ(grads.size(), args.size()) << what;
  for (size_t i = 0; i < args.size(); ++i) {
    size_t n_in = args[i].values.size();
    std::vector<double> want(n_in, 0.0);
    for (size_t o = 0; o < outs.size(); ++o) {
      for (size_t r = 0; r < u[o].size(); ++r) {
        for (size_t j = 0; j < n_in; ++j) want[j] += jac[o][i][r * n_in + j] * u[o][r];
      }
    }
    EXPECT_EQ(grads[i].shape(), args[i].shape) << what << ": vjp shape of argument " << i;
    expect_close(to_doubles(grads[i]), want, rtol, atol, what + ": vjp of argument " + std::to_string(i));
  }

  auto [jvp_outs, out_tangents] = jvp(fun, xs, tangents);
  ASSERT_EQ(out_tangents.size(), outs.size()) << what;
  for (size_t o = 0; o < outs.size(); ++o) {
    std::vector<double> want(u[o].size(), 0.0);
    for (size_t i = 0; i < args.size(); ++i) {
      size_t n_in = args[i].values.size();
      for (size_t r = 0; r < want.size(); ++r) {
        for (size_t j = 0; j < n_in; ++j) want[r] += jac[o][i][r * n_in + j] * v[i][j];
      }
    }
    expect_close(to_doubles(out_tangents[o]), want, rtol, atol, what + ": jvp of output " + std::to_string(o));
    expect_close(to_doubles(jvp_outs[o]), to_doubles(outs[o]), 0, 0, what + ": jvp primal output");
    expect_close(to_doubles(vjp_outs[o]), to_doubles(outs[o]), 0, 0, what + ": vjp primal output");
  }
}

// Example b of a batched array (axis -1: not batched, the array itself).
inline array example(const array& a, int axis, int b, const Stream& s) {
  if (axis < 0) return a;
  Shape start(a.ndim(), 0), stop = a.shape();
  start[axis] = b;
  stop[axis] = b + 1;
  return squeeze(slice(a, start, stop, s), axis, s);
}

// Checks vmap(f, in_axes, out_axes) against f on each example.
inline void check_vmap(const ArraysFn& f, const std::vector<array>& inputs, const std::vector<int>& in_axes,
                const std::vector<int>& out_axes, const Stream& s, const std::string& what,
                double tol = 0) {
  auto outs = vmap(f, in_axes, out_axes)(inputs);
  int size = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (in_axes[i] >= 0) size = inputs[i].shape(in_axes[i]);
  }
  for (int b = 0; b < size; ++b) {
    std::vector<array> ex;
    for (size_t i = 0; i < inputs.size(); ++i) ex.push_back(example(inputs[i], in_axes[i], b, s));
    auto want = f(ex);
    ASSERT_EQ(want.size(), outs.size()) << what;
    for (size_t o = 0; o < outs.size(); ++o) {
      auto got = example(outs[o], out_axes[o], b, s);
      EXPECT_EQ(got.shape(), want[o].shape()) << what << " output " << o;
      EXPECT_EQ(got.dtype(), want[o].dtype()) << what << " output " << o;
      expect_close(to_doubles(got), to_doubles(want[o]), tol, tol,
                   what + " example " + std::to_string(b) + " output " + std::to_string(o));
    }
  }
}

// The input, through a CPU primitive that has no vjp, jvp or vmap rule.
array opaque(const array& x);

// float64 on the CPU (tight), float32 on the GPU (loose, against the same
// float64 reference).
struct Precision {
  Dtype dtype;
  double rtol;
  double atol;
};
inline Precision precision_for(bool on_gpu) {
  return on_gpu ? Precision{float32, 2e-3, 2e-4} : Precision{float64, 1e-6, 1e-7};
}

}  // namespace lumen::test

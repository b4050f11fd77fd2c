// vjp and jvp rules of the shape, indexing, reduction, scan, sort and linalg
// primitives against central finite differences in float64, and their vmap
// rules against a loop over the batch.
#include <lumen/transforms.h>

#include "test_transforms_util.h"

using namespace lumen;
using namespace lumen::test;

namespace {

// A case: a function of float arguments (built on the given stream) and its
// arguments' shapes and value ranges.
struct Case {
  std::string name;
  StreamFn f;
  std::vector<Arg> args;
};

Arg arg(Shape shape, uint64_t seed, double lo = -2, double hi = 2) {
  return uniform_arg(std::move(shape), lo, hi, seed);
}

StreamFn one(std::function<array(const std::vector<array>&, const Stream&)> f) {
  return [f](const std::vector<array>& x, const Stream& s) { return std::vector<array>{f(x, s)}; };
}

array ints(std::vector<int> v, Shape shape) { return array(v.begin(), std::move(shape), int32); }

std::vector<Case> shape_cases() {
  using V = const std::vector<array>&;
  using S = const Stream&;
  return {
      {"broadcast_to", one([](V x, S s) { return broadcast_to(x[0], {2, 3, 4}, s); }), {arg({3, 1}, 1)}},
      {"add with broadcasting", one([](V x, S s) { return multiply(x[0], x[1], s); }),
       {arg({3, 1}, 2), arg({1, 4}, 3)}},
      {"reshape", one([](V x, S s) { return reshape(x[0], {3, -1}, s); }), {arg({2, 6}, 4)}},
      {"reshape of a transpose", one([](V x, S s) { return reshape(transpose(x[0], s), {12}, s); }),
       {arg({3, 4}, 5)}},
      {"flatten", one([](V x, S s) { return flatten(x[0], 1, 2, s); }), {arg({2, 3, 2}, 6)}},
      {"unflatten", one([](V x, S s) { return unflatten(x[0], 1, {2, 3}, s); }), {arg({2, 6}, 7)}},
      {"squeeze", one([](V x, S s) { return squeeze(x[0], 1, s); }), {arg({3, 1, 2}, 8)}},
      {"expand_dims", one([](V x, S s) { return expand_dims(x[0], {0, 2}, s); }), {arg({3, 2}, 9)}},
      {"transpose", one([](V x, S s) { return transpose(x[0], {2, 0, 1}, s); }), {arg({2, 3, 2}, 10)}},
      {"swapaxes", one([](V x, S s) { return swapaxes(x[0], 0, 1, s); }), {arg({3, 2}, 11)}},
      {"as_strided windows",
       one([](V x, S s) { return as_strided(x[0], {3, 3}, {2, 1}, 1, s); }), {arg({8}, 12)}},
      {"diagonal", one([](V x, S s) { return diagonal(x[0], 1, 0, 1, s); }), {arg({3, 4}, 13)}},
      {"contiguous", one([](V x, S s) { return contiguous(transpose(x[0], s), false, s); }),
       {arg({3, 2}, 14)}},
      {"concatenate", one([](V x, S s) { return concatenate({x[0], x[1], x[0]}, 1, s); }),
       {arg({2, 2}, 15), arg({2, 3}, 16)}},
      {"stack", one([](V x, S s) { return stack({x[0], x[1]}, 1, s); }), {arg({3}, 17), arg({3}, 18)}},
      {"pad with a value",
       one([](V x, S s) { return pad(x[0], {0, 1}, {1, 0}, {2, 1}, x[1], "constant", s); }),
       {arg({2, 3}, 19), arg({}, 20)}},
      {"repeat", one([](V x, S s) { return repeat(x[0], 2, 1, s); }), {arg({2, 3}, 21)}},
      {"tile", one([](V x, S s) { return tile(x[0], {2, 1}, s); }), {arg({2, 3}, 22)}},
      {"flip", one([](V x, S s) { return flip(x[0], 1, s); }), {arg({2, 3}, 23)}},
      {"roll", one([](V x, S s) { return roll(x[0], 2, 1, s); }), {arg({2, 4}, 24)}},
      {"split", [](V x, S s) { return split(x[0], 3, 1, s); }, {arg({2, 6}, 25)}},
  };
}

std::vector<Case> indexing_cases() {
  using V = const std::vector<array>&;
  using S = const Stream&;
  auto idx = ints({2, 0, 3}, {3});
  auto idx2 = ints({1, 0, 2, 2}, {2, 2});
  auto dup = ints({1, 3, 1}, {3});
  auto along = ints({0, 2, 1, 1, 0, 2}, {2, 3});
  auto start = ints({1, 2}, {2});
  return {
      {"slice", one([](V x, S s) { return slice(x[0], {1, 0}, {3, 4}, {1, 2}, s); }), {arg({4, 5}, 30)}},
      {"slice backwards", one([](V x, S s) { return slice(x[0], {3, 4}, {0, -6}, {-1, -2}, s); }),
       {arg({4, 5}, 31)}},
      {"slice_update", one([](V x, S s) { return slice_update(x[0], x[1], {1, 1}, {3, 4}, s); }),
       {arg({4, 5}, 32), arg({2, 3}, 33)}},
      {"slice_update_add",
       one([](V x, S s) { return slice_update_add(x[0], x[1], {0, 1}, {2, 5}, {1, 2}, s); }),
       {arg({3, 5}, 34), arg({2, 2}, 35)}},
      {"slice_update_prod",
       one([](V x, S s) { return slice_update_prod(x[0], x[1], {1, 0}, {3, 2}, s); }),
       {arg({3, 3}, 36), arg({2, 2}, 37)}},
      {"slice_update_max",
       one([](V x, S s) { return slice_update_max(x[0], x[1], {0, 0}, {2, 2}, s); }),
       {arg({3, 3}, 38), arg({2, 2}, 39)}},
      {"slice_update_min",
       one([](V x, S s) { return slice_update_min(x[0], x[1], {1, 1}, {3, 3}, s); }),
       {arg({3, 3}, 40), arg({2, 2}, 41)}},
      {"dynamic slice", one([start](V x, S s) { return slice(x[0], start, {0, 1}, {2, 2}, s); }),
       {arg({4, 4}, 42)}},
      {"dynamic slice_update",
       one([start](V x, S s) { return slice_update(x[0], x[1], start, {0, 1}, s); }),
       {arg({4, 5}, 43), arg({2, 3}, 44)}},
      {"take", one([idx](V x, S s) { return take(x[0], idx, 1, s); }), {arg({2, 4}, 45)}},
      {"take 2-D indices", one([idx2](V x, S s) { return take(x[0], idx2, 0, s); }), {arg({3, 2}, 46)}},
      {"gather two axes",
       one([idx, dup](V x, S s) { return gather(x[0], {idx, dup}, {0, 1}, {1, 1}, s); }),
       {arg({4, 4}, 47)}},
      {"take_along_axis", one([along](V x, S s) { return take_along_axis(x[0], along, 1, s); }),
       {arg({2, 3}, 48)}},
      {"put_along_axis",
       one([](V x, S s) { return put_along_axis(x[0], ints({2, 0}, {2, 1}), x[1], 1, s); }),
       {arg({2, 3}, 49), arg({2, 1}, 50)}},
      {"scatter_add_axis",
       one([along](V x, S s) { return scatter_add_axis(x[0], along, x[1], 1, s); }),
       {arg({2, 3}, 51), arg({2, 3}, 52)}},
      {"scatter", one([idx](V x, S s) { return scatter(x[0], {idx}, x[1], {0}, s); }),
       {arg({4, 2}, 53), arg({3, 1, 2}, 54)}},
      {"scatter_add duplicates",
       one([dup](V x, S s) { return scatter_add(x[0], {dup}, x[1], {0}, s); }),
       {arg({4, 2}, 55), arg({3, 1, 2}, 56)}},
      {"scatter_prod", one([idx](V x, S s) { return scatter_prod(x[0], {idx}, x[1], {0}, s); }),
       {arg({4, 2}, 57, 0.5, 2), arg({3, 1, 2}, 58, 0.5, 2)}},
      {"scatter_max", one([idx](V x, S s) { return scatter_max(x[0], {idx}, x[1], {0}, s); }),
       {arg({4, 2}, 59), arg({3, 1, 2}, 60)}},
      {"scatter_min", one([idx](V x, S s) { return scatter_min(x[0], {idx}, x[1], {0}, s); }),
       {arg({4, 2}, 61), arg({3, 1, 2}, 62)}},
  };
}

std::vector<Case> reduction_cases() {
  using V = const std::vector<array>&;
  using S = const Stream&;
  Arg with_zero = arg({2, 3}, 70);
  with_zero.values[4] = 0.0;
  return {
      {"sum", one([](V x, S s) { return sum(x[0], {0, 2}, false, s); }), {arg({2, 3, 2}, 71)}},
      {"mean", one([](V x, S s) { return mean(x[0], 1, true, s); }), {arg({2, 3}, 72)}},
      {"var", one([](V x, S s) { return var(x[0], 0, false, 1, s); }), {arg({4, 2}, 73)}},
      {"std", one([](V x, S s) { return lumen::std(x[0], false, 0, s); }), {arg({2, 3}, 74)}},
      {"prod", one([](V x, S s) { return prod(x[0], {0, 1}, false, s); }), {arg({2, 3}, 75)}},
      {"prod over a zero", one([](V x, S s) { return prod(x[0], 1, false, s); }), {with_zero}},
      {"max", one([](V x, S s) { return max(x[0], 1, false, s); }), {arg({3, 4}, 76)}},
      {"min", one([](V x, S s) { return min(x[0], {0, 1}, false, s); }), {arg({3, 4}, 77)}},
      {"logsumexp", one([](V x, S s) { return logsumexp(x[0], 1, false, s); }), {arg({2, 4}, 78)}},
      {"logsumexp of axis 0", one([](V x, S s) { return logsumexp(x[0], 0, true, s); }),
       {arg({3, 2}, 79)}},
      {"softmax", one([](V x, S s) { return softmax(x[0], -1, false, s); }), {arg({2, 4}, 80)}},
      {"softmax of axis 0", one([](V x, S s) { return softmax(x[0], 0, false, s); }), {arg({3, 2}, 81)}},
  };
}

std::vector<Case> scan_cases() {
  using V = const std::vector<array>&;
  using S = const Stream&;
  Arg with_zero = arg({2, 4}, 90);
  with_zero.values[5] = 0.0;
  std::vector<Case> cases;
  for (bool rev : {false, true}) {
    for (bool incl : {true, false}) {
      std::string tag = std::string(rev ? " reverse" : "") + (incl ? "" : " exclusive");
      cases.push_back({"cumsum" + tag, one([=](V x, S s) { return cumsum(x[0], 1, rev, incl, s); }),
                       {arg({2, 4}, 91)}});
      cases.push_back({"cumprod" + tag, one([=](V x, S s) { return cumprod(x[0], 1, rev, incl, s); }),
                       {arg({2, 4}, 92)}});
      cases.push_back({"cumprod with a zero" + tag,
                       one([=](V x, S s) { return cumprod(x[0], 1, rev, incl, s); }), {with_zero}});
      // An exclusive scan's first output is the identity (-inf or inf):
      // the cases keep the finite outputs only.
      auto finite = [=](const array& y, int axis, const Stream& s) {
        if (incl) return y;
        Shape start(y.ndim(), 0), stop = y.shape();
        (rev ? stop[axis] : start[axis]) += rev ? -1 : 1;
        return slice(y, start, stop, s);
      };
      cases.push_back({"cummax" + tag,
                       one([=](V x, S s) { return finite(cummax(x[0], 0, rev, incl, s), 0, s); }),
                       {arg({5, 2}, 93)}});
      cases.push_back({"cummin" + tag,
                       one([=](V x, S s) { return finite(cummin(x[0], 1, rev, incl, s), 1, s); }),
                       {arg({2, 5}, 94)}});
      cases.push_back({"logcumsumexp" + tag,
                       one([=](V x, S s) { return finite(logcumsumexp(x[0], 1, rev, incl, s), 1, s); }),
                       {arg({2, 4}, 95)}});
    }
  }
  return cases;
}

std::vector<Case> sort_and_linalg_cases() {
  using V = const std::vector<array>&;
  using S = const Stream&;
  return {
      {"sort", one([](V x, S s) { return sort(x[0], 1, s); }), {arg({2, 5}, 100)}},
      // Sorted after: a partition may order the elements other than the kth
      // differently per device (the GPU's is a full sort), and the finite
      // differences are taken on the CPU.
      {"partition", one([](V x, S s) { return sort(partition(x[0], 2, 0, s), 0, s); }), {arg({5, 2}, 101)}},
      {"topk", one([](V x, S s) { return topk(x[0], 2, 1, s); }), {arg({2, 5}, 102)}},
      {"matmul", one([](V x, S s) { return matmul(x[0], x[1], s); }), {arg({2, 3}, 103), arg({3, 2}, 104)}},
      {"batched matmul with a broadcast", one([](V x, S s) { return matmul(x[0], x[1], s); }),
       {arg({2, 2, 3}, 105), arg({3, 2}, 106)}},
      {"vector times matrix", one([](V x, S s) { return matmul(x[0], x[1], s); }),
       {arg({3}, 107), arg({2, 3, 2}, 108)}},
      {"addmm", one([](V x, S s) { return addmm(x[0], x[1], x[2], 0.5f, 2.0f, s); }),
       {arg({2}, 109), arg({2, 3}, 110), arg({3, 2}, 111)}},
      {"outer", one([](V x, S s) { return outer(x[0], x[1], s); }), {arg({3}, 112), arg({2}, 113)}},
      {"tensordot", one([](V x, S s) { return tensordot(x[0], x[1], 1, s); }),
       {arg({2, 3}, 114), arg({3, 2}, 115)}},
  };
}

std::vector<Case> fast_cases() {
  using V = const std::vector<array>&;
  using S = const Stream&;
  return {
      {"rms_norm", one([](V x, S s) { return fast::rms_norm(x[0], x[1], 1e-5f, s); }),
       {arg({3, 4}, 120), arg({4}, 121)}},
      {"layer_norm", one([](V x, S s) { return fast::layer_norm(x[0], x[1], x[2], 1e-5f, s); }),
       {arg({3, 4}, 122), arg({4}, 123), arg({4}, 124)}},
      {"rope", one([](V x, S s) { return fast::rope(x[0], 4, false, 10000.0f, 1.0f, 2, std::nullopt, s); }),
       {arg({1, 3, 4}, 125)}},
      {"rope traditional, partial",
       one([](V x, S s) { return fast::rope(x[0], 2, true, 100.0f, 0.5f, 1, std::nullopt, s); }),
       {arg({2, 2, 4}, 126)}},
  };
}

void check_cases(const std::vector<Case>& cases, const Stream& s, bool on_gpu) {
  auto p = precision_for(on_gpu);
  for (auto& c : cases) {
    check_derivatives(c.f, c.args, s, p.dtype, p.rtol, p.atol, c.name);
  }
}

// vmap of each case: arguments batched along axis 0 (argument 0) or their
// last axis (the others), against the loop over the examples.
void check_cases_vmap(const std::vector<Case>& cases, const Stream& s) {
  uint64_t seed = 1000;
  for (auto& c : cases) {
    std::vector<array> inputs;
    std::vector<int> in_axes;
    for (size_t i = 0; i < c.args.size(); ++i) {
      Shape shape = c.args[i].shape;
      int ax = i == 0 ? 0 : static_cast<int>(shape.size());
      shape.insert(shape.begin() + ax, 3);
      inputs.push_back(make_array(uniform_arg(shape, -2, 2, seed++), float32));
      in_axes.push_back(ax);
    }
    ArraysFn f = [&c, &s](const std::vector<array>& x) { return c.f(x, s); };
    std::vector<array> first;
    for (size_t i = 0; i < inputs.size(); ++i) first.push_back(example(inputs[i], in_axes[i], 0, s));
    std::vector<int> out_axes(c.f(first, s).size(), 0);
    check_vmap(f, inputs, in_axes, out_axes, s, "vmap of " + c.name, 1e-5);
    // and with only the first argument mapped
    if (inputs.size() > 1) {
      std::vector<array> partly{inputs[0]};
      std::vector<int> axes{0};
      for (size_t i = 1; i < inputs.size(); ++i) {
        partly.push_back(example(inputs[i], in_axes[i], 1, s));
        axes.push_back(-1);
      }
      check_vmap(f, partly, axes, out_axes, s, "vmap (first argument only) of " + c.name, 1e-5);
    }
  }
}

}  // namespace

LUMEN_DEVICE_SUITE(TransformsOps);

LUMEN_DEVICE_TEST(TransformsOps, ShapeRules) { check_cases(shape_cases(), s, on_gpu); }
LUMEN_DEVICE_TEST(TransformsOps, IndexingRules) { check_cases(indexing_cases(), s, on_gpu); }
LUMEN_DEVICE_TEST(TransformsOps, ReductionRules) { check_cases(reduction_cases(), s, on_gpu); }
LUMEN_DEVICE_TEST(TransformsOps, ScanRules) { check_cases(scan_cases(), s, on_gpu); }
LUMEN_DEVICE_TEST(TransformsOps, SortAndLinalgRules) { check_cases(sort_and_linalg_cases(), s, on_gpu); }

LUMEN_DEVICE_TEST(TransformsOps, FastRules) { check_cases(fast_cases(), s, on_gpu); }
LUMEN_DEVICE_TEST(TransformsOps, FastVmap) { check_cases_vmap(fast_cases(), s); }

LUMEN_DEVICE_TEST(TransformsOps, ShapeVmap) { check_cases_vmap(shape_cases(), s); }
LUMEN_DEVICE_TEST(TransformsOps, IndexingVmap) { check_cases_vmap(indexing_cases(), s); }
LUMEN_DEVICE_TEST(TransformsOps, ReductionVmap) { check_cases_vmap(reduction_cases(), s); }
LUMEN_DEVICE_TEST(TransformsOps, ScanVmap) { check_cases_vmap(scan_cases(), s); }
LUMEN_DEVICE_TEST(TransformsOps, SortAndLinalgVmap) { check_cases_vmap(sort_and_linalg_cases(), s); }

LUMEN_DEVICE_TEST(TransformsOps, IntegerOutputsHaveZeroDerivatives) {
  auto x = array({0.5f, -1.0f, 2.0f, 0.25f}, {2, 2});
  for (auto f : std::vector<std::function<array(const array&)>>{
           [&](const array& a) { return astype(argmax(a, 1, false, s), float32, s); },
           [&](const array& a) { return astype(argmin(a, 0, true, s), float32, s); },
           [&](const array& a) { return astype(argsort(a, 1, s), float32, s); },
           [&](const array& a) { return astype(argpartition(a, 1, 0, s), float32, s); },
       }) {
    auto [out, g] = vjp(f, x, ones(f(x).shape(), float32, s));
    expect_close(to_doubles(g), {0, 0, 0, 0}, 0, 0);
    auto [o2, t] = jvp(f, x, ones({2, 2}, float32, s));
    for (double v : to_doubles(t)) EXPECT_EQ(v, 0.0);
  }
}

LUMEN_DEVICE_TEST(TransformsOps, VmapOverIndicesAndStarts) {
  // Batched index arrays and dynamic starts: each example reads its own.
  auto x = make_array(arg({3, 4, 5}, 200), float32);
  auto idx = ints({0, 3, 1, 2, 2, 0}, {3, 2});
  ArraysFn f_take = [&](const std::vector<array>& in) {
    return std::vector<array>{take(in[0], in[1], 0, s)};
  };
  check_vmap(f_take, {x, idx}, {0, 0}, {0}, s, "take with batched indices");
  check_vmap(f_take, {example(x, 0, 1, s), idx}, {-1, 0}, {1}, s, "take, only indices batched");
  auto starts = ints({0, 1, 2, 0, 1, 9}, {3, 2});  // the 9 clamps
  ArraysFn f_dyn = [&](const std::vector<array>& in) {
    return std::vector<array>{slice(in[0], in[1], {0, 1}, {2, 3}, s)};
  };
  check_vmap(f_dyn, {x, starts}, {0, 0}, {0}, s, "dynamic slice with batched starts");
  ArraysFn f_dyn_upd = [&](const std::vector<array>& in) {
    return std::vector<array>{slice_update(in[0], in[2], in[1], {0, 1}, s)};
  };
  auto upd = make_array(arg({3, 2, 3}, 201), float32);
  check_vmap(f_dyn_upd, {x, starts, upd}, {0, 0, 0}, {0}, s, "dynamic slice_update, batched starts");
  ArraysFn f_scatter = [&](const std::vector<array>& in) {
    return std::vector<array>{scatter_add(in[0], {in[1]}, in[2], {1}, s)};
  };
  auto sidx = ints({0, 3, 1, 1, 2, 4}, {3, 2});
  auto supd = make_array(arg({3, 2, 4, 1}, 202), float32);
  check_vmap(f_scatter, {x, sidx, supd}, {0, 0, 0}, {0}, s, "scatter_add, all batched");
  check_vmap(f_scatter, {example(x, 0, 0, s), sidx, example(supd, 0, 2, s)}, {-1, 0, -1}, {0}, s,
             "scatter_add, only indices batched");
  ArraysFn f_along = [&](const std::vector<array>& in) {
    return std::vector<array>{take_along_axis(in[0], in[1], 1, s)};
  };
  auto aidx = ints({0, 3, 1, 2, 2, 0, 4, 1, 0, 0, 1, 2}, {3, 4, 1});
  check_vmap(f_along, {x, aidx}, {0, 0}, {0}, s, "take_along_axis, batched indices");
}

LUMEN_DEVICE_TEST(TransformsOps, TwoLayerMlpGradients) {
  // loss(W1, b1, W2, b2) = mean((relu(x W1 + b1) W2 + b2 - y)^2)
  auto p = precision_for(on_gpu);
  auto x = uniform_arg({4, 3}, -1, 1, 300);
  auto y = uniform_arg({4, 2}, -1, 1, 301);
  StreamFn loss = [x, y](const std::vector<array>& w, const Stream& s) {
    auto xs = make_array(x, w[0].dtype()), ys = make_array(y, w[0].dtype());
    auto h = maximum(add(matmul(xs, w[0], s), w[1], s), array(0, w[0].dtype()), s);
    auto out = add(matmul(h, w[2], s), w[3], s);
    return std::vector<array>{mean(square(subtract(out, ys, s), s), false, s)};
  };
  check_derivatives(loss, {arg({3, 5}, 302), arg({5}, 303), arg({5, 2}, 304), arg({2}, 305)}, s,
                    p.dtype, p.rtol, p.atol, "mlp loss");
  // The same gradients through grad and its argnums.
  std::vector<array> w;
  for (uint64_t k = 0; k < 4; ++k) {
    Shape shapes[] = {{3, 5}, {5}, {5, 2}, {2}};
    w.push_back(make_array(arg(shapes[k], 302 + k), p.dtype));
  }
  auto g = grad([&](const std::vector<array>& in) { return loss(in, s)[0]; },
                std::vector<int>{0, 1, 2, 3})(w);
  auto v = vjp([&](const std::vector<array>& in) { return loss(in, s); }, w,
               {array(1.0, p.dtype)}).second;
  for (int k = 0; k < 4; ++k) expect_close(to_doubles(g[k]), to_doubles(v[k]), 0, 0);
}

LUMEN_DEVICE_TEST(TransformsOps, Fp8ConversionRules) {
  auto x = make_array(arg({3, 4}, 400, -300, 300), float32);
  ArraysFn round_trip = [&](const std::vector<array>& in) {
    auto codes = to_fp8(in[0], s);
    return std::vector<array>{codes, from_fp8(codes, bfloat16, s)};
  };
  check_vmap(round_trip, {x}, {1}, {0, 1}, s, "fp8 round trip");
  // Piecewise constant: zero derivatives.
  auto f = [&](const array& a) { return astype(from_fp8(to_fp8(a, s), float32, s), float32, s); };
  auto [out, g] = vjp(std::function<array(const array&)>(f), x, ones({3, 4}, float32, s));
  for (double v : to_doubles(g)) EXPECT_EQ(v, 0.0);
  auto [out2, t] = jvp(std::function<array(const array&)>(f), x, ones({3, 4}, float32, s));
  EXPECT_EQ(t.dtype(), float32);
  for (double v : to_doubles(t)) EXPECT_EQ(v, 0.0);
}

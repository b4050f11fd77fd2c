// Indexing ops: static and dynamic slices (views), against index loops.
#include "shape_test_helpers.h"

using namespace lumen;
using namespace lumen::test;

LUMEN_DEVICE_SUITE(Indexing);

namespace {

// numpy's slice of one axis of size n: the indices selected, by a loop.
std::vector<int64_t> slice_indices(int64_t n, int64_t start, int64_t stop, int64_t step) {
  auto norm = [n](int64_t v) { return v < 0 ? v + n : v; };
  start = norm(start);
  stop = norm(stop);
  std::vector<int64_t> out;
  if (step > 0) {
    for (int64_t i = std::max<int64_t>(start, 0); i < std::min(stop, n); i += step) out.push_back(i);
  } else {
    for (int64_t i = std::min(start, n - 1); i > std::max<int64_t>(stop, -1); i += step) out.push_back(i);
  }
  return out;
}

// Expected values of slice(x, start, stop, strides) for x holding `in`.
std::vector<double> slice_reference(const std::vector<double>& in, const Shape& shape,
                                    const Shape& start, const Shape& stop, const Shape& step,
                                    Shape* out_shape) {
  std::vector<std::vector<int64_t>> picks;
  out_shape->clear();
  for (size_t d = 0; d < shape.size(); ++d) {
    picks.push_back(slice_indices(shape[d], start[d], stop[d], step[d]));
    out_shape->push_back(static_cast<int32_t>(picks.back().size()));
  }
  return gather_reference(in, *out_shape, [&](const std::vector<int64_t>& o) {
    std::vector<int64_t> i(o.size());
    for (size_t d = 0; d < o.size(); ++d) i[d] = picks[d][o[d]];
    return ravel(i, shape);
  });
}

std::string join(const Shape& v) {
  std::string out;
  for (auto x : v) {
    if (!out.empty()) out += ',';
    out += std::to_string(x);
  }
  return out;
}

bool is_free_view(const array& in, array out) {
  eval({in});
  size_t before = get_active_memory();
  eval({out});
  return get_active_memory() == before && shares_buffer(in, out);
}

}  // namespace

LUMEN_DEVICE_TEST(Indexing, SliceMatchesNumpyRules) {
  Shape shape{6, 5, 4};
  auto x = on_device(iota(shape), s);
  auto in = iota_values(120, float32);
  struct Case {
    Shape start, stop, step;
  };
  std::vector<Case> cases = {
      {{1, 0, 0}, {4, 5, 4}, {1, 1, 1}},          // rows
      {{0, 1, 1}, {6, 5, 3}, {2, 3, 1}},          // steps
      {{5, 4, 3}, {-7, -6, -5}, {-1, -1, -1}},    // full reversal (flip)
      {{-1, -2, 0}, {-4, 0, 4}, {-2, -1, 3}},     // negative indices and steps
      {{-100, 2, 0}, {100, 100, 4}, {1, 1, 2}},   // out of range bounds clamp
      {{4, 0, 0}, {2, 5, 4}, {1, 1, 1}},          // empty (start past stop)
      {{10, 0, 0}, {20, 5, 4}, {1, 1, 1}},        // empty (start past the end)
      {{2, 3, 1}, {3, 4, 2}, {1, 1, 1}},          // a single element
      {{0, 4, 0}, {6, 10, 4}, {-1, 1, 1}},        // negative step from 0: empty
  };
  for (auto& c : cases) {
    Shape want_shape;
    auto want = slice_reference(in, shape, c.start, c.stop, c.step, &want_shape);
    auto y = slice(x, c.start, c.stop, c.step, s);
    std::string what = "start " + join(c.start) + " stop " + join(c.stop) + " step " + join(c.step);
    EXPECT_EQ(y.shape(), want_shape) << what;
    expect_close(to_doubles(y), want, 0, 0, what);
    if (y.size() > 0) {
      EXPECT_TRUE(is_free_view(x, y)) << what;
    }
  }
  EXPECT_EQ(slice(x, {0, 0, 0}, {6, 5, 4}, s).id(), x.id());  // the whole array: itself
  EXPECT_EQ(slice(x, {0, 0, 0}, {6, 5, 4}, {1, 1, 1}, s).shape(), shape);
}

LUMEN_DEVICE_TEST(Indexing, SliceOfNonContiguousInputs) {
  // Transposed, then sliced with steps; the view's values follow both.
  auto x = on_device(iota({4, 6}), s);
  auto t = transpose(x, s);  // (6, 4): t[i][j] = 6 * j + i
  auto y = slice(t, {5, 0}, {0, 4}, {-2, 3}, s);
  EXPECT_TRUE(is_free_view(x, y));
  expect_close(to_doubles(y), {5, 23, 3, 21, 1, 19});
  // Slice of a slice accumulates offsets.
  auto inner = slice(slice(x, {1, 1}, {4, 6}, s), {1, 2}, {3, 4}, s);
  expect_close(to_doubles(inner), {15, 16, 21, 22});
  // Slice of a broadcast stays a broadcast view.
  auto b = broadcast_to(iota({1, 6}), {5, 6}, s);
  auto sb = slice(b, {1, 1}, {5, 6}, {2, 2}, s);
  expect_close(to_doubles(sb), {1, 3, 5, 1, 3, 5});
  EXPECT_TRUE(is_free_view(b, sb));
  // Every element size through a strided slice.
  for (auto dt : all_dtypes()) {
    auto v = iota({3, 8}, dt);
    Shape ws;
    auto want = slice_reference(iota_values(24, dt), {3, 8}, {2, 7}, {-4, 0}, {-1, -3}, &ws);
    expect_close(to_doubles(slice(v, {2, 7}, {-4, 0}, {-1, -3}, s)), want, 0, 0,
                 dtype_to_string(dt));
  }
}

LUMEN_DEVICE_TEST(Indexing, SliceErrors) {
  auto x = iota({3, 4});
  EXPECT_THROW(slice(x, {0}, {3, 4}, s), std::invalid_argument);
  EXPECT_THROW(slice(x, {0, 0}, {3, 4}, {1}, s), std::invalid_argument);
  EXPECT_THROW(slice(x, {0, 0}, {3, 4}, {1, 0}, s), std::invalid_argument);
  try {
    slice(x, {0, 0, 0}, {1, 1, 1}, s);
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("[slice]"), std::string::npos) << e.what();
  }
}

LUMEN_DEVICE_TEST(Indexing, DynamicSlice) {
  Shape shape{5, 6, 3};
  auto x = iota(shape);
  auto in = iota_values(90, float32);
  auto check = [&](const array& start_idx, std::vector<int> axes, Shape size,
                   std::vector<int64_t> want_start) {
    auto y = slice(x, start_idx, axes, size, s);
    EXPECT_EQ(y.shape(), size);
    auto want = gather_reference(in, size, [&](const std::vector<int64_t>& o) {
      std::vector<int64_t> i(o);
      for (size_t d = 0; d < i.size(); ++d) i[d] += want_start[d];
      return ravel(i, shape);
    });
    expect_close(to_doubles(y), want);
    // On the GPU the start lives in device memory: the kernel reads it and
    // copies the window (as MLX's Metal backend), where the host would have
    // to wait for the start to describe a view.
    if (!on_gpu) {
      EXPECT_TRUE(is_free_view(x, y));
    }
  };
  check(array({2, 1}, int32), {0, 2}, {2, 6, 2}, {2, 0, 1});
  check(array({3}, uint8), {-2}, {5, 3, 3}, {0, 3, 0});
  check(array(int64_t{4}), {0}, {1, 2, 3}, {4, 0, 0});  // 0-d start
  // Out-of-range starts clamp so the window stays inside.
  check(array({9, -4}, int16), {0, 1}, {2, 2, 3}, {3, 0, 0});
  // Start indices from a strided (reversed) array.
  auto st = slice(array({1, 0, 2}, int64), {2}, {-4}, {-1}, s);  // 2, 0, 1
  check(st, {1, 0, 2}, {3, 4, 2}, {0, 2, 1});

  EXPECT_THROW(slice(x, array({1.0f}), {0}, {1, 6, 3}, s), std::invalid_argument);
  EXPECT_THROW(slice(x, array({1, 2}, int32), {0}, {1, 6, 3}, s), std::invalid_argument);
  EXPECT_THROW(slice(x, array({1, 2}, int32), {0, 0}, {1, 6, 3}, s), std::invalid_argument);
  EXPECT_THROW(slice(x, array({1}, int32), {3}, {1, 6, 3}, s), std::invalid_argument);
  EXPECT_THROW(slice(x, array({1}, int32), {0}, {1, 7, 3}, s), std::invalid_argument);
  EXPECT_THROW(slice(x, array({1}, int32), {0}, {1, 6}, s), std::invalid_argument);
  EXPECT_THROW(slice(x, reshape(array({1}, int32), {1, 1}, s), {0}, {1, 6, 3}, s),
               std::invalid_argument);
}

// ---- slice updates ----

LUMEN_DEVICE_TEST(Indexing, SliceUpdateMatchesLoops) {
  Shape shape{5, 6};
  auto in = iota_values(30, float32);
  struct Case {
    Shape start, stop, step;
  };
  std::vector<Case> cases = {
      {{1, 0}, {3, 6}, {1, 1}},
      {{0, 1}, {5, 6}, {2, 2}},
      {{4, 5}, {-7, 0}, {-2, -1}},
      {{-2, -100}, {100, 3}, {1, 1}},
  };
  for (auto& c : cases) {
    Shape ws;
    slice_reference(in, shape, c.start, c.stop, c.step, &ws);
    // The update: a transposed (non-contiguous) array of the window's shape.
    auto upd = transpose(add(iota({ws[1], ws[0]}), array(100.0f), s), s);
    auto out = slice_update(iota(shape), upd, c.start, c.stop, c.step, s);
    EXPECT_EQ(out.shape(), shape);
    auto want = in;
    auto rows = slice_indices(5, c.start[0], c.stop[0], c.step[0]);
    auto cols = slice_indices(6, c.start[1], c.stop[1], c.step[1]);
    for (size_t i = 0; i < rows.size(); ++i)
      for (size_t j = 0; j < cols.size(); ++j)
        want[rows[i] * 6 + cols[j]] = 100 + static_cast<double>(j * rows.size() + i);
    expect_close(to_doubles(out), want, 0, 0, "start " + join(c.start) + " step " + join(c.step));
  }
  // A broadcast update and a cast from int to the source's float type.
  auto b = slice_update(iota({3, 3}), array(-1, int32), {0, 1}, {3, 2}, s);
  EXPECT_EQ(b.dtype(), float32);
  expect_close(to_doubles(b), {0, -1, 2, 3, -1, 5, 6, -1, 8});
  // The whole array: the update itself.
  expect_close(to_doubles(slice_update(iota({2}), array({7.0f, 8.0f}), {0}, {2}, s)), {7, 8});
  EXPECT_THROW(slice_update(iota({3, 3}), iota({2, 2}), {0, 0}, {3, 3}, s), std::invalid_argument);
  EXPECT_THROW(slice_update(iota({3, 3}), iota({1}), {0}, {3}, s), std::invalid_argument);
  EXPECT_THROW(slice_update(iota({3, 3}), iota({1}), {0, 0}, {3, 3}, {1, 0}, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(Indexing, SliceUpdateEveryDtypeKeepsSourceIntact) {
  for (auto dt : all_dtypes()) {
    auto src = iota({4, 4}, dt);
    auto out = slice_update(src, broadcast_to(array(1, dt), {2, 2}, s), {1, 1}, {4, 4}, {2, 2}, s);
    auto want = iota_values(16, dt);
    for (int i : {1, 3})
      for (int j : {1, 3}) want[i * 4 + j] = 1;
    expect_close(to_doubles(out), want, 0, 0, dtype_to_string(dt));
    expect_close(to_doubles(src), iota_values(16, dt), 0, 0, "source changed");
  }
}

LUMEN_DEVICE_TEST(Indexing, SliceUpdateReductions) {
  auto src = iota({2, 4});  // 0..7
  auto upd = array({3.0f, -1.0f, 5.0f, 2.0f}, {2, 2});
  // Window: columns 1 and 3 of both rows.
  std::vector<int> at = {1, 3, 5, 7};
  std::vector<double> u = {3, -1, 5, 2};
  auto check = [&](const array& out, const std::function<double(double, double)>& f, const char* what) {
    auto want = iota_values(8, float32);
    for (int k = 0; k < 4; ++k) want[at[k]] = f(want[at[k]], u[k]);
    expect_close(to_doubles(out), want, 0, 0, what);
  };
  check(slice_update_add(src, upd, {0, 1}, {2, 4}, {1, 2}, s), [](double a, double b) { return a + b; }, "add");
  check(slice_update_prod(src, upd, {0, 1}, {2, 4}, {1, 2}, s), [](double a, double b) { return a * b; }, "prod");
  check(slice_update_max(src, upd, {0, 1}, {2, 4}, {1, 2}, s), [](double a, double b) { return std::max(a, b); }, "max");
  check(slice_update_min(src, upd, {0, 1}, {2, 4}, {1, 2}, s), [](double a, double b) { return std::min(a, b); }, "min");
  // Stride-1 overloads, half precision through float32, and the whole-array shortcut.
  auto h = slice_update_add(iota({4}, float16), array(0.5f), {1}, {3}, s);
  EXPECT_EQ(h.dtype(), float16);
  expect_close(to_doubles(h), {0, 1.5, 2.5, 3});
  expect_close(to_doubles(slice_update_max(iota({3}), array(1.0f), {0}, {3}, s)), {1, 1, 2});
  expect_close(to_doubles(slice_update_prod(iota({3}, int32), array(2, int32), {1}, {3}, s)), {0, 2, 4});
  expect_close(to_doubles(slice_update_min(iota({3}, uint8), array(1, uint8), {0}, {2}, s)), {0, 1, 2});
  EXPECT_THROW(slice_update_max(iota({2}, complex64), array(1.0f), {0}, {1}, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(Indexing, SliceUpdateDonatesADyingSource) {
  if (on_gpu) GTEST_SKIP() << "checks the CPU allocator";
  const int n = 1 << 18;
  auto x = exp(iota({n}), s);  // a fresh buffer once evaluated
  eval({x});
  size_t base = get_active_memory();
  auto y = slice_update(x, array(5.0f), {10}, {20}, s);
  x = array();  // the source dies: the update may write in place
  reset_peak_memory();
  eval({y});
  EXPECT_LE(get_peak_memory(), base + 4096) << "a second buffer of " << n * 4 << " bytes was allocated";
  auto v = to_vector<float>(slice(y, {8}, {22}, s));
  EXPECT_FLOAT_EQ(v[0], std::exp(8.0f));
  EXPECT_FLOAT_EQ(v[2], 5.0f);
  EXPECT_FLOAT_EQ(v[11], 5.0f);
  EXPECT_FLOAT_EQ(v[12], std::exp(20.0f));
}

LUMEN_DEVICE_TEST(Indexing, DynamicSliceUpdate) {
  auto src = iota({4, 5});
  auto upd = add(iota({2, 3}), array(100.0f), s);
  auto check = [&](const array& out, int r0, int c0) {
    auto want = iota_values(20, float32);
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < 3; ++j) want[(r0 + i) * 5 + c0 + j] = 100 + i * 3 + j;
    expect_close(to_doubles(out), want, 0, 0, std::to_string(r0) + "," + std::to_string(c0));
  };
  check(slice_update(src, upd, array({1, 2}, int32), {0, 1}, s), 1, 2);
  check(slice_update(src, upd, array({9, -3}, int64), {0, 1}, s), 2, 0);  // clamped
  check(slice_update(src, upd, array({1}, uint16), {-1}, s), 0, 1);
  // A missing leading axis of the update spans src (except indexed axes).
  auto row = slice_update(src, array({7.0f, 8.0f}), array({3}, int32), {1}, s);
  expect_close(to_doubles(row), {0, 1, 2, 7, 8, 5, 6, 7, 7, 8, 10, 11, 12, 7, 8, 15, 16, 17, 7, 8});
  EXPECT_THROW(slice_update(src, upd, array({1.0f}), {0}, s), std::invalid_argument);
  EXPECT_THROW(slice_update(src, upd, array({1, 2}, int32), {0}, s), std::invalid_argument);
  EXPECT_THROW(slice_update(src, iota({2, 6}), array({1}, int32), {0}, s), std::invalid_argument);
}

// ---- take, gather, scatter ----

LUMEN_DEVICE_TEST(Indexing, TakeEveryDtypeAndIndexType) {
  Shape shape{3, 4};
  for (auto dt : all_dtypes()) {
    auto x = iota(shape, dt);
    auto in = iota_values(12, dt);
    // Axis 1 with 2-D indices, negative ones wrapping.
    auto idx = array({3, -1, 0, -4, 2, 1}, {2, 3}, int32);
    std::vector<int64_t> iv = {3, 3, 0, 0, 2, 1};
    auto t = take(x, idx, 1, s);
    EXPECT_EQ(t.shape(), (Shape{3, 2, 3}));
    std::vector<double> want;
    for (int r = 0; r < 3; ++r)
      for (int k = 0; k < 6; ++k) want.push_back(in[r * 4 + iv[k]]);
    expect_close(to_doubles(t), want, 0, 0, dtype_to_string(dt));
  }
  auto x = iota(shape);
  for (auto it : {uint8, uint16, uint32, uint64, int8, int16, int32, int64}) {
    auto flat = take(x, array({11, 0, 5}, it), s);
    expect_close(to_doubles(flat), {11, 0, 5}, 0, 0, dtype_to_string(it));
    auto rows = take(x, array({2, 0}, it), 0, s);
    expect_close(to_doubles(rows), {8, 9, 10, 11, 0, 1, 2, 3}, 0, 0, dtype_to_string(it));
  }
  // Non-contiguous data and indices.
  auto idx = slice(array({0, 9, 1, 9, 2}, int32), {0}, {5}, {2}, s);  // 0, 1, 2
  expect_close(to_doubles(take(transpose(x, s), idx, 1, s)), {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11});
  auto b = take(broadcast_to(iota({1, 4}), {3, 4}, s), array({-1, 1}, int32), 1, s);
  expect_close(to_doubles(b), {3, 1, 3, 1, 3, 1});
  // Scalar indices.
  EXPECT_EQ(take(x, array(2, int32), 0, s).shape(), (Shape{4}));
  expect_close(to_doubles(take(x, -1, 1, s)), {3, 7, 11});
  expect_close(to_doubles(take(x, 7, s)), {7});
  EXPECT_THROW(take(x, 3, 0, s), std::out_of_range);
  EXPECT_THROW(take(x, array({1.0f}), 0, s), std::invalid_argument);  // float indices
  EXPECT_THROW(take(x, array({1}, bool_), 0, s), std::invalid_argument);
  EXPECT_THROW(take(x, array({1}, int32), 2, s), std::invalid_argument);
  EXPECT_THROW(take(iota({0, 2}), array({0}, int32), 0, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(Indexing, OutOfRangeIndexThrowsAtEval) {
  auto x = iota({3, 4});
  auto t = take(x, array({1, 4}, int32), 1, s);
  EXPECT_THROW(eval({t}), std::out_of_range);
  auto u = take(x, array({-5}, int32), 1, s);
  EXPECT_THROW(eval({u}), std::out_of_range);
  auto v = take_along_axis(x, array({3}, {1, 1}, uint8), 0, s);
  EXPECT_THROW(eval({v}), std::out_of_range);
  auto w = scatter_add(x, {array({3}, int32)}, iota({1, 1, 4}), {0}, s);
  EXPECT_THROW(eval({w}), std::out_of_range);
  // The library stays usable.
  expect_close(to_doubles(take(x, array({1, -4}, int32), 1, s)), {1, 0, 5, 4, 9, 8});
}

LUMEN_DEVICE_TEST(Indexing, GatherSlices) {
  Shape shape{4, 5, 6};
  auto x = iota(shape);
  auto in = iota_values(120, float32);
  // Two index arrays broadcast to (2, 3); slices of size (1, 2, 6) and (1, 1, 3).
  auto i0 = array({0, 2}, {2, 1}, int32);
  auto i1 = array({1, -2, 2}, {1, 3}, int16);
  for (Shape sizes : {Shape{1, 2, 6}, Shape{1, 1, 3}, Shape{2, 2, 1}}) {
    auto g = gather(x, {i0, i1}, {0, 1}, sizes, s);
    Shape want_shape{2, 3, sizes[0], sizes[1], sizes[2]};
    EXPECT_EQ(g.shape(), want_shape);
    std::vector<int64_t> r0 = {0, 2}, r1 = {1, 3, 2};
    auto want = gather_reference(in, want_shape, [&](const std::vector<int64_t>& o) {
      return ravel({r0[o[0]] + o[2], r1[o[1]] + o[3], o[4]}, shape);
    });
    expect_close(to_doubles(g), want, 0, 0, join(sizes));
  }
  // A slice overrunning its axis (3 columns from column 3 of 5) is an error at eval.
  EXPECT_THROW(eval({gather(x, {i0, i1}, {0, 1}, {1, 3, 1}, s)}), std::out_of_range);
  // Large slices (the per-slice copy path) from a transposed input.
  auto t = transpose(iota({16, 12}), s);  // (12, 16): t[i][j] = 12 j + i
  auto g = gather(t, array({5, 0, 11}, int64), 0, {1, 16}, s);
  EXPECT_EQ(g.shape(), (Shape{3, 1, 16}));
  std::vector<double> want;
  for (int r : {5, 0, 11})
    for (int j = 0; j < 16; ++j) want.push_back(iota_value(12 * j + r, float32));
  expect_close(to_doubles(g), want);
  // No index arrays: one slice.
  expect_close(to_doubles(gather(iota({2, 3}), std::vector<array>{}, std::vector<int>{}, {1, 2}, s)), {0, 1});
  EXPECT_THROW(gather(x, {i0}, {0, 1}, {1, 1, 1}, s), std::invalid_argument);
  EXPECT_THROW(gather(x, {i0, i1}, {0, 0}, {1, 1, 1}, s), std::invalid_argument);
  EXPECT_THROW(gather(x, {i0}, {3}, {1, 1, 1}, s), std::invalid_argument);
  EXPECT_THROW(gather(x, {i0}, {0}, {1, 6, 1}, s), std::invalid_argument);
  EXPECT_THROW(gather(x, {i0}, {0}, {1, 1}, s), std::invalid_argument);
  EXPECT_THROW(gather(x, {array({2, 3}, {1, 2}, int32), array({1, 2, 3}, int32)}, {0, 1}, {1, 1, 1}, s),
               std::invalid_argument);
}

LUMEN_DEVICE_TEST(Indexing, TakeAlongAxis) {
  Shape shape{3, 4};
  for (auto dt : {bool_, int8, float16, float32, int64, complex64}) {
    auto x = iota(shape, dt);
    auto in = iota_values(12, dt);
    auto idx = array({3, 0, -1, 1, 2, 2}, {3, 2}, int32);
    auto t = take_along_axis(x, idx, 1, s);
    EXPECT_EQ(t.shape(), (Shape{3, 2}));
    std::vector<int> iv = {3, 0, 3, 1, 2, 2};
    std::vector<double> want;
    for (int r = 0; r < 3; ++r)
      for (int k = 0; k < 2; ++k) want.push_back(in[r * 4 + iv[r * 2 + k]]);
    expect_close(to_doubles(t), want, 0, 0, dtype_to_string(dt));
  }
  // Indices broadcast against the array on the other axes (and vice versa).
  auto x = iota(shape);
  auto t0 = take_along_axis(x, array({2, 0}, {2, 1}, uint8), 0, s);
  EXPECT_EQ(t0.shape(), (Shape{2, 4}));
  expect_close(to_doubles(t0), {8, 9, 10, 11, 0, 1, 2, 3});
  auto t1 = take_along_axis(transpose(x, s), array({1, 2}, {1, 2}, int32), 1, s);  // (4, 2)
  expect_close(to_doubles(t1), {4, 8, 5, 9, 6, 10, 7, 11});
  EXPECT_THROW(take_along_axis(x, array({1}, int32), 0, s), std::invalid_argument);
  EXPECT_THROW(take_along_axis(x, array({1.0f}, {1, 1}), 0, s), std::invalid_argument);
  EXPECT_THROW(take_along_axis(x, array({1}, {1, 1}, int32), 2, s), std::invalid_argument);
  EXPECT_THROW(take_along_axis(x, array({1, 2}, {1, 2}, int32), 0, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(Indexing, PutAlongAxisAndScatterAddAxis) {
  auto x = iota({2, 4});
  auto idx = array({3, 1, 0, 0}, {2, 2}, int32);
  auto vals = array({10.0f, 20.0f, 30.0f, 40.0f}, {2, 2});
  // Row 1 writes index 0 twice: the last value wins; scatter_add sums both.
  expect_close(to_doubles(put_along_axis(x, idx, vals, 1, s)), {0, 20, 2, 10, 40, 5, 6, 7});
  expect_close(to_doubles(scatter_add_axis(x, idx, vals, 1, s)), {0, 21, 2, 13, 74, 5, 6, 7});
  // Broadcast values, negative indices, integer data, axis 0.
  auto xi = iota({3, 2}, int32);
  expect_close(to_doubles(put_along_axis(xi, array({-1, 0}, {1, 2}, int64), array(9, int32), 0, s)),
               {0, 9, 2, 3, 9, 5});
  expect_close(to_doubles(scatter_add_axis(xi, array({0, 0, 1}, {3, 1}, int32),
                                          array({1, 2, 3}, {3, 1}, int32), 1, s)),
               {1, 1, 4, 3, 4, 8});
  // A long axis (one run per row, rows in parallel).
  const int n = 3000;
  auto big = scatter_add_axis(zeros({4, 8}, float32, s), broadcast_to(array({5}, {1, 1}, int32), {4, n}, s),
                              broadcast_to(array(1.0f), {4, n}, s), 1, s);
  auto bv = to_doubles(big);
  for (int r = 0; r < 4; ++r) EXPECT_EQ(bv[r * 8 + 5], n);
  EXPECT_THROW(put_along_axis(x, array({1}, int32), vals, 1, s), std::invalid_argument);
  EXPECT_THROW(put_along_axis(x, idx, vals, 2, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(Indexing, ScatterAndReductions) {
  auto a = iota({4, 3});
  // Rows 2, 0, 2 (duplicate), updates of shape (3, 1, 3).
  auto idx = array({2, 0, -2}, int32);
  auto upd = reshape(array({1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, 8.0f, 9.0f}), {3, 1, 3}, s);
  auto base = iota_values(12, float32);
  auto expect_rows = [&](const array& out, const std::function<double(double, double)>& f, const char* what) {
    auto want = base;
    std::vector<int> rows = {2, 0, 2};
    for (int k = 0; k < 3; ++k)
      for (int j = 0; j < 3; ++j) want[rows[k] * 3 + j] = f(want[rows[k] * 3 + j], 1 + 3 * k + j);
    expect_close(to_doubles(out), want, 0, 0, what);
  };
  expect_rows(scatter(a, idx, upd, 0, s), [](double, double u) { return u; }, "scatter");
  expect_rows(scatter_add(a, idx, upd, 0, s), [](double o, double u) { return o + u; }, "add");
  expect_rows(scatter_prod(a, idx, upd, 0, s), [](double o, double u) { return o * u; }, "prod");
  expect_rows(scatter_max(a, idx, upd, 0, s), [](double o, double u) { return std::max(o, u); }, "max");
  expect_rows(scatter_min(a, idx, upd, 0, s), [](double o, double u) { return std::min(o, u); }, "min");
  // Two index arrays (broadcast), element updates, every dtype.
  for (auto dt : all_dtypes()) {
    auto z = zeros({3, 3}, dt, s);
    auto r = array({0, 2}, {2, 1}, int32), c = array({1, 2}, {1, 2}, int32);
    auto u = broadcast_to(array(1, dt), {2, 2, 1, 1}, s);
    auto out = scatter(z, {r, c}, u, {0, 1}, s);
    expect_close(to_doubles(out), {0, 1, 1, 0, 0, 0, 0, 1, 1}, 0, 0, dtype_to_string(dt));
  }
  // Counting with scatter_add: a histogram with many duplicates.
  std::vector<int32_t> bins(1000);
  std::vector<double> counts(7, 0);
  for (int i = 0; i < 1000; ++i) {
    bins[i] = (i * 37) % 7;
    counts[bins[i]] += 1;
  }
  auto hist = scatter_add(zeros({7}, int32, s), {array(bins.begin(), {1000}, int32)},
                          broadcast_to(array(1, int32), {1000, 1}, s), {0}, s);
  expect_close(to_doubles(hist), counts);
  // Large slices along non-indexed axes (the parallel path), duplicates in order.
  auto wide = scatter(zeros({3, 5000}, float32, s), {array({1, 1}, int32)},
                      reshape(concatenate({full({1, 5000}, 1.0f, s), full({1, 5000}, 2.0f, s)}, 0, s), {2, 1, 5000}, s),
                      {0}, s);
  auto wv = to_doubles(wide);
  EXPECT_EQ(wv[5000], 2);
  EXPECT_EQ(wv[9999], 2);
  EXPECT_EQ(wv[0], 0);
  // The source is untouched.
  expect_close(to_doubles(a), base);
  // Along axis 1 the (1, 3) slices starting at columns 2, 0, 1 overrun the row.
  EXPECT_THROW(eval({scatter(a, idx, upd, 1, s)}), std::out_of_range);
  EXPECT_THROW(scatter(a, idx, reshape(iota({15}), {3, 1, 5}, s), 0, s), std::invalid_argument);  // slice too large
  EXPECT_THROW(scatter(a, idx, reshape(upd, {3, 3}, s), 0, s), std::invalid_argument);  // rank
  EXPECT_THROW(scatter(a, array({1}, int32), upd, 0, s), std::invalid_argument);  // index shape
  EXPECT_THROW(scatter(a, array({1.0f, 2.0f, 3.0f}), upd, 0, s), std::invalid_argument);
  EXPECT_THROW(scatter(a, {idx, idx}, upd, {0, 0}, s), std::invalid_argument);
  EXPECT_THROW(scatter_max(iota({3}, complex64), array({0}, int32), iota({1, 1}, complex64), 0, s),
               std::invalid_argument);
}

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
  for (auto x : v) out += (out.empty() ? "" : ",") + std::to_string(x);
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
  auto x = iota(shape);
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
  auto x = iota({4, 6});
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
    EXPECT_TRUE(is_free_view(x, y));
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

// Shape ops: reshape family, axis permutations, broadcasting, strided and
// dtype views, contiguity, and the copy kernel behind them.
#include <cstring>

#include "shape_test_helpers.h"

using namespace lumen;
using namespace lumen::test;

LUMEN_DEVICE_SUITE(ShapeOps);

namespace {

// Values of a (rows x cols) array transposed, by index loops.
std::vector<double> transposed_values(const std::vector<double>& v, int rows, int cols) {
  std::vector<double> out(v.size());
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) out[j * rows + i] = v[i * cols + j];
  return out;
}

// Evaluates `out` and reports whether it allocated nothing and shares `in`'s buffer.
bool is_free_view(const array& in, array out) {
  eval({in});
  size_t before = get_active_memory();
  eval({out});
  return get_active_memory() == before && shares_buffer(in, out);
}

}  // namespace

LUMEN_DEVICE_TEST(ShapeOps, ReshapeContiguousIsAView) {
  auto x = on_device(iota({2, 3, 4}), s);
  auto y = reshape(x, {4, -1}, s);
  EXPECT_EQ(y.shape(), (Shape{4, 6}));
  EXPECT_TRUE(is_free_view(x, y));
  EXPECT_TRUE(y.flags().row_contiguous);
  expect_close(to_doubles(y), iota_values(24, float32));
  EXPECT_EQ(reshape(x, {2, 3, 4}, s).id(), x.id());  // same shape: the input itself
  auto z = reshape(x, {24, 1, 1}, s);
  EXPECT_TRUE(is_free_view(x, z));
  expect_close(to_doubles(z), iota_values(24, float32));
}

LUMEN_DEVICE_TEST(ShapeOps, ReshapeTransposedCopiesWhenNeeded) {
  auto x = on_device(iota({3, 4}), s);
  auto t = transpose(x, s);  // (4, 3), strides (1, 4)
  auto want = transposed_values(iota_values(12, float32), 3, 4);
  auto flat = reshape(t, {12}, s);
  eval({flat});
  EXPECT_FALSE(shares_buffer(x, flat));
  EXPECT_TRUE(flat.flags().row_contiguous);
  expect_close(to_doubles(flat), want);
  // Splitting the transposed axes apart needs no copy.
  auto split = reshape(t, {2, 2, 3, 1}, s);
  EXPECT_TRUE(is_free_view(x, split));
  expect_close(to_doubles(split), want);
}

LUMEN_DEVICE_TEST(ShapeOps, ReshapeBroadcastAndSlicedInputs) {
  auto col = on_device(iota({3, 1}), s);
  auto b = broadcast_to(col, {3, 4}, s);  // strides (1, 0)
  std::vector<double> want;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) want.push_back(i);
  auto v = reshape(b, {3, 2, 2}, s);  // still a broadcast view
  EXPECT_TRUE(is_free_view(col, v));
  expect_close(to_doubles(v), want);
  auto c = reshape(b, {12}, s);  // needs a copy
  expect_close(to_doubles(c), want);

  auto x = on_device(iota({4, 6}), s);
  auto sl = slice(x, {1, 0}, {3, 6}, s);  // rows 1..2: row-contiguous with an offset
  auto r = reshape(sl, {3, 4}, s);
  EXPECT_TRUE(is_free_view(x, r));
  std::vector<double> rw;
  for (int i = 6; i < 18; ++i) rw.push_back(i);
  expect_close(to_doubles(r), rw);
  auto stepped = slice(x, {0, 0}, {4, 6}, {2, 3}, s);  // (2, 2) with gaps
  expect_close(to_doubles(reshape(stepped, {4}, s)), {0, 3, 12, 15});
}

LUMEN_DEVICE_TEST(ShapeOps, ReshapeCopiesEveryDtype) {
  for (auto dt : all_dtypes()) {
    auto x = iota({5, 7}, dt);
    auto flat = reshape(transpose(x, s), {35}, s);
    EXPECT_EQ(flat.dtype(), dt);
    expect_close(to_doubles(flat), transposed_values(iota_values(35, dt), 5, 7), 0, 0,
                 dtype_to_string(dt));
  }
}

LUMEN_DEVICE_TEST(ShapeOps, ReshapeErrors) {
  auto x = iota({2, 3});
  EXPECT_THROW(reshape(x, {4, 2}, s), std::invalid_argument);
  EXPECT_THROW(reshape(x, {-1, -1}, s), std::invalid_argument);
  EXPECT_THROW(reshape(x, {-1, 4}, s), std::invalid_argument);
  EXPECT_THROW(reshape(x, {-2, -3}, s), std::invalid_argument);
  EXPECT_THROW(reshape(iota({0, 2}), {-1, 0}, s), std::invalid_argument);
  try {
    reshape(x, {5}, s);
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("[reshape]"), std::string::npos) << m;
    EXPECT_NE(m.find("6"), std::string::npos) << m;
    EXPECT_NE(m.find("(5)"), std::string::npos) << m;
  }
  EXPECT_EQ(reshape(iota({0, 2}), {-1, 4}, s).shape(), (Shape{0, 4}));
}

LUMEN_DEVICE_TEST(ShapeOps, FlattenAndUnflatten) {
  auto x = on_device(iota({2, 3, 4, 5}), s);
  auto f = flatten(x, 1, 2, s);
  EXPECT_EQ(f.shape(), (Shape{2, 12, 5}));
  EXPECT_TRUE(is_free_view(x, f));
  expect_close(to_doubles(f), iota_values(120, float32));
  EXPECT_EQ(flatten(x, s).shape(), (Shape{120}));
  EXPECT_EQ(flatten(x, -2, -1, s).shape(), (Shape{2, 3, 20}));
  EXPECT_EQ(flatten(x, -10, 0, s).shape(), (Shape{2, 3, 4, 5}));  // start clamps to 0
  EXPECT_EQ(flatten(array(3.0f), s).shape(), (Shape{1}));
  EXPECT_THROW(flatten(x, 3, 1, s), std::invalid_argument);
  EXPECT_THROW(flatten(x, 4, 5, s), std::invalid_argument);
  EXPECT_THROW(flatten(x, 0, -5, s), std::invalid_argument);

  // Flattening a transposed array copies, in the transposed order.
  auto t = transpose(iota({3, 4}), s);
  expect_close(to_doubles(flatten(t, s)), transposed_values(iota_values(12, float32), 3, 4));

  auto u = unflatten(x, 2, {2, -1}, s);
  EXPECT_EQ(u.shape(), (Shape{2, 3, 2, 2, 5}));
  EXPECT_TRUE(is_free_view(x, u));
  expect_close(to_doubles(u), iota_values(120, float32));
  EXPECT_EQ(unflatten(x, -1, {5}, s).id(), x.id());
  EXPECT_THROW(unflatten(x, 2, {3, -1}, s), std::invalid_argument);
  EXPECT_THROW(unflatten(x, 2, {}, s), std::invalid_argument);
  EXPECT_THROW(unflatten(x, 4, {2, 2}, s), std::invalid_argument);
  EXPECT_THROW(unflatten(x, 2, {-1, -1}, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(ShapeOps, SqueezeAndExpandDims) {
  auto x = on_device(iota({1, 3, 1, 2}), s);
  EXPECT_EQ(squeeze(x, s).shape(), (Shape{3, 2}));
  EXPECT_EQ(squeeze(x, 2, s).shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(squeeze(x, {0, -2}, s).shape(), (Shape{3, 2}));
  auto q = squeeze(x, s);
  EXPECT_TRUE(is_free_view(x, q));
  expect_close(to_doubles(q), iota_values(6, float32));
  EXPECT_THROW(squeeze(x, 1, s), std::invalid_argument);
  EXPECT_THROW(squeeze(x, 4, s), std::invalid_argument);
  EXPECT_THROW(squeeze(x, {0, 0}, s), std::invalid_argument);

  auto y = on_device(iota({3, 2}), s);
  EXPECT_EQ(expand_dims(y, 0, s).shape(), (Shape{1, 3, 2}));
  EXPECT_EQ(expand_dims(y, -1, s).shape(), (Shape{3, 2, 1}));
  EXPECT_EQ(expand_dims(y, {0, 2, -1}, s).shape(), (Shape{1, 3, 1, 2, 1}));
  auto e = expand_dims(y, {0, 2, -1}, s);
  EXPECT_TRUE(is_free_view(y, e));
  EXPECT_TRUE(e.flags().row_contiguous);
  expect_close(to_doubles(e), iota_values(6, float32));
  EXPECT_THROW(expand_dims(y, 3, s), std::invalid_argument);
  EXPECT_THROW(expand_dims(y, {1, 1}, s), std::invalid_argument);

  // On a transposed input the values follow the transposed order.
  auto t = expand_dims(transpose(y, s), 1, s);
  EXPECT_EQ(t.shape(), (Shape{2, 1, 3}));
  expect_close(to_doubles(t), transposed_values(iota_values(6, float32), 3, 2));
}

LUMEN_DEVICE_TEST(ShapeOps, TransposeSwapMove) {
  Shape shape{2, 3, 4};
  auto x = on_device(iota(shape), s);
  auto in = iota_values(24, float32);
  auto check = [&](const array& out, const std::vector<int>& perm) {
    Shape out_shape;
    for (int p : perm) out_shape.push_back(shape[p]);
    EXPECT_EQ(out.shape(), out_shape);
    auto want = gather_reference(in, out_shape, [&](const std::vector<int64_t>& o) {
      std::vector<int64_t> i(3);
      for (int d = 0; d < 3; ++d) i[perm[d]] = o[d];
      return ravel(i, shape);
    });
    expect_close(to_doubles(out), want);
    EXPECT_TRUE(is_free_view(x, out));
  };
  check(transpose(x, {2, 0, 1}, s), {2, 0, 1});
  check(transpose(x, {-1, 0, -2}, s), {2, 0, 1});
  check(transpose(x, s), {2, 1, 0});
  check(swapaxes(x, 0, -1, s), {2, 1, 0});
  check(moveaxis(x, 0, 2, s), {1, 2, 0});
  check(moveaxis(x, -1, 0, s), {2, 0, 1});
  auto t = transpose(x, {2, 1, 0}, s);
  eval({t});
  EXPECT_FALSE(t.flags().row_contiguous);
  EXPECT_TRUE(t.flags().col_contiguous);
  EXPECT_TRUE(t.flags().contiguous);
  auto p = transpose(x, {1, 0, 2}, s);
  eval({p});
  EXPECT_TRUE(p.flags().contiguous);  // dense, in neither order
  EXPECT_FALSE(p.flags().row_contiguous || p.flags().col_contiguous);

  EXPECT_THROW(transpose(x, {0, 1}, s), std::invalid_argument);
  EXPECT_THROW(transpose(x, {0, 1, 1}, s), std::invalid_argument);
  EXPECT_THROW(transpose(x, {0, 1, 3}, s), std::invalid_argument);
  EXPECT_THROW(swapaxes(x, 0, 3, s), std::out_of_range);
  EXPECT_THROW(moveaxis(x, -4, 0, s), std::out_of_range);
}

LUMEN_DEVICE_TEST(ShapeOps, AtLeastND) {
  auto sc = array(2.0f);
  auto v = iota({3});
  auto m = iota({2, 3});
  EXPECT_EQ(atleast_1d(sc, s).shape(), (Shape{1}));
  EXPECT_EQ(atleast_1d(v, s).id(), v.id());
  EXPECT_EQ(atleast_2d(sc, s).shape(), (Shape{1, 1}));
  EXPECT_EQ(atleast_2d(v, s).shape(), (Shape{1, 3}));
  EXPECT_EQ(atleast_2d(m, s).id(), m.id());
  EXPECT_EQ(atleast_3d(sc, s).shape(), (Shape{1, 1, 1}));
  EXPECT_EQ(atleast_3d(v, s).shape(), (Shape{1, 3, 1}));
  EXPECT_EQ(atleast_3d(m, s).shape(), (Shape{2, 3, 1}));
  auto many = atleast_2d(std::vector<array>{sc, v, m}, s);
  ASSERT_EQ(many.size(), 3u);
  EXPECT_EQ(many[1].shape(), (Shape{1, 3}));
  expect_close(to_doubles(many[1]), {0, 1, 2});
  EXPECT_EQ(atleast_1d(std::vector<array>{sc}, s)[0].shape(), (Shape{1}));
  EXPECT_EQ(atleast_3d(std::vector<array>{v}, s)[0].shape(), (Shape{1, 3, 1}));
}

LUMEN_DEVICE_TEST(ShapeOps, BroadcastTo) {
  auto x = on_device(iota({3, 1}), s);
  auto b = broadcast_to(x, {2, 3, 4}, s);
  EXPECT_TRUE(is_free_view(x, b));
  EXPECT_FALSE(b.flags().contiguous);
  auto want = gather_reference(iota_values(3, float32), {2, 3, 4},
                               [](const std::vector<int64_t>& i) { return i[1]; });
  expect_close(to_doubles(b), want);
  auto both = broadcast_arrays({iota({1, 4}), iota({3, 1})}, s);
  EXPECT_EQ(both[0].shape(), (Shape{3, 4}));
  EXPECT_EQ(both[1].shape(), (Shape{3, 4}));
  EXPECT_THROW(broadcast_to(x, {3, 2, 4}, s), std::invalid_argument);
  EXPECT_THROW(broadcast_to(x, {4}, s), std::invalid_argument);
  EXPECT_THROW(broadcast_to(x, {3, -1}, s), std::invalid_argument);
  EXPECT_THROW(broadcast_arrays({iota({2}), iota({3})}, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(ShapeOps, AsStrided) {
  auto x = on_device(iota({10}), s);
  // Sliding windows of 4 with step 2 over the flat input.
  auto w = as_strided(x, {3, 4}, {2, 1}, 1, s);
  EXPECT_TRUE(is_free_view(x, w));
  std::vector<double> want;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) want.push_back(1 + 2 * i + j);
  expect_close(to_doubles(w), want);
  // A transposed input is flattened (copied) first: offsets count in its row-major order.
  auto t = transpose(iota({2, 3}), s);  // values 0 3 1 4 2 5
  expect_close(to_doubles(as_strided(t, {2, 2}, {1, 2}, 1, s)), {3, 4, 1, 2});
  // Zero strides repeat.
  expect_close(to_doubles(as_strided(x, {2, 3}, {0, 3}, 0, s)), {0, 3, 6, 0, 3, 6});
  EXPECT_THROW(as_strided(x, {2, -1}, {1, 1}, 0, s), std::invalid_argument);
  EXPECT_THROW(as_strided(x, {2, 2}, {1}, 0, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(ShapeOps, ViewReinterpretsBytes) {
  auto f = on_device(array({1.0f, -2.0f, 0.5f}), s);
  auto u = view(f, uint32, s);
  EXPECT_TRUE(is_free_view(f, u));
  std::vector<double> want;
  for (float v : {1.0f, -2.0f, 0.5f}) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    want.push_back(bits);
  }
  expect_close(to_doubles(u), want);
  EXPECT_EQ(view(f, float32, s).id(), f.id());

  // To a smaller type: the last axis grows (little-endian byte order).
  auto i32 = on_device(array({0x04030201, 0x08070605}, int32), s);
  auto bytes = view(i32, uint8, s);
  EXPECT_EQ(bytes.shape(), (Shape{8}));
  EXPECT_TRUE(is_free_view(i32, bytes));
  expect_close(to_doubles(bytes), {1, 2, 3, 4, 5, 6, 7, 8});
  // To a larger type: it shrinks.
  auto back = view(reshape(bytes, {2, 4}, s), int32, s);
  EXPECT_EQ(back.shape(), (Shape{2, 1}));
  expect_close(to_doubles(back), {0x04030201, 0x08070605});

  // A transposed input's rows are not byte-contiguous: copied, then viewed.
  auto h = array({1, 2, 3, 4, 5, 6}, int16);
  auto t = transpose(reshape(h, {3, 2}, s), s);  // (2, 3): 1 3 5 / 2 4 6
  auto tb = view(t, int8, s);
  EXPECT_EQ(tb.shape(), (Shape{2, 6}));
  expect_close(to_doubles(tb), {1, 0, 3, 0, 5, 0, 2, 0, 4, 0, 6, 0});
  // A sliced input at an odd byte offset cannot be read as int32 in place.
  auto b = array({1, 0, 0, 0, 2, 0, 0, 0, 3}, uint8);
  expect_close(to_doubles(view(slice(b, {1}, {9}, s), int32, s)), {0x02000000, 0x03000000});

  EXPECT_THROW(view(array(1.0f), float16, s), std::invalid_argument);
  EXPECT_THROW(view(array({1, 2, 3}, uint8), int16, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(ShapeOps, ContiguousCopiesOnlyWhenNeeded) {
  auto x = on_device(iota({4, 5}), s);
  auto c = contiguous(x, false, s);
  EXPECT_TRUE(is_free_view(x, c));
  auto t = transpose(x, s);
  auto ct = contiguous(t, false, s);
  eval({ct});
  EXPECT_FALSE(shares_buffer(x, ct));
  EXPECT_TRUE(ct.flags().row_contiguous);
  EXPECT_EQ(ct.strides(), (Strides{4, 1}));
  expect_close(to_doubles(ct), transposed_values(iota_values(20, float32), 4, 5));
  EXPECT_TRUE(is_free_view(x, contiguous(t, true, s)));
  // A small row-contiguous window of a large buffer is copied out.
  auto big = iota({64, 1024});
  auto row = slice(big, {3, 0}, {4, 1024}, s);
  auto cr = contiguous(row, false, s);
  eval({cr});
  EXPECT_FALSE(shares_buffer(big, cr));
  expect_close(to_doubles(cr), to_doubles(row));
}

// The copy kernel on every element size and every kind of strided input:
// transposed, stepped, reversed, broadcast, offset.
LUMEN_DEVICE_TEST(ShapeOps, CopyEveryDtypeAndLayout) {
  Shape shape{4, 3, 5};
  for (auto dt : all_dtypes()) {
    auto x = iota(shape, dt);
    auto in = iota_values(60, dt);
    auto name = dtype_to_string(dt);
    // Permuted.
    auto p = contiguous(transpose(x, {2, 0, 1}, s), false, s);
    expect_close(to_doubles(p),
                 gather_reference(in, {5, 4, 3},
                                  [&](const std::vector<int64_t>& o) {
                                    return ravel({o[1], o[2], o[0]}, shape);
                                  }),
                 0, 0, name + " permuted");
    // Stepped and reversed, with an offset.
    auto r = contiguous(slice(x, {3, 1, 0}, {0, 3, 5}, {-2, 1, 2}, s), false, s);
    expect_close(to_doubles(r),
                 gather_reference(in, {2, 2, 3},
                                  [&](const std::vector<int64_t>& o) {
                                    return ravel({3 - 2 * o[0], 1 + o[1], 2 * o[2]}, shape);
                                  }),
                 0, 0, name + " stepped");
    // Broadcast along a middle axis.
    auto b = contiguous(broadcast_to(reshape(x, {4, 1, 3, 5}, s), {4, 2, 3, 5}, s), false, s);
    expect_close(to_doubles(b),
                 gather_reference(in, {4, 2, 3, 5},
                                  [&](const std::vector<int64_t>& o) {
                                    return ravel({o[0], o[2], o[3]}, shape);
                                  }),
                 0, 0, name + " broadcast");
  }
}

// Transposes large enough for the tiled copy, with an outer axis and tiles
// cut at the edges, for every element size.
LUMEN_DEVICE_TEST(ShapeOps, CopyTiledTransposeEveryDtype) {
  Shape shape{5, 60, 70};
  for (auto dt : all_dtypes()) {
    auto x = iota(shape, dt);
    auto in = iota_values(numel(shape), dt);
    auto t = contiguous(transpose(x, {0, 2, 1}, s), false, s);
    expect_close(to_doubles(t),
                 gather_reference(in, {5, 70, 60},
                                  [&](const std::vector<int64_t>& o) { return ravel({o[0], o[2], o[1]}, shape); }),
                 0, 0, dtype_to_string(dt));
    auto u = contiguous(transpose(x, {2, 1, 0}, s), false, s);
    expect_close(to_doubles(u),
                 gather_reference(in, {70, 60, 5},
                                  [&](const std::vector<int64_t>& o) { return ravel({o[2], o[1], o[0]}, shape); }),
                 0, 0, dtype_to_string(dt) + " full reversal");
  }
}

// A large copy (several parallel chunks, dense runs and strided runs).
LUMEN_DEVICE_TEST(ShapeOps, CopyBigTransposeMatchesLoops) {
  const int rows = 700, cols = 900;
  auto x = iota({rows, cols}, int32);
  auto t = contiguous(transpose(x, s), false, s);
  auto got = to_vector<int32_t>(t);
  auto in = iota_values(int64_t{rows} * cols, int32);
  ASSERT_EQ(got.size(), in.size());
  int bad = 0;
  for (int j = 0; j < cols; ++j)
    for (int i = 0; i < rows; ++i) bad += got[int64_t{j} * rows + i] != in[int64_t{i} * cols + j];
  EXPECT_EQ(bad, 0);
}

// Over 2^31 elements, never materialized: views and the slice copied out of
// them address memory with 64-bit offsets.
LUMEN_DEVICE_TEST(ShapeOps, BroadcastOver2Pow31ElementsStaysAView) {
  const int n = 46341;  // n * n > 2^31
  std::vector<uint8_t> row(n);
  for (int j = 0; j < n; ++j) row[j] = static_cast<uint8_t>(j * 7);
  auto r = array(row.begin(), {n}, uint8);
  eval({r});
  size_t before = get_active_memory();
  auto big = broadcast_to(r, {n, n}, s);
  auto t = transpose(big, s);  // element (i, j) = row[i]
  auto w = slice(t, {n - 3, n - 5}, {n, n}, s);
  auto flat = reshape(slice(big, {n - 1, 0}, {n, n}, {1, 9000}, s), {-1}, s);
  eval({big, t, w, flat});
  EXPECT_LT(get_active_memory() - before, size_t{1} << 20);
  EXPECT_EQ(big.size(), size_t{46341} * 46341);
  std::vector<double> want;
  for (int i = n - 3; i < n; ++i)
    for (int j = n - 5; j < n; ++j) want.push_back(static_cast<uint8_t>(i * 7));
  expect_close(to_doubles(w), want);
  std::vector<double> fw;
  for (int j = 0; j < n; j += 9000) fw.push_back(static_cast<uint8_t>(j * 7));
  expect_close(to_doubles(flat), fw);
}

// Materializes 46341^2 bytes (2.1 GB) through the strided copy kernel.
LUMEN_DEVICE_TEST(ShapeOps, LargeCopyOver2Pow31Elements) {
  if (on_gpu) GTEST_SKIP() << "over 2^31 elements runs on the CPU in CI (DESIGN: lavapipe limits)";
  const int n = 46341;
  std::vector<uint8_t> col(n);
  for (int i = 0; i < n; ++i) col[i] = static_cast<uint8_t>(i * 13 + 5);
  auto c = reshape(array(col.begin(), {n}, uint8), {n, 1}, s);
  auto dense = contiguous(transpose(broadcast_to(c, {n, n}, s), s), false, s);  // (i, j) = col[j]
  eval({dense});
  ASSERT_TRUE(dense.flags().row_contiguous);
  const uint8_t* p = dense.data<uint8_t>();
  int bad = 0;
  for (int64_t i : {int64_t{0}, int64_t{1}, int64_t{n / 2}, int64_t{n - 1}})
    for (int64_t j : {int64_t{0}, int64_t{7}, int64_t{n - 2}, int64_t{n - 1}})
      bad += p[i * n + j] != col[j];
  EXPECT_EQ(bad, 0);
}

// ---- joining, splitting, repeating, padding, reordering ----

LUMEN_DEVICE_TEST(ShapeOps, ConcatenateEveryDtypeAndLayout) {
  for (auto dt : all_dtypes()) {
    auto a = iota({2, 3}, dt);                            // a[i][j] = 3i + j
    auto b = transpose(iota({4, 2}, dt), s);              // b[i][j] = 2j + i, (2, 4)
    auto c = broadcast_to(iota({2, 1}, dt), {2, 2}, s);   // c[i][j] = i
    auto out = concatenate({a, b, c}, 1, s);
    EXPECT_EQ(out.shape(), (Shape{2, 9}));
    EXPECT_EQ(out.dtype(), dt);
    std::vector<double> want;
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 3; ++j) want.push_back(iota_value(3 * i + j, dt));
      for (int j = 0; j < 4; ++j) want.push_back(iota_value(2 * j + i, dt));
      for (int j = 0; j < 2; ++j) want.push_back(iota_value(i, dt));
    }
    expect_close(to_doubles(out), want, 0, 0, dtype_to_string(dt));
  }
  // Axis 0, negative axis, the flattened overload and type promotion.
  auto x = iota({2, 2}, int32), y = iota({1, 2}, float32);
  auto z = concatenate({x, y}, -2, s);
  EXPECT_EQ(z.dtype(), float32);
  expect_close(to_doubles(z), {0, 1, 2, 3, 0, 1});
  auto f = concatenate({x, iota({3}, int8)}, s);
  EXPECT_EQ(f.dtype(), int32);
  expect_close(to_doubles(f), {0, 1, 2, 3, 0, 1, 2});
  EXPECT_EQ(concatenate({x}, 0, s).id(), x.id());
  EXPECT_THROW(concatenate({}, 0, s), std::invalid_argument);
  EXPECT_THROW(concatenate({x, iota({2, 3})}, 0, s), std::invalid_argument);
  EXPECT_THROW(concatenate({x, iota({2})}, 0, s), std::invalid_argument);
  EXPECT_THROW(concatenate({x, x}, 2, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(ShapeOps, StackAndUnstack) {
  auto a = iota({2, 3}), b = transpose(iota({3, 2}), s);  // b[i][j] = 2j + i
  auto st = stack({a, b}, 1, s);
  EXPECT_EQ(st.shape(), (Shape{2, 2, 3}));
  std::vector<double> want;
  for (int i = 0; i < 2; ++i)
    for (int k = 0; k < 2; ++k)
      for (int j = 0; j < 3; ++j) want.push_back(k == 0 ? 3 * i + j : 2 * j + i);
  expect_close(to_doubles(st), want);
  EXPECT_EQ(stack({a, a, a}, s).shape(), (Shape{3, 2, 3}));
  EXPECT_EQ(stack({a, a}, -1, s).shape(), (Shape{2, 3, 2}));
  EXPECT_THROW(stack({a, iota({3, 2})}, 0, s), std::invalid_argument);
  EXPECT_THROW(stack({a, a}, 3, s), std::invalid_argument);
  EXPECT_THROW(stack({}, 0, s), std::invalid_argument);

  auto parts = unstack(st, 1, s);
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[1].shape(), (Shape{2, 3}));
  expect_close(to_doubles(parts[1]), {0, 2, 4, 1, 3, 5});
  EXPECT_EQ(unstack(a, s).size(), 2u);
  EXPECT_TRUE(unstack(iota({0, 2}), s).empty());
  EXPECT_THROW(unstack(a, 2, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(ShapeOps, SplitSectionsAndIndices) {
  auto x = on_device(iota({6, 2}), s);
  auto eq = split(x, 3, s);
  ASSERT_EQ(eq.size(), 3u);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(eq[k].shape(), (Shape{2, 2}));
    expect_close(to_doubles(eq[k]), {4.0 * k, 4.0 * k + 1, 4.0 * k + 2, 4.0 * k + 3});
    EXPECT_TRUE(is_free_view(x, eq[k]));
  }
  auto cols = split(x, 2, 1, s);
  expect_close(to_doubles(cols[1]), {1, 3, 5, 7, 9, 11});
  // numpy rules: unsorted, negative and past-the-end indices.
  auto parts = split(x, Shape{1, -2, 4, 9}, 0, s);
  ASSERT_EQ(parts.size(), 5u);
  std::vector<Shape> shapes = {{1, 2}, {3, 2}, {0, 2}, {2, 2}, {0, 2}};
  for (size_t k = 0; k < parts.size(); ++k) EXPECT_EQ(parts[k].shape(), shapes[k]) << k;
  expect_close(to_doubles(parts[1]), {2, 3, 4, 5, 6, 7});
  expect_close(to_doubles(parts[3]), {8, 9, 10, 11});
  EXPECT_EQ(split(x, Shape{}, s).size(), 1u);
  EXPECT_THROW(split(x, 4, s), std::invalid_argument);
  EXPECT_THROW(split(x, 0, s), std::invalid_argument);
  EXPECT_THROW(split(x, 2, 2, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(ShapeOps, Meshgrid) {
  auto a = iota({3}), b = iota({2});
  auto xy = meshgrid({a, b}, false, "xy", s);
  EXPECT_EQ(xy[0].shape(), (Shape{2, 3}));
  expect_close(to_doubles(xy[0]), {0, 1, 2, 0, 1, 2});
  expect_close(to_doubles(xy[1]), {0, 0, 0, 1, 1, 1});
  auto ij = meshgrid({a, b}, false, "ij", s);
  EXPECT_EQ(ij[0].shape(), (Shape{3, 2}));
  expect_close(to_doubles(ij[0]), {0, 0, 1, 1, 2, 2});
  expect_close(to_doubles(ij[1]), {0, 1, 0, 1, 0, 1});
  auto sp = meshgrid({a, b, iota({4})}, true, "xy", s);
  EXPECT_EQ(sp[0].shape(), (Shape{1, 3, 1}));
  EXPECT_EQ(sp[1].shape(), (Shape{2, 1, 1}));
  EXPECT_EQ(sp[2].shape(), (Shape{1, 1, 4}));
  EXPECT_THROW(meshgrid({a, b}, false, "yx", s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(ShapeOps, RepeatAndTile) {
  auto x = iota({2, 3});
  auto r = repeat(x, 2, 1, s);
  EXPECT_EQ(r.shape(), (Shape{2, 6}));
  expect_close(to_doubles(r), {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5});
  expect_close(to_doubles(repeat(x, 2, 0, s)), {0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5});
  expect_close(to_doubles(repeat(transpose(x, s), 2, s)), {0, 0, 3, 3, 1, 1, 4, 4, 2, 2, 5, 5});
  EXPECT_EQ(repeat(x, 0, 1, s).shape(), (Shape{2, 0}));
  EXPECT_EQ(repeat(x, 1, 1, s).id(), x.id());
  EXPECT_THROW(repeat(x, -1, 0, s), std::invalid_argument);
  EXPECT_THROW(repeat(x, 2, 2, s), std::invalid_argument);

  auto t = tile(x, {2, 1}, s);
  EXPECT_EQ(t.shape(), (Shape{4, 3}));
  expect_close(to_doubles(t), {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5});
  auto t3 = tile(iota({2}), {2, 1, 3}, s);
  EXPECT_EQ(t3.shape(), (Shape{2, 1, 6}));
  expect_close(to_doubles(t3), {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1});
  EXPECT_EQ(tile(x, {2}, s).shape(), (Shape{2, 6}));
  EXPECT_THROW(tile(x, {-1, 2}, s), std::invalid_argument);
}

namespace {

// numpy's padding of one axis of size n: the source index of padded index i
// (i relative to the start of the original data), for edge/reflect/symmetric.
int64_t pad_source(int64_t i, int64_t n, const std::string& mode) {
  if (mode == "edge") return std::clamp<int64_t>(i, 0, n - 1);
  if (n == 1) return 0;
  int64_t period = mode == "reflect" ? 2 * (n - 1) : 2 * n;
  int64_t j = ((i % period) + period) % period;
  if (j >= n) j = mode == "reflect" ? period - j : period - 1 - j;
  return j;
}

}  // namespace

LUMEN_DEVICE_TEST(ShapeOps, PadConstantEveryDtype) {
  for (auto dt : all_dtypes()) {
    auto x = transpose(iota({3, 2}, dt), s);  // (2, 3): x[i][j] = 2j + i
    auto out = pad(x, {{1, 2}, {0, 1}}, array(1, dt), "constant", s);
    EXPECT_EQ(out.shape(), (Shape{5, 4}));
    std::vector<double> want;
    for (int i = -1; i < 4; ++i)
      for (int j = 0; j < 4; ++j)
        want.push_back(i >= 0 && i < 2 && j < 3 ? iota_value(2 * j + i, dt) : 1.0);
    expect_close(to_doubles(out), want, 0, 0, dtype_to_string(dt));
  }
  auto x = iota({2, 2});
  EXPECT_EQ(pad(x, 1, array(0), "constant", s).shape(), (Shape{4, 4}));
  EXPECT_EQ(pad(x, {0, 3}, array(0), "constant", s).shape(), (Shape{5, 5}));
  auto one_axis = pad(x, {-1}, {2}, {0}, array(7.5f), "constant", s);
  expect_close(to_doubles(one_axis), {7.5, 7.5, 0, 1, 7.5, 7.5, 2, 3});
  EXPECT_THROW(pad(x, {{1, 1}}, array(0), "constant", s), std::invalid_argument);
  EXPECT_THROW(pad(x, {{-1, 1}, {0, 0}}, array(0), "constant", s), std::invalid_argument);
  EXPECT_THROW(pad(x, {2}, {1}, {1}, array(0), "constant", s), std::invalid_argument);
  EXPECT_THROW(pad(x, 1, array({1.0f, 2.0f}), "constant", s), std::invalid_argument);
  EXPECT_THROW(pad(x, 1, array(0), "wrap", s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(ShapeOps, PadEdgeReflectSymmetric) {
  Shape shape{3, 4};
  auto x = iota(shape);
  auto in = iota_values(12, float32);
  for (std::string mode : {"edge", "reflect", "symmetric"}) {
    for (auto [lo0, hi0, lo1, hi1] : {std::array<int, 4>{1, 2, 0, 3}, std::array<int, 4>{5, 0, 7, 9}}) {
      auto out = pad(x, {{lo0, hi0}, {lo1, hi1}}, array(0), mode, s);
      Shape out_shape{3 + lo0 + hi0, 4 + lo1 + hi1};
      EXPECT_EQ(out.shape(), out_shape) << mode;
      auto want = gather_reference(in, out_shape, [&](const std::vector<int64_t>& o) {
        return ravel({pad_source(o[0] - lo0, 3, mode), pad_source(o[1] - lo1, 4, mode)}, shape);
      });
      expect_close(to_doubles(out), want, 0, 0, mode + " " + std::to_string(lo0));
    }
  }
  // A size-1 axis reflects onto itself; an empty axis cannot be reflected.
  expect_close(to_doubles(pad(iota({1}), 2, array(0), "reflect", s)), {0, 0, 0, 0, 0});
  EXPECT_THROW(pad(iota({0, 2}), 1, array(0), "edge", s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(ShapeOps, FlipAndRoll) {
  auto x = on_device(iota({2, 3}), s);
  auto f = flip(x, 1, s);
  EXPECT_TRUE(is_free_view(x, f));
  expect_close(to_doubles(f), {2, 1, 0, 5, 4, 3});
  expect_close(to_doubles(flip(x, s)), {5, 4, 3, 2, 1, 0});
  expect_close(to_doubles(flip(x, {0}, s)), {3, 4, 5, 0, 1, 2});
  EXPECT_THROW(flip(x, 2, s), std::invalid_argument);

  expect_close(to_doubles(roll(x, 1, s)), {5, 0, 1, 2, 3, 4});
  expect_close(to_doubles(roll(x, -7, s)), {1, 2, 3, 4, 5, 0});
  expect_close(to_doubles(roll(x, 1, 1, s)), {2, 0, 1, 5, 3, 4});
  expect_close(to_doubles(roll(x, Shape{1, 2}, std::vector<int>{0, 1}, s)), {4, 5, 3, 1, 2, 0});
  expect_close(to_doubles(roll(x, Shape{2, 2}, 1, s)), {2, 0, 1, 5, 3, 4});
  expect_close(to_doubles(roll(x, Shape{1, 1}, s)), {4, 5, 0, 1, 2, 3});
  expect_close(to_doubles(roll(x, 3, std::vector<int>{0, 1}, s)), {3, 4, 5, 0, 1, 2});
  EXPECT_THROW(roll(x, Shape{1}, std::vector<int>{0, 1}, s), std::invalid_argument);
  EXPECT_THROW(roll(x, 1, 2, s), std::invalid_argument);
}

LUMEN_DEVICE_TEST(ShapeOps, DiagonalAndDiag) {
  Shape shape{3, 4, 5};
  auto x = on_device(iota(shape), s);
  auto in = iota_values(60, float32);
  for (auto [off, a1, a2] : {std::array<int, 3>{0, 0, 1}, std::array<int, 3>{1, 0, 2},
                             std::array<int, 3>{-2, 2, 1}, std::array<int, 3>{2, -1, 0}}) {
    auto d = diagonal(x, off, a1, a2, s);
    int ax1 = a1 < 0 ? a1 + 3 : a1, ax2 = a2 < 0 ? a2 + 3 : a2;
    int other = 3 - ax1 - ax2;
    int64_t o1 = std::max(-off, 0), o2 = std::max(off, 0);
    int64_t n = std::max<int64_t>(0, std::min(shape[ax1] - o1, shape[ax2] - o2));
    Shape want_shape{shape[other], static_cast<int32_t>(n)};
    EXPECT_EQ(d.shape(), want_shape);
    auto want = gather_reference(in, want_shape, [&](const std::vector<int64_t>& o) {
      std::vector<int64_t> i(3);
      i[other] = o[0];
      i[ax1] = o[1] + o1;
      i[ax2] = o[1] + o2;
      return ravel(i, shape);
    });
    expect_close(to_doubles(d), want);
  }
  EXPECT_TRUE(is_free_view(x, diagonal(x, 0, 1, 2, s)));
  EXPECT_EQ(diagonal(x, 10, 0, 1, s).shape(), (Shape{5, 0}));
  // On a transposed (non-contiguous) input.
  expect_close(to_doubles(diagonal(transpose(iota({3, 3}), s), 1, 0, 1, s)), {3, 7});
  EXPECT_THROW(diagonal(iota({3}), 0, 0, 1, s), std::invalid_argument);
  EXPECT_THROW(diagonal(x, 0, 1, 1, s), std::invalid_argument);
  EXPECT_THROW(diagonal(x, 0, 0, 3, s), std::out_of_range);

  expect_close(to_doubles(diag(iota({3, 3}), -1, s)), {3, 7});
  auto m = diag(array({1.0f, 2.0f}), 1, s);
  EXPECT_EQ(m.shape(), (Shape{3, 3}));
  expect_close(to_doubles(m), {0, 1, 0, 0, 0, 2, 0, 0, 0});
  expect_close(to_doubles(diag(array({4, 5}, int16), -1, s)), {0, 0, 0, 4, 0, 0, 0, 5, 0});
  EXPECT_THROW(diag(x, 0, s), std::invalid_argument);
}

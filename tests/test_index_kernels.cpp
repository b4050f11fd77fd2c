// The kernels behind the scatters and arange at sizes and layouts that pick
// each of their GPU variants (ordered, last-update-wins, atomic; arange's
// segments), against loops written here. Every body runs on every device.
#include <lumen/half_types.h>

#include <cmath>
#include <cstring>

#include "shape_test_helpers.h"

using namespace lumen;
using namespace lumen::test;

LUMEN_DEVICE_SUITE(IndexKernels);

namespace {

// Many updates, few slices: scatter with duplicates where the last update in
// row-major order wins (assignment) or all combine (reductions).
std::vector<int32_t> hashed_indices(int n, int range) {
  std::vector<int32_t> idx(n);
  for (int i = 0; i < n; ++i) idx[i] = static_cast<int32_t>((int64_t{i} * 7919 + 13) % range) - (i % 3 == 0 ? range : 0);
  return idx;
}

int wrap(int i, int n) { return i < 0 ? i + n : i; }

}  // namespace

LUMEN_DEVICE_TEST(IndexKernels, ScatterDuplicatesLastWins) {
  const int n = 5000, range = 37;
  auto idx = hashed_indices(n, range);
  std::vector<double> want = iota_values(range, float32);
  std::vector<float> upd(n);
  for (int i = 0; i < n; ++i) {
    upd[i] = static_cast<float>(i) + 0.5f;
    want[wrap(idx[i], range)] = upd[i];
  }
  auto out = scatter(iota({range}), {array(idx.begin(), {n}, int32)}, array(upd.begin(), {n, 1}), {0}, s);
  expect_close(to_doubles(out), want, 0, 0);
  // Every dtype size (1, 2, 4, 8 bytes), through the same path.
  for (Dtype d : {uint8, int16, float16, int64, complex64}) {
    std::vector<double> w = iota_values(range, d);
    std::vector<double> u(n);
    for (int i = 0; i < n; ++i) {
      u[i] = static_cast<double>(i % 50);
      w[wrap(idx[i], range)] = u[i];
    }
    auto o = scatter(iota({range}, d), {array(idx.begin(), {n}, int32)}, astype(array(u.begin(), {n, 1}), d, s), {0}, s);
    expect_close(to_doubles(o), w, 0, 0, dtype_to_string(d));
  }
}

LUMEN_DEVICE_TEST(IndexKernels, ScatterOverlappingWindows) {
  // Windows of 3 along the indexed axis overlap: an element takes the last
  // update (row-major over index, then window position) that covers it.
  const int n = 300, len = 50;
  std::vector<int32_t> idx(n);
  for (int i = 0; i < n; ++i) idx[i] = (i * 13) % (len - 2);
  std::vector<float> upd(n * 3);
  std::vector<double> want = iota_values(len, float32), sum = want;
  for (int i = 0; i < n; ++i) {
    for (int w = 0; w < 3; ++w) {
      upd[i * 3 + w] = static_cast<float>(i * 3 + w);
      want[idx[i] + w] = upd[i * 3 + w];
      sum[idx[i] + w] += upd[i * 3 + w];
    }
  }
  auto x = iota({len});
  auto ia = array(idx.begin(), {n}, int32);
  auto ua = array(upd.begin(), {n, 3});
  expect_close(to_doubles(scatter(x, {ia}, ua, {0}, s)), want, 0, 0, "assign");
  // Sums of integers below 2^24: exact in any order.
  expect_close(to_doubles(scatter_add(x, {ia}, ua, {0}, s)), sum, 0, 0, "add");
  // int64 (no 8-byte atomics): the ordered form.
  std::vector<double> isum = iota_values(len, int64);
  for (int i = 0; i < n; ++i)
    for (int w = 0; w < 3; ++w) isum[idx[i] + w] += i * 3 + w;
  expect_close(to_doubles(scatter_add(iota({len}, int64), {ia}, astype(ua, int64, s), {0}, s)), isum, 0, 0,
               "int64");
}

LUMEN_DEVICE_TEST(IndexKernels, ScatterReductionsWithManyCollisions) {
  const int n = 4000, range = 11;
  auto idx = hashed_indices(n, range);
  auto ia = array(idx.begin(), {n}, int32);
  // Integer-valued updates: sums wrap in the integer widths, products of
  // +-1 stay exact, so every order gives these results.
  std::vector<double> base(range), u(n), pu(n);
  for (int j = 0; j < range; ++j) base[j] = j % 5 + 1;
  for (int i = 0; i < n; ++i) {
    u[i] = (i % 3 == 0 ? -1 : 1) * static_cast<double>(i % 4 + 1);
    pu[i] = i % 3 == 0 ? -1 : 1;
  }
  auto expected = [&](Dtype d, const std::vector<double>& upd, const std::function<double(double, double)>& f) {
    std::vector<double> w = base;
    for (int i = 0; i < n; ++i) w[wrap(idx[i], range)] = f(w[wrap(idx[i], range)], upd[i]);
    for (auto& v : w) {
      auto x = static_cast<int64_t>(v);
      if (d == int8) v = static_cast<int8_t>(x);
      else if (d == int16) v = static_cast<int16_t>(x);
    }
    return w;
  };
  auto add = [](double a, double b) { return a + b; };
  auto mul = [](double a, double b) { return a * b; };
  auto mx = [](double a, double b) { return std::max(a, b); };
  auto mn = [](double a, double b) { return std::min(a, b); };
  for (Dtype d : {int8, int16, int32, float32, bfloat16}) {
    const std::string what = dtype_to_string(d);
    auto a = astype(array(base.begin(), {range}), d, s);
    auto ua = astype(array(u.begin(), {n, 1}), d, s);
    auto pa = astype(array(pu.begin(), {n, 1}), d, s);
    if (d != bfloat16) {  // bfloat16 sums pass 256, where it rounds
      expect_close(to_doubles(scatter_add(a, {ia}, ua, {0}, s)), expected(d, u, add), 0, 0, what);
    }
    expect_close(to_doubles(scatter_prod(a, {ia}, pa, {0}, s)), expected(d, pu, mul), 0, 0, what);
    expect_close(to_doubles(scatter_max(a, {ia}, ua, {0}, s)), expected(d, u, mx), 0, 0, what);
    expect_close(to_doubles(scatter_min(a, {ia}, ua, {0}, s)), expected(d, u, mn), 0, 0, what);
  }
  // bool: sum and max are or, prod and min are and.
  std::vector<double> bb(range), bu(n);
  for (int j = 0; j < range; ++j) bb[j] = j % 2;
  for (int i = 0; i < n; ++i) bu[i] = i % 7 == 0;
  std::vector<double> any = bb, all = bb;
  for (int i = 0; i < n; ++i) {
    int j = wrap(idx[i], range);
    any[j] = any[j] || bu[i];
    all[j] = all[j] && bu[i];
  }
  auto ba = astype(array(bb.begin(), {range}), bool_, s);
  auto bua = astype(array(bu.begin(), {n, 1}), bool_, s);
  expect_close(to_doubles(scatter_add(ba, {ia}, bua, {0}, s)), any, 0, 0, "bool or");
  expect_close(to_doubles(scatter_min(ba, {ia}, bua, {0}, s)), all, 0, 0, "bool and");
}

LUMEN_DEVICE_TEST(IndexKernels, ScatterAddAxisLongRunsFewRows) {
  // 3 rows of 2000 updates each onto 9 columns: the parallel combine path.
  const int rows = 3, len = 2000, cols = 9;
  std::vector<int32_t> idx(rows * len);
  std::vector<float> upd(rows * len);
  std::vector<double> want(rows * cols, 0);
  for (int r = 0; r < rows; ++r) {
    for (int k = 0; k < len; ++k) {
      idx[r * len + k] = (k * 5 + r) % cols;
      upd[r * len + k] = static_cast<float>(k % 8);
      want[r * cols + idx[r * len + k]] += k % 8;
    }
  }
  auto out = scatter_add_axis(zeros({rows, cols}, float32, s), array(idx.begin(), {rows, len}, int32),
                              array(upd.begin(), {rows, len}), 1, s);
  expect_close(to_doubles(out), want, 0, 0);
}

LUMEN_DEVICE_TEST(IndexKernels, GatherFromViewsWithEveryIndexType) {
  // A transposed, sliced source and indices of every integer dtype.
  auto src = slice(transpose(iota({40, 30}), s), {2, 1}, {30, 40}, {3, 2}, s);  // (10, 20): src[i][j] = t[2+3i][1+2j]
  for (Dtype d : {uint8, int8, uint16, int16, uint32, int32, uint64, int64}) {
    std::vector<double> iv = {9, 0, 4, 7};
    bool is_signed = d == int8 || d == int16 || d == int32 || d == int64;
    if (is_signed) iv[1] = -10;  // the first row, from the end
    auto g = take(src, astype(array(iv.begin(), {4}), d, s), 0, s);
    std::vector<double> want;
    for (int r : {9, 0, 4, 7})
      for (int j = 0; j < 20; ++j) want.push_back(iota_value((1 + 2 * j) * 30 + (2 + 3 * r), float32));
    expect_close(to_doubles(g), want, 0, 0, dtype_to_string(d));
  }
  auto bad = take(src, array({10}, uint8), 0, s);
  EXPECT_THROW(eval({bad}), std::out_of_range);
}

LUMEN_DEVICE_TEST(IndexKernels, ArangeMatchesAccumulationAcrossBinades) {
  // 3000 steps of 0.37 from -50: the float32 sum rounds differently in every
  // binade it crosses (and around zero); the values must follow the
  // accumulation exactly.
  const int n = 3000;
  auto x = arange(-50.0, -50.0 + 0.37 * n, 0.37, float32, s);
  ASSERT_EQ(x.size(), static_cast<size_t>(n));
  auto v = to_vector<float>(x);
  float acc = -50.0f;
  const float step = static_cast<float>(-50.0 + 0.37) - acc;
  int mismatches = 0;
  for (int i = 0; i < n; ++i, acc += step) mismatches += std::memcmp(&v[i], &acc, 4) != 0;
  EXPECT_EQ(mismatches, 0);
  // float16 accumulates in float32, rounding to half each step, and stalls
  // where the step falls under half an ulp.
  auto h = arange(1.0, 1.0 + 0.3 * 9000, 0.3, float16, s);
  auto hv = to_vector<float16_t>(h);
  float16_t hacc = static_cast<float16_t>(1.0f);
  const float hstep = static_cast<float>(static_cast<float16_t>(1.3f)) - 1.0f;
  mismatches = 0;
  for (size_t i = 0; i < hv.size(); ++i) {
    uint16_t a, b;
    std::memcpy(&a, &hv[i], 2);
    std::memcpy(&b, &hacc, 2);
    mismatches += a != b;
    hacc = static_cast<float16_t>(static_cast<float>(hacc) + hstep);
  }
  EXPECT_EQ(mismatches, 0);
  // Integers wrap in their width.
  auto b8 = arange(250.0, 250.0 + 3 * 10, 3.0, uint8, s);
  std::vector<double> want;
  for (int i = 0; i < 10; ++i) want.push_back(static_cast<uint8_t>(250 + 3 * i));
  expect_close(to_doubles(b8), want, 0, 0);
}

LUMEN_DEVICE_TEST(IndexKernels, CopiesOfPermutedAndOffsetViews) {
  // Transposes (odd extents, batches, every element size) and sliced
  // windows, made contiguous: the tiled and the 16-byte copy paths.
  for (Dtype d : {uint8, int16, float32, int64}) {
    const Shape shape{3, 37, 45};
    auto x = iota(shape, d);
    auto in = iota_values(numel(shape), d);
    for (std::vector<int> perm : {std::vector<int>{0, 2, 1}, {2, 1, 0}, {1, 2, 0}}) {
      auto t = contiguous(transpose(x, perm, s), false, s);
      Shape ts{shape[perm[0]], shape[perm[1]], shape[perm[2]]};
      auto want = gather_reference(in, ts, [&](const std::vector<int64_t>& o) {
        std::vector<int64_t> i(3);
        for (int k = 0; k < 3; ++k) i[perm[k]] = o[k];
        return ravel(i, shape);
      });
      expect_close(to_doubles(t), want, 0, 0, dtype_to_string(d));
    }
    // A window starting one element in (unaligned) with a ragged tail.
    auto flat = reshape(x, {-1}, s);
    auto w = copy(slice(flat, {1}, {static_cast<int>(numel(shape)) - 2}, s), s);
    std::vector<double> want(in.begin() + 1, in.end() - 2);
    expect_close(to_doubles(w), want, 0, 0, dtype_to_string(d));
  }
}

LUMEN_DEVICE_TEST(IndexKernels, TakeRowsOfEveryElementSize) {
  // Rows of 48 elements (a multiple of every vector width) from dense
  // tables: whole rows move at once.
  const int rows = 50, cols = 48;
  std::vector<int32_t> idx = {49, 0, -1, 7, 7, 23, -50};
  for (Dtype d : {uint8, bfloat16, float32, int64, complex64}) {
    auto x = iota({rows, cols}, d);
    auto in = iota_values(rows * cols, d);
    auto g = take(x, array(idx.begin(), {7}, int32), 0, s);
    std::vector<double> want;
    for (int r : idx)
      for (int j = 0; j < cols; ++j) want.push_back(in[wrap(r, rows) * cols + j]);
    expect_close(to_doubles(g), want, 0, 0, dtype_to_string(d));
    auto bad = take(x, array({3, 50}, int32), 0, s);
    EXPECT_THROW(eval({bad}), std::out_of_range) << dtype_to_string(d);
  }
}

LUMEN_DEVICE_TEST(IndexKernels, TakeLongRowsAndBatchedGathers) {
  // Rows of 1 KiB and more (one workgroup per row), with indices that
  // broadcast over a batch of two index arrays.
  const int rows = 40, cols = 512;
  auto x = iota({rows, cols});
  auto in = iota_values(rows * cols, float32);
  std::vector<int32_t> idx = {39, -40, 5, 5, 17, -1};
  auto g = take(x, array(idx.begin(), {2, 3}, int32), 0, s);
  ASSERT_EQ(g.shape(), (Shape{2, 3, cols}));
  std::vector<double> want;
  for (int r : idx)
    for (int j = 0; j < cols; ++j) want.push_back(in[wrap(r, rows) * cols + j]);
  expect_close(to_doubles(g), want, 0, 0);
  EXPECT_THROW(eval({take(x, array({0, 40}, int32), 0, s)}), std::out_of_range);
  // gather with slices of whole rows along axis 0 of a 3-d array.
  auto y = iota({6, 4, 256});
  auto yin = iota_values(6 * 4 * 256, float32);
  auto gy = gather(y, {array({4, 1}, int32)}, {0}, {1, 4, 256}, s);
  std::vector<double> wy;
  for (int r : {4, 1})
    for (int j = 0; j < 4 * 256; ++j) wy.push_back(yin[r * 1024 + j]);
  expect_close(to_doubles(gy), wy, 0, 0);
}

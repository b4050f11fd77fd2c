// Sorting and selection: sort, argsort, partition, argpartition, topk,
// against std::stable_sort of doubles (NaN last).
#include <algorithm>
#include <cmath>
#include <complex>
#include <numeric>

#include "reference_values.h"
#include "test_util.h"

using namespace lumen;
using namespace lumen::test;

namespace {

bool nan_last_less(double a, double b) {
  if (std::isnan(a)) return false;
  if (std::isnan(b)) return true;
  return a < b;
}

// The values of each line along `axis`, and how to put a line back.
struct LineView {
  int64_t n, inner, outer;
  LineView(const Shape& shape, int axis) {
    axis = normalize(axis, shape.size());
    inner = 1;
    for (size_t d = axis + 1; d < shape.size(); ++d) inner *= shape[d];
    n = shape[axis];
    outer = n == 0 ? 0 : numel(shape) / (n * inner);
  }
  int64_t at(int64_t line, int64_t t) const { return line / inner * n * inner + t * inner + line % inner; }
  int64_t lines() const { return outer * inner; }
  std::vector<double> get(const std::vector<double>& x, int64_t line) const {
    std::vector<double> v(n);
    for (int64_t t = 0; t < n; ++t) v[t] = x[at(line, t)];
    return v;
  }
};

// Stable argsort of one line.
std::vector<int64_t> ref_argsort(const std::vector<double>& v) {
  std::vector<int64_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return nan_last_less(v[a], v[b]); });
  return idx;
}

struct SortRefs {
  std::vector<double> sorted, order;
};

SortRefs ref_sort(const std::vector<double>& x, const Shape& shape, int axis) {
  LineView lv(shape, axis);
  SortRefs r{std::vector<double>(x.size()), std::vector<double>(x.size())};
  for (int64_t l = 0; l < lv.lines(); ++l) {
    auto v = lv.get(x, l);
    auto idx = ref_argsort(v);
    for (int64_t t = 0; t < lv.n; ++t) {
      r.sorted[lv.at(l, t)] = v[idx[t]];
      r.order[lv.at(l, t)] = static_cast<double>(idx[t]);
    }
  }
  return r;
}

// Partition property of `got` (values) for each line: rank kth in place,
// nothing greater before, nothing smaller after, same multiset.
void check_partitioned(const std::vector<double>& x, const std::vector<double>& got, const Shape& shape,
                       int axis, int kth, const std::string& what) {
  LineView lv(shape, axis);
  for (int64_t l = 0; l < lv.lines(); ++l) {
    auto v = lv.get(x, l), g = lv.get(got, l);
    int k = kth < 0 ? kth + static_cast<int>(lv.n) : kth;
    auto sorted = v;
    std::stable_sort(sorted.begin(), sorted.end(), nan_last_less);
    auto gs = g;
    std::stable_sort(gs.begin(), gs.end(), nan_last_less);
    expect_close(gs, sorted, 0, 0, what + " multiset");
    expect_close({g[k]}, {sorted[k]}, 0, 0, what + " kth");
    for (int64_t t = 0; t < lv.n; ++t) {
      bool misplaced = t < k ? nan_last_less(g[k], g[t]) : nan_last_less(g[t], g[k]);
      EXPECT_FALSE(misplaced) << what << " line " << l << " at " << t;
    }
  }
}

// The values x takes at per-line indices idx (argsort/argpartition output).
std::vector<double> take_lines(const std::vector<double>& x, const std::vector<double>& idx,
                               const Shape& shape, int axis) {
  LineView lv(shape, axis);
  std::vector<double> out(x.size());
  for (int64_t l = 0; l < lv.lines(); ++l) {
    for (int64_t t = 0; t < lv.n; ++t) {
      out[lv.at(l, t)] = x[lv.at(l, static_cast<int64_t>(idx[lv.at(l, t)]))];
    }
  }
  return out;
}

bool cpu_only(Dtype d) { return d == float64 || d == complex64; }

void check_sorts(const array& x, const Shape& shape, const std::string& what, StreamOrDevice s) {
  auto v = to_doubles(x);
  for (int axis : {0, 1, 2, -1}) {
    std::string label = what + " " + dtype_to_string(x.dtype()) + " axis " + std::to_string(axis);
    auto ref = ref_sort(v, shape, axis);
    auto sorted = sort(x, axis, s);
    EXPECT_EQ(sorted.dtype(), x.dtype()) << label;
    EXPECT_EQ(sorted.shape(), shape) << label;
    expect_close(to_doubles(sorted), ref.sorted, 0, 0, "sort " + label);
    auto order = argsort(x, axis, s);
    EXPECT_EQ(order.dtype(), uint32) << label;
    expect_close(to_doubles(order), ref.order, 0, 0, "argsort " + label);
    int n = shape[normalize(axis, shape.size())];
    for (int kth : {0, n / 2, n - 1, -1}) {
      std::string k = label + " kth " + std::to_string(kth);
      auto part = partition(x, kth, axis, s);
      EXPECT_EQ(part.dtype(), x.dtype()) << k;
      check_partitioned(v, to_doubles(part), shape, axis, kth, "partition " + k);
      auto apart = argpartition(x, kth, axis, s);
      EXPECT_EQ(apart.dtype(), uint32) << k;
      check_partitioned(v, take_lines(v, to_doubles(apart), shape, axis), shape, axis, kth,
                        "argpartition " + k);
    }
    for (int k : {1, n / 2 + 1, n}) {
      auto top = topk(x, k, axis, s);
      Shape want_shape = shape;
      want_shape[normalize(axis, shape.size())] = k;
      EXPECT_EQ(top.shape(), want_shape) << label << " topk " << k;
      // topk keeps the k largest of every line: sorted, they are the sorted tail
      Shape tail_start(shape.size(), 0);
      tail_start[normalize(axis, shape.size())] = n - k;
      expect_close(to_doubles(sort(top, axis, s)),
                   to_doubles(slice(make_array(ref.sorted, shape, float64), tail_start, shape, Device::cpu)),
                   0, 0, "topk " + label);
    }
  }
}

}  // namespace

LUMEN_DEVICE_SUITE(Sort);

LUMEN_DEVICE_TEST(Sort, EveryOpDtypeAndAxis) {
  Shape shape{3, 4, 5};
  for (Dtype d : all_dtypes()) {
    if (on_gpu && cpu_only(d)) continue;
    // small value ranges: many ties, so stability shows
    check_sorts(make_array(sample_values(numel(shape), d, 51), shape, d), shape, "dense", s);
  }
}

LUMEN_DEVICE_TEST(Sort, StridedAndBroadcastInputs) {
  for (Dtype d : {float32, int16, float16, uint32}) {
    auto base = make_array(sample_values(5 * 9 * 11, d, 19), {5, 9, 11}, d);
    check_sorts(transpose(slice(base, {0, 0, 0}, {4, 5, 3}, s), {2, 0, 1}, s), {3, 4, 5}, "transposed", s);
    check_sorts(slice(base, {1, 0, 0}, {4, 8, 10}, {1, 2, 2}, s), {3, 4, 5}, "stepped", s);
    check_sorts(slice(base, {4, 5, 7}, {1, 1, 2}, {-1, -1, -1}, s), {3, 4, 5}, "backwards", s);
    check_sorts(broadcast_to(slice(base, {0, 0, 0}, {3, 1, 5}, s), {3, 4, 5}, s), {3, 4, 5},
                "broadcast", s);
  }
}

LUMEN_DEVICE_TEST(Sort, LongLinesEveryDtype) {
  // Lines of 1000: the radix path for types up to 32 bits.
  Shape shape{2, 1000};
  for (Dtype d : all_dtypes()) {
    if (on_gpu && cpu_only(d)) continue;
    auto v = sample_values(numel(shape), d, 61);
    if (is_float_type(d)) {
      for (int i = 0; i < 2000; i += 37) v[i] = NAN;
      for (int i = 5; i < 2000; i += 41) v[i] = -INFINITY;
    }
    auto x = make_array(v, shape, d);
    auto ref = ref_sort(v, shape, 1);
    std::string label = dtype_to_string(d);
    expect_close(to_doubles(sort(x, 1, s)), ref.sorted, 0, 0, "sort " + label);
    expect_close(to_doubles(argsort(x, -1, s)), ref.order, 0, 0, "argsort " + label);
    check_partitioned(v, to_doubles(partition(x, 600, 1, s)), shape, 1, 600, "partition " + label);
    check_partitioned(v, take_lines(v, to_doubles(argpartition(x, 17, 1, s)), shape, 1), shape, 1, 17,
                      "argpartition " + label);
  }
  // signed zeros tie and keep their order on the long path too
  std::vector<float> z(1000);
  for (int i = 0; i < 1000; ++i) z[i] = i % 3 == 0 ? -0.0f : (i % 3 == 1 ? 0.0f : -1.0f);
  auto sz = to_vector<float>(sort(array(z.begin(), {1000}, float32), s));
  std::vector<bool> want_signs;
  for (float f : z) {
    if (f == 0.0f) want_signs.push_back(std::signbit(f));
  }
  for (size_t i = 0; i < want_signs.size(); ++i) {
    EXPECT_EQ(std::signbit(sz[333 + i]), want_signs[i]) << "zero " << i;
  }
}

LUMEN_DEVICE_TEST(Sort, NaNLastAndStable) {
  for (Dtype d : {float32, float16, bfloat16, float64}) {
    if (on_gpu && cpu_only(d)) continue;
    auto x = astype(array({3.0f, NAN, -1.0f, INFINITY, NAN, -INFINITY, 3.0f, 0.0f}), d, s);
    expect_close(to_doubles(sort(x, s)), {-INFINITY, -1, 0, 3, 3, INFINITY, NAN, NAN}, 0, 0,
                 "sort " + dtype_to_string(d));
    expect_close(to_doubles(argsort(x, s)), {5, 2, 7, 0, 6, 3, 1, 4}, 0, 0, "argsort " + dtype_to_string(d));
    check_partitioned(to_doubles(x), to_doubles(partition(x, 5, s)), {8}, 0, 5, "partition NaN");
    expect_close(to_doubles(sort(topk(x, 3, s), s)), {INFINITY, NAN, NAN}, 0, 0, "topk NaN");
  }
  // equal keys keep their order: -0.0 and 0.0 compare equal
  auto z = array({0.0f, -0.0f, 0.0f, -0.0f, -1.0f});
  auto sz = to_vector<float>(sort(z, s));
  EXPECT_EQ(sz[0], -1.0f);
  EXPECT_FALSE(std::signbit(sz[1]));
  EXPECT_TRUE(std::signbit(sz[2]));
  EXPECT_FALSE(std::signbit(sz[3]));
  EXPECT_TRUE(std::signbit(sz[4]));
  expect_close(to_doubles(argsort(z, s)), {4, 0, 1, 2, 3});
}

LUMEN_DEVICE_TEST(Sort, ComplexIsLexicographic) {
  std::vector<std::complex<float>> v{{1, 2}, {1, -1}, {0, 5}, {1, 0}, {-2, 0}};
  auto x = array(v.begin(), {5}, complex64);
  expect_close(to_doubles(argsort(x, s)), {4, 2, 1, 3, 0});
  auto sorted = sort(x, s);
  expect_close(to_doubles(real(sorted, s)), {-2, 0, 1, 1, 1});
  expect_close(to_doubles(imag(sorted, s)), {0, 5, -1, 0, 2});
  expect_close(to_doubles(imag(topk(x, 1, s), s)), {2});
}

LUMEN_DEVICE_TEST(Sort, FlattenedAndEmpty) {
  auto x = array({3, 1, 2, 9, 7, 8}, {2, 3}, int32);
  auto sx = sort(x, s);
  EXPECT_EQ(sx.shape(), Shape{6});
  expect_close(to_doubles(sx), {1, 2, 3, 7, 8, 9});
  expect_close(to_doubles(argsort(x, s)), {1, 2, 0, 4, 5, 3});
  check_partitioned({3, 1, 2, 9, 7, 8}, to_doubles(partition(x, 2, s)), {6}, 0, 2, "flat partition");
  check_partitioned({3, 1, 2, 9, 7, 8}, take_lines({3, 1, 2, 9, 7, 8}, to_doubles(argpartition(x, -2, s)), {6}, 0),
                    {6}, 0, -2, "flat argpartition");
  expect_close(to_doubles(sort(topk(x, 2, s), s)), {8, 9});
  EXPECT_EQ(topk(x, 0, s).shape(), Shape{0});
  // empty arrays and empty lines
  EXPECT_EQ(sort(zeros({0}, float32, s), s).shape(), Shape{0});
  auto e = argsort(zeros({3, 0}, float32, s), 1, s);
  EXPECT_EQ(e.shape(), (Shape{3, 0}));
  eval(e);
  auto e2 = sort(zeros({0, 4}, int8, s), 1, s);
  eval(e2);
  EXPECT_EQ(e2.shape(), (Shape{0, 4}));
  EXPECT_EQ(sort(array(2.0f), s).shape(), Shape{1});
  EXPECT_EQ(primitive_counts({sort(x, 0, s)})["Sort"], 1);
  EXPECT_EQ(primitive_counts({argsort(x, 0, s)})["ArgSort"], 1);
  EXPECT_EQ(primitive_counts({topk(x, 1, 1, s)})["Partition"], 1);
  EXPECT_EQ(primitive_counts({argpartition(x, 1, 1, s)})["ArgPartition"], 1);
}

LUMEN_DEVICE_TEST(Sort, LongLineAndManyRows) {
  // One long line (sorted in parallel pieces and merged), then many rows.
  const int n = 1 << 18;
  auto v = sample_values(n, float32, 23);  // 33 distinct values: heavy ties
  for (int i = 0; i < n; i += 9973) v[i] = NAN;
  auto x = make_array(v, {n}, float32);
  auto ref = ref_sort(v, {n}, 0);
  expect_close(to_doubles(sort(x, s)), ref.sorted, 0, 0, "sort long line");
  expect_close(to_doubles(argsort(x, s)), ref.order, 0, 0, "argsort long line (stable)");
  check_partitioned(v, to_doubles(partition(x, 100000, s)), {n}, 0, 100000, "partition long line");
  auto y = make_array(v, {2, n / 2}, float32);
  auto ry = ref_sort(v, {2, n / 2}, 1);
  expect_close(to_doubles(argsort(y, 1, s)), ry.order, 0, 0, "argsort 2 long rows");
  auto z = make_array(v, {n / 8, 8}, float32);
  auto rz = ref_sort(v, {n / 8, 8}, 0);
  expect_close(to_doubles(sort(z, 0, s)), rz.sorted, 0, 0, "sort down the rows");
  auto rz1 = ref_sort(v, {n / 8, 8}, 1);
  expect_close(to_doubles(argsort(z, 1, s)), rz1.order, 0, 0, "argsort rows of 8");
}

LUMEN_DEVICE_TEST(Sort, BadInputs) {
  auto x = ones({2, 3}, float32, s);
  EXPECT_THROW(sort(x, 2, s), std::invalid_argument);
  EXPECT_THROW_NAMING(sort(x, 2, s), std::invalid_argument, "[sort] Axis 2");
  EXPECT_THROW_NAMING(argsort(x, -3, s), std::invalid_argument, "[argsort] Axis -3");
  EXPECT_THROW_NAMING(partition(x, 0, 4, s), std::invalid_argument, "[partition] Axis 4");
  EXPECT_THROW_NAMING(argpartition(x, 0, 2, s), std::invalid_argument, "[argpartition] Axis 2");
  EXPECT_THROW_NAMING(partition(x, 3, 1, s), std::invalid_argument, "[partition] kth 3");
  EXPECT_THROW_NAMING(argpartition(x, -4, 1, s), std::invalid_argument, "[argpartition] kth -4");
  EXPECT_THROW_NAMING(topk(x, 4, 1, s), std::invalid_argument, "[topk] k = 4");
  EXPECT_THROW_NAMING(topk(x, -1, s), std::invalid_argument, "[topk] k = -1");
  EXPECT_THROW_NAMING(topk(x, 1, 3, s), std::invalid_argument, "[topk] Axis 3");
}

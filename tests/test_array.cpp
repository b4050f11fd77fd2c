// The array API: constructors, accessors, float64, 64-bit sizes.
#include <numeric>

#include "test_util.h"
#include "typed_values.h"

using namespace lumen;
using namespace lumen::test;

namespace {

TEST(Array, ScalarConstructors) {
  array b(true);
  EXPECT_EQ(b.dtype(), bool_);
  EXPECT_EQ(b.item<bool>(), true);
  array i(7);
  EXPECT_EQ(i.dtype(), int32);
  EXPECT_EQ(i.ndim(), 0u);
  EXPECT_EQ(i.size(), 1u);
  EXPECT_EQ(i.shape(), Shape{});
  EXPECT_EQ(i.item<int32_t>(), 7);
  array f(2.5f);
  EXPECT_EQ(f.dtype(), float32);
  EXPECT_EQ(f.item<float>(), 2.5f);
  array d(0.1);  // C++ double makes float32, as MLX
  EXPECT_EQ(d.dtype(), float32);
  EXPECT_EQ(d.item<float>(), 0.1f);
  EXPECT_EQ(array(int64_t(-5)).dtype(), int64);
  EXPECT_EQ(array(uint64_t(1) << 63).item<uint64_t>(), uint64_t(1) << 63);
  EXPECT_EQ(array(uint8_t(200)).dtype(), uint8);
  EXPECT_EQ(array(float16_t(1.5f)).dtype(), float16);
  EXPECT_EQ(array(bfloat16_t(1.5f)).dtype(), bfloat16);
  array c(complex64_t(1.0f, -2.0f));
  EXPECT_EQ(c.dtype(), complex64);
  EXPECT_EQ(c.item<complex64_t>(), complex64_t(1.0f, -2.0f));
  // with an explicit dtype the value is converted (float to int truncates)
  EXPECT_EQ(array(3.9f, int32).item<int32_t>(), 3);
  EXPECT_EQ(array(-3.9, int16).item<int16_t>(), -3);
  EXPECT_EQ(array(0.1, float64).item<double>(), 0.1);
  EXPECT_EQ(array(1, float16).item<float16_t>().bits, 0x3c00);
  EXPECT_EQ(array(2, complex64).item<complex64_t>(), complex64_t(2.0f, 0.0f));
  EXPECT_EQ(array(5, bool_).item<bool>(), true);
}

TEST(Array, ListAndVectorConstructors) {
  array a({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(a.dtype(), int32);
  EXPECT_EQ(a.shape(), (Shape{2, 3}));
  EXPECT_EQ(a.shape(0), 2);
  EXPECT_EQ(a.shape(-1), 3);
  EXPECT_EQ(a.strides(), (Strides{3, 1}));
  EXPECT_EQ(a.strides(-2), 3);
  EXPECT_EQ(a.ndim(), 2u);
  EXPECT_EQ(a.size(), 6u);
  EXPECT_EQ(a.nbytes(), 24u);
  EXPECT_EQ(a.itemsize(), 4u);
  EXPECT_EQ(a.data<int32_t>()[4], 5);

  array f({1.5f, 2.5f});
  EXPECT_EQ(f.shape(), Shape{2});
  EXPECT_EQ(f.dtype(), float32);
  array dl({1.0, 2.0}, {2, 1});
  EXPECT_EQ(dl.dtype(), float32);
  EXPECT_EQ(dl.shape(), (Shape{2, 1}));
  array typed({1, 2, 3}, float16);
  EXPECT_EQ(typed.dtype(), float16);
  EXPECT_EQ(static_cast<float>(typed.data<float16_t>()[2]), 3.0f);
  array empty({});
  EXPECT_EQ(empty.dtype(), float32);
  EXPECT_EQ(empty.size(), 0u);
  array empty_int({}, int32);
  EXPECT_EQ(empty_int.dtype(), int32);
  EXPECT_EQ(empty_int.shape(), Shape{0});

  std::vector<int64_t> v(24);
  std::iota(v.begin(), v.end(), -3);
  array fromv(v, {2, 3, 4});
  EXPECT_EQ(fromv.dtype(), int64);
  EXPECT_EQ(fromv.strides(), (Strides{12, 4, 1}));
  EXPECT_EQ(fromv.data<int64_t>()[23], 20);
  array it(v.begin(), {4}, float64);
  EXPECT_EQ(it.dtype(), float64);
  EXPECT_EQ(it.data<double>()[3], 0.0);

  EXPECT_THROW(array({1, 2, 3}, {2, 2}), std::invalid_argument);
  EXPECT_THROW(array(v, {5, 5}), std::invalid_argument);
  EXPECT_THROW(array({1.0f}, {-1}), std::invalid_argument);
}

TEST(Array, RawBufferWithDeleter) {
  static int deleted = 0;
  deleted = 0;
  auto* buf = new float[6]{0, 1, 2, 3, 4, 5};
  {
    array a(static_cast<void*>(buf), {2, 3}, float32, [](void* p) {
      ++deleted;
      delete[] static_cast<float*>(p);
    });
    EXPECT_EQ(a.data<float>(), buf);  // no copy
    EXPECT_EQ(a.shape(), (Shape{2, 3}));
    auto b = multiply(a, array(2.0f));
    EXPECT_EQ(to_vector<float>(b), (std::vector<float>{0, 2, 4, 6, 8, 10}));
    EXPECT_EQ(deleted, 0);  // a still holds it
    a = array();
    // b may have taken the dying buffer in place; either way it is freed once
    auto view = broadcast_to(b, {4, 2, 3});
    b = array();
    EXPECT_EQ(to_vector<float>(view)[17], 10.0f);
  }
  EXPECT_EQ(deleted, 1);
}

TEST(Array, ItemEvaluatesAndChecksSize) {
  auto x = add(array(2), array(3));
  EXPECT_EQ(x.item<int32_t>(), 5);
  EXPECT_THROW(array({1, 2}).item<int32_t>(), std::invalid_argument);
  const array cx = multiply(array(2.0f), array(4.0f));
  EXPECT_THROW(cx.item<float>(), std::invalid_argument);  // const: not evaluated yet
  eval({cx});
  EXPECT_EQ(cx.item<float>(), 8.0f);
}

TEST(Array, Float64OnCpu) {
  auto s = default_stream(Device::cpu);
  array a(1.0, float64);
  array tiny(1e-12, float64);
  auto x = add(a, tiny, s);
  EXPECT_EQ(x.dtype(), float64);
  EXPECT_EQ(x.item<double>(), 1.0 + 1e-12);  // float32 would lose it
  auto y = multiply(array({1.0, 2.0, 3.0}, float64), array(1.0 / 3.0, float64), s);
  auto v = exact_values(y);
  EXPECT_EQ(static_cast<double>(v[2]), 3.0 * (1.0 / 3.0));
  EXPECT_EQ(exp(array(1.0, float64), s).item<double>(), std::exp(1.0));
  EXPECT_EQ(promote_types(float64, float32), float64);
}

TEST(Array, SizesPastTwoToThe31) {
  // 46341^2 = 2147488281 elements > 2^31
  const int n = 46341;
  auto big = broadcast_to(array(uint8_t(7)), {n, n});
  EXPECT_EQ(big.size(), size_t(2147488281));
  EXPECT_EQ(big.nbytes(), size_t(2147488281));
  auto wide = broadcast_to(array(1.0f), {n, n});
  EXPECT_EQ(wide.nbytes(), size_t(2147488281) * 4);
  big.eval();  // a view: no element memory
  EXPECT_EQ(big.strides(), (Strides{0, 0}));
  EXPECT_EQ(big.data<uint8_t>()[0], 7);
  // the lazy result of an elementwise op knows its 64-bit size
  auto sum = add(big, big);
  EXPECT_EQ(sum.size(), size_t(2147488281));
  EXPECT_EQ(sum.dtype(), uint8);
  // a shape whose size overflows int64 is refused
  EXPECT_THROW(broadcast_to(array(1), {1 << 30, 1 << 30, 1 << 30, 1 << 30}), std::invalid_argument);
}

TEST(Array, ElementwiseOverTwoToThe31Elements) {
#ifndef NDEBUG
  GTEST_SKIP() << "large: 2 GiB of output, Release builds only";
#endif
  const int n = 46341;
  auto a = broadcast_to(array(uint8_t(7)), {n, n});
  auto row = astype(arange(0, n, int32), uint8);  // 0, 1, ..., 255, 0, ...
  auto sum = add(a, row);
  sum.eval();
  ASSERT_EQ(sum.size(), size_t(2147488281));
  const uint8_t* p = sum.data<uint8_t>();
  // the last row, written past the 2^31 element boundary
  size_t last = size_t(n - 1) * n;
  for (int j : {0, 1, 255, 256, n - 1}) {
    EXPECT_EQ(p[last + j], static_cast<uint8_t>(7 + (j % 256))) << j;
  }
  EXPECT_EQ(p[size_t(2147483648)], static_cast<uint8_t>(7 + (2147483648 % n) % 256));
  // a slice at a byte offset past 2^31 of that buffer, through an op
  auto tail = slice(sum, {n - 2, 3}, {n, 8});
  auto doubled = multiply(tail, array(uint8_t(2)));
  auto v = exact_values(doubled);
  ASSERT_EQ(v.size(), 10u);
  for (int r = 0; r < 2; ++r) {
    for (int j = 3; j < 8; ++j) EXPECT_EQ(v[r * 5 + j - 3], static_cast<uint8_t>(2 * (7 + j))) << r << "," << j;
  }
}

}  // namespace

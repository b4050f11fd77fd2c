// CPU benchmarks: each lumen op beside the same work written directly in
// Eigen, in one run. lumen uses its thread pool (LUMEN_NUM_THREADS); the
// Eigen GEMM uses OpenMP threads when the bench is built with OpenMP
// (OMP_NUM_THREADS), while Eigen's elementwise, reduction and softmax code is
// single-threaded. Run with LUMEN_NUM_THREADS=1 OMP_NUM_THREADS=1 to compare
// the kernels alone.
#include <benchmark/benchmark.h>

#include <Eigen/Core>

#include <random>
#include <vector>

#include <lumen/lumen.h>

namespace {

using lumen::array;
using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

constexpr int kElementwiseSize = 1 << 24;  // 16M float32
constexpr int kRows = 4096, kCols = 4096;

std::vector<float> random_values(int64_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(gen);
  return v;
}

// An evaluated lumen array with the given values.
array lumen_array(const std::vector<float>& v, const lumen::Shape& shape) {
  array a(v.begin(), shape, lumen::float32);
  a.eval();
  return a;
}

// Runs `make` (which builds a lumen graph) and evaluates its result.
template <typename F>
void run_lumen(benchmark::State& state, int64_t items, F make) {
  for (auto _ : state) {
    array out = make();
    out.eval();
    benchmark::DoNotOptimize(out.data<float>());
  }
  state.SetItemsProcessed(state.iterations() * items);
}

// ---- elementwise: 16M float32 ----

void BM_Add_Lumen(benchmark::State& state) {
  auto a = lumen_array(random_values(kElementwiseSize, 1), {kElementwiseSize});
  auto b = lumen_array(random_values(kElementwiseSize, 2), {kElementwiseSize});
  run_lumen(state, kElementwiseSize, [&] { return lumen::add(a, b); });
}

void BM_Add_Eigen(benchmark::State& state) {
  auto av = random_values(kElementwiseSize, 1), bv = random_values(kElementwiseSize, 2);
  Eigen::Map<Eigen::ArrayXf> a(av.data(), kElementwiseSize), b(bv.data(), kElementwiseSize);
  Eigen::ArrayXf c(kElementwiseSize);
  for (auto _ : state) {
    c = a + b;
    benchmark::DoNotOptimize(c.data());
  }
  state.SetItemsProcessed(state.iterations() * kElementwiseSize);
}

void BM_Exp_Lumen(benchmark::State& state) {
  auto a = lumen_array(random_values(kElementwiseSize, 3), {kElementwiseSize});
  run_lumen(state, kElementwiseSize, [&] { return lumen::exp(a); });
}

void BM_Exp_Eigen(benchmark::State& state) {
  auto av = random_values(kElementwiseSize, 3);
  Eigen::Map<Eigen::ArrayXf> a(av.data(), kElementwiseSize);
  Eigen::ArrayXf c(kElementwiseSize);
  for (auto _ : state) {
    c = a.exp();
    benchmark::DoNotOptimize(c.data());
  }
  state.SetItemsProcessed(state.iterations() * kElementwiseSize);
}

// ---- reductions and softmax: float32 [4096, 4096] ----

constexpr int64_t kMatrixSize = int64_t{kRows} * kCols;

void BM_SumAll_Lumen(benchmark::State& state) {
  auto a = lumen_array(random_values(kMatrixSize, 6), {kRows, kCols});
  run_lumen(state, kMatrixSize, [&] { return lumen::sum(a); });
}

void BM_SumAll_Eigen(benchmark::State& state) {
  auto av = random_values(kMatrixSize, 6);
  Eigen::Map<RowMatrix> a(av.data(), kRows, kCols);
  for (auto _ : state) {
    float total = a.sum();
    benchmark::DoNotOptimize(total);
  }
  state.SetItemsProcessed(state.iterations() * kMatrixSize);
}

void BM_SumLastAxis_Lumen(benchmark::State& state) {
  auto a = lumen_array(random_values(kMatrixSize, 7), {kRows, kCols});
  run_lumen(state, kMatrixSize, [&] { return lumen::sum(a, -1); });
}

void BM_SumLastAxis_Eigen(benchmark::State& state) {
  auto av = random_values(kMatrixSize, 7);
  Eigen::Map<RowMatrix> a(av.data(), kRows, kCols);
  Eigen::VectorXf rows(kRows);
  for (auto _ : state) {
    rows = a.rowwise().sum();
    benchmark::DoNotOptimize(rows.data());
  }
  state.SetItemsProcessed(state.iterations() * kMatrixSize);
}

void BM_Softmax_Lumen(benchmark::State& state) {
  auto a = lumen_array(random_values(kMatrixSize, 8), {kRows, kCols});
  run_lumen(state, kMatrixSize, [&] { return lumen::softmax(a, -1); });
}

void BM_Softmax_Eigen(benchmark::State& state) {
  auto av = random_values(kMatrixSize, 8);
  Eigen::Map<RowMatrix> a(av.data(), kRows, kCols);
  RowMatrix out(kRows, kCols);
  for (auto _ : state) {
    // the numerically safe form, row by row: exp(x - max) / sum
    for (int r = 0; r < kRows; ++r) {
      auto row = a.row(r).array();
      out.row(r).array() = (row - row.maxCoeff()).exp();
      out.row(r) /= out.row(r).sum();
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * kMatrixSize);
}

// ---- matmul: float32 n x n x n ----

void BM_Matmul_Lumen(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto a = lumen_array(random_values(int64_t{n} * n, 4), {n, n});
  auto b = lumen_array(random_values(int64_t{n} * n, 5), {n, n});
  run_lumen(state, 0, [&] { return lumen::matmul(a, b); });
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * n * n * n * state.iterations() / 1e9,
                                                benchmark::Counter::kIsRate);
}

void BM_Matmul_Eigen(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  auto av = random_values(int64_t{n} * n, 4), bv = random_values(int64_t{n} * n, 5);
  Eigen::Map<RowMatrix> a(av.data(), n, n), b(bv.data(), n, n);
  RowMatrix c(n, n);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOPS"] = benchmark::Counter(2.0 * n * n * n * state.iterations() / 1e9,
                                                benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_Add_Lumen)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Add_Eigen)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Exp_Lumen)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Exp_Eigen)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SumAll_Lumen)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SumAll_Eigen)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SumLastAxis_Lumen)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_SumLastAxis_Eigen)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Softmax_Lumen)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Softmax_Eigen)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Matmul_Lumen)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Matmul_Eigen)->Arg(1024)->Arg(2048)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();

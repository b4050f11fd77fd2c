// The device bench: lumen ops on Device::gpu, printed as
//     ROW|group|op|shape|dtype|ms|bytes|flops
// lines with the same group/op/shape/dtype keys as bench/peers/torch_bench.py,
// so bench/peers/compare.py joins the two into one table.
//
//     device_bench [--small] [--reps N] [--filter TEXT] [group ...]
//
// (default: every group; --filter keeps the rows whose "op|shape|dtype"
// contains TEXT, or one of its comma-separated parts). Groups may print
// other lines besides: PEAK|... (random: peak memory over output bytes) and
// LARGE|... (random_large); see there.
//
// Timing: evaluations to warm up (pipelines, allocator cache, GPU clocks: at
// least 0.2 s), then repeats of many back-to-back evaluations, each repeat
// closed by synchronize() before the host clock is read; the row reports the median
// repeat's time per evaluation. Where one evaluation's data would fit in the
// GPU's L2 (50 MB on the H100), evaluations rotate over enough copies of the
// inputs to defeat it. --small runs every row at tiny shapes (a smoke test on
// any Vulkan device, lavapipe included).
//
// A group is a function registered in `groups()`; add one per area.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <lumen/lumen.h>
#include <lumen/quantized_primitives.h>

using namespace lumen;

namespace {

struct Options {
  bool small = false;
  int reps = 7;
  std::string filter;
};

// Bytes a working set must exceed for the L2 not to serve repeats of it.
constexpr double kCacheBytes = 4 * 50e6;
// Time one repeat aims at: short ops run many times per repeat.
constexpr double kRepeatSeconds = 0.05;
constexpr int kWarmup = 3;
constexpr double kWarmupSeconds = 0.2;
constexpr int kMaxIterations = 2000;
constexpr int kMaxInputSets = 64;
// Random values are drawn in blocks of this many and tiled beyond.
constexpr int64_t kRandomBlock = int64_t(1) << 24;

const char* dtype_label(Dtype d) {
  if (d == bfloat16) return "bf16";
  if (d == float16) return "fp16";
  if (d == float32) return "fp32";
  return "other";
}

double seconds_now() {
  using clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

int64_t numel(const Shape& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

class Bench {
 public:
  explicit Bench(Options options)
      : options_(options), gpu_(default_stream(Device::gpu)), cpu_(default_stream(Device::cpu)) {}

  bool small() const { return options_.small; }
  // Whether --filter keeps a row of key "op|shape|dtype": it contains one of
  // the filter's comma-separated parts.
  bool selected(const std::string& key) const {
    size_t from = 0;
    while (true) {
      size_t comma = options_.filter.find(',', from);
      std::string part = options_.filter.substr(from, comma == std::string::npos ? std::string::npos : comma - from);
      if (key.find(part) != std::string::npos) return true;
      if (comma == std::string::npos) return false;
      from = comma + 1;
    }
  }
  Stream gpu() const { return gpu_; }
  Stream cpu() const { return cpu_; }

  // Standard normal values of `shape` on the GPU, evaluated. Large arrays
  // repeat a block of random values rather than drawing all of them; the
  // values are made on the CPU and converted on the GPU.
  array data(const Shape& shape, Dtype dtype) {
    const int64_t n = numel(shape);
    array x = random::normal(n <= kRandomBlock ? shape : Shape{static_cast<int>(kRandomBlock)}, float32,
                             random::key(++seed_), cpu_);
    if (n > kRandomBlock) {
      const int block = static_cast<int>(kRandomBlock);
      const int reps = static_cast<int>((n + block - 1) / block);
      x = flatten(broadcast_to(reshape(x, {1, block}, cpu_), {reps, block}, cpu_), cpu_);
      x = reshape(slice(x, {0}, {static_cast<int>(n)}, cpu_), shape, cpu_);
    }
    x = dtype == float32 ? copy(x, gpu_) : astype(x, dtype, gpu_);
    eval(x);
    return x;
  }

  // The inputs `make_inputs` gives, plus copies of them on the GPU where one
  // evaluation's `bytes` of traffic would fit in the cache (not with
  // --small: there only the flow matters).
  std::vector<std::vector<array>> input_sets(double bytes, const std::function<std::vector<array>()>& make_inputs) {
    std::vector<std::vector<array>> out{make_inputs()};
    if (small() || bytes >= kCacheBytes) return out;
    const int sets = std::min(kMaxInputSets, static_cast<int>(kCacheBytes / std::max(bytes, 1.0)) + 1);
    while (static_cast<int>(out.size()) < sets) {
      std::vector<array> copies;
      for (const array& x : out.front()) copies.push_back(copy(x, gpu_));
      eval(copies);
      out.push_back(std::move(copies));
    }
    return out;
  }

  // Median milliseconds of one evaluation of op(inputs), rotating input sets.
  double time_ms(const std::vector<std::vector<array>>& sets,
                 const std::function<array(const std::vector<array>&)>& op) {
    return time_ms(sets, [&op](const std::vector<array>& in) { return std::vector<array>{op(in)}; });
  }

  // The same for an op of several outputs, all evaluated.
  double time_ms(const std::vector<std::vector<array>>& sets,
                 const std::function<std::vector<array>(const std::vector<array>&)>& op) {
    size_t next = 0;
    auto run = [&] { return op(sets[next++ % sets.size()]); };
    // Warm up for a while as well as a few times: a GPU that idled (host
    // work between rows) runs at low clocks for tens of milliseconds.
    double once = 0;
    const double warm_until = seconds_now() + (small() ? 0.0 : kWarmupSeconds);
    for (int i = 0; i < kWarmup || seconds_now() < warm_until; ++i) {
      double t0 = seconds_now();
      eval(run());
      once = seconds_now() - t0;
    }
    const int iterations = small() ? 3 : std::clamp(static_cast<int>(kRepeatSeconds / std::max(once, 1e-6)), 1,
                                                    kMaxIterations);
    std::vector<double> times;
    for (int r = 0; r < options_.reps; ++r) {
      synchronize(gpu_);
      double t0 = seconds_now();
      for (int i = 0; i < iterations; ++i) async_eval(run());
      synchronize(gpu_);
      times.push_back((seconds_now() - t0) * 1e3 / iterations);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
  }

  // Times op over input sets and prints its ROW line; a failure (an op with
  // no GPU kernel yet, memory) prints a comment instead and the bench goes on.
  // Returns the milliseconds (0 when the row did not run).
  double row(const std::string& group, const std::string& op_name, const std::string& shape, Dtype dtype,
             double bytes, double flops, const std::function<std::vector<array>()>& make_inputs,
             const std::function<array(const std::vector<array>&)>& op) {
    return rows(group, op_name, shape, dtype, bytes, flops, make_inputs,
         [&op](const std::vector<array>& in) { return std::vector<array>{op(in)}; });
  }

  // The same for an op of several outputs, all evaluated.
  double rows(const std::string& group, const std::string& op_name, const std::string& shape, Dtype dtype,
              double bytes, double flops, const std::function<std::vector<array>()>& make_inputs,
              const std::function<std::vector<array>(const std::vector<array>&)>& op) {
    const std::string key = op_name + "|" + shape + "|" + dtype_label(dtype);
    if (!selected(key)) return 0;
    double ms = 0;
    try {
      auto sets = input_sets(bytes, make_inputs);
      ms = time_ms(sets, op);
      std::printf("ROW|%s|%s|%s|%s|%.4f|%.0f|%.0f\n", group.c_str(), op_name.c_str(), shape.c_str(),
                  dtype_label(dtype), ms, bytes, flops);
    } catch (const std::exception& e) {
      ms = 0;
      std::printf("# %s %s %s %s: not run: %s\n", group.c_str(), op_name.c_str(), shape.c_str(),
                  dtype_label(dtype), e.what());
    }
    std::fflush(stdout);
    return ms;
  }

 private:
  Options options_;
  Stream gpu_;
  Stream cpu_;
  uint64_t seed_ = 0;
};

// ---- groups ----

void group_core(Bench& b) {
  const std::string g = "core";
  const Stream s = b.gpu();
  const bool small = b.small();

  {
    const int64_t n = small ? (1 << 20) : (int64_t(1) << 30) / 4;  // 1 GiB of float32
    b.row(g, "copy", small ? "4MiB" : "1GiB", float32, 2.0 * n * 4, 0,
          [&] { return std::vector<array>{b.data({static_cast<int>(n)}, float32)}; },
          [&](const std::vector<array>& in) { return copy(in[0], s); });
  }
  // The per-evaluation floor: one element, so the time is the host's graph
  // building, scheduling and submission plus the dispatch latency.
  b.row(g, "add", "1", float32, 3.0 * 4, 0,
        [&] { return std::vector<array>{b.data({1}, float32), b.data({1}, float32)}; },
        [&](const std::vector<array>& in) { return add(in[0], in[1], s); });
  // The floor of a small graph: three primitives, exp(a + b) * a.
  b.row(g, "eval floor, 3-op graph", "1", float32, 3.0 * 4, 0,
        [&] { return std::vector<array>{b.data({1}, float32), b.data({1}, float32)}; },
        [&](const std::vector<array>& in) { return multiply(exp(add(in[0], in[1], s), s), in[0], s); });
  {
    const int side = small ? 512 : 16384;
    const std::string shape = std::to_string(side) + "x" + std::to_string(side);
    b.row(g, "add", shape, bfloat16, 3.0 * side * side * 2, 0,
          [&] { return std::vector<array>{b.data({side, side}, bfloat16), b.data({side, side}, bfloat16)}; },
          [&](const std::vector<array>& in) { return add(in[0], in[1], s); });
  }
  {
    const int64_t n = small ? (1 << 20) : (int64_t(512) << 20);
    b.row(g, "sum", small ? "1M" : "512M", bfloat16, 2.0 * n, 0,
          [&] { return std::vector<array>{b.data({static_cast<int>(n)}, bfloat16)}; },
          [&](const std::vector<array>& in) { return sum(in[0], s); });
  }
  {
    const int rows = small ? 256 : 32768, cols = small ? 512 : 4096;
    b.row(g, "softmax", std::to_string(rows) + "x" + std::to_string(cols), bfloat16, 2.0 * rows * cols * 2, 0,
          [&] { return std::vector<array>{b.data({rows, cols}, bfloat16)}; },
          [&](const std::vector<array>& in) { return softmax(in[0], -1, false, s); });
  }
  auto matmul_row = [&](int n, Dtype dt) {
    const double item = static_cast<double>(dt.size());
    b.row(g, "matmul", std::to_string(n) + "^3", dt, 3.0 * n * n * item, 2.0 * n * n * double(n),
          [&] { return std::vector<array>{b.data({n, n}, dt), b.data({n, n}, dt)}; },
          [&](const std::vector<array>& in) { return matmul(in[0], in[1], s); });
  };
  for (Dtype dt : {bfloat16, float16}) {
    for (int n : small ? std::vector<int>{128, 256} : std::vector<int>{4096, 8192}) matmul_row(n, dt);
  }
  matmul_row(small ? 256 : 4096, float32);
  {
    const int rows = small ? 512 : 28672, cols = small ? 256 : 8192;
    b.row(g, "gemv", std::to_string(rows) + "x" + std::to_string(cols), float16, 2.0 * rows * cols,
          2.0 * rows * cols,
          // the vector as a [cols, 1] column: the same product as torch's w @ v
          [&] { return std::vector<array>{b.data({rows, cols}, float16), b.data({cols, 1}, float16)}; },
          [&](const std::vector<array>& in) { return matmul(in[0], in[1], s); });
  }
}

// A tensor past 4 GiB (the H100's maxStorageBufferRange and advisory
// allocation limit): 3 x 2^30 float32 values x[i, r, j] = i + j / 1024,
// written by one add of two broadcast operands, then summed per leading
// index and in full, and checked against the closed form. Prints CHECK lines.
void group_big(Bench& b) {
  const Stream s = b.gpu();
  const int rows = b.small() ? 16 : (1 << 20), cols = 1024;
  std::vector<float> lead{0, 1, 2}, frac(cols);
  for (int j = 0; j < cols; ++j) frac[j] = static_cast<float>(j) / cols;
  try {
    array a(lead.begin(), Shape{3, 1, 1}, float32);
    array c(frac.begin(), Shape{1, 1, cols}, float32);
    const Shape shape{3, rows, cols};
    reset_peak_memory();
    double t0 = seconds_now();
    array x = add(broadcast_to(a, shape, s), broadcast_to(c, shape, s), s);
    eval(x);
    double t1 = seconds_now();
    array per = sum(x, std::vector<int>{1, 2}, false, s);
    array all = sum(x, false, s);
    array top = max(x, false, s);
    eval({per, all, top});
    double t2 = seconds_now();
    const double frac_sum = (cols - 1) / 2.0;  // sum_j j / 1024
    bool ok = true;
    auto check = [&](const char* what, double got, double want) {
      const double rel = std::abs(got - want) / std::abs(want);
      ok = ok && rel < 1e-5;
      std::printf("CHECK|big|%s|got %.9g|want %.9g|rel %.2e|%s\n", what, got, want, rel, rel < 1e-5 ? "ok" : "FAIL");
    };
    per = copy(per, Device::cpu);
    eval(per);
    for (int i = 0; i < 3; ++i) {
      check(("sum row " + std::to_string(i)).c_str(), per.data<float>()[i],
            static_cast<double>(rows) * (cols * double(i) + frac_sum));
    }
    check("sum all", all.item<float>(), static_cast<double>(rows) * (3.0 * cols + 3 * frac_sum));
    check("max", top.item<float>(), 2.0 + (cols - 1.0) / cols);
    std::printf("# big: %.2f GB float32 tensor, write %.1f ms, three reductions %.1f ms, peak %.2f GB, %s\n",
                x.nbytes() / 1e9, (t1 - t0) * 1e3, (t2 - t1) * 1e3, get_peak_memory() / 1e9,
                ok ? "all checks ok" : "CHECK FAILED");
  } catch (const std::exception& e) {
    std::printf("# big: not run: %s\n", e.what());
  }
  std::fflush(stdout);
}

// Random generation: the fused RandomUniform/RandomNormal against the plain
// chains they replace (built under a TracingGuard, which turns fused paths
// off), and gumbel. Each row is followed by a
//     PEAK|group|op|shape|dtype|ratio
// line: the GPU's peak memory during one evaluation over the output's bytes.
double peak_ratio(const Stream& s, const std::function<array()>& make) {
  synchronize(s);
  const size_t base = get_active_memory(Device::gpu);
  reset_peak_memory(Device::gpu);
  array out = make();
  eval(out);
  synchronize(s);
  return static_cast<double>(get_peak_memory(Device::gpu) - base) / static_cast<double>(out.nbytes());
}

void group_random(Bench& b) {
  const std::string g = "random";
  const Stream s = b.gpu();
  const int side = b.small() ? 512 : 16384;
  const Shape shape = {side, side};
  const std::string shape_name = std::to_string(side) + "x" + std::to_string(side);
  auto key_input = [&] {
    array key = copy(random::key(20261125), s);
    eval(key);
    return std::vector<array>{key};
  };
  using Make = std::function<array(const array& key)>;
  auto rows = [&](const std::string& op, Dtype dt, const Make& make) {
    const double bytes = static_cast<double>(side) * side * dt.size();
    auto fused = [&](const std::vector<array>& in) { return make(in[0]); };
    auto plain = [&](const std::vector<array>& in) {
      lumen::detail::TracingGuard tracing;  // fused paths off: the plain chain
      return make(in[0]);
    };
    for (auto& [name, fn] : std::vector<std::pair<std::string, std::function<array(const std::vector<array>&)>>>{
             {op, fused}, {op + "_plain", plain}}) {
      const std::string key = name + "|" + shape_name + "|" + dtype_label(dt);
      b.row(g, name, shape_name, dt, bytes, 0, key_input, fn);
      if (!b.selected(key)) continue;
      try {
        auto in = key_input();
        std::printf("PEAK|%s|%s|%s|%s|%.4f\n", g.c_str(), name.c_str(), shape_name.c_str(), dtype_label(dt),
                    peak_ratio(s, [&] { return fn(in); }));
      } catch (const std::exception& e) {
        std::printf("# %s %s peak not measured: %s\n", g.c_str(), name.c_str(), e.what());
      }
      std::fflush(stdout);
    }
  };
  for (Dtype dt : {bfloat16, float32}) {
    rows("uniform", dt, [&](const array& k) { return random::uniform(shape, dt, k, s); });
    rows("normal", dt, [&](const array& k) { return random::normal(shape, dt, k, s); });
  }
  rows("gumbel", bfloat16, [&](const array& k) { return random::gumbel(shape, bfloat16, k, s); });
  // RandomBits itself (uint32 words: the plain chain's first step).
  b.row(g, "bits", shape_name, uint32, static_cast<double>(side) * side * 4, 0, key_input,
        [&](const std::vector<array>& in) { return random::bits(shape, 4, in[0], s); });
}

// One large request per family on the GPU (65536^2 bfloat16 uniform: 8.6 GB;
// 46341^2 bfloat16 normal: 4.3 GB, over 2^31 elements): the GPU's peak over
// the output's bytes (target 1.0) and the mean and standard deviation of a
// strided sample of the whole output, printed as
//     LARGE|op|shape|dtype|peak_ratio|mean|std|seconds
void group_random_large(Bench& b) {
  const Stream s = b.gpu();
  struct Case {
    const char* op;
    int side;
    std::function<array(const Shape&, const array&)> make;
  };
  const std::vector<Case> cases = {
      {"uniform", b.small() ? 1024 : 65536,
       [&](const Shape& sh, const array& k) { return random::uniform(sh, bfloat16, k, s); }},
      {"normal", b.small() ? 1023 : 46341,
       [&](const Shape& sh, const array& k) { return random::normal(sh, bfloat16, k, s); }}};
  for (auto& c : cases) {
    const Shape shape = {c.side, c.side};
    const std::string name = std::to_string(c.side) + "x" + std::to_string(c.side);
    try {
      array key = copy(random::key(46341), s);
      eval(key);
      synchronize(s);
      clear_cache(Device::gpu);
      const size_t base = get_active_memory(Device::gpu);
      reset_peak_memory(Device::gpu);
      const double t0 = seconds_now();
      array out = c.make(shape, key);
      eval(out);
      synchronize(s);
      const double seconds = seconds_now() - t0;
      const double ratio = static_cast<double>(get_peak_memory(Device::gpu) - base) / static_cast<double>(out.nbytes());
      // a prime stride over the whole output (host reads of the GPU buffer)
      const bfloat16_t* p = out.data<bfloat16_t>();
      const int64_t n = static_cast<int64_t>(out.size());
      double sum = 0, sum2 = 0;
      int64_t count = 0;
      for (int64_t i = 0; i < n; i += 9973, ++count) {
        const double v = static_cast<float>(p[i]);
        sum += v;
        sum2 += v * v;
      }
      const double mean = sum / static_cast<double>(count);
      const double var = sum2 / static_cast<double>(count) - mean * mean;
      std::printf("LARGE|%s|%s|bf16|%.4f|%.5f|%.5f|%.3f\n", c.op, name.c_str(), ratio, mean,
                  std::sqrt(std::max(var, 0.0)), seconds);
    } catch (const std::exception& e) {
      std::printf("# random_large %s %s: not run: %s\n", c.op, name.c_str(), e.what());
    }
    std::fflush(stdout);
  }
}

// Data movement of the shape and indexing ops: strided copies, gathers.
void group_index(Bench& b) {
  const std::string g = "index";
  const Stream s = b.gpu();
  const bool small = b.small();
  {
    const int side = small ? 512 : 16384;  // 1 GiB of float32
    const std::string shape = std::to_string(side) + "x" + std::to_string(side);
    b.row(g, "copy_transposed", shape, float32, 2.0 * side * side * 4, 0,
          [&] { return std::vector<array>{b.data({side, side}, float32)}; },
          [&](const std::vector<array>& in) { return copy(transpose(in[0], s), s); });
  }
  {
    const int rows = small ? 512 : 8192, cols = small ? 256 : 16384;  // two 512 MiB halves
    b.row(g, "concatenate", std::to_string(rows) + "x" + std::to_string(cols) + "x2", float32,
          2.0 * 2 * rows * cols * 4, 0,
          [&] { return std::vector<array>{b.data({rows, cols}, float32), b.data({rows, cols}, float32)}; },
          [&](const std::vector<array>& in) { return concatenate({in[0], in[1]}, 1, s); });
  }
  {
    // Embedding lookup: 32K rows picked out of a 128K x 4096 table.
    const int vocab = small ? 1024 : 131072, dim = small ? 256 : 4096, picks = small ? 512 : 32768;
    b.row(g, "take_rows", std::to_string(vocab) + "x" + std::to_string(dim) + "[" + std::to_string(picks) + "]",
          bfloat16, 2.0 * picks * dim * 2, 0,
          [&] {
            array idx = remainder(multiply(arange(picks, s), array(7919), s), array(vocab), s);
            eval(idx);
            return std::vector<array>{b.data({vocab, dim}, bfloat16), idx};
          },
          [&](const std::vector<array>& in) { return take(in[0], in[1], 0, s); });
  }
}

// LUMEN_BENCH_DECODE_VARIANTS="A=1 B=2;A=3;..." (and
// LUMEN_BENCH_PREFILL_VARIANTS, LUMEN_BENCH_BINARY_VARIANTS) runs `rows` once
// per ';'-separated variant with its NAME=VALUE settings in the environment
// (the kernels read their LUMEN_VULKAN_* knobs per dispatch), after a
// VARIANT| line naming it: one process, one set of inputs, many designs.
void run_variants(const std::string& list, const std::function<void()>& rows) {
  size_t from = 0;
  while (from <= list.size()) {
    size_t end = list.find(';', from);
    if (end == std::string::npos) end = list.size();
    const std::string variant = list.substr(from, end - from);
    std::vector<std::string> names;
    size_t at = 0;
    while (at < variant.size()) {
      size_t stop = variant.find(' ', at);
      if (stop == std::string::npos) stop = variant.size();
      const std::string word = variant.substr(at, stop - at);
      const size_t eq = word.find('=');
      if (eq != std::string::npos) {
        names.push_back(word.substr(0, eq));
        setenv(names.back().c_str(), word.substr(eq + 1).c_str(), 1);
      }
      at = stop + 1;
    }
    std::printf("VARIANT|%s\n", variant.c_str());
    std::fflush(stdout);
    rows();
    for (const std::string& n : names) unsetenv(n.c_str());
    from = end + 1;
  }
}

// Issue 7's rows: bf16, B = 1, H = 32 prefill shapes and a GQA decode step;
// sdpa_lse also returns the logsumexp (its time should match sdpa's).
// Decode reads its 134 MB of K and V in ~0.05-0.08 ms, so lumen's fixed
// per-evaluation cost (~16 us: core|add|1) is a large share of its row; the
// "_x8" rows evaluate 8 decodes over 8 different KV caches at once (1 GB:
// no L2 reuse), and BW lines give the GB/s over the KV bytes per decode.
// LUMEN_BENCH_DECODE_KV sets the decode's KV length (default 32768).
void group_attention(Bench& b) {
  const std::string g = "attention";
  const Stream s = b.gpu();
  const bool small = b.small();
  constexpr int kBatch = 8;
  struct Row {
    int hq, hkv, lq, lk, d;
    bool causal;
    std::string name;
  };
  const char* kv_env = std::getenv("LUMEN_BENCH_DECODE_KV");
  const int decode_kv = kv_env && std::atoi(kv_env) > 0 ? std::atoi(kv_env) : 32768;
  const std::vector<Row> rows = {
      {32, 32, 4096, 4096, 128, false, "B1H32L4096D128"},
      {32, 32, 8192, 8192, 128, true, "B1H32L8192D128causal"},
      {32, 32, 8192, 8192, 64, false, "B1H32L8192D64"},
      {32, 32, 4096, 4096, 256, false, "B1H32L4096D256"},
      {32, 8, 1, decode_kv, 128, false, "decodeB1H32/8KV" + std::to_string(decode_kv) + "D128"}};
  for (const Row& r0 : rows) {
    Row r = r0;
    if (small) {
      r.lq = std::max(1, r.lq / 32);
      r.lk /= 32;
    }
    const double flops = 4.0 * r.hq * r.lq * double(r.lk) * r.d * (r.causal ? 0.5 : 1.0);
    const double kv_bytes = 2.0 * 2.0 * r.hkv * double(r.lk) * r.d;
    const double bytes = 2.0 * 2.0 * r.hq * r.lq * r.d + kv_bytes;
    const float scale = 1.0f / std::sqrt(static_cast<float>(r.d));
    const std::string mode = r.causal ? "causal" : "";
    // q, then (k, v) per KV cache.
    auto make_inputs = [&](int caches) {
      std::vector<array> in{b.data({1, r.hq, r.lq, r.d}, bfloat16)};
      for (int i = 0; i < caches; ++i) {
        in.push_back(b.data({1, r.hkv, r.lk, r.d}, bfloat16));
        in.push_back(b.data({1, r.hkv, r.lk, r.d}, bfloat16));
      }
      return in;
    };
    auto attend = [&](bool lse) {
      return [&, lse](const std::vector<array>& in) {
        std::vector<array> out;
        for (size_t i = 1; i + 1 < in.size(); i += 2) {
          if (!lse) {
            out.push_back(fast::scaled_dot_product_attention(in[0], in[i], in[i + 1], scale, mode, {}, {}, false, s));
            continue;
          }
          auto [o, l] = fast::scaled_dot_product_attention_with_lse(in[0], in[i], in[i + 1], scale, mode, {}, {},
                                                                    false, s);
          out.push_back(depends({o}, {l})[0]);
        }
        return out;
      };
    };
    const bool decode = r.lq == 1;
    // One evaluation's inputs, made once for every variant.
    std::vector<array> variant_inputs;
    auto cached_inputs = [&] {
      if (variant_inputs.empty()) variant_inputs = make_inputs(1);
      return variant_inputs;
    };
    auto bandwidth = [&](const std::string& op, double ms, int caches) {
      if (ms <= 0 || !decode) return;
      const double gbps = kv_bytes * caches / (ms * 1e-3) / 1e9;
      std::printf("BW|%s|%s|%s|%.1f GB/s over %.1f MB of K and V|%.0f%% of 3.35 TB/s|%.4f ms per decode\n",
                  g.c_str(), op.c_str(), r.name.c_str(), gbps, kv_bytes / 1e6, 100.0 * gbps / 3350.0, ms / caches);
    };
    if (const char* variants = std::getenv(decode ? "LUMEN_BENCH_DECODE_VARIANTS" : "LUMEN_BENCH_PREFILL_VARIANTS")) {
      run_variants(variants, [&] {
        for (bool lse : {false, true}) {
          const std::string op = lse ? "sdpa_lse" : "sdpa";
          bandwidth(op, b.rows(g, op, r.name, bfloat16, bytes, flops, cached_inputs, attend(lse)), 1);
        }
      });
      continue;
    }
    for (bool lse : {false, true}) {
      const std::string op = lse ? "sdpa_lse" : "sdpa";
      bandwidth(op, b.rows(g, op, r.name, bfloat16, bytes, flops, [&] { return make_inputs(1); }, attend(lse)), 1);
      if (!decode) continue;
      const std::string op8 = op + "_x" + std::to_string(kBatch);
      bandwidth(op8,
                b.rows(g, op8, r.name, bfloat16, kBatch * bytes, kBatch * flops,
                       [&] { return make_inputs(kBatch); }, attend(lse)),
                kBatch);
    }
  }
}

// compile's fusion on the GPU: gelu (five elementwise kernels, or one
// generated kernel) and an MLP training step (value_and_grad and an SGD
// update; compile fuses its elementwise parts), each uncompiled and
// compiled. The compiled function is traced during the warm-up.
array gelu_of(const array& x, const Stream& s) {
  auto half = array(0.5f, x.dtype());
  auto one = array(1.0f, x.dtype());
  auto inv_sqrt2 = array(0.70710678118654752f, x.dtype());
  return multiply(multiply(x, half, s), add(one, erf(multiply(x, inv_sqrt2, s), s), s), s);
}

void group_transforms(Bench& b) {
  const std::string g = "transforms";
  const Stream s = b.gpu();
  using Fn = std::function<std::vector<array>(const std::vector<array>&)>;
  {
    const int side = b.small() ? 512 : 16384;
    const std::string shape = std::to_string(side) + "x" + std::to_string(side);
    Fn gelu = [s](const std::vector<array>& in) { return std::vector<array>{gelu_of(in[0], s)}; };
    Fn compiled = compile(gelu);
    auto inputs = [&] { return std::vector<array>{b.data({side, side}, bfloat16)}; };
    const double bytes = 2.0 * side * side * 2;  // one read, one write (fused)
    b.row(g, "gelu", shape, bfloat16, bytes, 0, inputs, [&](const std::vector<array>& in) { return gelu(in)[0]; });
    b.row(g, "gelu_compiled", shape, bfloat16, bytes, 0, inputs,
          [&](const std::vector<array>& in) { return compiled(in)[0]; });
  }
  {
    // params W1 [in, hidden], W2 [hidden, out]; data x [batch, in], y [batch, out]
    const int batch = b.small() ? 64 : 512, in = b.small() ? 128 : 1024, hidden = b.small() ? 256 : 2048,
              out = b.small() ? 128 : 1024;
    const std::string shape = std::to_string(batch) + "x" + std::to_string(in) + "x" + std::to_string(hidden) +
                              "x" + std::to_string(out);
    auto loss = [s](const std::vector<array>& p) {
      auto h = maximum(matmul(p[2], p[0], s), array(0.0f), s);
      return mean(square(subtract(matmul(h, p[1], s), p[3], s), s), false, s);
    };
    Fn step = [s, loss](const std::vector<array>& p) {
      auto [value, grads] = value_and_grad(std::function<array(const std::vector<array>&)>(loss),
                                           std::vector<int>{0, 1})(p);
      auto lr = array(1e-3f);
      return std::vector<array>{value, subtract(p[0], multiply(lr, grads[0], s), s),
                                subtract(p[1], multiply(lr, grads[1], s), s)};
    };
    Fn compiled = compile(step);
    auto inputs = [&] {
      return std::vector<array>{b.data({in, hidden}, float32), b.data({hidden, out}, float32),
                                b.data({batch, in}, float32), b.data({batch, out}, float32)};
    };
    const double flops = 6.0 * batch * (double(in) * hidden + double(hidden) * out);  // forward + backward
    const double bytes = 4.0 * 3 * (double(in) * hidden + double(hidden) * out);      // params, grads, updates
    b.rows(g, "mlp_step", shape, float32, bytes, flops, inputs, step);
    b.rows(g, "mlp_step_compiled", shape, float32, bytes, flops, inputs, compiled);
  }
}

// Matmul results against a float64 host reference on sampled rows, for the
// shapes and layouts the GPU kernels specialize on (odd sizes, batches,
// transposed operands, AddMM). Prints CHECK|case|dtype|max_err|verdict,
// max_err normwise: |got - want| / sum_k |a_ik b_kj|, within a few output
// roundings (2^-11 float16, 2^-8 bfloat16) when the kernel is right. Then
// times 4096^3 float16 with B as stored and as a transposed view (TIME rows):
// how much the kernels' operand layouts cost.
void group_matmul_check(Bench& b) {
  const Stream s = b.gpu();
  auto host = [&](const array& x) {
    array f = astype(x, float32, s);
    eval(f);
    const float* p = f.data<float>();
    return std::vector<float>(p, p + f.size());
  };
  struct Case {
    std::string name;
    int batch, M, K, N;
    bool ta, tb, with_c;
  };
  const std::vector<Case> cases = {{"1000x777x1500", 1, 1000, 777, 1500, false, false, false},
                                   {"batch3_520x264x392", 3, 520, 264, 392, false, false, false},
                                   {"aT_bT_1024^3", 1, 1024, 1024, 1024, true, true, false},
                                   {"aT_640x512x384", 1, 640, 512, 384, true, false, false},
                                   {"addmm_512x256x384", 1, 512, 256, 384, false, false, true},
                                   {"4096^3", 1, 4096, 4096, 4096, false, false, false}};
  for (Dtype dt : {float16, bfloat16}) {
    for (const Case& c : cases) try {
      // Stored as [K, M] / [N, K] and transposed where asked.
      array a = c.ta ? b.data({c.batch, c.K, c.M}, dt) : b.data({c.batch, c.M, c.K}, dt);
      array w = c.tb ? b.data({c.batch, c.N, c.K}, dt) : b.data({c.batch, c.K, c.N}, dt);
      array bias = b.data({c.batch, c.M, c.N}, dt);
      // Transposed operands as views on the GPU stream (no copy).
      array av = c.ta ? transpose(a, {0, 2, 1}, s) : a;
      array wv = c.tb ? transpose(w, {0, 2, 1}, s) : w;
      const float alpha = 0.75f, beta = 0.5f;
      array out = c.with_c ? addmm(bias, av, wv, alpha, beta, s) : matmul(av, wv, s);
      eval(out);
      const auto ha = host(a), hw = host(w), hc = host(bias), ho = host(out);
      double worst = 0;
      for (int bi = 0; bi < c.batch; ++bi) {
        for (int i : {0, 1, c.M / 2 + 3, c.M - 1}) {
          for (int j = 0; j < c.N; ++j) {
            double want = 0, mag = 0;
            for (int k = 0; k < c.K; ++k) {
              const double x = c.ta ? ha[(int64_t(bi) * c.K + k) * c.M + i] : ha[(int64_t(bi) * c.M + i) * c.K + k];
              const double y = c.tb ? hw[(int64_t(bi) * c.N + j) * c.K + k] : hw[(int64_t(bi) * c.K + k) * c.N + j];
              want += x * y;
              mag += std::abs(x * y);
            }
            const int64_t o = (int64_t(bi) * c.M + i) * c.N + j;
            if (c.with_c) {
              want = alpha * want + beta * hc[o];
              mag = alpha * mag + std::abs(beta * hc[o]);
            }
            worst = std::max(worst, std::abs(ho[o] - want) / std::max(mag, 1e-30));
          }
        }
      }
      std::printf("CHECK|%s|%s|%.3g|%s\n", c.name.c_str(), dtype_label(dt), worst, worst < (dt == bfloat16 ? 4e-3 : 1e-3) ? "ok" : "FAIL");
      std::fflush(stdout);
    } catch (const std::exception& e) {
      std::printf("CHECK|%s|%s|error|%s\n", c.name.c_str(), dtype_label(dt), e.what());
    }
  }
  if (b.small()) return;
  const int n = 4096;
  std::vector<std::vector<array>> sets{{b.data({n, n}, float16), b.data({n, n}, float16)}};
  const double nn = b.time_ms(sets, [&](const std::vector<array>& in) { return matmul(in[0], in[1], s); });
  const double nt = b.time_ms(sets, [&](const std::vector<array>& in) {
    return matmul(in[0], transpose(in[1], s), s);
  });
  std::printf("TIME|4096^3|fp16|a@b %.4f ms|a@b.T %.4f ms\n", nn, nt);
}

// Token sampling (ops/sampling.h) on float32 logits [B, V] at T = 0.7: plain
// Gumbel-max, top-k 50 and top-p 0.9 (torch: multinomial(softmax(x / T)),
// topk then multinomial, and the sort-based top-p); sample_wide: plain on
// logits 4 x standard normal, a language model's spread, where most tokens
// cannot win and skip their noise.
void group_sampling(Bench& b) {
  const std::string g = "sampling";
  const Stream s = b.gpu();
  const std::vector<std::pair<int, int>> shapes =
      b.small() ? std::vector<std::pair<int, int>>{{1, 1000}, {4, 5000}}
                : std::vector<std::pair<int, int>>{{1, 128256}, {32, 128256}, {64, 262144}};
  for (auto [rows, vocab] : shapes) {
    const std::string shape = std::to_string(rows) + "x" + std::to_string(vocab);
    auto inputs = [&, rows = rows, vocab = vocab] {
      return std::vector<array>{b.data({rows, vocab}, float32), random::key(7)};
    };
    const double bytes = 4.0 * rows * vocab;
    const array t(0.7f);
    b.row(g, "sample", shape, float32, bytes, 0, inputs,
          [&](const std::vector<array>& in) { return sample(in[0], t, 0, 1.0f, in[1], s); });
    b.row(g, "sample_top_k", shape, float32, bytes, 0, inputs,
          [&](const std::vector<array>& in) { return sample(in[0], t, 50, 1.0f, in[1], s); });
    b.row(g, "sample_top_p", shape, float32, bytes, 0, inputs,
          [&](const std::vector<array>& in) { return sample(in[0], t, 0, 0.9f, in[1], s); });
    auto wide_inputs = [&, rows = rows, vocab = vocab] {
      auto x = multiply(b.data({rows, vocab}, float32), array(4.0f), s);
      eval(x);
      return std::vector<array>{x, random::key(7)};
    };
    b.row(g, "sample_wide", shape, float32, bytes, 0, wide_inputs,
          [&](const std::vector<array>& in) { return sample(in[0], t, 0, 1.0f, in[1], s); });
  }
}

// Sub-1-bit weights (ops/quantized.h) against float16 weights: x [M, 8192] @
// W^T for W [28672, 8192] (a 70B-class MLP projection), M = 1 (GEMV), 16 and
// 512, W as 0.75 bits per weight (v = 8, b = 6, g = 128) and as plain 1-bit,
// beside lumen's and torch's float16 x @ W^T (row "fp16_matmul", the key
// torch_bench.py prints). The packed weights are random bits (the kernels'
// speed does not depend on the values), so no quantizing is timed. Row bytes
// are the packed weights (indices, scales, codebook) plus x and the output;
// for M <= 8 a BW line gives the GB/s over the packed weights alone and their
// share of the H100's 3.35 TB/s.
//
// A GEMV of 24 MB takes ~10 us, less than lumen's per-evaluation cost on the
// host (~16 us for a one-element add: rows core|add|1 and the 3-op graph): back-to-back
// evaluations then time the host, not the kernel. So M = 1 also has an
// "_x8" row: one evaluation of 8 products of x with 8 different weight
// matrices (192 MB or more: no L2 reuse), reported per evaluation; its BW line
// divides by 8, the kernel-side figure. "_fixed" rows time the same product
// over 256 weight rows: the per-evaluation cost with almost no GPU work.
void group_binary(Bench& b) {
  const std::string g = "binary";
  const Stream s = b.gpu();
  const int n = b.small() ? 512 : 28672, k = b.small() ? 1024 : 8192;
  constexpr int kBatch = 8;
  struct Format {
    std::string name;
    int group, vector, bits;
  };
  const std::vector<Format> formats = {{"binary_0.75bpw", 128, 8, 6}, {"binary_1bit", 128, 1, 1}};
  for (int m : {1, 16, 512}) {
    const std::string shape = std::to_string(m) + "x" + std::to_string(k) + "@" + std::to_string(n) + "x" +
                              std::to_string(k) + "^T";
    const double io = 2.0 * m * (k + n), flops = 2.0 * m * double(n) * k;
    b.row(g, "fp16_matmul", shape, float16, 2.0 * n * k + io, flops,
          [&] { return std::vector<array>{b.data({m, k}, float16), b.data({n, k}, float16)}; },
          [&](const std::vector<array>& in) { return matmul(in[0], transpose(in[1], s), s); });
    for (const Format& f : formats) {
      // The K-tiled arrays (ops/quantized.h), as binary_quantize shapes them.
      const BinaryFormat layout{n, k, f.group, f.vector, f.bits};
      const int tiles = static_cast<int>(layout.index_tiles()), scale_tiles = static_cast<int>(layout.scale_tiles());
      const int tile_words = static_cast<int>(BinaryFormat::kTileWords);
      const int tile_scales = static_cast<int>(BinaryFormat::kScaleTile);
      const double packed = 4.0 * n * tiles * tile_words + 2.0 * n * scale_tiles * tile_scales + 4.0 * (1 << f.bits);
      // x, then (indices, codebook, scales) per weight matrix.
      auto make_inputs = [&](int matrices) {
        std::vector<array> in{b.data({m, k}, float16)};
        for (int i = 0; i < matrices; ++i) {
          in.push_back(random::bits({tiles, n, tile_words}, 4, random::key(11 + 2 * i), s));
          in.push_back(random::bits({1 << f.bits}, 4, random::key(12 + 2 * i), s));
          in.push_back(b.data({scale_tiles, n, tile_scales}, float16));
        }
        return in;
      };
      auto products = [&](const std::vector<array>& in) {
        std::vector<array> out;
        for (size_t i = 1; i + 2 < in.size(); i += 3) {
          BinaryWeights w{in[i], in[i + 1], in[i + 2], Shape{n, k}, f.group, f.vector, f.bits};
          out.push_back(binary_matmul(in[0], w, true, s));
        }
        return out;
      };
      auto bandwidth = [&](const std::string& op, double ms, int matrices) {
        if (ms <= 0 || m > 8) return;
        const double gbps = packed * matrices / (ms * 1e-3) / 1e9;
        std::printf("BW|%s|%s|%s|%.1f GB/s over %.1f MB packed|%.0f%% of 3.35 TB/s|%.4f ms per product\n",
                    g.c_str(), op.c_str(), shape.c_str(), gbps, packed / 1e6, 100.0 * gbps / 3350.0, ms / matrices);
      };
      const std::string op8 = f.name + "_x" + std::to_string(kBatch);
      if (m == 1 && std::getenv("LUMEN_BENCH_BINARY_VARIANTS")) {
        const std::vector<array> one = make_inputs(1), batch = make_inputs(kBatch);
        run_variants(std::getenv("LUMEN_BENCH_BINARY_VARIANTS"), [&] {
          bandwidth(f.name, b.rows(g, f.name, shape, float16, packed + io, flops, [&] { return one; }, products), 1);
          bandwidth(op8,
                    b.rows(g, op8, shape, float16, kBatch * (packed + io), kBatch * flops, [&] { return batch; },
                           products),
                    kBatch);
        });
        continue;
      }
      bandwidth(f.name,
                b.rows(g, f.name, shape, float16, packed + io, flops, [&] { return make_inputs(1); }, products), 1);
      if (m == 1) {
        // The fixed cost of one evaluation (host, submission, launch): the
        // same product over 256 weight rows, whose GPU work is ~1% of the
        // full one's.
        const int tiny = 256;
        const std::string tiny_shape = "1x" + std::to_string(k) + "@" + std::to_string(tiny) + "x" +
                                       std::to_string(k) + "^T";
        b.row(g, f.name + "_fixed", tiny_shape, float16, packed * tiny / n, 2.0 * tiny * k,
              [&] {
                return std::vector<array>{b.data({1, k}, float16),
                                          random::bits({tiles, tiny, tile_words}, 4, random::key(11), s),
                                          random::bits({1 << f.bits}, 4, random::key(12), s),
                                          b.data({scale_tiles, tiny, tile_scales}, float16)};
              },
              [&](const std::vector<array>& in) {
                BinaryWeights w{in[1], in[2], in[3], Shape{tiny, k}, f.group, f.vector, f.bits};
                return binary_matmul(in[0], w, true, s);
              });
        bandwidth(op8,
                  b.rows(g, op8, shape, float16, kBatch * (packed + io), kBatch * flops,
                         [&] { return make_inputs(kBatch); }, products),
                  kBatch);
      }
    }
  }
}

const std::map<std::string, std::function<void(Bench&)>>& groups() {
  static const std::map<std::string, std::function<void(Bench&)>> table = {
      {"core", group_core},     {"big", group_big},         {"matmul_check", group_matmul_check},
      {"random", group_random}, {"random_large", group_random_large}, {"index", group_index},
      {"attention", group_attention}, {"transforms", group_transforms}, {"sampling", group_sampling},
      {"binary", group_binary}};
  return table;
}

int usage() {
  std::fprintf(stderr, "usage: device_bench [--small] [--reps N] [--filter TEXT] [group ...]\ngroups:");
  for (auto& [name, fn] : groups()) std::fprintf(stderr, " %s", name.c_str());
  std::fprintf(stderr, "\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--small") == 0) {
      options.small = true;
    } else if (std::strcmp(argv[i], "--filter") == 0 && i + 1 < argc) {
      options.filter = argv[++i];
    } else if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
      options.reps = std::max(1, std::atoi(argv[++i]));
    } else if (argv[i][0] == '-') {
      return usage();
    } else if (groups().count(argv[i])) {
      names.emplace_back(argv[i]);
    } else {
      std::fprintf(stderr, "device_bench: no group named %s\n", argv[i]);
      return usage();
    }
  }
  if (names.empty()) {
    for (auto& [name, fn] : groups()) names.push_back(name);
  }
  if (!is_available(Device::gpu)) {
    std::fprintf(stderr, "device_bench: no usable Vulkan device\n");
    return 1;
  }
  std::printf("# lumen device_bench%s on Device::gpu\n", options.small ? " --small" : "");
  Bench bench(options);
  for (auto& name : names) groups().at(name)(bench);
  return 0;
}

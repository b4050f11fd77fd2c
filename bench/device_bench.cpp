// The device bench: lumen ops on Device::gpu, printed as
//     ROW|group|op|shape|dtype|ms|bytes|flops
// lines with the same group/op/shape/dtype keys as bench/peers/torch_bench.py,
// so bench/peers/compare.py joins the two into one table.
//
//     device_bench [--small] [--reps N] [--filter TEXT] [group ...]
//
// (default: every group; --filter keeps the rows whose "op|shape|dtype"
// contains TEXT).
//
// Timing: a few evaluations to warm up (pipelines, allocator cache), then
// repeats of many back-to-back evaluations, each repeat closed by
// synchronize() before the host clock is read; the row reports the median
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
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <lumen/lumen.h>

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
    size_t next = 0;
    auto run = [&] { return op(sets[next++ % sets.size()]); };
    double once = 0;
    for (int i = 0; i < kWarmup; ++i) {
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
  void row(const std::string& group, const std::string& op_name, const std::string& shape, Dtype dtype,
           double bytes, double flops, const std::function<std::vector<array>()>& make_inputs,
           const std::function<array(const std::vector<array>&)>& op) {
    const std::string key = op_name + "|" + shape + "|" + dtype_label(dtype);
    if (key.find(options_.filter) == std::string::npos) return;
    try {
      auto sets = input_sets(bytes, make_inputs);
      double ms = time_ms(sets, op);
      std::printf("ROW|%s|%s|%s|%s|%.4f|%.0f|%.0f\n", group.c_str(), op_name.c_str(), shape.c_str(),
                  dtype_label(dtype), ms, bytes, flops);
    } catch (const std::exception& e) {
      std::printf("# %s %s %s %s: not run: %s\n", group.c_str(), op_name.c_str(), shape.c_str(),
                  dtype_label(dtype), e.what());
    }
    std::fflush(stdout);
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
      // Transpose is a view: its CPU kernel makes one of the GPU buffer.
      array av = c.ta ? transpose(a, {0, 2, 1}, b.cpu()) : a;
      array wv = c.tb ? transpose(w, {0, 2, 1}, b.cpu()) : w;
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
    return matmul(in[0], transpose(in[1], b.cpu()), s);
  });
  std::printf("TIME|4096^3|fp16|a@b %.4f ms|a@b.T %.4f ms\n", nn, nt);
}

const std::map<std::string, std::function<void(Bench&)>>& groups() {
  static const std::map<std::string, std::function<void(Bench&)>> table = {{"core", group_core}, {"matmul_check", group_matmul_check}};
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

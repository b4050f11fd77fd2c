// Transforms on the CPU: an elementwise chain (gelu on bf16 [8192, 8192])
// uncompiled and compiled into one fused kernel, and a 2-layer MLP training
// step (value_and_grad and an SGD update) uncompiled and compiled.
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include <lumen/lumen.h>

namespace {

using lumen::array;

array gelu(const array& x) {
  auto half = array(0.5f, x.dtype());
  auto one = array(1.0f, x.dtype());
  auto inv_sqrt2 = array(static_cast<float>(1.0 / std::sqrt(2.0)), x.dtype());
  return lumen::multiply(lumen::multiply(x, half),
                         lumen::add(one, lumen::erf(lumen::multiply(x, inv_sqrt2))));
}

array evaluated(array a) {
  a.eval();
  return a;
}

constexpr int kGelu = 8192;

void run(benchmark::State& state, int64_t items,
         const std::function<std::vector<array>(const std::vector<array>&)>& f,
         const std::vector<array>& inputs) {
  lumen::eval(f(inputs));  // warm-up (and the compile trace)
  for (auto _ : state) lumen::eval(f(inputs));
  state.SetItemsProcessed(state.iterations() * items);
}

std::vector<array> gelu_fn(const std::vector<array>& in) { return {gelu(in[0])}; }

void BM_GeluBf16_Uncompiled(benchmark::State& state) {
  auto x = evaluated(lumen::random::normal({kGelu, kGelu}, lumen::bfloat16));
  run(state, int64_t{kGelu} * kGelu, gelu_fn, {x});
}

void BM_GeluBf16_Compiled(benchmark::State& state) {
  auto x = evaluated(lumen::random::normal({kGelu, kGelu}, lumen::bfloat16));
  run(state, int64_t{kGelu} * kGelu, lumen::compile(gelu_fn), {x});
}

// params: W1 [in, hidden], W2 [hidden, out]; data: x [batch, in], y [batch, out]
constexpr int kBatch = 512, kIn = 1024, kHidden = 2048, kOut = 1024;

array mlp_loss(const std::vector<array>& p) {
  auto h = lumen::maximum(lumen::matmul(p[2], p[0]), array(0.0f));
  return lumen::mean(lumen::square(lumen::subtract(lumen::matmul(h, p[1]), p[3])));
}

std::vector<array> sgd_step(const std::vector<array>& p) {
  auto [loss, grads] = lumen::value_and_grad(mlp_loss, std::vector<int>{0, 1})(p);
  auto lr = array(1e-3f);
  return {loss, lumen::subtract(p[0], lumen::multiply(lr, grads[0])),
          lumen::subtract(p[1], lumen::multiply(lr, grads[1]))};
}

std::vector<array> mlp_inputs() {
  auto k = lumen::random::key(0);
  auto keys = lumen::random::split(k, 4);
  auto scale = [](int fan_in) { return 1.0f / std::sqrt(static_cast<float>(fan_in)); };
  return {evaluated(lumen::random::normal({kIn, kHidden}, lumen::float32, 0.0f, scale(kIn),
                                          lumen::take(keys, 0, 0))),
          evaluated(lumen::random::normal({kHidden, kOut}, lumen::float32, 0.0f, scale(kHidden),
                                          lumen::take(keys, 1, 0))),
          evaluated(lumen::random::normal({kBatch, kIn}, lumen::float32, 0.0f, 1.0f,
                                          lumen::take(keys, 2, 0))),
          evaluated(lumen::random::normal({kBatch, kOut}, lumen::float32, 0.0f, 1.0f,
                                          lumen::take(keys, 3, 0)))};
}

void BM_MlpStep_Uncompiled(benchmark::State& state) { run(state, kBatch, sgd_step, mlp_inputs()); }

void BM_MlpStep_Compiled(benchmark::State& state) {
  run(state, kBatch, lumen::compile(sgd_step), mlp_inputs());
}

}  // namespace

BENCHMARK(BM_GeluBf16_Uncompiled)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GeluBf16_Compiled)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MlpStep_Uncompiled)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MlpStep_Compiled)->Unit(benchmark::kMillisecond)->UseRealTime();

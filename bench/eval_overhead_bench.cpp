// The host cost of one evaluation of a tiny graph: one-element arrays, so the
// time is graph building, scheduling, recording and submission, not compute.
// Each benchmark runs on the cpu stream (/0) and, when a Vulkan device
// exists, on the gpu stream (/1):
//   Build          add(a, b) built and dropped (graph construction alone)
//   AsyncEval      add(a, b) + async_eval, synchronize every 64 (throughput
//                  of back-to-back evaluations, as device_bench times them)
//   Eval           add(a, b) + eval (a full round trip)
//   AsyncEval3/Eval3  the same for a 3-primitive graph: exp(a + b) * a
//   CompiledEval3  Eval3 through compile (one fused primitive)
#include <benchmark/benchmark.h>

#include <lumen/lumen.h>

namespace {

using namespace lumen;

constexpr int kSyncEvery = 64;

Stream stream_of(const benchmark::State& state) {
  return default_stream(state.range(0) == 0 ? Device::cpu : Device(Device::gpu));
}

// Two evaluated one-element float32 arrays resident on `s`'s device.
std::pair<array, array> operands(const Stream& s) {
  array a = copy(array({1.5f}, Shape{1}, float32), s);
  array b = copy(array({2.5f}, Shape{1}, float32), s);
  eval(a, b);
  return {a, b};
}

array one_op(const array& a, const array& b, const Stream& s) { return add(a, b, s); }
array three_ops(const array& a, const array& b, const Stream& s) {
  return multiply(exp(add(a, b, s), s), a, s);
}

template <array (*Graph)(const array&, const array&, const Stream&)>
void BM_Build(benchmark::State& state) {
  Stream s = stream_of(state);
  auto [a, b] = operands(s);
  for (auto _ : state) {
    array c = Graph(a, b, s);
    benchmark::DoNotOptimize(c.id());
  }
}

template <array (*Graph)(const array&, const array&, const Stream&)>
void BM_AsyncEval(benchmark::State& state) {
  Stream s = stream_of(state);
  auto [a, b] = operands(s);
  eval(Graph(a, b, s));  // warm-up: pipelines, allocator cache
  int64_t n = 0;
  for (auto _ : state) {
    async_eval(Graph(a, b, s));
    if (++n % kSyncEvery == 0) synchronize(s);
  }
  synchronize(s);
}

template <array (*Graph)(const array&, const array&, const Stream&)>
void BM_Eval(benchmark::State& state) {
  Stream s = stream_of(state);
  auto [a, b] = operands(s);
  eval(Graph(a, b, s));
  for (auto _ : state) {
    array c = Graph(a, b, s);
    eval(c);
    benchmark::DoNotOptimize(c.data<float>());
  }
}

// eval of the 3-primitive graph through compile (one fused primitive): a
// call only instantiates the cached program and evaluates it.
void BM_CompiledEval3(benchmark::State& state) {
  Stream s = stream_of(state);
  auto [a, b] = operands(s);
  auto f = compile([s](const std::vector<array>& in) { return std::vector<array>{three_ops(in[0], in[1], s)}; });
  eval(f({a, b}));
  for (auto _ : state) {
    auto out = f({a, b});
    eval(out);
    benchmark::DoNotOptimize(out[0].data<float>());
  }
}

void register_all() {
  std::vector<int64_t> streams{0};
  if (is_available(Device(Device::gpu))) streams.push_back(1);
  auto add_bench = [&](const char* name, void (*fn)(benchmark::State&)) {
    auto* b = benchmark::RegisterBenchmark(name, fn)->Unit(benchmark::kMicrosecond)->UseRealTime();
    for (auto s : streams) b->Arg(s);
  };
  add_bench("Build", BM_Build<one_op>);
  add_bench("AsyncEval", BM_AsyncEval<one_op>);
  add_bench("Eval", BM_Eval<one_op>);
  add_bench("Build3", BM_Build<three_ops>);
  add_bench("AsyncEval3", BM_AsyncEval<three_ops>);
  add_bench("Eval3", BM_Eval<three_ops>);
  add_bench("CompiledEval3", BM_CompiledEval3);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

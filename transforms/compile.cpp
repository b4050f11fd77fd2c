// compile: a cache of traced, simplified and fused Programs per input
// signature; each call only instantiates the cached program on its inputs.
#include "lumen/compile.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>

#include "core/detail/errors.h"
#include "lumen/tracing.h"
#include "transforms/detail/compile_program.h"

namespace lumen {

namespace detail {

std::atomic<CompileMode>& compile_mode() {
  static std::atomic<CompileMode> mode{std::getenv("LUMEN_DISABLE_COMPILE") ? CompileMode::disabled
                                                                           : CompileMode::enabled};
  return mode;
}

namespace {

using ArraysFn = std::function<std::vector<array>(const std::vector<array>&)>;

// What a trace depends on besides the function: the stream ops default to,
// and per input its dtype, device and shape (only the rank when shapeless).
struct Signature {
  Stream stream;
  std::vector<Dtype> dtypes;
  std::vector<Device> devices;
  std::vector<Shape> shapes;  // rank-many zeros when shapeless

  static Signature of(const std::vector<array>& inputs, bool shapeless) {
    Signature sig{default_stream(default_device()), {}, {}, {}};
    for (auto& in : inputs) {
      sig.dtypes.push_back(in.dtype());
      sig.devices.push_back(in.device());
      sig.shapes.push_back(shapeless ? Shape(in.ndim(), 0) : in.shape());
    }
    return sig;
  }
  bool operator==(const Signature& o) const {
    return stream == o.stream && dtypes == o.dtypes && devices == o.devices && shapes == o.shapes;
  }
};

// One compiled function: its traces, one per signature.
class CompiledFunction {
 public:
  CompiledFunction(ArraysFn fun, bool shapeless) : fun_(std::move(fun)), shapeless_(shapeless) {}

  std::vector<array> operator()(const std::vector<array>& inputs) {
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i].is_valid()) throw_invalid("[compile] input {} is an empty array handle", i);
    }
    // Under another transform the function is traced by it instead.
    bool traced = std::any_of(inputs.begin(), inputs.end(), [](auto& a) { return a.is_tracer(); });
    if (compile_mode() == CompileMode::disabled || traced) return fun_(inputs);
    std::lock_guard<std::recursive_mutex> lock(mu_);
    return run_program(program_for(inputs), inputs, shapeless_);
  }

 private:
  const Program& program_for(const std::vector<array>& inputs) {
    auto sig = Signature::of(inputs, shapeless_);
    for (auto& [s, program] : traces_) {
      if (s == sig) return program;
    }
    Program p = trace_program(fun_, inputs);
    auto mode = compile_mode().load();
    if (mode != CompileMode::no_simplify) simplify_program(p);
    if (mode != CompileMode::no_fuse) fuse_program(p);
    traces_.emplace_back(std::move(sig), std::move(p));
    return traces_.back().second;
  }

  ArraysFn fun_;
  bool shapeless_;
  std::recursive_mutex mu_;  // a function may call itself compiled while tracing
  std::deque<std::pair<Signature, Program>> traces_;
};

using FunctionPointer = std::vector<array> (*)(const std::vector<array>&);

// Plain functions share their traces across compile calls, as in MLX.
std::shared_ptr<CompiledFunction> shared_for(FunctionPointer fun, bool shapeless) {
  static std::mutex mu;
  static std::map<std::pair<FunctionPointer, bool>, std::shared_ptr<CompiledFunction>> registry;
  std::lock_guard<std::mutex> lock(mu);
  auto& entry = registry[{fun, shapeless}];
  if (!entry) entry = std::make_shared<CompiledFunction>(fun, shapeless);
  return entry;
}

ArraysFn wrap(std::shared_ptr<CompiledFunction> cf) {
  return [cf = std::move(cf)](const std::vector<array>& inputs) { return (*cf)(inputs); };
}

}  // namespace
}  // namespace detail

std::function<std::vector<array>(const std::vector<array>&)> compile(
    std::function<std::vector<array>(const std::vector<array>&)> fun, bool shapeless) {
  if (!fun) throw std::invalid_argument("[compile] cannot compile an empty function");
  if (auto* ptr = fun.target<detail::FunctionPointer>()) {
    return detail::wrap(detail::shared_for(*ptr, shapeless));
  }
  return detail::wrap(std::make_shared<detail::CompiledFunction>(std::move(fun), shapeless));
}

std::function<std::vector<array>(const std::vector<array>&)> compile(
    std::vector<array> (*fun)(const std::vector<array>&), bool shapeless) {
  if (!fun) throw std::invalid_argument("[compile] cannot compile an empty function");
  return detail::wrap(detail::shared_for(fun, shapeless));
}

void disable_compile() { detail::compile_mode() = CompileMode::disabled; }
void enable_compile() { detail::compile_mode() = CompileMode::enabled; }
void set_compile_mode(CompileMode mode) { detail::compile_mode() = mode; }

}  // namespace lumen

#include "lumen/trace.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <vector>

#include <fmt/format.h>

#include "detail/log.h"
#include "detail/memory_hooks.h"
#include "lumen/array.h"

namespace lumen::trace {

namespace {

struct Entry {
  const char* name;
  const char* device;
  double start_us;
  double dur_us;
  size_t active;
};

struct State {
  std::mutex mu;
  std::atomic<bool> on{false};
  std::string path;
  std::vector<Entry> entries;
  State() {
    if (const char* env = std::getenv("LUMEN_TRACE")) {
      if (*env) {
        path = env;
        on = true;
        std::atexit([] { stop(); });
      }
    }
  }
};

State& state() {
  static State s;
  return s;
}

const auto epoch = std::chrono::steady_clock::now();

}  // namespace

double now_us() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - epoch).count();
}

void start(const std::string& path) {
  auto& s = state();
  std::lock_guard<std::mutex> lk(s.mu);
  s.path = path;
  s.entries.clear();
  s.on = true;
}

bool enabled() { return state().on.load(std::memory_order_relaxed); }

size_t stop() {
  auto& s = state();
  std::lock_guard<std::mutex> lk(s.mu);
  if (!s.on) return 0;
  s.on = false;
  std::ofstream f(s.path);
  if (!f) {
    detail::logger()->error("trace: cannot write {}", s.path);
    return 0;
  }
  f << "{\"traceEvents\":[\n";
  bool first = true;
  for (auto& e : s.entries) {
    if (!first) f << ",\n";
    first = false;
    f << fmt::format(
        "{{\"name\":\"{}\",\"cat\":\"{}\",\"ph\":\"X\",\"ts\":{:.3f},\"dur\":{:.3f},\"pid\":1,"
        "\"tid\":\"{}\",\"args\":{{\"active_bytes\":{}}}}}",
        e.name, e.device, e.start_us, e.dur_us, e.device, e.active);
    f << fmt::format(",\n{{\"name\":\"active memory\",\"ph\":\"C\",\"ts\":{:.3f},\"pid\":1,"
                     "\"args\":{{\"bytes\":{}}}}}",
                     e.start_us + e.dur_us, e.active);
  }
  f << "\n],\"displayTimeUnit\":\"ms\"}\n";
  size_t n = s.entries.size();
  s.entries.clear();
  return n;
}

void record(const char* name, const char* device, double start_us, double dur_us,
            size_t active_bytes) {
  auto& s = state();
  std::lock_guard<std::mutex> lk(s.mu);
  if (s.on) s.entries.push_back({name, device, start_us, dur_us, active_bytes});
}

void note_buffer(const array& a) {
  if (enabled()) memory::detail::on_buffer(a);
}

}  // namespace lumen::trace

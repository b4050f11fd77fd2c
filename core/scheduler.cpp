#include "lumen/scheduler.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_set>

#include "lumen/backend.h"
#include "lumen/event.h"
#include "lumen/primitive.h"
#include "lumen/trace.h"
#include "lumen/tracing.h"

namespace lumen {

namespace {

// All evaluation runs on one worker thread in submission order, so work
// scheduled by an earlier async_eval is done before later work that reads it,
// and the caller's thread is free meanwhile.
class Worker {
 public:
  Worker() : thread_([this] { loop(); }) {}
  ~Worker() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  void submit(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }
  static bool on_worker() { return is_worker_; }

 private:
  void loop() {
    is_worker_ = true;
    while (true) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [this] { return stop_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }
  static thread_local bool is_worker_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stop_ = false;
  std::thread thread_;
};

thread_local bool Worker::is_worker_ = false;

Worker& worker() {
  static Worker w;
  return w;
}

// Topological order of the unscheduled part of the graph, iteratively (a
// chain of a million nodes must not overflow the stack). Each multi-output
// primitive appears once.
std::vector<array> build_tape(const std::vector<array>& outputs) {
  std::vector<array> tape;
  std::unordered_set<std::uintptr_t> seen;
  struct Frame {
    array a;
    size_t next;
  };
  std::vector<Frame> stack;
  auto needs_run = [](const array& a) {
    return a.status() == array::Status::unscheduled && a.has_primitive();
  };
  auto mark = [&seen](const array& a) {
    seen.insert(a.id());
    for (auto& s : a.siblings()) seen.insert(s.id());
  };
  for (auto& out : outputs) {
    if (!needs_run(out) || seen.count(out.id())) continue;
    mark(out);
    stack.push_back({out, 0});
    while (!stack.empty()) {
      auto& top = stack.back();
      auto& ins = top.a.inputs();
      if (top.next < ins.size()) {
        const array& in = ins[top.next++];
        if (needs_run(in) && !seen.count(in.id())) {
          mark(in);
          stack.push_back({in, 0});
        }
      } else {
        tape.push_back(std::move(top.a));
        stack.pop_back();
      }
    }
  }
  return tape;
}

const char* device_name(const Device& d) { return d.type == Device::cpu ? "cpu" : "gpu"; }

// keep_graph[i]: tape[i] is a tracer, whose graph the transform tracing it
// still needs after it is evaluated.
void run_tape(std::vector<array>& tape, const std::vector<char>& keep_graph,
              const std::shared_ptr<Event>& event) {
  std::set<Stream> begun;
  size_t i = 0;
  try {
    for (; i < tape.size(); ++i) {
      array& arr = tape[i];
      auto& prim = arr.primitive();
      const Stream& stream = prim.stream();
      auto& be = backend::get(stream.device);
      if (begun.insert(stream).second) be.begin(stream);
      auto& inputs = arr.inputs();
      for (auto& in : inputs) {
        if (in.device() == stream.device) continue;
        // Cross-device input: let its producer finish, then read it in place
        // (host-visible memory) or copy it over.
        auto& src = backend::get(in.device());
        for (auto& s : begun) {
          if (s.device == in.device()) src.finish(s);
        }
        if (!be.can_read(in)) in = be.import(in, stream);
      }
      auto outputs = arr.outputs();
      const Kernel* kernel = backend::find_kernel(stream.device.type, std::type_index(typeid(prim)));
      if (trace::enabled()) {
        double t0 = trace::now_us();
        (*kernel)(prim, inputs, outputs);
        if (stream.device.type != Device::cpu) be.finish(stream);  // time the real work
        trace::record(prim.name(), device_name(stream.device), t0, trace::now_us() - t0,
                      allocator::total_active());
      } else {
        (*kernel)(prim, inputs, outputs);
      }
      if (!keep_graph[i]) arr.detach();
      tape[i] = array();  // drop the tape's reference so buffers die with their last consumer
    }
    for (auto& s : begun) backend::get(s.device).finish(s);
    event->signal();
  } catch (...) {
    auto err = std::current_exception();
    for (auto& s : begun) {
      try {
        backend::get(s.device).finish(s);
      } catch (...) {
      }
    }
    // What did not run goes back to unscheduled so a later eval can retry.
    for (size_t j = i; j < tape.size(); ++j) {
      if (!tape[j].is_valid()) continue;
      for (auto& o : tape[j].outputs()) {
        o.set_status(array::Status::unscheduled);
        o.detach_event();
      }
    }
    event->signal(err);
  }
}

std::shared_ptr<Event> schedule(const std::vector<array>& outputs) {
  auto tape = build_tape(outputs);
  if (tape.empty()) return nullptr;
  if (detail::in_tracing()) {
    // compile and vmap trace on placeholders: arrays without data or recipe
    for (auto& a : tape) {
      for (auto& in : a.inputs()) {
        if (!in.has_primitive() && !in.has_data()) {
          throw std::invalid_argument(
              "[eval] cannot evaluate an array computed from the inputs of a function being "
              "compiled or vmapped: their values are unknown while it is traced");
        }
      }
    }
  }
  auto event = std::make_shared<Event>();
  for (auto& a : tape) {
    for (auto& o : a.outputs()) {
      o.set_status(array::Status::scheduled);
      o.attach_event(event);
    }
  }
  std::vector<char> keep(tape.size());
  for (size_t i = 0; i < tape.size(); ++i) keep[i] = tape[i].is_tracer();  // this thread's traces
  if (Worker::on_worker()) {
    run_tape(tape, keep, event);
  } else {
    worker().submit([tape = std::move(tape), keep = std::move(keep), event]() mutable {
      run_tape(tape, keep, event);
    });
  }
  return event;
}

}  // namespace

void async_eval(std::vector<array> outputs) { schedule(outputs); }

void eval(std::vector<array> outputs) {
  auto event = schedule(outputs);
  if (event) event->wait();
  // Outputs scheduled earlier by async_eval.
  for (auto& o : outputs) o.wait();
}

void synchronize(Stream s) {
  // Work runs in submission order on the worker: an empty task marks the end.
  auto done = std::make_shared<Event>();
  if (Worker::on_worker()) {
    backend::get(s.device).finish(s);
    return;
  }
  worker().submit([done, s] {
    try {
      if (backend::is_created(s.device)) backend::get(s.device).finish(s);
      done->signal();
    } catch (...) {
      done->signal(std::current_exception());
    }
  });
  done->wait();
}

void synchronize() { synchronize(default_stream(default_device())); }

}  // namespace lumen

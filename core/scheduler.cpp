#include "lumen/scheduler.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_set>

#include "lumen/backend.h"
#include "lumen/event.h"
#include "lumen/primitive.h"
#include "lumen/trace.h"
#include "lumen/tracing.h"

namespace lumen {

namespace {

// Evaluation work runs one piece at a time, in submission order: on the
// worker thread, or on the calling thread when the worker is idle and the
// caller would gain nothing by handing the work over (eval blocks anyway;
// GPU work is only recorded and submitted; tiny CPU work is done sooner than
// handed over). A thread-to-thread hand-off and the wake-up back cost tens of
// microseconds each, more than evaluating a small graph.
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
  // Takes the turn to run evaluation work on the calling thread: only when
  // nothing is queued or running, so everything submitted earlier is done.
  bool try_claim() {
    std::lock_guard<std::mutex> lk(mu_);
    if (busy_ || !tasks_.empty()) return false;
    busy_ = true;
    return true;
  }
  void release() {
    bool more;
    {
      std::lock_guard<std::mutex> lk(mu_);
      busy_ = false;
      more = !tasks_.empty();
    }
    if (more) cv_.notify_one();
  }
  // Whether this thread is running evaluation work now (nested evaluations,
  // from inside a kernel, run in place).
  static bool on_executor() { return executing_; }

  // Runs evaluation work on a thread that claimed its turn.
  class InlineScope {
   public:
    explicit InlineScope(Worker& w) : worker_(w) { executing_ = true; }
    ~InlineScope() {
      executing_ = false;
      worker_.release();
    }
    InlineScope(const InlineScope&) = delete;
    InlineScope& operator=(const InlineScope&) = delete;

   private:
    Worker& worker_;
    detail::TracingPause no_tracing_;  // kernels see no tracing, as on the worker
  };

 private:
  void loop() {
    executing_ = true;
    while (true) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [this] { return stop_ || (!tasks_.empty() && !busy_); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
        busy_ = true;
      }
      task();
      std::lock_guard<std::mutex> lk(mu_);
      busy_ = false;
    }
  }
  static thread_local bool executing_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool busy_ = false;  // a task, or a caller's inline evaluation, is running
  bool stop_ = false;
  std::thread thread_;
};

thread_local bool Worker::executing_ = false;

Worker& worker() {
  static Worker w;
  return w;
}

// The last ticket each stream's backend gave for submitted work (only the
// thread running evaluation work touches it): a kernel reading an array of
// another device waits for that device's work.
std::vector<std::pair<Stream, uint64_t>>& submitted_tickets() {
  static std::vector<std::pair<Stream, uint64_t>> tickets;
  return tickets;
}

void note_ticket(const Stream& s, uint64_t ticket) {
  for (auto& [stream, t] : submitted_tickets()) {
    if (stream == s) {
      t = ticket;
      return;
    }
  }
  submitted_tickets().emplace_back(s, ticket);
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

// Streams a tape has begun (few: a flat list).
using Begun = std::vector<Stream>;

// Before a kernel on `stream` reads `in`, resident on another device: the
// work writing it (this tape's, begun on that device, or earlier tapes'
// still running there) must be done.
void wait_for_other_device(const array& in, const Begun& begun) {
  auto& src = backend::get(in.device());
  for (auto& s : begun) {
    if (s.device == in.device()) src.finish(s);
  }
  for (auto& [s, ticket] : submitted_tickets()) {
    if (s.device == in.device() && ticket) src.wait_for(s, ticket);
  }
}

// keep_graph[i]: tape[i] is a tracer, whose graph the transform tracing it
// still needs after it is evaluated. At the end each begun stream submits
// its work; the event waits for it when someone reads the results.
void run_tape(std::vector<array>& tape, const std::vector<char>& keep_graph,
              const std::shared_ptr<Event>& event) {
  Begun begun;
  size_t i = 0;
  try {
    for (; i < tape.size(); ++i) {
      array& arr = tape[i];
      auto& prim = arr.primitive();
      const Stream& stream = prim.stream();
      auto& be = backend::get(stream.device);
      if (std::find(begun.begin(), begun.end(), stream) == begun.end()) {
        begun.push_back(stream);
        be.begin(stream);
      }
      auto& inputs = arr.inputs();
      for (auto& in : inputs) {
        if (in.device() == stream.device) continue;
        // Cross-device input: let its producer finish, then read it in place
        // (host-visible memory) or copy it over.
        wait_for_other_device(in, begun);
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
    std::vector<Event::Pending> pending;
    for (auto& s : begun) {
      auto& be = backend::get(s.device);
      uint64_t ticket = be.submit(s);
      note_ticket(s, ticket);
      if (ticket) pending.push_back({&be, s, ticket});
    }
    event->signal(nullptr, std::move(pending));
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

// Whether async_eval gains nothing by handing the tape to the worker: its
// GPU primitives only record and submit work, and its CPU primitives touch
// so few elements that they take less time than the hand-off.
bool cheaper_than_hand_off(const std::vector<array>& tape) {
  constexpr size_t kMaxHostPrimitives = 16;
  constexpr size_t kMaxHostElements = 4096;  // per operand
  size_t host = 0;
  for (auto& a : tape) {
    if (a.primitive().device().type != Device::cpu) continue;
    if (++host > kMaxHostPrimitives) return false;
    for (auto& in : a.inputs()) {
      if (in.size() > kMaxHostElements) return false;
    }
    if (a.size() > kMaxHostElements) return false;
    for (auto& sib : a.siblings()) {
      if (sib.size() > kMaxHostElements) return false;
    }
  }
  return true;
}

// Orders the unscheduled part of the graph and runs it (see Worker for
// where); `blocking`: the caller waits for the result.
std::shared_ptr<Event> schedule(const std::vector<array>& outputs, bool blocking) {
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
  if (Worker::on_executor()) {
    run_tape(tape, keep, event);
  } else if ((blocking || cheaper_than_hand_off(tape)) && worker().try_claim()) {
    Worker::InlineScope scope(worker());
    run_tape(tape, keep, event);
  } else {
    worker().submit([tape = std::move(tape), keep = std::move(keep), event]() mutable {
      run_tape(tape, keep, event);
    });
  }
  return event;
}

}  // namespace

void async_eval(std::vector<array> outputs) { schedule(outputs, false); }

void eval(std::vector<array> outputs) {
  auto event = schedule(outputs, true);
  if (event) event->wait();
  // Outputs scheduled earlier by async_eval.
  for (auto& o : outputs) o.wait();
}

void synchronize(Stream s) {
  auto finish = [s] {
    if (backend::is_created(s.device)) backend::get(s.device).finish(s);
  };
  if (Worker::on_executor()) {
    finish();
    return;
  }
  if (worker().try_claim()) {
    Worker::InlineScope scope(worker());
    finish();
    return;
  }
  // Work runs in submission order on the worker: a task marks the end.
  auto done = std::make_shared<Event>();
  worker().submit([done, finish] {
    try {
      finish();
      done->signal();
    } catch (...) {
      done->signal(std::current_exception());
    }
  });
  done->wait();
}

void synchronize() { synchronize(default_stream(default_device())); }

}  // namespace lumen

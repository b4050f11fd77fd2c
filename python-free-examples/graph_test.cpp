// graph_test: how to write a graph-level unit test as a lumen user.
//
// A lazy array is a graph before it is evaluated, so a test can check WHICH
// primitives an op builds (primitive_counts), not only the values. Here: the
// fused random and sampling ops are single primitives outside transforms,
// and inside grad, vmap and compile (the tracing flag, detail::in_tracing())
// they are built from plain primitives that have derivative, batching and
// fusion rules, with the same values.
//
//   ./graph_test                prints each check; exits 1 if one fails
//   ./graph_test --device cpu   (or gpu; 77 when there is no GPU)
#include <lumen/lumen.h>

#include <cstdio>
#include <map>
#include <string>

using namespace lumen;

// ---------------------------------------------------------------- a tiny harness

int g_failures = 0;

void check(bool ok, const std::string& what) {
  std::printf("%s  %s\n", ok ? "ok  " : "FAIL", what.c_str());
  if (!ok) ++g_failures;
}

bool has(const std::map<std::string, int>& counts, const std::string& primitive) {
  return counts.count(primitive) > 0;
}

bool same_values(const array& a, const array& b) { return array_equal(a, b, false).item<bool>(); }

// What a traced function saw while a transform ran it.
struct Seen {
  bool tracing = false;
  std::map<std::string, int> counts;
  void record(const array& a) {
    tracing = detail::in_tracing();
    counts = primitive_counts({a});
  }
};

// A fused op seen inside a transform: the flag is on, the fused primitive is
// absent, the plain one is there.
void check_plain(const Seen& seen, const std::string& transform, const std::string& fused,
                 const std::string& plain) {
  check(seen.tracing, "under " + transform + ": in_tracing() is true");
  check(!has(seen.counts, fused) && has(seen.counts, plain),
        "under " + transform + ": no " + fused + ", " + plain + " instead");
}

// ---------------------------------------------------------------- the checks

void random_normal_checks() {
  const Shape shape = {64, 32};
  const array key = random::key(7);
  auto draw = [&] { return random::normal(shape, float32, key); };

  // Outside transforms: one fused primitive.
  check(!detail::in_tracing(), "outside transforms: in_tracing() is false");
  const array fused = draw();
  check(has(primitive_counts({fused}), "RandomNormal"), "random::normal builds RandomNormal");
  eval(fused);

  // grad: d/dx sum(x * normal) = normal.
  Seen in_grad;
  auto f = [&](const array& x) {
    array n = draw();
    in_grad.record(n);
    return sum(x * n);
  };
  const array g = grad(std::function<array(const array&)>(f))(zeros(shape, float32));
  check_plain(in_grad, "grad", "RandomNormal", "RandomBits");
  check(same_values(g, fused), "under grad: the gradient equals the fused draw");

  // vmap over rows of zeros: every row of the result is the draw.
  Seen in_vmap;
  auto add_draw = [&](const array& row) {
    array n = random::normal({shape[1]}, float32, key);
    in_vmap.record(n);
    return row + n;
  };
  const array rows = vmap(std::function<array(const array&)>(add_draw))(zeros({3, shape[1]}, float32));
  const array row_draw = random::normal({shape[1]}, float32, key);
  check_plain(in_vmap, "vmap", "RandomNormal", "RandomBits");
  check(same_values(rows, broadcast_to(row_draw, {3, shape[1]})), "under vmap: every row equals the fused draw");

  // compile: traced once (plain chain), then fused by compile.
  Seen in_compile;
  auto compiled = compile([&](const std::vector<array>& in) {
    array n = random::normal(shape, float32, in[0]);
    in_compile.record(n);
    return std::vector<array>{n};
  });
  const array c = compiled({key})[0];
  check_plain(in_compile, "compile", "RandomNormal", "RandomBits");
  check(same_values(c, fused), "under compile: the result equals the fused draw");
}

void sampling_checks() {
  const array logits = random::normal({4, 100}, float32, random::key(1));
  const array key = random::key(2);
  const array temperature(0.7f);
  auto draw = [&](const array& l) { return sample(l, temperature, 10, 0.9f, key); };

  const array fused = draw(logits);
  check(has(primitive_counts({fused}), "GumbelSample"), "sample builds GumbelSample");

  Seen in_compile;
  auto compiled = compile([&](const std::vector<array>& in) {
    array ids = draw(in[0]);
    in_compile.record(ids);
    return std::vector<array>{ids};
  });
  const array c = compiled({logits})[0];
  check_plain(in_compile, "compile", "GumbelSample", "RandomBits");
  check(same_values(c, fused), "under compile: sample picks the same token ids");
}

int main(int argc, char** argv) {
  const std::string device = argc == 3 && std::string(argv[1]) == "--device" ? argv[2] : "";
  if (device == "gpu" && !is_available(Device::gpu)) {
    std::printf("no GPU (Vulkan device) available\n");
    return 77;  // ctest's SKIP_RETURN_CODE
  }
  if (!device.empty()) set_default_device(device == "gpu" ? Device::gpu : Device::cpu);
  std::printf("graph tests on %s\n", default_device() == Device::gpu ? "gpu" : "cpu");
  try {
    random_normal_checks();
    sampling_checks();
  } catch (const std::exception& e) {
    check(false, std::string("exception: ") + e.what());
  }
  std::printf("%s: %d failed\n", g_failures ? "FAILED" : "passed", g_failures);
  return g_failures ? 1 : 0;
}

// random_peaks: what a large random draw costs in memory, three ways.
//
// random::uniform and random::normal are single fused primitives
// (RandomUniform, RandomNormal) that write their output and nothing else.
// Under a transform (grad, vmap, compile) they are built as the plain chain
// instead: RandomBits (uint32 words) followed by elementwise ops, which
// needs the bits and float intermediates alive at once. compile then fuses
// that chain's elementwise part back into one kernel.
//
// For each op this prints the peak memory of one evaluation divided by the
// output's bytes (1.00 = nothing but the output) for
//   plain   the plain chain, built with the fused paths off (TracingGuard)
//   fused   the fused primitive
//   compile compile's fusion of the plain chain
//
//   ./random_peaks                       8192x8192 bfloat16, default device
//   ./random_peaks --side 1024 --device cpu
#include <lumen/lumen.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

using namespace lumen;

using Draw = std::function<array(const array& key)>;

// Peak memory on `d` of evaluating make(), over the output's bytes; `graph`
// gets the primitives of the unevaluated output.
double peak_over_output(const Device& d, const std::function<array()>& make, std::string& graph) {
  synchronize();
  const size_t before = get_active_memory(d);
  reset_peak_memory(d);
  array out = make();
  graph.clear();
  for (auto& [name, n] : primitive_counts({out})) graph += name + "(" + std::to_string(n) + ") ";
  eval(out);
  synchronize();
  return static_cast<double>(get_peak_memory(d) - before) / static_cast<double>(out.nbytes());
}

void report(const char* op, const Device& d, const Draw& draw) {
  array key = random::key(2026);
  eval(key);
  std::string plain_graph, fused_graph, compiled_graph;
  const double plain = peak_over_output(d, [&] {
    detail::TracingGuard fused_paths_off;  // what grad, vmap and compile see
    return draw(key);
  }, plain_graph);
  const double fused = peak_over_output(d, [&] { return draw(key); }, fused_graph);
  // compile traces draw (so it builds the plain chain) and fuses it.
  auto compiled = compile([&](const std::vector<array>& in) { return std::vector<array>{draw(in[0])}; });
  const double fusion = peak_over_output(d, [&] { return compiled({key})[0]; }, compiled_graph);
  std::printf("%-8s | %9.2f | %9.2f | %9.2f\n", op, plain, fused, fusion);
  std::printf("           plain:   %s\n           fused:   %s\n           compile: %s\n",
              plain_graph.c_str(), fused_graph.c_str(), compiled_graph.c_str());
}

int main(int argc, char** argv) {
  int side = 8192;
  std::string device;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--side") side = std::atoi(argv[i + 1]);
    else if (flag == "--device") device = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: random_peaks [--side N] [--device cpu|gpu]\n");
      return 2;
    }
  }
  if (device == "gpu" && !is_available(Device::gpu)) {
    std::printf("no GPU (Vulkan device) available\n");
    return 77;  // ctest's SKIP_RETURN_CODE
  }
  if (!device.empty()) set_default_device(device == "gpu" ? Device::gpu : Device::cpu);
  const Device d = default_device();
  const Shape shape = {side, side};

  std::printf("%dx%d bfloat16 on %s: peak memory / output bytes (%.1f MiB)\n", side, side,
              d == Device::gpu ? "gpu" : "cpu", side * double(side) * 2 / (1024 * 1024));
  std::printf("%-8s | %9s | %9s | %9s\n", "op", "plain", "fused", "compile");
  try {
    report("uniform", d, [&](const array& k) { return random::uniform(shape, bfloat16, k); });
    report("normal", d, [&](const array& k) { return random::normal(shape, bfloat16, k); });
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}

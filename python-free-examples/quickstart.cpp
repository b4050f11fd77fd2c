// quickstart: lazy arrays, evaluation, devices and memory statistics.
//
//   ./quickstart            runs on the default device (the GPU when one exists)
//   LUMEN_DEVICE=cpu ./quickstart
#include <lumen/lumen.h>

#include <iostream>

using namespace lumen;

int main() {
  std::cout << "default device: " << default_device() << "\n";

  // Building arrays records a graph; nothing runs yet.
  auto x = array({1.0f, 2.0f, 3.0f, 4.0f}, {2, 2});
  auto y = exp(x) * 2.0f + 1.0f;
  std::cout << "graph of y:\n";
  print_graph(std::cout, {y});
  auto counts = primitive_counts({y});
  std::cout << "primitives: ";
  for (auto& [name, n] : counts) std::cout << name << "=" << n << " ";
  std::cout << "\n";

  // eval runs it (printing evaluates too).
  eval(y);
  std::cout << "y = " << y << "\n";

  // Memory: intermediates die as soon as their last consumer ran.
  reset_peak_memory();
  auto big = ones({1024, 1024}, float32);
  auto z = sqrt(exp(big * 0.5f));
  eval(z);
  std::cout << "active " << get_active_memory() << " bytes, peak " << get_peak_memory()
            << " bytes\n";

  // The same graph on an explicit device and stream.
  auto s = new_stream(Device::cpu);
  auto w = add(x, x, s);
  std::cout << "on a new cpu stream: " << w << "\n";
  return 0;
}

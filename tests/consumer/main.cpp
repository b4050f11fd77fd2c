// Uses lumen through its installed headers and CMake package only.
#include <lumen/lumen.h>

#include <iostream>

int main() {
  using namespace lumen;
  auto a = array({1.0f, 2.0f, 3.0f});
  auto b = exp(a, Device::cpu) * 2.0f;
  eval(b);
  float v = b.data<float>()[2];
  // 2 * e^3
  if (v < 40.17f || v > 40.18f) {
    std::cerr << "unexpected value " << v << "\n";
    return 1;
  }
  std::cout << "consumer ok: " << v << "\n";
  return 0;
}

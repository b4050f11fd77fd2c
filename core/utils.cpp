#include "lumen/utils.h"

#include <sstream>

#include "lumen/scheduler.h"

namespace lumen {

namespace {

void print_value(std::ostream& os, const array& a, int64_t offset) {
  const char* base = a.data<char>() + offset * static_cast<int64_t>(a.itemsize());
  switch (a.dtype()) {
    case bool_: os << (*reinterpret_cast<const bool*>(base) ? "true" : "false"); break;
    case uint8: os << static_cast<unsigned>(*reinterpret_cast<const uint8_t*>(base)); break;
    case uint16: os << *reinterpret_cast<const uint16_t*>(base); break;
    case uint32: os << *reinterpret_cast<const uint32_t*>(base); break;
    case uint64: os << *reinterpret_cast<const uint64_t*>(base); break;
    case int8: os << static_cast<int>(*reinterpret_cast<const int8_t*>(base)); break;
    case int16: os << *reinterpret_cast<const int16_t*>(base); break;
    case int32: os << *reinterpret_cast<const int32_t*>(base); break;
    case int64: os << *reinterpret_cast<const int64_t*>(base); break;
    case float16: os << static_cast<float>(*reinterpret_cast<const float16_t*>(base)); break;
    case float32: os << *reinterpret_cast<const float*>(base); break;
    case float64: os << *reinterpret_cast<const double*>(base); break;
    case bfloat16: os << static_cast<float>(*reinterpret_cast<const bfloat16_t*>(base)); break;
    case complex64: {
      auto z = *reinterpret_cast<const complex64_t*>(base);
      os << z.real() << (z.imag() < 0 ? "-" : "+") << std::abs(z.imag()) << "j";
      break;
    }
  }
}

void print_dim(std::ostream& os, const array& a, size_t dim, int64_t offset) {
  if (dim == a.ndim()) {
    print_value(os, a, offset);
    return;
  }
  os << "[";
  int n = a.shape(static_cast<int>(dim));
  for (int i = 0; i < n; ++i) {
    if (i) os << (dim + 1 == a.ndim() ? ", " : ",\n" + std::string(dim + 7, ' '));
    if (n > 12 && i == 6) {
      os << "...";
      i = n - 4;
      continue;
    }
    print_dim(os, a, dim + 1, offset + i * a.strides(static_cast<int>(dim)));
  }
  os << "]";
}

}  // namespace

std::ostream& operator<<(std::ostream& os, const Shape& s) {
  os << "(";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  return os << (s.size() == 1 ? ",)" : ")");
}

std::ostream& operator<<(std::ostream& os, array a) {
  a.eval();
  os << "array(";
  print_dim(os, a, 0, 0);
  return os << ", dtype=" << a.dtype() << ")";
}

}  // namespace lumen

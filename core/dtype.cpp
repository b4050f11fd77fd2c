#include "lumen/dtype.h"

#include <stdexcept>

namespace lumen {

namespace {

using V = Dtype::Val;
constexpr Dtype all[num_dtypes] = {bool_, uint8, uint16, uint32, uint64, int8, int16,
                                   int32, int64, float16, float32, float64, bfloat16, complex64};

constexpr Dtype::Kind kinds[num_dtypes] = {
    Dtype::Kind::b, Dtype::Kind::u, Dtype::Kind::u, Dtype::Kind::u, Dtype::Kind::u,
    Dtype::Kind::i, Dtype::Kind::i, Dtype::Kind::i, Dtype::Kind::i, Dtype::Kind::f,
    Dtype::Kind::f, Dtype::Kind::f, Dtype::Kind::V, Dtype::Kind::c};

// Promotion follows JAX's lattice as MLX does: mixing signed and unsigned
// widens, uint64 with a signed type goes to float32, any float wins over any
// integer, float16 with bfloat16 is float32.
Dtype promote_table(int a, int b) {
  auto ka = kinds[a], kb = kinds[b];
  auto is_float = [](Dtype::Kind k) { return k == Dtype::Kind::f || k == Dtype::Kind::V; };
  Dtype da = all[a], db = all[b];
  if (a == b) return da;
  if (ka == Dtype::Kind::c || kb == Dtype::Kind::c) return complex64;
  if (ka == Dtype::Kind::b) return db;
  if (kb == Dtype::Kind::b) return da;
  if (is_float(ka) && is_float(kb)) {
    if (da == float64 || db == float64) return float64;
    if (da == float32 || db == float32) return float32;
    return float32;  // float16 with bfloat16
  }
  if (is_float(ka)) return da;
  if (is_float(kb)) return db;
  // both integers
  if (ka == kb) return da.size() >= db.size() ? da : db;
  Dtype u = ka == Dtype::Kind::u ? da : db;
  Dtype s = ka == Dtype::Kind::u ? db : da;
  if (u == uint64) return float32;
  if (s.size() > u.size()) return s;
  switch (u.size()) {
    case 1: return int16;
    case 2: return int32;
    default: return int64;
  }
}

constexpr Dtype::Category categories[num_dtypes] = {
    Dtype::Category::generic,         Dtype::Category::unsignedinteger,
    Dtype::Category::unsignedinteger, Dtype::Category::unsignedinteger,
    Dtype::Category::unsignedinteger, Dtype::Category::signedinteger,
    Dtype::Category::signedinteger,   Dtype::Category::signedinteger,
    Dtype::Category::signedinteger,   Dtype::Category::floating,
    Dtype::Category::floating,        Dtype::Category::floating,
    Dtype::Category::floating,        Dtype::Category::complexfloating};

bool category_within(Dtype::Category a, Dtype::Category b) {
  using C = Dtype::Category;
  if (a == b || b == C::generic) return true;
  switch (a) {
    case C::complexfloating:
    case C::floating: return b == C::inexact || b == C::number;
    case C::inexact: return b == C::number;
    case C::signedinteger:
    case C::unsignedinteger: return b == C::integer || b == C::number;
    case C::integer: return b == C::number;
    default: return false;
  }
}

}  // namespace

Dtype dtype_from_index(int i) {
  if (i < 0 || i >= num_dtypes) throw std::out_of_range("dtype_from_index: index out of range");
  return all[i];
}

Dtype promote_types(const Dtype& t1, const Dtype& t2) {
  return promote_table(static_cast<int>(t1.val()), static_cast<int>(t2.val()));
}

Dtype::Kind kindof(const Dtype& t) { return kinds[static_cast<int>(t.val())]; }

bool issubdtype(const Dtype& a, const Dtype& b) { return a == b; }
bool issubdtype(const Dtype::Category& a, const Dtype&) { (void)a; return false; }
bool issubdtype(const Dtype& a, const Dtype::Category& b) {
  return category_within(categories[static_cast<int>(a.val())], b);
}
bool issubdtype(const Dtype::Category& a, const Dtype::Category& b) { return category_within(a, b); }

std::string dtype_to_string(const Dtype& d) {
  static const char* names[num_dtypes] = {"bool",    "uint8",   "uint16",  "uint32", "uint64",
                                          "int8",    "int16",   "int32",   "int64",  "float16",
                                          "float32", "float64", "bfloat16", "complex64"};
  return names[static_cast<int>(d.val())];
}

std::ostream& operator<<(std::ostream& os, const Dtype& d) { return os << dtype_to_string(d); }

#define LUMEN_TYPE_TO_DTYPE(T, D) \
  template <>                     \
  TypeToDtype<T>::operator Dtype() { return D; }
LUMEN_TYPE_TO_DTYPE(bool, bool_)
LUMEN_TYPE_TO_DTYPE(uint8_t, uint8)
LUMEN_TYPE_TO_DTYPE(uint16_t, uint16)
LUMEN_TYPE_TO_DTYPE(uint32_t, uint32)
LUMEN_TYPE_TO_DTYPE(uint64_t, uint64)
LUMEN_TYPE_TO_DTYPE(int8_t, int8)
LUMEN_TYPE_TO_DTYPE(int16_t, int16)
LUMEN_TYPE_TO_DTYPE(int32_t, int32)
LUMEN_TYPE_TO_DTYPE(int64_t, int64)
LUMEN_TYPE_TO_DTYPE(float16_t, float16)
LUMEN_TYPE_TO_DTYPE(float, float32)
LUMEN_TYPE_TO_DTYPE(double, float32)  // as MLX: C++ double literals make float32 arrays
LUMEN_TYPE_TO_DTYPE(bfloat16_t, bfloat16)
LUMEN_TYPE_TO_DTYPE(complex64_t, complex64)
#undef LUMEN_TYPE_TO_DTYPE

}  // namespace lumen

// Printing (MLX's utils.h).
#pragma once

#include <ostream>

#include <lumen/array.h>

namespace lumen {

std::ostream& operator<<(std::ostream& os, const Shape& s);
// Evaluates the array and prints its values, e.g. array([1, 2], dtype=int32).
std::ostream& operator<<(std::ostream& os, array a);

}  // namespace lumen

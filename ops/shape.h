// Shape ops: reshape, transpose, broadcasting, joining and splitting.
#pragma once

#include <vector>

#include <lumen/array.h>
#include <lumen/stream.h>

namespace lumen {

array broadcast_to(const array& a, const Shape& shape, StreamOrDevice s = {});
std::vector<array> broadcast_arrays(const std::vector<array>& inputs, StreamOrDevice s = {});
// The shape both broadcast to; throws std::invalid_argument naming `op`.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op = "broadcast_shapes");

}  // namespace lumen

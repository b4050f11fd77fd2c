// reduction ops.
#pragma once

#include <lumen/array.h>
#include <lumen/stream.h>

namespace lumen {}  // namespace lumen

// All ops (MLX's ops.h).
#pragma once

#include <lumen/creation.h>
#include <lumen/elementwise.h>
#include <lumen/shape.h>

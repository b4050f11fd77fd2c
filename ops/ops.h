// All ops (MLX's ops.h), one header per family.
#pragma once

#include <lumen/creation.h>
#include <lumen/elementwise.h>
#include <lumen/indexing.h>
#include <lumen/linalg.h>
#include <lumen/reduction.h>
#include <lumen/scan.h>
#include <lumen/shape.h>
#include <lumen/sort.h>

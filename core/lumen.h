// The umbrella header: everything public.
#pragma once

#include <lumen/array.h>
#include <lumen/compile.h>
#include <lumen/device.h>
#include <lumen/dtype.h>
#include <lumen/fast.h>
#include <lumen/graph.h>
#include <lumen/memory.h>
#include <lumen/ops.h>
#include <lumen/quantized.h>
#include <lumen/random.h>
#include <lumen/sampling.h>
#include <lumen/scheduler.h>
#include <lumen/stream.h>
#include <lumen/trace.h>
#include <lumen/tracing.h>
#include <lumen/transforms.h>
#include <lumen/utils.h>

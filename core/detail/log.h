// The library's spdlog logger; level from LUMEN_LOG_LEVEL (trace, debug,
// info, warn, error, off; default warn).
#pragma once

#include <spdlog/spdlog.h>

#include <memory>

namespace lumen::detail {
std::shared_ptr<spdlog::logger> logger();
}

#include "detail/log.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>

namespace lumen::detail {

std::shared_ptr<spdlog::logger> logger() {
  static std::shared_ptr<spdlog::logger> log = [] {
    auto l = spdlog::stderr_color_mt("lumen");
    l->set_pattern("[lumen %l] %v");
    auto level = spdlog::level::warn;
    if (const char* env = std::getenv("LUMEN_LOG_LEVEL")) {
      level = spdlog::level::from_str(env);
    }
    l->set_level(level);
    return l;
  }();
  return log;
}

}  // namespace lumen::detail

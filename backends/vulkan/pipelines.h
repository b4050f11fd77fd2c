// Compute pipelines, created on first use and cached by shader name and
// specialization constants. All of them share one layout: no descriptor sets
// (buffers are device addresses) and a push-constant block.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "backends/vulkan/context.h"

namespace lumen::vulkan {

class Pipelines {
 public:
  // Push-constant bytes every pipeline may use (Vulkan guarantees 128).
  static constexpr uint32_t kPushBytes = 128;
  // The specialization constant every pipeline gets besides its own: whether
  // fma() rounds once (Capabilities::native_fma; math.glsl's NATIVE_FMA).
  static constexpr uint32_t kNativeFmaConstant = 200;

  explicit Pipelines(Context& ctx);
  ~Pipelines();
  Pipelines(const Pipelines&) = delete;
  Pipelines& operator=(const Pipelines&) = delete;

  VkPipelineLayout layout() const { return layout_; }
  // The pipeline of shaders/<shader>.comp with specialization constant i set
  // to constants[i] (constant 0 is the workgroup size).
  VkPipeline get(const std::string& shader, std::span<const uint32_t> constants);
  // Adds SPIR-V made at run time (compile's fused kernels) as module `name`
  // for get(), unless a module of that name exists already.
  void add_module(const std::string& name, std::span<const uint32_t> spirv);
  bool has_module(const std::string& name);

 private:
  VkShaderModule module(const std::string& shader);
  // Logs the driver's statistics of a new pipeline (Capabilities::pipeline_statistics).
  void log_statistics(VkPipeline p, const std::string& shader, std::span<const uint32_t> constants);

  Context& ctx_;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipelineCache cache_ = VK_NULL_HANDLE;
  std::mutex mu_;
  std::map<std::string, VkShaderModule> modules_;
  std::map<std::pair<std::string, std::vector<uint32_t>>, VkPipeline> pipelines_;
};

}  // namespace lumen::vulkan

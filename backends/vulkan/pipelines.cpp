#include "backends/vulkan/pipelines.h"

#include <chrono>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "backends/vulkan/shader_table.h"
#include "core/detail/log.h"

namespace lumen::vulkan {

Pipelines::Pipelines(Context& ctx) : ctx_(ctx) {
  VkPushConstantRange push{VK_SHADER_STAGE_COMPUTE_BIT, 0, kPushBytes};
  VkPipelineLayoutCreateInfo info{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  info.pushConstantRangeCount = 1;
  info.pPushConstantRanges = &push;
  check(vkCreatePipelineLayout(ctx.device(), &info, nullptr, &layout_), "vkCreatePipelineLayout");
  VkPipelineCacheCreateInfo cache{VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
  check(vkCreatePipelineCache(ctx.device(), &cache, nullptr, &cache_), "vkCreatePipelineCache");
}

Pipelines::~Pipelines() {
  VkDevice dev = ctx_.device();
  for (auto& [k, p] : pipelines_) vkDestroyPipeline(dev, p, nullptr);
  for (auto& [k, m] : modules_) vkDestroyShaderModule(dev, m, nullptr);
  vkDestroyPipelineCache(dev, cache_, nullptr);
  vkDestroyPipelineLayout(dev, layout_, nullptr);
}

VkShaderModule Pipelines::module(const std::string& shader) {
  auto it = modules_.find(shader);
  if (it != modules_.end()) return it->second;
  for (auto& s : embedded_shaders()) {
    if (shader != s.name) continue;
    bool f64 = ctx_.caps().float64;
    if (!f64 && !s.f32) {
      throw std::logic_error(fmt::format("[vulkan] shader {} needs shaderFloat64", shader));
    }
    VkShaderModuleCreateInfo info{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    info.codeSize = (f64 ? s.f64_words : s.f32_words) * 4;
    info.pCode = f64 ? s.f64 : s.f32;
    VkShaderModule m;
    check(vkCreateShaderModule(ctx_.device(), &info, nullptr, &m), "vkCreateShaderModule");
    modules_.emplace(shader, m);
    return m;
  }
  throw std::logic_error(fmt::format("[vulkan] no embedded shader named {}", shader));
}

void Pipelines::add_module(const std::string& name, std::span<const uint32_t> spirv) {
  std::lock_guard<std::mutex> lk(mu_);
  if (modules_.count(name)) return;
  VkShaderModuleCreateInfo info{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  info.codeSize = spirv.size() * 4;
  info.pCode = spirv.data();
  VkShaderModule m;
  check(vkCreateShaderModule(ctx_.device(), &info, nullptr, &m), "vkCreateShaderModule");
  modules_.emplace(name, m);
}

bool Pipelines::has_module(const std::string& name) {
  std::lock_guard<std::mutex> lk(mu_);
  return modules_.count(name) > 0;
}

VkPipeline Pipelines::get(const std::string& shader, std::span<const uint32_t> constants) {
  auto key = std::make_pair(shader, std::vector<uint32_t>(constants.begin(), constants.end()));
  std::lock_guard<std::mutex> lk(mu_);
  auto it = pipelines_.find(key);
  if (it != pipelines_.end()) return it->second;

  // The shader's own constants, then NATIVE_FMA (ignored by shaders without it).
  std::vector<uint32_t> data(constants.begin(), constants.end());
  data.push_back(ctx_.caps().native_fma ? 1u : 0u);
  std::vector<VkSpecializationMapEntry> entries(data.size());
  for (uint32_t i = 0; i < constants.size(); ++i) entries[i] = {i, i * 4u, 4u};
  entries.back() = {kNativeFmaConstant, static_cast<uint32_t>(constants.size()) * 4u, 4u};
  VkSpecializationInfo spec{};
  spec.mapEntryCount = static_cast<uint32_t>(entries.size());
  spec.pMapEntries = entries.data();
  spec.dataSize = data.size() * 4;
  spec.pData = data.data();

  VkComputePipelineCreateInfo info{VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
  if (ctx_.caps().pipeline_statistics) info.flags |= VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR;
  info.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  info.stage.module = module(shader);
  info.stage.pName = "main";
  info.stage.pSpecializationInfo = &spec;
  info.layout = layout_;
  VkPipeline p;
  auto t0 = std::chrono::steady_clock::now();
  VkResult r = vkCreateComputePipelines(ctx_.device(), cache_, 1, &info, nullptr, &p);
  if (r != VK_SUCCESS) {  // name the kernel: a driver's compiler may refuse one variant
    check(r, fmt::format("vkCreateComputePipelines of {} ({})", shader, fmt::join(constants, ", ")).c_str());
  }
  detail::logger()->debug("vulkan: pipeline {} ({}) in {:.1f} ms", shader, fmt::join(constants, ", "),
                          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  if (ctx_.caps().pipeline_statistics) log_statistics(p, shader, constants);
  pipelines_.emplace(std::move(key), p);
  return p;
}

void Pipelines::log_statistics(VkPipeline p, const std::string& shader, std::span<const uint32_t> constants) {
  if (!vkGetPipelineExecutablePropertiesKHR || !vkGetPipelineExecutableStatisticsKHR) return;
  VkPipelineInfoKHR pipeline{VK_STRUCTURE_TYPE_PIPELINE_INFO_KHR};
  pipeline.pipeline = p;
  uint32_t count = 0;
  vkGetPipelineExecutablePropertiesKHR(ctx_.device(), &pipeline, &count, nullptr);
  for (uint32_t e = 0; e < count; ++e) {
    VkPipelineExecutableInfoKHR exe{VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR};
    exe.pipeline = p;
    exe.executableIndex = e;
    uint32_t n = 0;
    vkGetPipelineExecutableStatisticsKHR(ctx_.device(), &exe, &n, nullptr);
    std::vector<VkPipelineExecutableStatisticKHR> stats(n, {VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR});
    vkGetPipelineExecutableStatisticsKHR(ctx_.device(), &exe, &n, stats.data());
    std::string line;
    for (const auto& st : stats) {
      switch (st.format) {
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR: line += fmt::format(" {}={}", st.name, st.value.b32); break;
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR: line += fmt::format(" {}={}", st.name, st.value.i64); break;
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR: line += fmt::format(" {}={}", st.name, st.value.u64); break;
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_FLOAT64_KHR: line += fmt::format(" {}={}", st.name, st.value.f64); break;
        default: break;
      }
    }
    detail::logger()->info("vulkan: pipeline {} ({}) statistics:{}", shader, fmt::join(constants, ", "), line);
  }
}

}  // namespace lumen::vulkan

#include "backends/vulkan/codegen/glsl_compiler.h"

#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <glslang/Include/glslang_c_interface.h>
#include <glslang/Public/resource_limits_c.h>

#include "backends/vulkan/codegen/glsl_headers.h"

namespace lumen::vulkan::codegen {

namespace {

void expand_into(const std::string& source, std::string& out, int depth) {
  if (depth > 32) throw std::logic_error("[compile] GLSL includes nest too deeply");
  std::istringstream lines(source);
  std::string line;
  while (std::getline(lines, line)) {
    auto first = line.find_first_not_of(" \t");
    if (first != std::string::npos && line.compare(first, 8, "#include") == 0) {
      auto open = line.find('"', first);
      auto close = line.find('"', open + 1);
      if (open == std::string::npos || close == std::string::npos) {
        throw std::logic_error("[compile] malformed GLSL include: " + line);
      }
      std::string name = line.substr(open + 1, close - open - 1);
      auto& headers = glsl_headers();
      auto it = headers.find(name);
      if (it == headers.end()) throw std::logic_error("[compile] no embedded GLSL header " + name);
      expand_into(it->second, out, depth + 1);
      continue;
    }
    out += line;
    out += '\n';
  }
}

// glslang's process-wide state, set up once and kept.
void initialize_glslang() {
  static std::once_flag once;
  std::call_once(once, [] { glslang_initialize_process(); });
}

struct ShaderDeleter {
  void operator()(glslang_shader_t* s) const { glslang_shader_delete(s); }
};
struct ProgramDeleter {
  void operator()(glslang_program_t* p) const { glslang_program_delete(p); }
};

}  // namespace

std::string expand_includes(const std::string& source) {
  std::string out;
  expand_into(source, out, 0);
  return out;
}

std::vector<uint32_t> compile_compute_shader(const std::string& source) {
  initialize_glslang();
  const std::string code = expand_includes(source);
  glslang_input_t input{};
  input.language = GLSLANG_SOURCE_GLSL;
  input.stage = GLSLANG_STAGE_COMPUTE;
  input.client = GLSLANG_CLIENT_VULKAN;
  input.client_version = GLSLANG_TARGET_VULKAN_1_2;
  input.target_language = GLSLANG_TARGET_SPV;
  input.target_language_version = GLSLANG_TARGET_SPV_1_5;
  input.code = code.c_str();
  input.default_version = 460;
  input.default_profile = GLSLANG_NO_PROFILE;
  input.messages = static_cast<glslang_messages_t>(GLSLANG_MSG_SPV_RULES_BIT | GLSLANG_MSG_VULKAN_RULES_BIT);
  input.resource = glslang_default_resource();

  std::unique_ptr<glslang_shader_t, ShaderDeleter> shader(glslang_shader_create(&input));
  if (!glslang_shader_preprocess(shader.get(), &input) || !glslang_shader_parse(shader.get(), &input)) {
    throw std::runtime_error(fmt::format("[compile] generated GLSL does not compile:\n{}\n{}",
                                         glslang_shader_get_info_log(shader.get()), source));
  }
  std::unique_ptr<glslang_program_t, ProgramDeleter> program(glslang_program_create());
  glslang_program_add_shader(program.get(), shader.get());
  if (!glslang_program_link(program.get(), input.messages)) {
    throw std::runtime_error(fmt::format("[compile] generated GLSL does not link:\n{}",
                                         glslang_program_get_info_log(program.get())));
  }
  glslang_program_SPIRV_generate(program.get(), GLSLANG_STAGE_COMPUTE);
  std::vector<uint32_t> words(glslang_program_SPIRV_get_size(program.get()));
  glslang_program_SPIRV_get(program.get(), words.data());
  return words;
}

}  // namespace lumen::vulkan::codegen

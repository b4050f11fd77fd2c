# compile's fused kernels (backends/vulkan/codegen/): GLSL generated at run
# time and compiled with glslang's library (Debian: glslang-dev), which needs
# the shader headers' text at run time: they are embedded as strings.
find_package(glslang CONFIG REQUIRED)

file(GLOB LUMEN_CODEGEN_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.cpp)
file(GLOB LUMEN_GLSL_HEADERS CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_LIST_DIR}/../shaders/*.glsl ${CMAKE_CURRENT_LIST_DIR}/../shaders/*.h)
string(REPLACE ";" "|" _header_args "${LUMEN_GLSL_HEADERS}")
set(_embedded ${CMAKE_CURRENT_BINARY_DIR}/glsl_headers.cpp)
add_custom_command(
  OUTPUT ${_embedded}
  COMMAND ${CMAKE_COMMAND} -DOUT=${_embedded} "-DHEADERS=${_header_args}"
          -P ${CMAKE_CURRENT_LIST_DIR}/embed_headers.cmake
  DEPENDS ${LUMEN_GLSL_HEADERS} ${CMAKE_CURRENT_LIST_DIR}/embed_headers.cmake
  COMMENT "Embedding the GLSL headers"
  VERBATIM)
add_custom_target(lumen_glsl_headers DEPENDS ${_embedded})
add_dependencies(lumen lumen_glsl_headers)
target_sources(lumen PRIVATE ${LUMEN_CODEGEN_SOURCES} ${_embedded})
target_link_libraries(lumen PRIVATE glslang::glslang glslang::SPIRV
                      glslang::glslang-default-resource-limits)

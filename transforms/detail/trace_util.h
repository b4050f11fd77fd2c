// Helpers shared by the transforms: tracer inputs, output checks, and
// calling a primitive's rule with the context a user needs when it fails.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "lumen/array.h"
#include "lumen/backend.h"
#include "lumen/primitive.h"

namespace lumen::detail {

// The stream an array is computed on, or the default device's for data.
Stream stream_of(const array& a);

// A fresh node standing for `p` inside one trace, marked as a tracer.
array make_tracer(const array& p);

// Throws std::invalid_argument unless every output is a valid array.
void check_outputs(const char* transform, const std::vector<array>& outputs);

bool is_stop_gradient(const Primitive& p);

// Runs `rule`; an std::invalid_argument it throws is rethrown with the
// transform, the primitive and the function argument it depends on named
// (a no_kernel_error stays one, so callers can still tell it apart).
template <typename R>
R with_rule_context(const char* transform, const Primitive& p, int argument,
                    const std::function<R()>& rule);

std::string rule_context(const char* transform, const Primitive& p, int argument);

template <typename R>
R with_rule_context(const char* transform, const Primitive& p, int argument,
                    const std::function<R()>& rule) {
  try {
    return rule();
  } catch (const no_kernel_error& e) {
    throw no_kernel_error(std::string(e.what()) + rule_context(transform, p, argument));
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(std::string(e.what()) + rule_context(transform, p, argument));
  }
}

}  // namespace lumen::detail

// compile's representation of a traced function: a topologically ordered
// list of nodes (primitives applied to earlier nodes' outputs, leaves for the
// function's inputs and for constants), independent of any one call's arrays.
#pragma once

#include <memory>
#include <vector>

#include "lumen/array.h"
#include "lumen/primitive.h"

namespace lumen::detail {

// Output `index` of node `node`.
struct ValueRef {
  int node = -1;
  int index = 0;
  bool operator==(const ValueRef&) const = default;
};

struct Node {
  std::shared_ptr<Primitive> primitive;  // null for a leaf
  std::vector<ValueRef> inputs;
  std::vector<Shape> shapes;  // per output, as traced
  std::vector<Dtype> dtypes;
  int input_index = -1;  // leaf standing for the function's input #input_index
  array constant;        // any other leaf: an array used as it is

  bool is_leaf() const { return primitive == nullptr; }
};

struct Program {
  std::vector<Node> nodes;
  std::vector<ValueRef> outputs;
};

// Traces `fun` on placeholder inputs shaped like `inputs` (with the tracing
// flag on) and records its graph. Throws std::invalid_argument when the
// graph reaches one of `inputs` itself rather than its placeholder.
Program trace_program(const std::function<std::vector<array>(const std::vector<array>&)>& fun,
                      const std::vector<array>& inputs);

// Merges equal scalar constants and equivalent nodes on the same inputs,
// forwards no-ops (Copy, StopGradient) and drops nodes no output needs.
void simplify_program(Program& p);

// Replaces chains of elementwise primitives (broadcasts included) on one
// stream by Compiled primitives, where the stream's backend has a kernel for
// them.
void fuse_program(Program& p);

// Drops nodes no output needs (renumbering the rest).
void remove_dead_nodes(Program& p);

// The outputs of the program on real inputs; `shapeless` infers each node's
// shapes from its inputs instead of using the traced ones.
std::vector<array> run_program(const Program& p, const std::vector<array>& inputs,
                               bool shapeless);

}  // namespace lumen::detail

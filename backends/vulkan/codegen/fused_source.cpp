#include "backends/vulkan/codegen/fused_source.h"

#include <map>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>

#include "backends/vulkan/kernels/elementwise.h"
#include "backends/vulkan/kernels/launch.h"
#include "core/detail/errors.h"
#include "lumen/random_primitives.h"
#include "lumen/shape_primitives.h"

namespace lumen::vulkan::codegen {

namespace {

// The names math_op.glsl defines, renamed per transcendental op.
constexpr const char* kMathNames[] = {"float_math",  "float_math2",  "double_math",
                                      "double_math2", "complex_math", "complex_math2"};

// One instantiation of element_ops.glsl: a compute class and, for a
// transcendental op, that op.
struct Variant {
  bool binary;
  uint32_t cls;
  int math_op;  // OP_* number, or -1
  auto key() const { return std::tie(binary, cls, math_op); }
  bool operator<(const Variant& o) const { return key() < o.key(); }
};

class Writer {
 public:
  Writer(const Compiled& c, bool f64) : c_(c), f64_(f64) {}

  FusedSource run() {
    const int num_inputs = static_cast<int>(c_.input_dtypes().size());
    for (int i = 0; i < num_inputs; ++i) {
      out_.slots.push_back(c_.reads_elementwise(i) ? num_slots_++ : -1);
      dtypes_.push_back(c_.input_dtypes()[i]);
      names_.push_back(out_.slots[i] >= 0 ? fmt::format("x{}", out_.slots[i]) : std::string());
    }
    for (auto& st : c_.steps()) step(st);
    for (Dtype d : dtypes_) {
      if (d == float64 && !f64_) {
        detail::throw_invalid("[compile] float64 needs a GPU with shaderFloat64");
      }
    }
    std::string src = "#version 460\n";
    src += fmt::format("#define LUMEN_F64 {}\n", f64_ ? 1 : 0);
    // ops.glsl with a MATH_OP that is no op: the transcendental helpers,
    // which the renamed math_op.glsl instances below call.
    src += "#define MATH_OP 1000\n#include \"ops.glsl\"\n#undef MATH_OP\n";
    src += "#include \"astype.glsl\"\n#include \"fused.glsl\"\n\n";
    for (auto& [v, name] : variants_) src += variant_block(v, name);
    src += globals();
    src += element_function();
    src += offsets_function();
    src += main_function();
    out_.glsl = std::move(src);
    return std::move(out_);
  }

 private:
  static std::string dt(Dtype d) { return fmt::format("{}u", dtype_id(d)); }

  const std::string& variant(bool binary, Dtype d, bool math, uint32_t op) {
    Variant v{binary, class_id(d), math ? static_cast<int>(op) : -1};
    auto it = variants_.find(v);
    if (it == variants_.end()) {
      it = variants_.emplace(v, fmt::format("{}_v{}", binary ? "binary" : "unary", variants_.size())).first;
    }
    return it->second;
  }

  void step(const Compiled::Step& st) {
    const int value = static_cast<int>(names_.size());
    const Primitive& p = *st.primitive;
    auto arg = [&](int i) { return names_[st.args[i]]; };
    auto arg_dtype = [&](int i) { return dtypes_[st.args[i]]; };
    dtypes_.push_back(st.dtype);
    if (dynamic_cast<const Broadcast*>(&p)) {  // computed at the output shape already
      names_.push_back(arg(0));
      return;
    }
    std::string expr;
    if (auto* u = dynamic_cast<const Unary*>(&p)) {
      Dtype d = arg_dtype(0);
      expr = fmt::format("{}({}u, {}, {})", variant(false, d, is_math_op(u->op(), d), op_id(u->op())),
                         op_id(u->op()), dt(d), arg(0));
    } else if (auto* b = dynamic_cast<const Binary*>(&p)) {
      Dtype d = arg_dtype(0);
      expr = fmt::format("{}({}u, {}, {}, {})", variant(true, d, is_math_op(b->op(), d), op_id(b->op())),
                         op_id(b->op()), dt(d), arg(0), arg(1));
    } else if (dynamic_cast<const AsType*>(&p)) {
      expr = fmt::format("astype_bits({}, {}, {})", dt(arg_dtype(0)), dt(st.dtype), arg(0));
    } else if (dynamic_cast<const Select*>(&p)) {
      // Select's kernel (select.comp): the condition's bits pick.
      expr = fmt::format("({} != 0ul ? {} : {})", arg(0), arg(1), arg(2));
    } else if (Compiled::is_generator(p)) {
      int g = static_cast<int>(out_.generator_keys.size());
      out_.generator_keys.push_back(st.args[0]);
      expr = fmt::format("uint64_t(fused_random_word({}u, keys{}, e))", generator_base(g), g);
    } else {
      throw std::logic_error(fmt::format("[compile] no GPU code for fused {}", p.name()));
    }
    std::string name = fmt::format("v{}", value);
    body_ += fmt::format("  uint64_t {} = {};\n", name, expr);
    names_.push_back(std::move(name));
  }

  int num_outputs() const { return static_cast<int>(c_.outputs().size()); }
  int num_inputs() const { return static_cast<int>(c_.input_dtypes().size()); }
  int generator_base(int g) const { return num_outputs() + num_inputs() + 4 * g; }
  // Table index of the collapsed shape (shaders/fused.glsl).
  int shape_base() const {
    return num_outputs() + num_inputs() + 4 * static_cast<int>(out_.generator_keys.size());
  }

  std::string variant_block(const Variant& v, const std::string& name) const {
    std::string s = fmt::format("#define CLASS {}\n", v.cls);
    if (v.math_op >= 0) {
      s += fmt::format("#define MATH_OP {}\n", v.math_op);
      for (const char* m : kMathNames) s += fmt::format("#define {} {}_{}\n", m, m, name);
      s += "#include \"math_op.glsl\"\n";
    }
    s += fmt::format("#define {} {}\n", v.binary ? "BINARY_ELEMENT" : "UNARY_ELEMENT", name);
    s += fmt::format("#define {} unused_{}\n", v.binary ? "UNARY_ELEMENT" : "BINARY_ELEMENT", name);
    s += "#include \"element_ops.glsl\"\n#undef UNARY_ELEMENT\n#undef BINARY_ELEMENT\n#undef CLASS\n";
    if (v.math_op >= 0) {
      s += "#undef MATH_OP\n";
      for (const char* m : kMathNames) s += fmt::format("#undef {}\n", m);
    }
    return s + "\n";
  }

  // Specialization constants of the input modes, the keys' addresses and
  // any_strided().
  std::string globals() const {
    std::string s;
    for (int i = 0; i < num_inputs(); ++i) {
      int slot = out_.slots[i];
      if (slot >= 0) {
        s += fmt::format("layout(constant_id = {}) const uint MODE{} = MODE_CONTIGUOUS;\n", 2 + slot, slot);
      }
    }
    for (size_t g = 0; g < out_.generator_keys.size(); ++g) s += fmt::format("uint64_t keys{};\n", g);
    // A function, not a constant expression: glslang miscompiles || between
    // specialization constants (as elementwise_main.glsl notes).
    s += "\nbool any_strided() {\n";
    for (int k = 0; k < num_slots_; ++k) s += fmt::format("  if (MODE{} == MODE_STRIDED) return true;\n", k);
    return s + "  return false;\n}\n\n";
  }

  std::string element_function() const {
    std::string s = "void fused_element(uint64_t e";
    for (int k = 0; k < num_slots_; ++k) s += fmt::format(", uint64_t x{}", k);
    for (int o = 0; o < num_outputs(); ++o) s += fmt::format(", out uint64_t r{}", o);
    s += ") {\n" + body_;
    for (int o = 0; o < num_outputs(); ++o) s += fmt::format("  r{} = {};\n", o, names_[c_.outputs()[o]]);
    return s + "}\n\n";
  }

  // The strided inputs' element offsets at linear index e, and the position
  // along the innermost collapsed dimension.
  std::string offsets_function() const {
    std::string s = "void fused_offsets(uint64_t e";
    for (int k = 0; k < num_slots_; ++k) s += fmt::format(", inout int64_t o{}", k);
    s += ", out uint64_t inner_pos, out uint64_t inner_extent) {\n";
    s += "  int nd = int(pc.ndim);\n  inner_pos = 0ul;\n  inner_extent = 1ul;\n";
    for (int k = 0; k < num_slots_; ++k) s += fmt::format("  o{} = 0;\n", k);
    s += fmt::format("  for (int d = nd - 1; d >= 0; --d) {{\n"
                     "    uint64_t extent = uint64_t(table_at({}u + uint(d)));\n"
                     "    uint64_t c;\n    e = fused_divide(e, extent, c);\n"
                     "    if (d == nd - 1) {{\n      inner_pos = c;\n      inner_extent = extent;\n    }}\n",
                     shape_base());
    for (int k = 0; k < num_slots_; ++k) {
      s += fmt::format("    if (MODE{0} == MODE_STRIDED) o{0} += int64_t(c) * table_at({1}u + uint(nd) * {2}u + uint(d));\n",
                       k, shape_base(), k + 1);
    }
    return s + "  }\n}\n\n";
  }

  // A thread moves four consecutive elements: with vector accesses when
  // VECTOR holds and all four exist, else one by one. The element code
  // appears once (drivers compile it once per pipeline).
  std::string main_function() const {
    const int nin = num_inputs(), nout = num_outputs();
    std::string s = "void main() {\n";
    std::string head, vector_loads, lane_loads, call_args, steps, offsets_args;
    for (int i = 0; i < nin; ++i) {
      int k = out_.slots[i];
      if (k < 0) continue;
      Dtype d = c_.input_dtypes()[i];
      const size_t size = size_of(d);
      head += fmt::format("  uint64_t in{0} = address_at({1}u);\n"
                          "  uint64_t s{0} = MODE{0} == MODE_SCALAR ? load_bits({2}, in{0}) : 0ul;\n",
                          k, nout + i, dt(d));
      vector_loads += fmt::format(
          "    u64vec4 a{0} = u64vec4(s{0});\n"
          "    if (vec && MODE{0} == MODE_CONTIGUOUS) a{0} = load4_bits({1}, in{0} + first * {2}ul);\n",
          k, dt(d), size);
      lane_loads += fmt::format(
          "      uint64_t x{0} = lane_of(a{0}, l);\n"
          "      if (!vec && MODE{0} == MODE_CONTIGUOUS) x{0} = load_bits({1}, in{0} + e * {2}ul);\n"
          "      if (MODE{0} == MODE_STRIDED) x{0} = load_bits({1}, in{0} + uint64_t(o{0} * {2}l));\n",
          k, dt(d), size);
      call_args += fmt::format(", x{}", k);
      steps += fmt::format("          if (MODE{0} == MODE_STRIDED) o{0} += table_at({1}u + uint(pc.ndim) * {2}u + pc.ndim - 1u);\n",
                           k, shape_base(), k + 1);
      offsets_args += fmt::format(", o{}", k);
    }
    for (size_t g = 0; g < out_.generator_keys.size(); ++g) {
      head += fmt::format("  keys{} = address_at({}u);\n", g, nout + out_.generator_keys[g]);
    }
    std::string lane_results, lane_stores, vector_stores;
    for (int o = 0; o < nout; ++o) {
      Dtype d = dtypes_[c_.outputs()[o]];
      head += fmt::format("  uint64_t out{} = address_at({}u);\n", o, o);
      lane_results += fmt::format("    u64vec4 y{} = u64vec4(0ul);\n", o);
      call_args += fmt::format(", r{}", o);
      lane_stores += fmt::format("      y{0} = with_lane(y{0}, l, r{0});\n"
                                 "      if (!vec) store_bits({1}, out{0} + e * {2}ul, r{0});\n",
                                 o, dt(d), size_of(d));
      vector_stores += fmt::format("    if (vec) store4_bits({0}, out{1} + first * {2}ul, y{1});\n", dt(d), o, size_of(d));
    }
    s += head;
    s += "  uint64_t threads = uint64_t(gl_NumWorkGroups.x) * uint64_t(gl_WorkGroupSize.x);\n";
    s += "  for (uint64_t chunk = gl_GlobalInvocationID.x; chunk * ELEMENTS_PER_THREAD < pc.n; chunk += threads) {\n";
    s += "    uint64_t first = chunk * ELEMENTS_PER_THREAD;\n";
    s += "    uint64_t last = min(first + ELEMENTS_PER_THREAD, pc.n);\n";
    s += "    bool vec = VECTOR && last == first + ELEMENTS_PER_THREAD;\n";
    s += vector_loads + lane_results;
    for (int k = 0; k < num_slots_; ++k) s += fmt::format("    int64_t o{} = 0;\n", k);
    s += "    uint64_t inner_pos = 0ul, inner_extent = 1ul;\n";
    s += "    if (any_strided()) fused_offsets(first" + offsets_args + ", inner_pos, inner_extent);\n";
    // A constant trip count: compilers may unroll it (the vector lanes then
    // index statically).
    s += "    for (uint l = 0u; l < ELEMENTS_PER_THREAD; ++l) {\n      uint64_t e = first + l;\n"
         "      if (e >= last) break;\n" + lane_loads;
    for (int o = 0; o < nout; ++o) s += fmt::format("      uint64_t r{};\n", o);
    s += "      fused_element(e" + call_args + ");\n" + lane_stores;
    s += "      if (any_strided() && e + 1ul < last) {\n"
         "        // Step along the innermost dimension, or recompute at its end.\n"
         "        if (inner_pos + 1ul < inner_extent) {\n"
         "          inner_pos += 1ul;\n" + steps +
         "        } else {\n"
         "          fused_offsets(e + 1ul" + offsets_args + ", inner_pos, inner_extent);\n"
         "        }\n      }\n    }\n";
    // Written after every read of the four elements: an output may share a
    // donated input's buffer.
    s += vector_stores + "  }\n}\n";
    return s;
  }

  const Compiled& c_;
  bool f64_;
  FusedSource out_;
  int num_slots_ = 0;
  std::vector<Dtype> dtypes_;       // per value
  std::vector<std::string> names_;  // per value: its GLSL variable
  std::string body_;
  std::map<Variant, std::string> variants_;
};

}  // namespace

FusedSource fused_source(const Compiled& c, bool f64) { return Writer(c, f64).run(); }

}  // namespace lumen::vulkan::codegen

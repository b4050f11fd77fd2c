// Sorting primitives (MLX's Sort, ArgSort, Partition, ArgPartition). All work
// along one non-negative axis; NaNs order after every number, and ties keep
// their input order (sort is stable).
#pragma once

#include <lumen/primitive.h>

namespace lumen {

class Sort : public UnaryPrimitive {
 public:
  Sort(Stream s, int axis) : UnaryPrimitive(s), axis_(axis) {}
  int axis() const { return axis_; }
  const char* name() const override { return "Sort"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  int axis_;
};

// uint32 indices that sort along the axis (stable).
class ArgSort : public UnaryPrimitive {
 public:
  ArgSort(Stream s, int axis) : UnaryPrimitive(s), axis_(axis) {}
  int axis() const { return axis_; }
  const char* name() const override { return "ArgSort"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  int axis_;
};

// The element that would sit at `kth` (non-negative) after sorting is put
// there; no element before it is greater, none after it is smaller.
class Partition : public UnaryPrimitive {
 public:
  Partition(Stream s, int kth, int axis) : UnaryPrimitive(s), kth_(kth), axis_(axis) {}
  int kth() const { return kth_; }
  int axis() const { return axis_; }
  const char* name() const override { return "Partition"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  int kth_;
  int axis_;
};

// uint32 indices of Partition's arrangement (ties ordered by index).
class ArgPartition : public UnaryPrimitive {
 public:
  ArgPartition(Stream s, int kth, int axis) : UnaryPrimitive(s), kth_(kth), axis_(axis) {}
  int kth() const { return kth_; }
  int axis() const { return axis_; }
  const char* name() const override { return "ArgPartition"; }
  bool is_equivalent(const Primitive& other) const override;
  std::vector<Shape> output_shapes(const std::vector<array>& inputs) override;
  LUMEN_DECLARE_RULES()

 private:
  int kth_;
  int axis_;
};

}  // namespace lumen

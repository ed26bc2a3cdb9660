#pragma once
// Internal: the tape behind GradientTape, and the thread-local stack of active tapes.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tapeflow/autograd/gradient_tape.hpp"
#include "tapeflow/autograd/record.hpp"

namespace tapeflow::detail {

struct VariableState {
  std::uint64_t id;
  std::string name;
  bool trainable;
  std::shared_ptr<Storage> storage;
};

/// A set of nonzero ids: open addressing with linear probing (0 marks an empty slot), so an
/// insert costs no node allocation. Ids are never removed one by one, only all at once.
class IdSet {
 public:
  bool contains(std::uint64_t id) const {
    if (id == 0 || slots_.empty()) return false;
    for (std::size_t i = slot_of(id);; i = (i + 1) & mask_) {
      if (slots_[i] == id) return true;
      if (slots_[i] == 0) return false;
    }
  }
  /// True when `id` was not in the set yet.
  bool insert(std::uint64_t id);
  void clear();
  std::size_t size() const { return size_; }

 private:
  // Fibonacci hashing: ids are mostly consecutive, the multiply spreads them over the table.
  std::size_t slot_of(std::uint64_t id) const {
    return static_cast<std::size_t>((id * 0x9E3779B97F4A7C15ULL) >> shift_);
  }
  void grow();

  std::vector<std::uint64_t> slots_;
  std::size_t size_ = 0;
  std::size_t mask_ = 0;
  unsigned shift_ = 64;
};

/// One input of a recorded op: its id, dtype and shape (the shape lives in Tape::dims_, so an
/// entry copies no Shape vector).
struct TapeInput {
  std::uint64_t id;  // 0 for a none input
  std::uint32_t dims;  // offset of the shape in Tape::dims_
  std::uint32_t rank;
  DType dtype;
};

/// One recorded op: which ids it read and produced, and how to send gradients back.
struct TapeEntry {
  const char* op;
  std::uint64_t output_id;
  std::uint64_t needs;  // inputs this tape knew when it recorded the op
  std::uint32_t first_input;  // inputs are Tape::inputs_[first_input, first_input + input_count)
  std::uint32_t input_count;
  BackwardPtr backward;  // none for a variable read
  bool passes_sparse;  // a variable read: an IndexedSlices gradient flows through unchanged
};

class Tape {
 public:
  Tape(bool persistent, bool watch_accessed_variables);
  ~Tape();

  bool persistent() const { return persistent_; }
  bool recording() const { return recording_; }
  void set_recording(bool on);

  void watch_tensor(const Tensor& tensor);
  void watch_variable(const Variable& variable);
  bool knows(std::uint64_t id) const { return known_.contains(id); }
  /// Records an op; `needs` has bit i set when this tape knows input i (i < 64).
  void add_operation(const char* op, const Tensor& output, const Tensor* const* inputs,
                     std::size_t count, std::uint64_t needs, const BackwardPtr& backward);
  /// Records a read of `variable` producing `value` when this tape watches it (or should).
  void record_read(const VariableState& state, const Variable& variable, const Tensor& value);
  void reset();

  /// The gradients of `target` (seeded with `seed`) for each id in `sources`.
  std::vector<Gradient> backward(const Tensor& target, const Tensor& seed,
                                 const std::vector<std::uint64_t>& sources);
  /// Marks a gradient computation; ValueError on a second one for a non-persistent tape.
  void begin_gradient(const char* what);
  /// After a non-persistent tape's one gradient computation (or its failure): drops the recorded
  /// ops and the tensors their backward functions hold, and stops recording, as TF does with
  /// such a tape, so that an optimizer step right after `gradient` updates the variables in place
  /// instead of copying buffers the tape still shared. The watched variables stay listed;
  /// reset() makes the tape record again.
  void release_if_spent();

  std::vector<Variable> watched_variables() const { return watched_variables_; }

 private:
  TapeInput add_input(std::uint64_t id, const Shape& shape, DType dtype);
  bool same_shape(const TapeInput& input, const Shape& shape) const;
  Shape shape_of(const TapeInput& input) const;

  bool persistent_;
  bool watch_accessed_variables_;
  bool recording_ = true;
  bool used_ = false;
  bool spent_ = false;  // released after its one gradient: records and watches nothing more
  std::vector<TapeEntry> entries_;
  std::vector<TapeInput> inputs_;
  std::vector<std::size_t> dims_;
  IdSet known_;
  std::vector<Variable> watched_variables_;
};

/// The tapes alive on this thread, innermost last.
std::vector<Tape*>& tape_stack();

/// Records a variable read on the recording tapes (Variable::value calls it).
void record_variable_read(const VariableState& state, const Variable& variable,
                          const Tensor& value);

/// a + b for gradients: dense adds, IndexedSlices concatenate, mixed densify.
Gradient add_gradients(const Gradient& a, const Gradient& b);

}  // namespace tapeflow::detail

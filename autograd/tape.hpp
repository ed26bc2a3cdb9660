#pragma once
// Internal: the tape behind GradientTape, and the thread-local stack of active tapes.

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
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

/// One recorded op: which ids it read and produced, and how to send gradients back.
struct TapeEntry {
  const char* op;
  std::uint64_t output_id;
  struct Input {
    std::uint64_t id;
    Shape shape;
    DType dtype;
  };
  std::vector<Input> inputs;
  std::uint64_t needs;  // inputs this tape knew when it recorded the op
  std::shared_ptr<const BackwardFunction> backward;
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
  bool knows(std::uint64_t id) const { return known_.count(id) != 0; }
  void add_entry(TapeEntry entry) {
    known_.insert(entry.output_id);
    entries_.push_back(std::move(entry));
  }
  /// Records a read of `variable` producing `value` when this tape watches it (or should).
  void record_read(const VariableState& state, const Variable& variable, const Tensor& value,
                   const std::shared_ptr<const BackwardFunction>& identity);
  void reset();

  /// The gradients of `target` (seeded with `seed`) for each id in `sources`.
  std::vector<Gradient> backward(const Tensor& target, const Tensor& seed,
                                 const std::vector<std::uint64_t>& sources);
  /// Marks a gradient computation; ValueError on a second one for a non-persistent tape.
  void begin_gradient(const char* what);

  std::vector<Variable> watched_variables() const { return watched_variables_; }

 private:
  bool persistent_;
  bool watch_accessed_variables_;
  bool recording_ = true;
  bool used_ = false;
  std::vector<TapeEntry> entries_;
  std::unordered_set<std::uint64_t> known_;
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

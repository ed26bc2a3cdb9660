// Variable: names, aliasing copies, in-place assign / assign_add / assign_sub, copy-on-write for
// earlier reads, all-or-nothing errors, and printing exactly as TensorFlow's repr.

#include <sstream>

#include "op_support.hpp"

using namespace tapeflow;
using tapeflow::testing::arr;
using tapeflow::testing::f64;
using tapeflow::testing::s64;

namespace {

std::string str(const Variable& v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

/// The address of the variable's buffer, read without keeping a Tensor alive afterwards.
const void* buffer_of(const Variable& v) { return v.read_value_no_record().raw_data(); }

}  // namespace

TEST_CASE("Variable: name with the :0 suffix, trainable flag, shape and dtype") {
  Variable w(Tensor{1.0, 2.0}, "w");
  CHECK(w.name() == "w:0");
  CHECK(w.trainable());
  CHECK(w.shape() == Shape{2});
  CHECK(w.dtype() == DType::float32);
  CHECK(w.size() == 2);
  CHECK(w.numpy<float>() == arr<float>({1.0f, 2.0f}));
  CHECK(Variable(Tensor(1.0)).name() == "Variable:0");
  CHECK(Variable(Tensor(1.0), "dense/kernel").name() == "dense/kernel:0");
  const Variable frozen(f64({1.0}), "frozen", false);
  CHECK_FALSE(frozen.trainable());
  CHECK_THROWS_WITH_TEXT(Variable(Tensor(), "v"), ValueError,
                         "Variable: initial_value is none for variable 'v'");
}

TEST_CASE("Variable: the initial value is copied, copies alias one variable") {
  const Tensor init = f64({1.0, 2.0});
  Variable a(init, "a");
  CHECK(buffer_of(a) != init.raw_data());  // the variable owns its buffer
  Variable b = a;
  CHECK(b.id() == a.id());
  b.assign(f64({5.0, 6.0}));
  CHECK(a.numpy<double>() == arr<double>({5.0, 6.0}));
  CHECK_ALLCLOSE(init, f64({1.0, 2.0}), 0, 0);  // the tensor it was made from is untouched
  Variable c(init, "a");
  CHECK(c.id() != a.id());  // the same name does not make the same variable
}

TEST_CASE("Variable: assign, assign_add, assign_sub write in place when no read is alive") {
  Variable v(f64({1.0, 2.0, 3.0}), "v");
  const void* before = buffer_of(v);
  v.assign(f64({4.0, 5.0, 6.0}));
  CHECK(buffer_of(v) == before);
  CHECK(v.numpy<double>() == arr<double>({4.0, 5.0, 6.0}));
  v.assign_add(f64({0.5, 0.5, 0.5}));
  CHECK(buffer_of(v) == before);
  CHECK(v.numpy<double>() == arr<double>({4.5, 5.5, 6.5}));
  v.assign_sub(f64({1.5, 2.5, 3.5}));
  CHECK(buffer_of(v) == before);
  CHECK(v.numpy<double>() == arr<double>({3.0, 3.0, 3.0}));
  CHECK(v.mutable_data() == before);
  // Integer variables too (an optimizer's iteration counter).
  Variable it(Tensor(std::int64_t{10}), "iter", false);
  it.assign_add(Tensor(std::int64_t{1}));
  CHECK(it.read_value_no_record().item<std::int64_t>() == 11);
}

TEST_CASE("Variable: copy-on-write keeps earlier reads at their old values") {
  Variable v(f64({1.0, 2.0}), "v");
  const Tensor read = v.value();
  const Tensor raw = v.read_value_no_record();
  v.assign(f64({7.0, 8.0}));
  CHECK_ALLCLOSE(read, f64({1.0, 2.0}), 0, 0);
  CHECK_ALLCLOSE(raw, f64({1.0, 2.0}), 0, 0);
  CHECK_ALLCLOSE(v.value(), f64({7.0, 8.0}), 0, 0);
  const Tensor second = v.value();
  v.assign_add(f64({1.0, 1.0}));
  CHECK_ALLCLOSE(second, f64({7.0, 8.0}), 0, 0);
  const Tensor third = v;  // conversion is a read
  v.assign_sub(f64({1.0, 1.0}));
  CHECK_ALLCLOSE(third, f64({8.0, 9.0}), 0, 0);
  CHECK_ALLCLOSE(v.value(), f64({7.0, 8.0}), 0, 0);
  // mutable_data also unshares first.
  const Tensor fourth = v.value();
  static_cast<double*>(v.mutable_data())[0] = -1.0;
  CHECK_ALLCLOSE(fourth, f64({7.0, 8.0}), 0, 0);
  CHECK_ALLCLOSE(v.value(), f64({-1.0, 8.0}), 0, 0);
  // Assigning a variable its own value (the value aliases the buffer).
  v.assign_add(v.read_value_no_record());
  CHECK_ALLCLOSE(v.value(), f64({-2.0, 16.0}), 0, 0);
  v.assign(v.value() * 0.5);
  CHECK_ALLCLOSE(v.value(), f64({-1.0, 8.0}), 0, 0);
}

TEST_CASE("Variable: a wrong shape or dtype is a ValueError and the value is unchanged") {
  Variable v(Tensor{1.0, 2.0}, "w");
  const void* before = buffer_of(v);
  CHECK_THROWS_WITH_TEXT(v.assign(Tensor{1.0, 2.0, 3.0}), ValueError,
                         "assign: shape mismatch for variable 'w:0': expected (2,), received (3,)");
  CHECK_THROWS_WITH_TEXT(v.assign(f64({1.0, 2.0})), ValueError,
                         "assign: dtype mismatch for variable 'w:0': expected float32, received float64");
  CHECK_THROWS_WITH_TEXT(v.assign_add(Tensor(1.0)), ValueError,
                         "assign_add: shape mismatch for variable 'w:0': expected (2,), received ()");
  CHECK_THROWS_WITH_TEXT(v.assign_sub(Tensor{1, 2}), ValueError,
                         "assign_sub: dtype mismatch for variable 'w:0': expected float32, received int32");
  CHECK_THROWS_WITH_TEXT(v.assign(Tensor()), ValueError, "assign: the value for variable 'w:0' is none");
  CHECK_THROWS_WITH_TEXT(v.assign_add(Tensor()), ValueError, "assign_add");
  CHECK(v.numpy<float>() == arr<float>({1.0f, 2.0f}));
  CHECK(v.shape() == Shape{2});
  CHECK(v.dtype() == DType::float32);
  CHECK(buffer_of(v) == before);
}

TEST_CASE("Variable: a Variable passed to an op is a recorded read") {
  Variable w(f64({2.0, 3.0}), "w");
  CHECK_ALLCLOSE(w * 2.0, f64({4.0, 6.0}), 0, 0);
  CHECK_ALLCLOSE(add(w, w), f64({4.0, 6.0}), 0, 0);
  CHECK_ALLCLOSE(matmul(reshape(w, {1, 2}), reshape(w, {2, 1})), reshape(f64({13.0}), {1, 1}), 0, 0);
  GradientTape tape;
  const Tensor y = reduce_sum(exp(w));
  CHECK_ALLCLOSE(tape.gradient(y, {w})[0].dense(), exp(w.read_value_no_record()), 0, 0);
  // read_value_no_record is invisible to the tape.
  GradientTape t2;
  const Tensor z = reduce_sum(w.read_value_no_record() * 2.0);
  CHECK_FALSE(t2.gradient(z, {w})[0]);
}

TEST_CASE("Variable: printing as TensorFlow's repr") {
  CHECK(str(Variable(Tensor{1.0, 2.0}, "w")) ==
        "<tapeflow.Variable 'w:0' shape=(2,) dtype=float32, numpy=array([1., 2.], dtype=float32)>");
  CHECK(str(Variable(Tensor(std::int64_t{10}), "Adagrad/iter", false)) ==
        "<tapeflow.Variable 'Adagrad/iter:0' shape=() dtype=int64, numpy=10>");
  CHECK(str(Variable(f64({0.5, -1.0}), "b")) ==
        "<tapeflow.Variable 'b:0' shape=(2,) dtype=float64, numpy=array([ 0.5, -1. ])>");
  CHECK(str(Variable(Tensor(2.5), "s")) == "<tapeflow.Variable 's:0' shape=() dtype=float32, numpy=2.5>");
  // A multi-line value starts on its own line, as TensorFlow prints it.
  CHECK(str(Variable(Tensor{{1.0, 2.0}, {3.0, 4.0}}, "k")) ==
        "<tapeflow.Variable 'k:0' shape=(2, 2) dtype=float32, numpy=\n"
        "array([[1., 2.],\n"
        "       [3., 4.]], dtype=float32)>");
  // fmt prints the same.
  const Variable w(Tensor{1.0, 2.0}, "w");
  CHECK(fmt::format("{}", w) == str(w));
  // Printing shows the current value and records nothing.
  Variable v(f64({1.0}), "v");
  GradientTape tape;
  v.assign(f64({3.0}));
  CHECK(str(v) == "<tapeflow.Variable 'v:0' shape=(1,) dtype=float64, numpy=array([3.])>");
  CHECK(tape.watched_variables().empty());
}

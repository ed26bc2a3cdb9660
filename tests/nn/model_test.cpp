// Model: compile / fit / evaluate against a hand-written training loop, the per-epoch output,
// History, validation data, the sparse (Embedding) path, and errors.
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "../support.hpp"

#include <tapeflow/nn/nn.hpp>

using namespace tapeflow;

namespace {

/// Captures std::cout for its lifetime.
class CaptureStdout {
 public:
  CaptureStdout() : old_(std::cout.rdbuf(buffer_.rdbuf())) {}
  ~CaptureStdout() { std::cout.rdbuf(old_); }
  std::string text() const { return buffer_.str(); }

 private:
  std::ostringstream buffer_;
  std::streambuf* old_;
};

/// A two-layer model and an identical copy (same initial weights).
std::pair<nn::Sequential, nn::Sequential> twin_models(std::size_t inputs) {
  nn::Sequential a({nn::Dense(8, "tanh"), nn::Dense(3)});
  nn::Sequential b({nn::Dense(8, "tanh"), nn::Dense(3)});
  a.build({1, inputs});
  b.build({1, inputs});
  b.set_weights(a.get_weights());
  return {a, b};
}

/// Keras's log value format: %.4f, or %.4e at |v| <= 1e-3.
std::string fmt4(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, std::abs(v) > 1e-3 ? "%.4f" : "%.4e", v);
  return buffer;
}

}  // namespace

TEST_CASE("fit gives the same weights as a hand-written tape loop") {
  random::set_seed(11);
  auto [model, reference] = twin_models(5);
  const Tensor x = random::uniform({10, 5}, -1, 1);
  const Tensor y = Tensor{0, 2, 1, 1, 0, 2, 2, 1, 0, 0};
  const nn::SparseCategoricalCrossentropy loss(true);
  const int epochs = 3, batch = 4;

  model.compile(optim::Adagrad(0.1), loss);
  const nn::History history = model.fit(x, y, epochs, batch, /*verbose=*/0, {}, /*shuffle=*/false);

  optim::Adagrad opt(0.1);
  std::vector<double> epoch_losses;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    double total = 0;
    for (std::size_t begin = 0; begin < 10; begin += batch) {
      const std::size_t size = std::min<std::size_t>(batch, 10 - begin);
      const Tensor xb = slice_axis(x, 0, begin, size);
      const Tensor yb = slice_axis(y, 0, begin, size);
      std::vector<Variable> vars = reference.trainable_variables();
      GradientTape tape;
      const Tensor l = reduce_mean(nn::losses::sparse_categorical_crossentropy(yb, reference(xb), true));
      opt.apply_gradients(zip(tape.gradient(l, {vars[0], vars[1], vars[2], vars[3]}), vars));
      total += l.item<double>() * static_cast<double>(size);
    }
    epoch_losses.push_back(total / 10);
  }

  const auto trained = model.get_weights();
  const auto expected = reference.get_weights();
  REQUIRE(trained.size() == expected.size());
  for (std::size_t i = 0; i < trained.size(); ++i) CHECK_ALLCLOSE(trained[i], expected[i], 0, 0);
  CHECK(history.epochs == std::vector<int>{0, 1, 2});
  REQUIRE(history.history.at("loss").size() == 3);
  for (int e = 0; e < 3; ++e) {
    CHECK(history.history.at("loss")[e] == doctest::Approx(epoch_losses[e]).epsilon(1e-6));
  }
  CHECK(history.history.at("loss")[2] < history.history.at("loss")[0]);
  // The caller's optimizer handle sees the steps: 3 epochs of 3 batches.
  CHECK(model.optimizer().iterations().numpy<std::int64_t>()() == 9);
  CHECK(opt.get_weights().size() == model.optimizer().get_weights().size());
}

TEST_CASE("the seed's shapes: Dense(10) fits arange(100).reshape(5, 20) against zeros(5)") {
  nn::clear_session();
  optim::Adagrad opt;
  nn::Sequential model({nn::Dense(10)});
  model.compile(opt, "mse");
  const Tensor x = reshape(range(0, 100, 1, DType::int64), {5, 20});
  const nn::History h = model.fit(x, zeros({5}), 1, 32, 0);
  CHECK(h.history.at("loss").size() == 1);
  CHECK(std::isfinite(h.history.at("loss")[0]));
  // Adagrad: iterations, then one accumulator per variable.
  CHECK(opt.get_weights().size() == 3);
  CHECK(opt.iterations().numpy<std::int64_t>()() == 1);
}

TEST_CASE("verbose output: Epoch i/N, then one line per epoch off a terminal") {
  nn::clear_session();
  random::set_seed(3);
  nn::Sequential model({nn::Dense(1, "sigmoid")});
  model.compile(optim::Adagrad(0.5), "binary_crossentropy", {"accuracy"});
  const Tensor x = reshape(range(0, 6), {6, 1});
  const Tensor y = Tensor{0.0f, 0.0f, 0.0f, 1.0f, 1.0f, 1.0f};
  std::string text;
  nn::History h;
  {
    CaptureStdout capture;
    h = model.fit(x, y, 2, 4, /*verbose=*/2, {x, y});
    text = capture.text();
  }
  std::ostringstream expected;
  expected << "Epoch 1/2\n2/2 - loss: " << fmt4(h.history.at("loss")[0])
           << " - accuracy: " << fmt4(h.history.at("accuracy")[0])
           << " - val_loss: " << fmt4(h.history.at("val_loss")[0])
           << " - val_accuracy: " << fmt4(h.history.at("val_accuracy")[0])
           << "\nEpoch 2/2\n2/2 - loss: " << fmt4(h.history.at("loss")[1])
           << " - accuracy: " << fmt4(h.history.at("accuracy")[1])
           << " - val_loss: " << fmt4(h.history.at("val_loss")[1])
           << " - val_accuracy: " << fmt4(h.history.at("val_accuracy")[1]) << "\n";
  CHECK(text == expected.str());
  // The history's validation numbers are what evaluate reports on the same data.
  const auto eval = model.evaluate(x, y, 4, 0);
  CHECK(eval.at("loss") == doctest::Approx(h.history.at("val_loss")[1]).epsilon(1e-6));
  CHECK(model.metrics_names() == std::vector<std::string>{"loss", "accuracy"});
  {
    CaptureStdout capture;
    model.fit(x, y, 1, 4, 0);
    CHECK(capture.text().empty());
  }
}

TEST_CASE("evaluate: loss weighted by batch size, accuracy over examples") {
  nn::clear_session();
  nn::Sequential model({nn::Dense(2, "", true, "zeros", "zeros")});
  model.compile(optim::Adagrad(), nn::SparseCategoricalCrossentropy(true), {"accuracy", "acc"});
  const Tensor x = ones({5, 3});
  model(x);
  model.layers()[0].set_weights({zeros({3, 2}), Tensor{1.0, 0.0}});  // always predicts class 0
  const Tensor y = Tensor{0, 0, 1, 0, 1};
  const auto result = model.evaluate(x, y, 2, 0);
  const double per_example_0 = std::log(1 + std::exp(-1.0));  // -log softmax([1, 0])[0]
  const double per_example_1 = std::log(1 + std::exp(1.0));
  CHECK(result.at("loss") == doctest::Approx((3 * per_example_0 + 2 * per_example_1) / 5));
  CHECK(result.at("accuracy") == doctest::Approx(0.6));
  CHECK(result.at("acc") == doctest::Approx(0.6));
}

TEST_CASE("an Embedding model trains through Adagrad's sparse path") {
  nn::clear_session();
  random::set_seed(5);
  nn::Embedding emb(6, 4);
  nn::Sequential model({emb, nn::Dense(1)});
  optim::Adagrad opt(0.2);
  model.compile(opt, "mse");
  const Tensor ids = reshape(Tensor{0, 1, 2, 0}, {4, 1});
  const Tensor y = Tensor{1.0f, -1.0f, 0.5f, 1.0f};
  model(ids);
  const Tensor unused_rows_before = slice_axis(emb.embeddings().value(), 0, 3, 3);
  const nn::History h = model.fit(ids, reshape(y, {4, 1, 1}), 40, 4, 0);
  CHECK(h.history.at("loss").back() < 0.1 * h.history.at("loss").front());
  // Rows 3..5 never appear: the sparse update leaves them exactly as they were.
  CHECK_ALLCLOSE(slice_axis(emb.embeddings().value(), 0, 3, 3), unused_rows_before, 0, 0);
}

TEST_CASE("fit / evaluate errors") {
  nn::clear_session();
  nn::Sequential model({nn::Dense(1)});
  CHECK_THROWS_WITH_TEXT(model.fit(ones({4, 2}), ones({4})), ValueError,
                         "You must compile your model before training it.");
  CHECK_THROWS_WITH_TEXT(model.evaluate(ones({4, 2}), ones({4})), ValueError,
                         "You must compile your model before evaluating it.");
  CHECK_THROWS_WITH_TEXT(model.optimizer(), ValueError, "call `compile()` first");
  CHECK_THROWS_WITH_TEXT(model.compile(optim::Adagrad(), "mse", {"auc"}), ValueError,
                         "Unknown metric function: 'auc'");
  CHECK_THROWS_WITH_TEXT(model.compile(optim::Adagrad(), "hinge"), ValueError,
                         "Unknown loss function: 'hinge'");
  model.compile(optim::Adagrad(), "mse");
  CHECK_THROWS_WITH_TEXT(model.fit(ones({5, 2}), ones({4})), ValueError,
                         "Data cardinality is ambiguous:\n  x sizes: 5\n  y sizes: 4\nMake sure "
                         "all arrays contain the same number of samples.");
  CHECK_THROWS_WITH_TEXT(model.fit(ones({4, 2}), ones({4}), 1, 0), ValueError,
                         "Model.fit: batch_size must be positive. Received: 0");
  CHECK_THROWS_WITH_TEXT(model.fit(ones({4, 2}), ones({4}), 1, 2, 0, {ones({3, 2}), Tensor()}),
                         ValueError, "Model.fit (validation_data): x and y must not be none");
  CHECK_THROWS_WITH_TEXT(model.fit(ones({4, 2}), ones({4}), 1, 2, 7), ValueError,
                         "verbose must be 0, 1 or 2");
  // None of the failed calls trained anything.
  CHECK_FALSE(model.built());
}

TEST_CASE("the seed's example: RMSprop weights after fitting Dense(10) on arange(100)") {
  // Keras V2's get_weights / set_weights docstring example, step by step.
  nn::clear_session();
  optim::RMSprop opt;
  nn::Sequential model({nn::Dense(10)});
  model.compile(opt, "mse");
  const Tensor x = reshape(range(0, 100, 1, DType::int64), {5, 20});
  model.fit(x, zeros({5}), 1, 32, 0);
  const std::vector<Tensor> weights = opt.get_weights();
  REQUIRE(weights.size() == 3);  // iterations, rms of the kernel, rms of the bias
  CHECK(weights[0].numpy<std::int64_t>()() == 1);
  CHECK(weights[1].shape() == Shape{20, 10});
  CHECK(weights[2].shape() == Shape{10});
  opt.set_weights({Tensor(10L), ones({20, 10}), zeros({10})});
  std::ostringstream printed;
  printed << opt.iterations();
  CHECK(printed.str() == "<tapeflow.Variable 'RMSprop/iter:0' shape=() dtype=int64, numpy=10>");
  CHECK_ALLCLOSE(opt.get_slot(model.layers()[0].trainable_variables()[0], "rms").value(),
                 ones({20, 10}), 0, 0);
}

// Convergence on real data: an MLP trained with Adagrad through compile / fit on the UCI digits
// reaches >= 95% accuracy on held-out rows. The seed is fixed and printed.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "../support.hpp"

#include <tapeflow/nn/nn.hpp>

using namespace tapeflow;

namespace {

std::string data_path(const std::string& file) {
  if (const char* dir = std::getenv("TAPEFLOW_DATA_DIR")) return std::string(dir) + "/" + file;
  std::string here = __FILE__;
  return here.substr(0, here.rfind('/')) + "/../../data/" + file;
}

}  // namespace

TEST_CASE("an Adagrad-trained MLP classifies held-out digits with >= 95% accuracy") {
  const std::uint64_t seed = 1234;
  random::set_seed(seed);
  nn::clear_session();
  const auto digits = nn::datasets::load_digits(data_path("digits.csv.gz"));
  auto [train, test] = nn::datasets::train_test_split(digits, 0.2);
  train.x = train.x / 16.0;  // pixel counts 0..16 to [0, 1]
  test.x = test.x / 16.0;

  nn::Sequential model({nn::Dense(64, "relu"), nn::Dense(10)});
  optim::Adagrad opt(0.1);
  model.compile(opt, nn::SparseCategoricalCrossentropy(/*from_logits=*/true), {"accuracy"});
  const nn::History history = model.fit(train.x, train.y, 20, 32, /*verbose=*/0);
  const auto result = model.evaluate(test.x, test.y, 256, 0);

  std::printf("[digits] seed %llu: %zu train / %zu test rows, train loss %.4f -> %.4f, "
              "train accuracy %.4f, held-out accuracy %.4f\n",
              static_cast<unsigned long long>(seed), train.y.size(), test.y.size(),
              history.history.at("loss").front(), history.history.at("loss").back(),
              history.history.at("accuracy").back(), result.at("accuracy"));
  CHECK(result.at("accuracy") >= 0.95);
  CHECK(history.history.at("loss").back() < history.history.at("loss").front());
  // The held-out accuracy agrees with predict + argmax.
  const Tensor predicted = argmax(model.predict(test.x), -1);
  const double agree = reduce_mean(cast(equal(predicted, test.y), DType::float64)).item<double>();
  CHECK(agree == doctest::Approx(result.at("accuracy")));
}

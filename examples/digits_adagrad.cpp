// The flagship: the Keras workflow on the UCI handwritten digits (1797 8x8 images). An MLP is
// compiled with Adagrad and an ExponentialDecay schedule, trained with fit (progress bar), and
// evaluated on held-out rows; the accuracy must reach 95%. Then the optimizer's state is saved
// as a checkpoint and its config as the JSON Keras writes, both are read back into a new
// optimizer, and the copy must equal the original.
//
//     digits_adagrad [OUTPUT_DIR]     (default /tmp/tapeflow-digits; data from $TAPEFLOW_DATA_DIR
//                                      or the source tree's data/)
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include <tapeflow/optim/serialization.hpp>
#include <tapeflow/tapeflow.hpp>

namespace tf = tapeflow;
namespace nn = tapeflow::nn;
namespace optim = tapeflow::optim;

#ifndef TAPEFLOW_EXAMPLES_DATA_DIR
#define TAPEFLOW_EXAMPLES_DATA_DIR "data"
#endif

int main(int argc, char** argv) {
  const char* data_dir = std::getenv("TAPEFLOW_DATA_DIR");
  const std::string data = std::string(data_dir ? data_dir : TAPEFLOW_EXAMPLES_DATA_DIR);
  const std::filesystem::path out = argc > 1 ? argv[1] : "/tmp/tapeflow-digits";

  // x: (1797, 64) pixel counts 0..16, scaled to [0, 1]; y: (1797,) labels 0..9. A fifth of the
  // rows, shuffled with a fixed seed, is held out.
  tf::random::set_seed(1234);
  nn::datasets::Dataset digits;
  try {
    digits = nn::datasets::load_digits(data + "/digits.csv.gz");
  } catch (const tf::ValueError& e) {
    std::fprintf(stderr, "%s\n(TAPEFLOW_DATA_DIR names the folder with digits.csv.gz)\n",
                 e.what());
    return 1;
  }
  auto [train, test] = nn::datasets::train_test_split(digits, /*test_fraction=*/0.2);
  train.x = train.x / 16.0;
  test.x = test.x / 16.0;

  // model = keras.Sequential([Dense(64, activation="relu"), Dense(10)])
  nn::Sequential model({nn::Dense(64, "relu"), nn::Dense(10)});
  // lr(step) = 0.2 * 0.7^(step / 200), as keras.optimizers.schedules.ExponentialDecay.
  auto schedule = std::make_shared<optim::schedules::ExponentialDecay>(0.2, 200, 0.7);
  optim::Adagrad opt(schedule);
  model.compile(opt, nn::SparseCategoricalCrossentropy(/*from_logits=*/true), {"accuracy"});
  model.fit(train.x, train.y, /*epochs=*/12, /*batch_size=*/32, /*verbose=*/1,
            /*validation_data=*/{test.x, test.y});
  model.summary();

  const double accuracy = model.evaluate(test.x, test.y, 256, /*verbose=*/0).at("accuracy");
  std::printf("held-out accuracy: %.4f (%zu images)\n", accuracy, test.y.size());
  if (accuracy < 0.95) {
    std::fprintf(stderr, "digits_adagrad: held-out accuracy %.4f is below 0.95\n", accuracy);
    return 1;
  }

  // The optimizer's state (iterations and one accumulator per variable) as a checkpoint
  // directory, and its hyperparameters as Keras's serialized JSON (the schedule nested inside).
  std::filesystem::create_directories(out);
  opt.save_weights((out / "optimizer_checkpoint").string());
  const tf::Config json = optim::serialize(opt);
  std::ofstream(out / "optimizer.json") << json.dump(2) << "\n";
  std::cout << "wrote " << (out / "optimizer_checkpoint").string() << " and "
            << (out / "optimizer.json").string() << ":\n" << json.dump(2) << "\n";

  // Read both back: optimizer = keras.optimizers.deserialize(json); load the weights, which
  // wait until build() names the variables they belong to.
  std::ifstream in(out / "optimizer.json");
  const std::shared_ptr<optim::Optimizer> restored = optim::deserialize(tf::Config::parse(in));
  restored->load_weights((out / "optimizer_checkpoint").string());
  restored->build(model.trainable_variables());

  int mismatches = restored->get_config() == opt.get_config() ? 0 : 1;
  const std::vector<tf::Tensor> saved = opt.get_weights(), loaded = restored->get_weights();
  mismatches += saved.size() == loaded.size() ? 0 : 1;
  for (std::size_t i = 0; i < saved.size() && i < loaded.size(); ++i) {
    if (tf::reduce_max(tf::abs(tf::cast(saved[i], tf::DType::float64) -
                               tf::cast(loaded[i], tf::DType::float64))).item<double>() != 0.0) {
      ++mismatches;
    }
  }
  std::printf("restored %s: %zu weights, iterations %lld, learning rate now %.5f\n",
              restored->class_name().c_str(), loaded.size(),
              restored->iterations().numpy<long long>()(),
              restored->learning_rate()(restored->iterations().numpy<double>()()));
  if (mismatches > 0) {
    std::fprintf(stderr, "digits_adagrad: the restored optimizer differs (%d mismatches)\n",
                 mismatches);
    return 1;
  }
  return 0;
}

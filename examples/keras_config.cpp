// An optimizer configured in Python, trained in C++. The JSON below is what Keras 3 writes for
//     keras.optimizers.serialize(keras.optimizers.Adagrad(
//         learning_rate=keras.optimizers.schedules.CosineDecay(0.5, decay_steps=100, alpha=0.1),
//         clipnorm=1.0))
// tapeflow rebuilds the optimizer from it (deserialize), trains a small least-squares model with
// minimize, writes the optimizer back in the same Keras 3 form, and reads that file again. Exits
// non-zero if the JSON written differs from the JSON read, or the loss did not fall.
//
//     keras_config [OUTPUT_DIR]     (default /tmp/tapeflow-keras-config)
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include <tapeflow/optim/serialization.hpp>
#include <tapeflow/tapeflow.hpp>

namespace tf = tapeflow;
namespace optim = tapeflow::optim;

// Keras 3.x output, keys in Keras's order (json.dumps of keras.optimizers.serialize(...)).
const char* const kKerasJson = R"({
  "module": "keras.optimizers",
  "class_name": "Adagrad",
  "config": {
    "name": "adagrad",
    "learning_rate": {
      "module": "keras.optimizers.schedules",
      "class_name": "CosineDecay",
      "config": {"initial_learning_rate": 0.5, "decay_steps": 100, "alpha": 0.1,
                 "name": "CosineDecay", "warmup_target": null, "warmup_steps": 0},
      "registered_name": null
    },
    "weight_decay": null, "clipnorm": 1.0, "global_clipnorm": null, "clipvalue": null,
    "use_ema": false, "ema_momentum": 0.99, "ema_overwrite_frequency": null,
    "loss_scale_factor": null, "gradient_accumulation_steps": null,
    "initial_accumulator_value": 0.1, "epsilon": 1e-07
  },
  "registered_name": null
})";

// The loss minimize records: mean squared error of x w against y (a named functor, so the same
// object serves every step).
struct LeastSquares {
  tf::Tensor x, y;
  tf::Variable w;
  tf::Tensor operator()() const { return tf::reduce_mean(tf::square(tf::matmul(x, w) - y)); }
};

int main(int argc, char** argv) {
  const std::filesystem::path out = argc > 1 ? argv[1] : "/tmp/tapeflow-keras-config";

  // optimizer = keras.optimizers.deserialize(json.loads(text))
  const tf::Config keras_json = tf::Config::parse(kKerasJson);
  std::shared_ptr<optim::Optimizer> opt = optim::deserialize(keras_json);
  std::cout << "deserialized: " << *opt << "\n";

  // Fit y = x w_true (4 features) from 256 noisy rows.
  tf::random::set_seed(5);
  const tf::Tensor x = tf::random::normal({256, 4});
  const tf::Tensor w_true = tf::reshape(tf::Tensor{1.0, -2.0, 0.5, 3.0}, {4, 1});
  const LeastSquares loss{x, tf::matmul(x, w_true) + tf::random::normal({256, 1}, 0.0, 0.05),
                          tf::Variable(tf::zeros({4, 1}), "w")};
  const double first = loss().item<double>();
  for (int step = 0; step < 150; ++step) opt->minimize(loss, {loss.w});
  const double last = loss().item<double>();
  const double step = opt->iterations().numpy<double>()();
  std::printf("loss %.4f -> %.4f after %.0f steps; learning rate now %.4f\n", first, last, step,
              opt->learning_rate()(step));
  std::cout << "w = " << loss.w.value() << "\n";

  // Back to Keras 3's form: hyperparameters only, so training has not changed them.
  const tf::Config written = optim::serialize(*opt, optim::SerializationFormat::keras3);
  std::filesystem::create_directories(out);
  std::ofstream(out / "optimizer.json") << written.dump(2) << "\n";
  std::cout << "wrote " << (out / "optimizer.json").string() << "\n";

  // Read the file back, as keras.optimizers.deserialize would in Python.
  std::ifstream in(out / "optimizer.json");
  const tf::Config reread = tf::Config::parse(in);
  const std::shared_ptr<optim::Optimizer> again = optim::deserialize(reread);

  // ordered_json compares keys in order, so equality means Keras's layout too.
  const bool same_json = written == keras_json && reread == keras_json;
  const bool same_config = again->get_config() == opt->get_config();
  std::cout << "JSON written == JSON read: " << (same_json ? "yes" : "NO")
            << "; config after a second round trip equal: " << (same_config ? "yes" : "NO")
            << "\n";
  if (!same_json || !same_config || !(last < 0.05 * first)) {
    if (!same_json) std::cerr << "written:\n" << written.dump(2) << "\n";
    std::fprintf(stderr, "keras_config: round trip or training failed (loss %g -> %g)\n", first,
                 last);
    return 1;
  }
  return 0;
}

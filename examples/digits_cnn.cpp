// A small CNN on the UCI handwritten digits (1797 8x8 images) through compile/fit: three Conv2D
// layers with pooling, then a Dense classifier. It is compared with the MLP of digits_adagrad
// trained on the same split: the CNN must reach 98% held-out accuracy and beat the MLP.
//
//     digits_cnn        (data from $TAPEFLOW_DATA_DIR or the source tree's data/)
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <tapeflow/tapeflow.hpp>

namespace tf = tapeflow;
namespace nn = tapeflow::nn;
namespace optim = tapeflow::optim;

#ifndef TAPEFLOW_EXAMPLES_DATA_DIR
#define TAPEFLOW_EXAMPLES_DATA_DIR "data"
#endif

int main() {
  const char* data_dir = std::getenv("TAPEFLOW_DATA_DIR");
  const std::string data = std::string(data_dir ? data_dir : TAPEFLOW_EXAMPLES_DATA_DIR);

  // The split of digits_adagrad: a fifth of the rows, shuffled with seed 1234, held out.
  tf::random::set_seed(1234);
  nn::datasets::Dataset digits;
  try {
    digits = nn::datasets::load_digits(data + "/digits.csv.gz");
  } catch (const tf::ValueError& e) {
    std::fprintf(stderr, "%s\n(TAPEFLOW_DATA_DIR names the folder with digits.csv.gz)\n", e.what());
    return 1;
  }
  auto [train, test] = nn::datasets::train_test_split(digits, /*test_fraction=*/0.2);
  train.x = train.x / 16.0;
  test.x = test.x / 16.0;

  // The MLP of digits_adagrad, as the bar to beat.
  nn::Sequential mlp({nn::Dense(64, "relu"), nn::Dense(10)});
  mlp.compile(optim::Adagrad(std::make_shared<optim::schedules::ExponentialDecay>(0.2, 200, 0.7)),
              nn::SparseCategoricalCrossentropy(/*from_logits=*/true),
              {"accuracy"});
  mlp.fit(train.x, train.y, /*epochs=*/12, /*batch_size=*/32, /*verbose=*/0);
  const double mlp_accuracy = mlp.evaluate(test.x, test.y, 256, 0).at("accuracy");

  // The images as (batch, 8, 8, 1), channels last.
  const tf::Tensor train_images = tf::reshape(train.x, {-1, 8, 8, 1});
  const tf::Tensor test_images = tf::reshape(test.x, {-1, 8, 8, 1});

  // model = keras.Sequential([Conv2D(32, 3, padding="same", activation="relu"), MaxPooling2D(),
  //                           Conv2D(64, 3, padding="same", activation="relu"), MaxPooling2D(),
  //                           Conv2D(128, 2, activation="relu"), GlobalAveragePooling2D(),
  //                           Dense(10)])
  // The last convolution covers the whole 2x2 map, so it is a dense layer on the flattened
  // features; the global average then only drops its 1x1 spatial axes.
  tf::random::set_seed(7);
  nn::Sequential cnn({nn::Conv2D(32, 3, 1, "same", "relu"),
                      nn::MaxPooling2D(),
                      nn::Conv2D(64, 3, 1, "same", "relu"),
                      nn::MaxPooling2D(),
                      nn::Conv2D(128, 2, 1, "valid", "relu"),
                      nn::GlobalAveragePooling2D(),
                      nn::Dense(10)});
  cnn.compile(
      optim::Adam(0.001), nn::SparseCategoricalCrossentropy(/*from_logits=*/true), {"accuracy"});
  cnn.fit(train_images,
          train.y,
          /*epochs=*/40,
          /*batch_size=*/32,
          /*verbose=*/2,
          /*validation_data=*/{test_images, test.y});
  cnn.summary();

  const double accuracy = cnn.evaluate(test_images, test.y, 256, /*verbose=*/0).at("accuracy");
  std::printf("held-out accuracy: CNN %.4f, MLP %.4f (%zu images)\n",
              accuracy,
              mlp_accuracy,
              test.y.size());
  if (accuracy < 0.98 || accuracy <= mlp_accuracy) {
    std::fprintf(stderr,
                 "digits_cnn: the CNN's %.4f does not reach 0.98 and beat the MLP's %.4f\n",
                 accuracy,
                 mlp_accuracy);
    return 1;
  }
  return 0;
}

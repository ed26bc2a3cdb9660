// Sequential: layers by value, variables, predict, Keras's summary table, configs, errors.
#include <sstream>

#include "../support.hpp"

#include <tapeflow/nn/nn.hpp>

using namespace tapeflow;

namespace {

std::vector<std::string> names_of(const std::vector<Variable>& vars) {
  std::vector<std::string> out;
  for (const Variable& v : vars) out.push_back(v.name());
  return out;
}

std::string padded(const std::string& s, std::size_t width) {
  return s + std::string(width > s.size() ? width - s.size() : 0, ' ');
}

/// One row of Keras's 65-column summary: columns end at 29, 55 and 65, the first field after a
/// leading space.
std::string row(const std::string& layer, const std::string& shape, const std::string& params) {
  return padded(" " + layer, 29) + padded(shape, 26) + padded(params, 10) + "\n";
}

std::string summary_of(const nn::Model& model) {
  std::ostringstream out;
  model.summary(out);
  return out.str();
}

}  // namespace

TEST_CASE("Sequential({Dense(10), Dense(1)}) holds the caller's layers and their variables") {
  nn::clear_session();
  nn::Dense first(10);
  nn::Sequential model({first, nn::Dense(1)});
  CHECK(model.name() == "sequential");
  CHECK_FALSE(model.built());
  const Tensor y = model(ones({5, 20}));
  CHECK(y.shape() == Shape{5, 1});
  CHECK(first.built());
  CHECK(model.layers().size() == 2);
  CHECK(model.layers()[0].is(first));
  CHECK(names_of(model.trainable_variables()) ==
        std::vector<std::string>{"dense/kernel:0", "dense/bias:0", "dense_1/kernel:0",
                                 "dense_1/bias:0"});
  CHECK(model.count_params() == 221);
  // The model computes what its layers compute.
  CHECK_ALLCLOSE(y, model.layers()[1](first(ones({5, 20}))), 0, 0);

  model.set_trainable(false);
  CHECK(model.trainable_variables().empty());
  CHECK(model.non_trainable_variables().size() == 4);
  model.set_trainable(true);
}

TEST_CASE("predict batches rows and joins them; its output carries no gradient") {
  nn::Sequential model({nn::Dense(3, "relu"), nn::Dense(2)});
  const Tensor x = random::uniform({7, 4});
  const Tensor whole = model(x);
  CHECK_ALLCLOSE(model.predict(x, 3), whole, 1e-6, 1e-6);
  CHECK_ALLCLOSE(model.predict(x), whole, 1e-6, 1e-6);
  CHECK_THROWS_WITH_TEXT(model.predict(x, 0), ValueError,
                         "Model.predict: batch_size must be positive. Received: 0");
  CHECK_THROWS_WITH_TEXT(model.predict(Tensor(1.0)), ValueError, "x must have a batch axis");
}

TEST_CASE("summary() prints Keras's table") {
  nn::clear_session();
  nn::Sequential model({nn::Dense(10), nn::Dense(1)});
  CHECK_THROWS_WITH_TEXT(summary_of(model), ValueError,
                         "This model has not yet been built. Build the model first by calling "
                         "`build()` or by calling the model on a batch of data.");
  model.build({5, 20});
  const std::string line(65, '_'), thick(65, '='), blank(65, ' ');
  const std::string expected = "Model: \"sequential\"\n" + line + "\n" +
                               row("Layer (type)", "Output Shape", "Param #") + thick + "\n" +
                               row("dense (Dense)", "(None, 10)", "210") + blank + "\n" +
                               row("dense_1 (Dense)", "(None, 1)", "11") + blank + "\n" + thick +
                               "\n"
                               "Total params: 221\n"
                               "Trainable params: 221\n"
                               "Non-trainable params: 0\n" +
                               line + "\n";
  CHECK(summary_of(model) == expected);
  // The header row, spelled out: Keras pads it to 65 columns.
  CHECK(summary_of(model).find(" Layer (type)                Output Shape              Param #   \n") !=
        std::string::npos);
}

TEST_CASE("summary(): thousands separators, rank-3 outputs, nested models, frozen layers") {
  nn::clear_session();
  nn::Embedding emb(1000, 1000);
  nn::Sequential inner({nn::Dense(4)});
  nn::Sequential model({emb, inner});
  model(Tensor{{1, 2, 3}});
  emb.set_trainable(false);
  const std::string text = summary_of(model);
  CHECK(text.find(row("embedding (Embedding)", "(None, 3, 1000)", "1000000")) != std::string::npos);
  CHECK(text.find(row("sequential (Sequential)", "(None, 3, 4)", "4004")) != std::string::npos);
  CHECK(text.find("Model: \"sequential_1\"") == 0);
  CHECK(text.find("Total params: 1,004,004\nTrainable params: 4,004\nNon-trainable params: "
                  "1,000,000\n") != std::string::npos);
}

TEST_CASE("add, pop and unique layer names") {
  nn::clear_session();
  nn::Sequential model;
  model.add(nn::Dense(4));
  model(ones({2, 3}));
  nn::Dense late(2);
  model.add(late);  // built at once from the model's output shape
  CHECK(late.built());
  CHECK(late.kernel().shape() == Shape{4, 2});
  CHECK(model(ones({2, 3})).shape() == Shape{2, 2});
  CHECK_THROWS_WITH_TEXT(model.add(late), ValueError,
                         "All layers added to a Sequential model should have unique names. Name "
                         "\"dense_1\" is already the name of a layer in this model.");
  CHECK(model.layers().size() == 2);
  model.pop();
  model.pop();
  CHECK_THROWS_WITH_TEXT(model.pop(), ValueError, "There are no layers in the model.");
}

TEST_CASE("get_config / from_config round trip") {
  nn::clear_session();
  nn::Sequential model({nn::Dense(8, "relu"), nn::Embedding(3, 2, "zeros", "emb")});
  const Config c = model.get_config();
  CHECK(c["name"] == "sequential");
  REQUIRE(c["layers"].size() == 2);
  CHECK(c["layers"][0]["class_name"] == "Dense");
  CHECK(c["layers"][0]["config"]["activation"] == "relu");
  CHECK(c["layers"][1]["class_name"] == "Embedding");
  CHECK(c["layers"][1]["config"]["name"] == "emb");
  const nn::Sequential copy = nn::Sequential::from_config(c);
  CHECK(copy.get_config() == c);
  CHECK_FALSE(copy.layers()[0].is(model.layers()[0]));

  Config with_input = c;
  with_input["layers"].insert(with_input["layers"].begin(),
                              Config{{"class_name", "InputLayer"}, {"config", Config::object()}});
  CHECK(nn::Sequential::from_config(with_input).layers().size() == 2);
  Config unknown = c;
  unknown["layers"][0]["class_name"] = "SimpleRNN";
  CHECK_THROWS_WITH_TEXT(nn::Sequential::from_config(unknown), ValueError,
                         "Unknown layer: 'SimpleRNN'");
}

// Embedding: lookups against the table, the IndexedSlices gradient, config and errors.
#include "../support.hpp"

#include <tapeflow/nn/nn.hpp>

using namespace tapeflow;

TEST_CASE("Embedding looks rows up; the output shape is ids.shape + (output_dim,)") {
  nn::clear_session();
  nn::Embedding emb(4, 2);
  const Tensor ids = Tensor{{3, 0, 3}, {1, 1, 2}};
  const Tensor y = emb(ids);
  CHECK(y.shape() == Shape{2, 3, 2});
  emb.set_weights({Tensor{{0.0, 1.0}, {10.0, 11.0}, {20.0, 21.0}, {30.0, 31.0}}});
  CHECK_ALLCLOSE(emb(ids),
                 (Tensor{{{30.0, 31.0}, {0.0, 1.0}, {30.0, 31.0}},
                         {{10.0, 11.0}, {10.0, 11.0}, {20.0, 21.0}}}),
                 0, 0);
  CHECK(emb(Tensor(2L)).shape() == Shape{2});  // a scalar id gives one row
  CHECK(emb.compute_output_shape({7, 5}) == Shape{7, 5, 2});
}

TEST_CASE("Embedding's default initializer is RandomUniform(-0.05, 0.05)") {
  nn::Embedding emb(50, 8);
  emb(Tensor{0});
  const auto table = emb.embeddings().numpy<double>();
  CHECK(xt::amax(table)() < 0.05);
  CHECK(xt::amin(table)() >= -0.05);
  CHECK(emb.get_config()["embeddings_initializer"]["class_name"] == "RandomUniform");
}

TEST_CASE("Embedding's gradient is an IndexedSlices of the rows used") {
  nn::Embedding emb(5, 3);
  const Tensor ids = Tensor{{4, 1}, {4, 0}};
  emb(ids);
  GradientTape tape;
  const Tensor loss = reduce_sum(emb(ids) * 2.0);
  const auto grads = tape.gradient(loss, {emb.embeddings()});
  REQUIRE(grads.size() == 1);
  REQUIRE(grads[0].is_sparse());
  const IndexedSlices& slices = grads[0].indexed_slices();
  CHECK_ALLCLOSE(slices.indices, (Tensor{4, 1, 4, 0}), 0, 0);
  CHECK(slices.values.shape() == Shape{4, 3});
  CHECK(slices.dense_shape == Shape{5, 3});
  CHECK_ALLCLOSE(slices.to_dense(),
                 (Tensor{{2.0, 2.0, 2.0}, {2.0, 2.0, 2.0}, {0.0, 0.0, 0.0}, {0.0, 0.0, 0.0},
                         {4.0, 4.0, 4.0}}),
                 0, 0);
}

TEST_CASE("Embedding: config keys and errors") {
  nn::clear_session();
  nn::Embedding emb(10, 4);
  const Config c = emb.get_config();
  std::vector<std::string> keys;
  for (auto it = c.begin(); it != c.end(); ++it) keys.push_back(it.key());
  CHECK(keys == std::vector<std::string>{"name", "trainable", "dtype", "input_dim", "output_dim",
                                         "embeddings_initializer", "embeddings_regularizer",
                                         "activity_regularizer", "embeddings_constraint",
                                         "mask_zero", "input_length"});
  CHECK(nn::Embedding::from_config(c).get_config()["input_dim"] == 10);

  CHECK_THROWS_WITH_TEXT(nn::Embedding(0, 3), ValueError,
                         "Both `input_dim` and `output_dim` should be positive, Received "
                         "input_dim = 0 and output_dim = 3");
  CHECK_THROWS_WITH_TEXT(emb(Tensor{1.0, 2.0}), TypeError,
                         "Embedding \"embedding\": inputs must be int32 or int64 ids. Received: "
                         "dtype=float32");
  CHECK_THROWS_WITH_TEXT(emb(Tensor{{1, 10}}), ValueError,
                         "input id 10 (at flat position 1 of inputs of shape (1, 2)) is outside "
                         "[0, input_dim=10)");
  CHECK_THROWS_WITH_TEXT(emb(Tensor{-1}), ValueError, "input id -1");
}

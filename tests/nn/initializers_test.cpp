#include "../support.hpp"

#include <tapeflow/nn/nn.hpp>

#include <cmath>

using namespace tapeflow;

TEST_CASE("initializers by name: values, dtypes and Keras configs") {
  CHECK_ALLCLOSE(nn::Initializer("zeros")({2, 3}), zeros({2, 3}), 0, 0);
  CHECK_ALLCLOSE(nn::Initializer("ones")({2}, DType::float64), ones({2}, DType::float64), 0, 0);
  CHECK(nn::Initializer("ones")({2}, DType::float64).dtype() == DType::float64);
  CHECK_ALLCLOSE(nn::Constant(2.5)({2}), (Tensor{2.5, 2.5}), 0, 0);

  CHECK(nn::Initializer("glorot_uniform").class_name() == "GlorotUniform");
  CHECK(nn::Initializer("glorot_uniform").get_config().dump() == R"({"seed":null})");
  CHECK(nn::Initializer("uniform").class_name() == "RandomUniform");
  CHECK(nn::Initializer("uniform").get_config().dump() ==
        R"({"minval":-0.05,"maxval":0.05,"seed":null})");
  CHECK(nn::Initializer("random_normal").get_config().dump() ==
        R"({"mean":0.0,"stddev":0.05,"seed":null})");
  CHECK(nn::Initializer("Zeros").get_config().dump() == "{}");
  CHECK(nn::initializers::serialize(nn::RandomUniform(-1, 1)).dump() ==
        R"({"class_name":"RandomUniform","config":{"minval":-1.0,"maxval":1.0,"seed":null}})");
}

TEST_CASE("random initializers follow their distributions and the library seed") {
  random::set_seed(7);
  const Tensor a = nn::GlorotUniform()({40, 60});
  random::set_seed(7);
  const Tensor b = nn::Initializer("glorot_uniform")({40, 60});
  CHECK_ALLCLOSE(a, b, 0, 0);  // same seed, same draw
  const double limit = std::sqrt(6.0 / 100.0);
  const auto v = a.numpy<double>();
  CHECK(xt::amax(v)() <= limit);
  CHECK(xt::amin(v)() >= -limit);
  CHECK(xt::amax(v)() > 0.9 * limit);  // fills the interval

  const auto u = nn::RandomUniform(2.0, 3.0)({1000}).numpy<double>();
  CHECK(xt::amin(u)() >= 2.0);
  CHECK(xt::amax(u)() < 3.0);
  const auto n = nn::RandomNormal(1.0, 0.5)({20000}, DType::float64).numpy<double>();
  CHECK(std::abs(xt::mean(n)() - 1.0) < 0.02);
  CHECK(std::abs(xt::stddev(n)() - 0.5) < 0.02);
}

TEST_CASE("initializers: deserialize round trip and errors") {
  const nn::Initializer r = nn::initializers::deserialize(
      nn::initializers::serialize(nn::RandomNormal(0.5, 2.0)));
  CHECK(r.class_name() == "RandomNormal");
  CHECK(r.get_config()["stddev"] == 2.0);
  CHECK(nn::initializers::deserialize(Config("ones")).class_name() == "Ones");
  CHECK_THROWS_WITH_TEXT(nn::Initializer("he_normal"), ValueError,
                         "Unknown initializer: 'he_normal'. Known initializers: glorot_uniform");
  CHECK_THROWS_WITH_TEXT(nn::RandomUniform(1.0, 1.0), ValueError, "minval must be < maxval");
  CHECK_THROWS_WITH_TEXT(nn::RandomNormal(0.0, -1.0), ValueError, "stddev must be >= 0");
  CHECK_THROWS_WITH_TEXT(nn::Initializer("zeros")({2}, DType::int32), TypeError,
                         "Zeros: dtype must be float32 or float64");
}

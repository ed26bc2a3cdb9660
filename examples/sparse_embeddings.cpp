// Matrix factorisation with two Embedding layers and Adagrad: rating(u, i) ~ <user_u, item_i>.
// An Embedding's gradient is an IndexedSlices (only the rows a batch used), so Adagrad takes its
// sparse path and touches those rows only. The same training is run a second time with every
// gradient densified first (the whole table updated each step); Adagrad leaves rows with a zero
// gradient unchanged, so both runs must end with the same tables. Prints the time of each and
// the ratio; exits non-zero if the tables differ or the held-out error did not fall.
#include <chrono>
#include <cmath>
#include <cstdio>

#include <tapeflow/tapeflow.hpp>

namespace tf = tapeflow;
namespace nn = tapeflow::nn;

namespace {

constexpr std::size_t kUsers = 8000, kItems = 2000, kRank = 4, kRatings = 300000, kBatch = 250;

struct Ratings {
  tf::Tensor users, items, values;  // (n,) int64, (n,) int64, (n,) float32
};

// Ratings from a hidden rank-4 model plus noise: r = <p_u, q_i> + N(0, 0.1), var(r) ~ 1.
Ratings make_ratings(const tf::Tensor& p, const tf::Tensor& q, std::size_t n) {
  Ratings r;
  r.users = tf::cast(tf::random::uniform({n}, 0, kUsers, tf::DType::float64), tf::DType::int64);
  r.items = tf::cast(tf::random::uniform({n}, 0, kItems, tf::DType::float64), tf::DType::int64);
  r.values = tf::reduce_sum(tf::gather(p, r.users) * tf::gather(q, r.items), {1}) +
             tf::random::normal({n}, 0.0, 0.1);
  return r;
}

struct Result {
  tf::Tensor user_table;
  double seconds, optimizer_seconds, test_mse;
};

// Trains the factorisation for 8 epochs; `dense` turns every gradient into a full-table Tensor.
Result train(const Ratings& train_set, const Ratings& test_set, bool dense) {
  tf::random::set_seed(11);  // the same initial tables in both runs
  nn::clear_session();
  // N(0, 0.3): larger than Keras's default, so that <p, q> starts away from the saddle at 0.
  const nn::RandomNormal init(0.0, 0.3);
  nn::Embedding users(kUsers, kRank, init), items(kItems, kRank, init);
  tf::optim::Adagrad opt(0.2);
  const auto predict = [&](const tf::Tensor& u, const tf::Tensor& i) {
    return tf::reduce_sum(users(u) * items(i), {1});  // (batch,)
  };
  Result out{};
  const auto t0 = std::chrono::steady_clock::now();
  for (int epoch = 0; epoch < 8; ++epoch) {
    for (std::size_t start = 0; start + kBatch <= kRatings; start += kBatch) {
      const tf::Tensor u = tf::slice_axis(train_set.users, 0, start, kBatch);
      const tf::Tensor i = tf::slice_axis(train_set.items, 0, start, kBatch);
      const tf::Tensor r = tf::slice_axis(train_set.values, 0, start, kBatch);
      tf::GradientTape tape;
      // Summed, not averaged: each rating's gradient is then not divided by the batch size,
      // and Adagrad's accumulator scales every row's step on its own.
      const tf::Tensor loss = tf::reduce_sum(tf::square(predict(u, i) - r));
      const std::vector<tf::Variable> vars = {users.embeddings(), items.embeddings()};
      std::vector<tf::Gradient> grads = tape.gradient(loss, {vars[0], vars[1]});
      const auto t_opt = std::chrono::steady_clock::now();
      if (dense) {
        for (tf::Gradient& g : grads) g = tf::Gradient(g.dense());  // IndexedSlices -> full table
      }
      opt.apply_gradients(tf::zip(grads, vars));
      out.optimizer_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t_opt).count();
    }
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  out.test_mse = tf::reduce_mean(tf::square(predict(test_set.users, test_set.items) -
                                            test_set.values)).item<double>();
  out.user_table = users.embeddings().value();
  return out;
}

}  // namespace

int main() {
  tf::random::set_seed(3);
  const double scale = 1.0 / std::sqrt(std::sqrt(double(kRank)));  // so that var(<p, q>) = 1
  const tf::Tensor p = tf::random::normal({kUsers, kRank}, 0.0, scale);
  const tf::Tensor q = tf::random::normal({kItems, kRank}, 0.0, scale);
  const Ratings train_set = make_ratings(p, q, kRatings), test_set = make_ratings(p, q, 5000);
  const double baseline = tf::reduce_mean(tf::square(test_set.values)).item<double>();
  std::printf("%zu users x %zu items, rank %zu, %zu ratings; predicting 0 gives test MSE %.3f\n",
              kUsers, kItems, kRank, kRatings, baseline);

  const Result sparse = train(train_set, test_set, /*dense=*/false);
  const Result dense = train(train_set, test_set, /*dense=*/true);
  std::printf("sparse path: test MSE %.4f, %.2f s total, %.3f s in the optimizer\n",
              sparse.test_mse, sparse.seconds, sparse.optimizer_seconds);
  std::printf("dense path:  test MSE %.4f, %.2f s total, %.3f s in the optimizer\n",
              dense.test_mse, dense.seconds, dense.optimizer_seconds);
  std::printf("optimizer time dense / sparse: %.1fx; total: %.1fx\n",
              dense.optimizer_seconds / sparse.optimizer_seconds, dense.seconds / sparse.seconds);

  const double diff =
      tf::reduce_max(tf::abs(sparse.user_table - dense.user_table)).item<double>();
  std::printf("max |user table (sparse) - user table (dense)| = %.2e\n", diff);
  if (diff > 1e-4 || !(sparse.test_mse < 0.25 * baseline)) {
    std::fprintf(stderr, "sparse_embeddings: tables differ by %g or test MSE %g not < %g\n",
                 diff, sparse.test_mse, 0.25 * baseline);
    return 1;
  }
  return 0;
}

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "../support.hpp"

using namespace tapeflow;

namespace {

/// Restores the thread count a test changed.
struct ThreadCountGuard {
  int saved = get_num_threads();
  ~ThreadCountGuard() { set_num_threads(saved); }
};

/// How often parallel_for visited each index of [0, n).
std::vector<int> visits(std::size_t n, std::size_t min_chunk) {
  std::vector<std::atomic<int>> counts(n);
  auto body = [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) counts[i].fetch_add(1);
  };
  detail::parallel_for(n, min_chunk, body);
  std::vector<int> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = counts[i].load();
  return out;
}

using Factory = optim::Optimizer (*)();

/// Every optimizer, with its slot-heaviest options.
const std::vector<std::pair<const char*, Factory>>& optimizer_factories() {
  static const std::vector<std::pair<const char*, Factory>> all = {
      {"Adagrad", [] { return optim::Optimizer(optim::Adagrad(0.1)); }},
      {"SGD", [] { return optim::Optimizer(optim::SGD(0.1, 0.9, true)); }},
      {"RMSprop", [] { return optim::Optimizer(optim::RMSprop(0.01, 0.9, 0.5, 1e-7, true)); }},
      {"Adam", [] { return optim::Optimizer(optim::Adam(0.01, 0.9, 0.999, 1e-7, true)); }},
      {"Adadelta", [] { return optim::Optimizer(optim::Adadelta(1.0)); }},
      {"Adamax", [] { return optim::Optimizer(optim::Adamax(0.01)); }},
      {"Nadam", [] { return optim::Optimizer(optim::Nadam(0.01)); }},
      {"Ftrl", [] { return optim::Optimizer(optim::Ftrl(0.1)); }},
  };
  return all;
}

}  // namespace

TEST_CASE("parallel_for covers every index exactly once, for any thread count and size") {
  ThreadCountGuard guard;
  for (int threads : {1, 2, 3, 4}) {
    set_num_threads(threads);
    CHECK(get_num_threads() == threads);
    for (std::size_t n : {std::size_t{0},
                          std::size_t{1},
                          std::size_t{15},
                          std::size_t{16},
                          std::size_t{17},
                          std::size_t{100},
                          std::size_t{1000},
                          std::size_t{4099}}) {
      CAPTURE(threads);
      CAPTURE(n);
      const std::vector<int> counts = visits(n, 8);
      for (std::size_t i = 0; i < n; ++i) REQUIRE(counts[i] == 1);
    }
  }
}

TEST_CASE("parallel_for splits into chunks of at least min_chunk, aligned to 16 elements") {
  ThreadCountGuard guard;
  set_num_threads(4);
  std::mutex mutex;
  std::vector<std::pair<std::size_t, std::size_t>> chunks;
  auto body = [&](std::size_t begin, std::size_t end) {
    std::lock_guard<std::mutex> lock(mutex);
    chunks.emplace_back(begin, end);
  };
  detail::parallel_for(1000, 300, body);  // 3 chunks of >= 300
  CHECK(chunks.size() == 3);
  for (const auto& [begin, end] : chunks) {
    CHECK(begin % 16 == 0);
    CHECK(end > begin);
  }
  chunks.clear();
  detail::parallel_for(1000, 2000, body);  // too small to split
  REQUIRE(chunks.size() == 1);
  CHECK(chunks[0] == std::make_pair(std::size_t{0}, std::size_t{1000}));
}

TEST_CASE("loops from several user threads at once, and nested loops, run correctly") {
  ThreadCountGuard guard;
  set_num_threads(2);
  std::vector<std::thread> users;
  std::atomic<int> failures{0};
  for (int u = 0; u < 4; ++u) {
    users.emplace_back([&] {
      for (int rep = 0; rep < 50; ++rep) {
        const std::vector<int> counts = visits(777, 64);
        for (int c : counts) failures += c == 1 ? 0 : 1;
      }
    });
  }
  for (auto& t : users) t.join();
  CHECK(failures.load() == 0);

  std::atomic<long> total{0};
  auto inner = [&](std::size_t begin, std::size_t end) { total += static_cast<long>(end - begin); };
  auto outer = [&](std::size_t, std::size_t) { detail::parallel_for(100, 10, inner); };
  detail::parallel_for(64, 16, outer);  // the inner loops run inline
  CHECK(total.load() == 2 * 100);
}

TEST_CASE("set_num_threads rejects counts outside [1, 256] and changes nothing") {
  ThreadCountGuard guard;
  set_num_threads(2);
  CHECK_THROWS_WITH_TEXT(set_num_threads(0), ValueError, "received: 0");
  CHECK_THROWS_WITH_TEXT(set_num_threads(-3), ValueError, "[1, 256]");
  CHECK_THROWS_AS(set_num_threads(257), ValueError);
  CHECK(get_num_threads() == 2);
}

TEST_CASE("every optimizer's step on 2 threads is bit-identical to 1 thread") {
  ThreadCountGuard guard;
  const std::size_t n = 3 * detail::kElementwiseMinChunk + 5;  // splits at 2 threads
  const Tensor init = random::uniform({n}, -1.0, 1.0);
  const Tensor grad = random::normal({n});
  for (const auto& factory : optimizer_factories()) {
    const std::string name = factory.first;  // no structured binding: CAPTURE captures it
    CAPTURE(name);
    std::vector<Tensor> results;
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      Variable v(init, "v");
      optim::Optimizer opt = factory.second();
      for (int step = 0; step < 3; ++step) opt.apply_gradients({{grad, v}});
      results.push_back(v.value());
    }
    CHECK_ALLCLOSE(results[0], results[1], 0, 0);
    CHECK(reduce_max(abs(results[0] - init)).item<float>() > 0);  // the steps did change v
  }
}

TEST_CASE("every optimizer's sparse step on 2 threads is bit-identical to 1 thread") {
  // 4096 listed rows of 64, 3000 of them distinct (the base sums repeats first): enough rows to
  // split (Adagrad's own row loop, for_each_row for the others).
  ThreadCountGuard guard;
  const std::size_t rows = 3000, width = 64, listed = 4096;
  const Tensor init = random::uniform({rows, width}, -1.0, 1.0);
  const Tensor values = random::normal({listed, width});
  std::vector<std::int64_t> indices(listed);
  for (std::size_t r = 0; r < listed; ++r) {
    indices[r] = static_cast<std::int64_t>((r * 7919) % 3000);
  }
  const IndexedSlices slices{values, Tensor::from_data(DType::int64, {listed}, indices.data()),
                             {rows, width}};
  for (const auto& factory : optimizer_factories()) {
    const std::string name = factory.first;  // no structured binding: CAPTURE captures it
    CAPTURE(name);
    std::vector<std::vector<Tensor>> results;
    for (int threads : {1, 2}) {
      set_num_threads(threads);
      Variable table(init, "table");
      optim::Optimizer opt = factory.second();
      for (int step = 0; step < 3; ++step) opt.apply_gradients({{slices, table}});
      std::vector<Tensor> state = opt.get_weights();
      state.push_back(table.value());
      results.push_back(state);
    }
    REQUIRE(results[0].size() == results[1].size());
    for (std::size_t k = 0; k < results[0].size(); ++k) {
      CAPTURE(k);
      CHECK_ALLCLOSE(results[0][k], results[1][k], 0, 0);
    }
    CHECK(reduce_max(abs(results[0].back() - init)).item<float>() > 0);
  }
}

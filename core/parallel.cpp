// The worker pool behind detail::parallel_for: num_threads - 1 persistent workers that sleep on a
// condition variable between loops; the calling thread runs chunk 0 and waits for the rest.

#include "tapeflow/core/parallel.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "tapeflow/core/check.hpp"

namespace tapeflow {
namespace {

constexpr int kMaxThreads = 256;
constexpr std::size_t kChunkAlign = 16;

int threads_from_environment() {
  const char* text = std::getenv("TAPEFLOW_NUM_THREADS");
  if (text == nullptr) return 1;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < 1) return 1;
  return static_cast<int>(std::min<long>(value, kMaxThreads));
}

thread_local bool inside_body = false;

class Pool {
 public:
  Pool() : num_threads_(threads_from_environment()) { start_workers(); }
  ~Pool() { stop_workers(); }

  int num_threads() const { return num_threads_; }

  void resize(int num_threads) {
    std::lock_guard<std::mutex> loop(loop_mutex_);  // no loop is running past this point
    if (num_threads == num_threads_) return;
    stop_workers();
    num_threads_ = num_threads;
    start_workers();
  }

  void run(std::size_t n, std::size_t min_chunk, detail::RangeBody body) {
    std::size_t chunks = std::min<std::size_t>(static_cast<std::size_t>(num_threads_),
                                               n / std::max<std::size_t>(min_chunk, 1));
    if (chunks <= 1 || inside_body) {
      body(0, n);
      return;
    }
    std::unique_lock<std::mutex> loop(loop_mutex_, std::try_to_lock);
    if (!loop.owns_lock()) {  // another thread's loop has the workers
      body(0, n);
      return;
    }
    chunks = std::min(chunks, workers_.size() + 1);
    std::size_t chunk = (n + chunks - 1) / chunks;
    chunk = (chunk + kChunkAlign - 1) / kChunkAlign * kChunkAlign;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      body_ = &body;
      n_ = n;
      chunk_ = chunk;
      remaining_ = 0;
      for (std::size_t c = 1; c < chunks; ++c) remaining_ += c * chunk < n ? 1 : 0;
      active_workers_ = remaining_;
      ++generation_;
    }
    work_ready_.notify_all();
    run_chunk(body, 0, chunk, n);
    std::unique_lock<std::mutex> lock(mutex_);
    work_done_.wait(lock, [this] { return remaining_ == 0; });
    body_ = nullptr;
    active_workers_ = 0;
  }

 private:
  static void run_chunk(const detail::RangeBody& body,
                        std::size_t begin,
                        std::size_t chunk,
                        std::size_t n) {
    if (begin >= n) return;
    inside_body = true;
    body(begin, std::min(n, begin + chunk));
    inside_body = false;
  }

  // `seen` starts at the generation current when the pool started this worker, so a worker that
  // is scheduled late still takes part in a loop that began in the meantime.
  void worker(std::size_t index, std::uint64_t seen) {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      work_ready_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      if (index >= active_workers_) continue;
      const detail::RangeBody body = *body_;
      const std::size_t begin = (index + 1) * chunk_, chunk = chunk_, n = n_;
      lock.unlock();
      run_chunk(body, begin, chunk, n);
      lock.lock();
      if (--remaining_ == 0) work_done_.notify_one();
    }
  }

  void start_workers() {
    stopping_ = false;
    const std::uint64_t generation = generation_;  // no loop runs during start_workers
    for (int i = 1; i < num_threads_; ++i) {
      workers_.emplace_back(
          [this, i, generation] { worker(static_cast<std::size_t>(i - 1), generation); });
    }
  }

  void stop_workers() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    work_ready_.notify_all();
    for (std::thread& t : workers_) t.join();
    workers_.clear();
  }

  int num_threads_;
  std::vector<std::thread> workers_;
  std::mutex loop_mutex_;  // one loop at a time; resize waits for it
  std::mutex mutex_;       // guards the fields below
  std::condition_variable work_ready_, work_done_;
  const detail::RangeBody* body_ = nullptr;
  std::size_t n_ = 0, chunk_ = 0, remaining_ = 0, active_workers_ = 0;
  std::uint64_t generation_ = 0;
  bool stopping_ = false;
};

Pool& pool() {
  static Pool instance;
  return instance;
}

}  // namespace

int get_num_threads() {
  return pool().num_threads();
}

void set_num_threads(int num_threads) {
  detail::check_value(num_threads >= 1 && num_threads <= kMaxThreads,
                      "set_num_threads: the number of threads must be in [1, {}], received: {}",
                      kMaxThreads,
                      num_threads);
  pool().resize(num_threads);
}

void detail::parallel_for(std::size_t n, std::size_t min_chunk, RangeBody body) {
  if (n == 0) return;
  pool().run(n, min_chunk, body);
}

}  // namespace tapeflow

// Optimizer state: save_weights / load_weights checkpoints (format, numpy-compatible .npy files,
// atomic replacement, exact resume, malformed checkpoints), set_weights before the slots exist,
// and build(var_list).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <tapeflow/optim/checkpoint.hpp>

#include "optim_support.hpp"

using namespace tapeflow;
using namespace tapeflow::testing;
namespace fs = std::filesystem;

namespace {

/// A fresh directory under $TMPDIR (or /tmp), removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/tapeflow-ckpt-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    REQUIRE(mkdtemp(buffer.data()) != nullptr);
    path_ = buffer.data();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

Config read_manifest(const std::string& dir) {
  return Config::parse(read_bytes(dir + "/manifest.json"));
}

void write_manifest(const std::string& dir, const Config& manifest) {
  write_bytes(dir + "/manifest.json", manifest.dump(2));
}

/// Applies `edit` to the manifest in `dir`.
void edit_manifest(const std::string& dir, const std::function<void(Config&)>& edit) {
  Config manifest = read_manifest(dir);
  edit(manifest);
  write_manifest(dir, manifest);
}

/// The path of the data file of the manifest's weights[k].
std::string data_file(const std::string& dir, std::size_t k) {
  return dir + "/" + read_manifest(dir)["weights"][k]["file"].get<std::string>();
}

/// A version-1.0 .npy file with the given header dict text and data bytes.
std::string npy_with(const std::string& dict, const std::string& data) {
  std::string header = dict;
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  return out + header + data;
}

/// Deterministic gradients: sin(0.7·step + 0.31·i + offset) in the variable's dtype.
Tensor grad_for(const Variable& var, int step, double offset) {
  const std::size_t n = var.size();
  std::vector<double> values(n);
  for (std::size_t i = 0; i < n; ++i) values[i] = std::sin(0.7 * step + 0.31 * i + offset);
  Tensor as_double = Tensor::from_data(DType::float64, var.shape(), values.data());
  return var.dtype() == DType::float64 ? as_double : cast(as_double, var.dtype());
}

void train(optim::Optimizer& opt, std::vector<Variable>& vars, int first, int last) {
  for (int step = first; step < last; ++step) {
    optim::GradsAndVars pairs;
    for (std::size_t k = 0; k < vars.size(); ++k) {
      pairs.emplace_back(Gradient(grad_for(vars[k], step, 1.3 * k)), vars[k]);
    }
    opt.apply_gradients(pairs);
  }
}

/// Two float32 variables and a float64 one, named so that checkpoints can match them.
std::vector<Variable> make_vars() {
  return {Variable(mat<float>(2, 3, {0.5, -1.0, 0.25, 2.0, -0.75, 1.5}), "w"),
          Variable(vec<float>({0.1, -0.2, 0.3}), "b"),
          Variable(vec<double>({1.0, -2.0}), "scale")};
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw_data(), b.raw_data(), a.size() * dtype_size(a.dtype())) == 0;
}

void check_same_bits(const std::vector<Tensor>& a, const std::vector<Tensor>& b,
                     const char* what) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    CHECK_MESSAGE(same_bits(a[i], b[i]), what << "[" << i << "]: " << a[i] << " vs " << b[i]);
  }
}

std::vector<Tensor> values_of(const std::vector<Variable>& vars) {
  std::vector<Tensor> out;
  for (const Variable& v : vars) out.push_back(copy_of(v.read_value_no_record()));
  return out;
}

/// Train N+M steps in one go, and N steps + save + load into a new optimizer + M steps: the
/// variables and every weight must be bit-identical. `preload_build` builds the new optimizer
/// before loading (the immediate path) instead of letting the first step apply it (pending).
void check_exact_resume(const std::function<optim::Optimizer()>& make, bool preload_build) {
  constexpr int N = 7, M = 5;
  std::vector<Variable> straight = make_vars();
  optim::Optimizer a = make();
  train(a, straight, 0, N + M);

  TempDir dir;
  std::vector<Variable> resumed = make_vars();
  {
    optim::Optimizer b = make();
    train(b, resumed, 0, N);
    b.save_weights(dir.path());
  }
  optim::Optimizer c = make();
  if (preload_build) c.build(resumed);
  c.load_weights(dir.path());
  CHECK(c.has_pending_weights() == !preload_build);
  train(c, resumed, N, N + M);

  CHECK(c.iterations().read_value_no_record().item<std::int64_t>() == N + M);
  check_same_bits(values_of(resumed), values_of(straight), "variables");
  check_same_bits(c.get_weights(), a.get_weights(), "optimizer weights");
  CHECK(c.get_slot_names() == a.get_slot_names());
}

/// A trained Adagrad (3 steps on make_vars()) saved in `dir`.
void save_trained_adagrad(const std::string& dir) {
  std::vector<Variable> vars = make_vars();
  optim::Adagrad opt(0.05, 0.1, 1e-7, "source");
  train(opt, vars, 0, 3);
  opt.save_weights(dir);
}

}  // namespace

// ---- format ------------------------------------------------------------------------------------

TEST_CASE("save_weights writes the manifest and one numpy .npy file per weight") {
  TempDir dir;
  std::vector<Variable> vars = make_vars();
  optim::Adagrad opt(0.05, 0.1, 1e-7, "ckpt_format");
  train(opt, vars, 0, 4);
  opt.save_weights(dir.path());

  const Config manifest = read_manifest(dir.path());
  CHECK(manifest["format"] == "tapeflow-optimizer-checkpoint");
  CHECK(manifest["version"] == 1);
  CHECK(manifest["class_name"] == "Adagrad");
  CHECK(manifest["config"] == opt.get_config());
  CHECK(manifest["iterations"] == 4);
  const Config& weights = manifest["weights"];
  REQUIRE(weights.size() == 3);
  const std::vector<std::string> names = {"w:0", "b:0", "scale:0"};
  const std::vector<Tensor> expected = opt.get_weights();
  for (std::size_t k = 0; k < 3; ++k) {
    CAPTURE(k);
    CHECK(weights[k]["variable"] == names[k]);
    CHECK(weights[k]["occurrence"] == 0);
    CHECK(weights[k]["slot"] == "accumulator");
    CHECK(weights[k]["dtype"] == (k == 2 ? "float64" : "float32"));
    const std::string bytes = read_bytes(dir / weights[k]["file"].get<std::string>());
    // numpy's format by hand: magic, version 1.0, little-endian header length, a dict with
    // exactly descr / fortran_order / shape, a newline, then C-order data.
    REQUIRE(bytes.size() > 10);
    CHECK(bytes.compare(0, 8, std::string("\x93NUMPY\x01\x00", 8)) == 0);
    const std::size_t header_len = static_cast<unsigned char>(bytes[8]) |
                                   (static_cast<std::size_t>(static_cast<unsigned char>(bytes[9])) << 8);
    const std::string header = bytes.substr(10, header_len);
    CHECK(header.back() == '\n');
    CHECK(header.find(k == 2 ? "'descr': '<f8'" : "'descr': '<f4'") != std::string::npos);
    CHECK(header.find("'fortran_order': False") != std::string::npos);
    CHECK(header.find(k == 0 ? "'shape': (2, 3)" : k == 1 ? "'shape': (3,)" : "'shape': (2,)") !=
          std::string::npos);
    const optim::detail::NpyHeader parsed = optim::detail::parse_npy(bytes, "file");
    CHECK(parsed.data_offset == 10 + header_len);
    const Tensor loaded =
        Tensor::from_data(parsed.dtype, parsed.shape, bytes.data() + parsed.data_offset);
    CHECK(same_bits(loaded, expected[k + 1]));
  }
  // Only the manifest and the three data files.
  std::size_t files = 0;
  for (const auto& item : fs::directory_iterator(dir.path())) {
    (void)item;
    ++files;
  }
  CHECK(files == 4);
}

TEST_CASE("Nadam's momentum_cache is saved as a weight that is not a slot") {
  TempDir dir;
  std::vector<Variable> vars = make_vars();
  vars.pop_back();  // Nadam's cache takes the first variable's dtype: keep them all float32
  optim::Nadam opt(0.01);
  train(opt, vars, 0, 2);
  opt.save_weights(dir.path());
  const Config weights = read_manifest(dir.path())["weights"];
  REQUIRE(weights.size() == 5);
  CHECK(weights[0]["variable"].is_null());
  CHECK(weights[0]["slot"] == "momentum_cache");
  CHECK(weights[0]["shape"] == Config::array());
  CHECK(weights[1]["slot"] == "m");
  CHECK(weights[3]["slot"] == "v");
}

TEST_CASE("save_weights replaces the previous checkpoint; leftovers of a crashed save are harmless") {
  TempDir dir;
  std::vector<Variable> vars = make_vars();
  optim::Adam opt(0.01, 0.9, 0.999, 1e-7, false, "atomic");
  train(opt, vars, 0, 2);
  opt.save_weights(dir.path());
  const Config first = read_manifest(dir.path());
  const std::vector<Tensor> first_weights = opt.get_weights();

  // A crash in the middle of the next save: new data files and a temporary manifest exist, the
  // manifest was not yet renamed. The previous checkpoint still loads, exactly.
  write_bytes(dir / "w0-00000000deadbeef.npy", "\x93NUMPY partial");
  write_bytes(dir / "manifest.json.tmp-00000000deadbeef", "{\"format\": \"tapeflow-opt");
  write_bytes(dir / "notes.txt", "the user's own file");
  {
    optim::Adam probe(0.01, 0.9, 0.999, 1e-7, false, "probe");
    probe.build(vars);
    probe.load_weights(dir.path());
    check_same_bits(probe.get_weights(), first_weights, "previous checkpoint");
  }

  train(opt, vars, 2, 3);
  opt.save_weights(dir.path());
  const Config second = read_manifest(dir.path());
  CHECK(second["iterations"] == 3);
  std::set<std::string> names;
  for (const auto& item : fs::directory_iterator(dir.path())) {
    names.insert(item.path().filename().string());
  }
  std::set<std::string> expected = {"manifest.json", "notes.txt"};
  for (const Config& w : second["weights"]) expected.insert(w["file"].get<std::string>());
  CHECK(names == expected);  // old data files and crash leftovers removed, user files kept
  for (const Config& w : first["weights"]) {
    CHECK(names.count(w["file"].get<std::string>()) == 0);
  }
  optim::Adam probe(0.01, 0.9, 0.999, 1e-7, false, "probe2");
  probe.build(vars);
  probe.load_weights(dir.path());
  check_same_bits(probe.get_weights(), opt.get_weights(), "second checkpoint");
}

TEST_CASE("save_weights errors: a file in the way, a missing parent, pending weights") {
  TempDir dir;
  std::vector<Variable> vars = make_vars();
  optim::Adagrad opt(0.05);
  train(opt, vars, 0, 1);
  write_bytes(dir / "plain", "x");
  CHECK_THROWS_WITH_TEXT(opt.save_weights(dir / "plain"), ValueError,
                         "exists and is not a directory");
  CHECK_THROWS_WITH_TEXT(opt.save_weights(dir / "no/such/dir"), ValueError,
                         "cannot create the directory");
  CHECK_FALSE(fs::exists(dir / "no"));
  opt.save_weights(dir / "made/");  // a missing last component is created
  CHECK(fs::is_regular_file(dir / "made/manifest.json"));

  optim::Adagrad fresh(0.05);
  fresh.set_weights({Tensor(std::int64_t{1}), ones({2, 3}), ones({3}), ones({2}, DType::float64)});
  CHECK_THROWS_WITH_TEXT(fresh.save_weights(dir / "pending"), ValueError,
                         "still holds pending weights");
}

// ---- exact resume ------------------------------------------------------------------------------

TEST_CASE("resume is exact: N steps, checkpoint, new optimizer, M steps == N+M steps") {
  const std::vector<std::pair<const char*, std::function<optim::Optimizer()>>> makers = {
      {"Adagrad", [] { return optim::Adagrad(0.05, 0.1, 1e-7); }},
      {"Adagrad with decay and clipnorm",
       [] { return optim::Adagrad(0.05, 0.2, 1e-7, "Adagrad", {{"decay", 0.01}, {"clipnorm", 0.5}}); }},
      {"Adagrad with a schedule",
       [] { return optim::Adagrad(std::make_shared<optim::schedules::ExponentialDecay>(0.1, 3, 0.5), 0.1); }},
      {"Adam", [] { return optim::Adam(0.01); }},
      {"Adam amsgrad", [] { return optim::Adam(0.01, 0.8, 0.99, 1e-7, true); }},
      {"RMSprop centered with momentum",
       [] { return optim::RMSprop(0.01, 0.9, 0.5, 1e-7, true); }},
      {"SGD with nesterov momentum", [] { return optim::SGD(0.05, 0.9, true); }},
      {"Adadelta", [] { return optim::Adadelta(1.0); }},
      {"Ftrl", [] { return optim::Ftrl(0.05); }},
      {"Adamax", [] { return optim::Adamax(0.01); }},
  };
  for (const auto& maker : makers) {
    const char* label = maker.first;
    for (bool preload_build : {false, true}) {
      CAPTURE(label);
      CAPTURE(preload_build);
      check_exact_resume(maker.second, preload_build);
    }
  }
}

TEST_CASE("resume is exact with sparse gradients (Adagrad and Adam, repeated rows)") {
  const auto run = [](optim::Optimizer& opt, Variable& table, int first, int last) {
    for (int step = first; step < last; ++step) {
      const std::vector<std::int64_t> rows = {step % 4, 1, step % 4};  // a repeated row
      std::vector<float> values(3 * 2);
      for (std::size_t i = 0; i < values.size(); ++i) {
        values[i] = static_cast<float>(std::sin(0.9 * step + 0.4 * static_cast<double>(i)));
      }
      IndexedSlices slices{Tensor::from_data(DType::float32, {3, 2}, values.data()),
                           Tensor::from_data(DType::int64, {3}, rows.data()), Shape{4, 2}};
      opt.apply_gradients({{Gradient(slices), table}});
    }
  };
  for (bool adam : {false, true}) {
    CAPTURE(adam);
    const auto make = [adam]() -> optim::Optimizer {
      if (adam) return optim::Adam(0.02);
      return optim::Adagrad(0.1);
    };
    const Tensor initial = mat<float>(4, 2, {1, 2, 3, 4, 5, 6, 7, 8});
    Variable straight(initial, "table"), resumed(initial, "table");
    optim::Optimizer a = make();
    run(a, straight, 0, 9);
    TempDir dir;
    optim::Optimizer b = make();
    run(b, resumed, 0, 5);
    b.save_weights(dir.path());
    optim::Optimizer c = make();
    c.load_weights(dir.path());
    run(c, resumed, 5, 9);
    CHECK(same_bits(resumed.read_value_no_record(), straight.read_value_no_record()));
    check_same_bits(c.get_weights(), a.get_weights(), "weights");
  }
}

TEST_CASE("resume is exact for Nadam (its momentum cache is restored too)") {
  constexpr int N = 4, M = 3;
  std::vector<Variable> straight = make_vars(), resumed = make_vars();
  straight.pop_back();
  resumed.pop_back();
  optim::Nadam a(0.01);
  train(a, straight, 0, N + M);
  TempDir dir;
  optim::Nadam b(0.01);
  train(b, resumed, 0, N);
  b.save_weights(dir.path());
  optim::Nadam c(0.01);
  c.load_weights(dir.path());
  train(c, resumed, N, N + M);
  check_same_bits(values_of(resumed), values_of(straight), "variables");
  check_same_bits(c.get_weights(), a.get_weights(), "weights");
}

TEST_CASE("load_weights matches slots by variable name, not position") {
  TempDir dir;
  std::vector<Variable> vars = make_vars();
  optim::Adagrad source(0.05);
  train(source, vars, 0, 3);
  source.save_weights(dir.path());

  // The same variables, slotted in another order.
  std::vector<Variable> reversed = {vars[2], vars[0], vars[1]};
  optim::Adagrad target(0.05);
  target.build(reversed);
  target.load_weights(dir.path());
  for (const Variable& v : vars) {
    CHECK(same_bits(target.get_slot(v, "accumulator").read_value_no_record(),
                    source.get_slot(v, "accumulator").read_value_no_record()));
  }
  CHECK(target.iterations().read_value_no_record().item<std::int64_t>() == 3);

  // Variables that share a name are told apart by their order of first use.
  TempDir twins_dir;
  std::vector<Variable> twins = {Variable(vec<float>({1.0, 2.0})), Variable(vec<float>({3.0}))};
  optim::Adagrad twin_source(0.05);
  train(twin_source, twins, 0, 2);
  twin_source.save_weights(twins_dir.path());
  const Config twin_weights = read_manifest(twins_dir.path())["weights"];
  CHECK(twin_weights[0]["variable"] == "Variable:0");
  CHECK(twin_weights[1]["variable"] == "Variable:0");
  CHECK(twin_weights[1]["occurrence"] == 1);
  optim::Adagrad twin_target(0.05);
  twin_target.load_weights(twins_dir.path());
  twin_target.build(twins);
  check_same_bits(twin_target.get_weights(), twin_source.get_weights(), "twins");
}

TEST_CASE("a pending checkpoint whose slots differ fails at build, listing every difference") {
  TempDir dir;
  save_trained_adagrad(dir.path());
  std::vector<Variable> vars = make_vars();
  Variable other(vec<float>({1.0, 2.0, 3.0, 4.0}), "other");
  Variable wide(mat<float>(3, 2, {1, 2, 3, 4, 5, 6}), "w");  // a `w` of another shape
  optim::Adagrad opt(0.05, 0.1, 1e-7, "pending_mismatch");
  opt.load_weights(dir.path());
  CHECK(opt.has_pending_weights());
  const std::vector<Variable> build_list = {wide, vars[1], other};
  const Snapshot before = snapshot(opt, build_list);
  try {
    opt.build(build_list);
    FAIL("build did not throw");
  } catch (const ValueError& e) {
    const std::string message = e.what();
    CHECK(message.find("1 missing from the checkpoint: slot 'accumulator' of variable "
                       "'other:0'") != std::string::npos);
    CHECK(message.find("1 extra in the checkpoint: slot 'accumulator' of variable 'scale:0'") !=
          std::string::npos);
    CHECK(message.find("1 mis-shaped: slot 'accumulator' of variable 'w:0': optimizer (3, 2), "
                       "checkpoint (2, 3)") != std::string::npos);
  }
  check_unchanged(before, opt, build_list);
  CHECK(opt.weights().empty());  // the slots build created were removed again
  CHECK(opt.has_pending_weights());
  // The same failure from the first step: no step is applied.
  optim::GradsAndVars pairs = {{Gradient(ones({3, 2})), wide}, {Gradient(ones({3})), vars[1]},
                        {Gradient(ones({4})), other}};
  CHECK_THROWS_WITH_TEXT(opt.apply_gradients(pairs), ValueError, "1 mis-shaped");
  check_unchanged(before, opt, build_list);
  // The right variables load it.
  opt.build(vars);
  CHECK_FALSE(opt.has_pending_weights());
  CHECK(opt.iterations().read_value_no_record().item<std::int64_t>() == 3);
}

// ---- set_weights before the slots exist, and build --------------------------------------------

TEST_CASE("set_weights before the slots exist is applied at the first step") {
  std::vector<Variable> vars = {Variable(vec<float>({1.0, 2.0}), "x")};
  optim::Adagrad opt(0.1, 0.1, 1e-7, "pending_step", {{"decay", 0.5}});
  opt.set_weights({Tensor(std::int64_t{4}), vec<float>({0.5, 2.0})});
  CHECK(opt.has_pending_weights());
  CHECK(opt.weights().empty());
  opt.apply_gradients({{Gradient(vec<float>({1.0, -1.0})), vars[0]}});
  CHECK_FALSE(opt.has_pending_weights());
  CHECK(opt.iterations().read_value_no_record().item<std::int64_t>() == 5);
  // acc = set value + g²; lr_t = 0.1 / (1 + 0.5·4): the step used the restored count.
  AdagradReference<float> ref({1.0f, 2.0f}, 0.0);
  ref.acc = {0.5f, 2.0f};
  ref.step({1.0f, -1.0f}, 0.1 / 3.0);
  CHECK(flat<float>(opt.get_slot(vars[0], "accumulator")) == ref.acc);
  CHECK(flat<float>(vars[0]) == ref.var);
}

TEST_CASE("set_weights before the slots exist is applied by build; Keras v1 lists too") {
  std::vector<Variable> vars = make_vars();
  SUBCASE("full list") {
    optim::Adagrad opt(0.1);
    opt.set_weights({Tensor(std::int64_t{9}), fill({2, 3}, 1.5), fill({3}, 2.5),
                     fill({2}, 3.5, DType::float64)});
    opt.build(vars);
    CHECK_FALSE(opt.has_pending_weights());
    CHECK(opt.iterations().read_value_no_record().item<std::int64_t>() == 9);
    CHECK(flat<float>(opt.get_slot(vars[1], "accumulator")) == std::vector<float>(3, 2.5f));
    CHECK(flat<double>(opt.get_slot(vars[2], "accumulator")) == std::vector<double>(2, 3.5));
  }
  SUBCASE("Keras v1 Adagrad list: no iteration count") {
    optim::Adagrad opt(0.1);
    opt.set_weights({fill({2, 3}, 1.5), fill({3}, 2.5), fill({2}, 3.5, DType::float64)});
    opt.build(vars);
    CHECK(opt.iterations().read_value_no_record().item<std::int64_t>() == 0);
    CHECK(flat<float>(opt.get_slot(vars[0], "accumulator")) == std::vector<float>(6, 1.5f));
  }
  SUBCASE("Keras v1 Adam list: vhat is cut") {
    optim::Adam opt(0.1);
    std::vector<Tensor> list = {Tensor(std::int64_t{2})};
    for (int part = 1; part <= 3; ++part) {  // m..., v..., vhat...
      list.push_back(fill({2, 3}, part));
      list.push_back(fill({3}, part));
      list.push_back(fill({2}, part, DType::float64));
    }
    opt.set_weights(list);
    opt.build(vars);
    CHECK(opt.weights().size() == 7);
    CHECK(flat<float>(opt.get_slot(vars[1], "v")) == std::vector<float>(3, 2.0f));
  }
  SUBCASE("a later set_weights replaces the pending one") {
    optim::SGD opt(0.1, 0.9);
    opt.set_weights({Tensor(std::int64_t{1}), zeros({2, 3}), zeros({3}), zeros({2}, DType::float64)});
    opt.set_weights({Tensor(std::int64_t{2}), ones({2, 3}), ones({3}), ones({2}, DType::float64)});
    opt.build(vars);
    CHECK(opt.iterations().read_value_no_record().item<std::int64_t>() == 2);
    CHECK(flat<float>(opt.get_slot(vars[1], "momentum")) == std::vector<float>(3, 1.0f));
  }
}

TEST_CASE("pending set_weights mismatches name the slot, the variable and both shapes") {
  std::vector<Variable> vars = make_vars();
  optim::Adagrad opt(0.1, 0.1, 1e-7, "pending_shapes");
  opt.set_weights({Tensor(std::int64_t{1}), ones({2, 3}), ones({4}), ones({2}, DType::float64)});
  const Snapshot before = snapshot(opt, vars);
  optim::GradsAndVars pairs;
  for (const Variable& v : vars) pairs.emplace_back(Gradient(ones(v.shape(), v.dtype())), v);
  CHECK_THROWS_WITH_TEXT(
      opt.apply_gradients(pairs), ValueError,
      "Optimizer weight shape (3,) not compatible with provided weight shape (4,). (weight 2 of "
      "optimizer pending_shapes: slot 'accumulator' of variable 'b:0')");
  check_unchanged(before, opt, vars);  // no slots, no iterations, no step
  CHECK(opt.weights().empty());
  CHECK(opt.has_pending_weights());
  CHECK_THROWS_WITH_TEXT(opt.build(vars), ValueError, "slot 'accumulator' of variable 'b:0'");
  check_unchanged(before, opt, vars);

  // Too many entries: the length message, at the step.
  opt.set_weights({Tensor(std::int64_t{1}), ones({2, 3}), ones({3}), ones({2}, DType::float64),
                   ones({2})});
  CHECK_THROWS_WITH_TEXT(opt.apply_gradients(pairs), ValueError,
                         "with a  weight list of length 5, but the optimizer was expecting 4");
  check_unchanged(before, opt, vars);
  // A none entry is refused at once.
  CHECK_THROWS_WITH_TEXT(opt.set_weights({Tensor(std::int64_t{1}), Tensor()}), ValueError,
                         "set_weights: weight 1 is none");
  // Fixed: the step runs with the restored state.
  opt.set_weights({Tensor(std::int64_t{1}), ones({2, 3}), ones({3}), ones({2}, DType::float64)});
  opt.apply_gradients(pairs);
  CHECK(opt.iterations().read_value_no_record().item<std::int64_t>() == 2);
  CHECK(flat<float>(opt.get_slot(vars[1], "accumulator")) == std::vector<float>(3, 2.0f));
}

TEST_CASE("a failed first Nadam step re-creates its momentum cache; the retry matches") {
  std::vector<Variable> vars = {Variable(vec<float>({1.0, 2.0}), "x")};
  std::vector<Variable> twin = {Variable(vec<float>({1.0, 2.0}), "x")};
  optim::Nadam opt(0.01), reference(0.01);
  opt.set_weights({Tensor(std::int64_t{0}), ones({}), zeros({3}), zeros({2})});
  optim::GradsAndVars pairs = {{Gradient(vec<float>({0.5, -0.5})), vars[0]}};
  CHECK_THROWS_WITH_TEXT(opt.apply_gradients(pairs), ValueError, "slot 'm' of variable 'x:0'");
  CHECK(opt.weights().empty());
  opt.set_weights({Tensor(std::int64_t{0}), ones({}), zeros({2}), zeros({2})});
  opt.apply_gradients(pairs);
  reference.apply_gradients({{Gradient(vec<float>({0.5, -0.5})), twin[0]}});
  check_same_bits(opt.get_weights(), reference.get_weights(), "weights");
  check_same_bits(values_of(vars), values_of(twin), "variables");
}

TEST_CASE("build creates iterations and every slot up front, without a step") {
  std::vector<Variable> vars = make_vars();
  const std::vector<Tensor> initial = values_of(vars);
  optim::RMSprop opt(0.01, 0.9, 0.5, 1e-7, true, "built");
  opt.build(vars);
  CHECK(opt.weights().size() == 1 + 3 * 3);
  CHECK(opt.get_slot_names() == std::vector<std::string>{"rms", "momentum", "mg"});
  CHECK(opt.iterations().read_value_no_record().item<std::int64_t>() == 0);
  check_same_bits(values_of(vars), initial, "variables");
  opt.build(vars);  // idempotent
  CHECK(opt.weights().size() == 10);
  opt.build({});  // just iterations, which exists
  CHECK(opt.weights().size() == 10);

  // Nadam: build must not advance the momentum cache (a step does, once).
  std::vector<Variable> a = {Variable(vec<float>({1.0}), "a")};
  std::vector<Variable> b = {Variable(vec<float>({1.0}), "a")};
  optim::Nadam built(0.01), plain(0.01);
  built.build(a);
  built.build(a);
  CHECK(flat<float>(built.weights()[1]) == std::vector<float>{1.0f});
  built.apply_gradients({{Gradient(vec<float>({0.5})), a[0]}});
  plain.apply_gradients({{Gradient(vec<float>({0.5})), b[0]}});
  check_same_bits(built.get_weights(), plain.get_weights(), "Nadam weights");

  // An integer variable is refused before anything is created.
  optim::Adagrad fresh(0.1);
  Variable counter(Tensor(std::int64_t{3}), "counter");
  CHECK_THROWS_WITH_TEXT(fresh.build({counter}), ValueError, "Invalid type int64 for counter:0");
  CHECK(fresh.weights().empty());
}

// ---- malformed checkpoints -----------------------------------------------------------------

namespace {

struct BadCase {
  const char* name;
  std::function<void(const std::string& dir)> damage;
  bool type_error;
  const char* fragment;
};

void set_in_entry(const std::string& dir, std::size_t k, const char* key, const Config& value) {
  edit_manifest(dir, [&](Config& m) { m["weights"][k][key] = value; });
}

void replace_file_header(const std::string& dir, std::size_t k, const std::string& dict,
                         const std::string& data) {
  write_bytes(data_file(dir, k), npy_with(dict, data));
}

const std::vector<BadCase>& bad_cases() {
  static const std::vector<BadCase> cases = {
      {"no directory", [](const std::string& d) { fs::remove_all(d); }, false,
       "does not exist or is not a directory"},
      {"no manifest", [](const std::string& d) { fs::remove(d + "/manifest.json"); }, false,
       "manifest.json' does not exist"},
      {"manifest is a directory",
       [](const std::string& d) {
         fs::remove(d + "/manifest.json");
         fs::create_directory(d + "/manifest.json");
       },
       false, "is not a regular file"},
      {"missing data file", [](const std::string& d) { fs::remove(data_file(d, 1)); }, false,
       "does not exist or is not a regular file"},
      {"empty manifest", [](const std::string& d) { write_bytes(d + "/manifest.json", ""); },
       false, "not valid JSON"},
      {"truncated manifest",
       [](const std::string& d) {
         const std::string text = read_bytes(d + "/manifest.json");
         write_bytes(d + "/manifest.json", text.substr(0, text.size() / 2));
       },
       false, "not valid JSON"},
      {"garbage manifest",
       [](const std::string& d) { write_bytes(d + "/manifest.json", std::string("\xff\xfe{]", 4)); },
       false, "not valid JSON"},
      {"manifest nested too deep",
       [](const std::string& d) {
         write_bytes(d + "/manifest.json", std::string(100000, '[') + std::string(100000, ']'));
       },
       false, "nested more than 64 levels"},
      {"manifest is an array",
       [](const std::string& d) { write_bytes(d + "/manifest.json", "[1, 2]"); }, true,
       "the manifest must be a JSON object, received array"},
      {"wrong format",
       [](const std::string& d) { edit_manifest(d, [](Config& m) { m["format"] = "keras"; }); },
       false, "'format' is \"keras\""},
      {"future version",
       [](const std::string& d) { edit_manifest(d, [](Config& m) { m["version"] = 2; }); },
       false, "unsupported checkpoint version 2"},
      {"version is a string",
       [](const std::string& d) { edit_manifest(d, [](Config& m) { m["version"] = "1"; }); },
       true, "'version' must be an integer, received string \"1\""},
      {"class_name is a number",
       [](const std::string& d) { edit_manifest(d, [](Config& m) { m["class_name"] = 7; }); },
       true, "'class_name' must be a string"},
      {"wrong class",
       [](const std::string& d) { edit_manifest(d, [](Config& m) { m["class_name"] = "Adam"; }); },
       false, "holds a checkpoint of a Adam, but optimizer 'target' is a Adagrad"},
      {"config is a list",
       [](const std::string& d) { edit_manifest(d, [](Config& m) { m["config"] = Config::array(); }); },
       true, "'config' must be an object"},
      {"negative iterations",
       [](const std::string& d) { edit_manifest(d, [](Config& m) { m["iterations"] = -1; }); },
       false, "'iterations' must be a non-negative int64, received -1"},
      {"fractional iterations",
       [](const std::string& d) { edit_manifest(d, [](Config& m) { m["iterations"] = 1.5; }); },
       true, "'iterations' must be an integer, received a number 1.5"},
      {"no iterations",
       [](const std::string& d) { edit_manifest(d, [](Config& m) { m.erase("iterations"); }); },
       false, "the manifest lacks the key 'iterations'"},
      {"unknown key",
       [](const std::string& d) { edit_manifest(d, [](Config& m) { m["extra"] = 1; }); }, false,
       "the manifest has an unknown key 'extra'"},
      {"weights is an object",
       [](const std::string& d) { edit_manifest(d, [](Config& m) { m["weights"] = Config::object(); }); },
       true, "'weights' must be an array, received object"},
      {"weight entry is a number",
       [](const std::string& d) { edit_manifest(d, [](Config& m) { m["weights"][0] = 3; }); },
       true, "weights[0] must be an object"},
      {"variable is a number", [](const std::string& d) { set_in_entry(d, 0, "variable", 5); },
       true, "weights[0].'variable' must be a string or null"},
      {"occurrence is a string", [](const std::string& d) { set_in_entry(d, 1, "occurrence", "0"); },
       true, "weights[1].'occurrence' must be a non-negative integer"},
      {"shape of strings",
       [](const std::string& d) { set_in_entry(d, 0, "shape", Config::array({"2", "3"})); }, true,
       "weights[0].'shape' must be an array of non-negative integers"},
      {"negative dimension",
       [](const std::string& d) { set_in_entry(d, 0, "shape", Config::array({2, -3})); }, true,
       "must be an array of non-negative integers"},
      {"unknown dtype", [](const std::string& d) { set_in_entry(d, 0, "dtype", "float16"); },
       false, "weights[0].dtype 'float16' is not one of"},
      {"absurd manifest shape",
       [](const std::string& d) {
         set_in_entry(d, 0, "shape", Config::array({std::uint64_t{1} << 40, std::uint64_t{1} << 40}));
       },
       false, "is absurd"},
      {"path outside the directory",
       [](const std::string& d) { set_in_entry(d, 0, "file", "../escape.npy"); }, false,
       "is not a plain .npy file name"},
      {"same file twice",
       [](const std::string& d) {
         edit_manifest(d, [](Config& m) { m["weights"][1]["file"] = m["weights"][0]["file"]; });
       },
       false, "is used twice"},
      {"duplicated weight",
       [](const std::string& d) {
         edit_manifest(d, [](Config& m) {
           m["weights"][1]["variable"] = m["weights"][0]["variable"];
         });
       },
       false, "repeats the weight ('w:0', 0, 'accumulator')"},
      {"manifest dtype differs from the file",
       [](const std::string& d) { set_in_entry(d, 1, "dtype", "float64"); }, false,
       "holds float32 (3,), the manifest says float64 (3,)"},
      {"manifest shape differs from the file",
       [](const std::string& d) { set_in_entry(d, 0, "shape", Config::array({3, 2})); }, false,
       "holds float32 (2, 3), the manifest says float32 (3, 2)"},
      {"slot of the wrong shape (file and manifest agree)",
       [](const std::string& d) {
         set_in_entry(d, 1, "shape", Config::array({4}));
         replace_file_header(d, 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }",
                             std::string(16, '\0'));
       },
       false, "1 mis-shaped: slot 'accumulator' of variable 'b:0': optimizer (3,), checkpoint (4,)"},
      {"slot of the wrong dtype",
       [](const std::string& d) {
         set_in_entry(d, 1, "dtype", "float64");
         replace_file_header(d, 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                             std::string(24, '\0'));
       },
       false, "1 of the wrong dtype: slot 'accumulator' of variable 'b:0': optimizer float32, "
              "checkpoint float64"},
      {"missing slot",
       [](const std::string& d) {
         edit_manifest(d, [](Config& m) { m["weights"].erase(m["weights"].begin() + 2); });
       },
       false, "1 missing from the checkpoint: slot 'accumulator' of variable 'scale:0'"},
      {"extra slot and missing slot together",
       [](const std::string& d) {
         set_in_entry(d, 0, "variable", "ghost:0");
         set_in_entry(d, 1, "slot", "momentum");
       },
       false, "2 missing from the checkpoint: slot 'accumulator' of variable 'w:0', slot "
              "'accumulator' of variable 'b:0'; 2 extra in the checkpoint: slot 'accumulator' of "
              "variable 'ghost:0', slot 'momentum' of variable 'b:0'"},
      {"npy magic", [](const std::string& d) { write_bytes(data_file(d, 0), "NUMPY!" + std::string(100, ' ')); },
       false, "the magic string \\x93NUMPY is missing"},
      {"npy empty", [](const std::string& d) { write_bytes(data_file(d, 0), ""); }, false,
       "0 bytes, shorter than the 10-byte preamble"},
      {"npy version",
       [](const std::string& d) {
         std::string bytes = read_bytes(data_file(d, 0));
         bytes[6] = 9;
         write_bytes(data_file(d, 0), bytes);
       },
       false, "unsupported format version 9.0"},
      {"npy header length past the end",
       [](const std::string& d) {
         std::string bytes = read_bytes(data_file(d, 0));
         bytes[8] = '\xff';
         bytes[9] = '\xff';
         write_bytes(data_file(d, 0), bytes);
       },
       false, "header length 65535 runs past the end of the file"},
      {"npy v2 header length over the limit",
       [](const std::string& d) {
         write_bytes(data_file(d, 0), std::string("\x93NUMPY\x02\x00\x00\x00\x00\x7f", 12) +
                                          std::string(64, ' '));
       },
       false, "header length 2130706432 exceeds the limit"},
      {"npy header not a dict",
       [](const std::string& d) { replace_file_header(d, 0, "descr=<f4", std::string(24, '\0')); },
       false, "expected '{' at the start of the header dict"},
      {"npy unknown header key",
       [](const std::string& d) {
         replace_file_header(d, 0, "{'descr': '<f4', 'order': 'C', 'shape': (2, 3), }",
                             std::string(24, '\0'));
       },
       false, "unknown header key 'order'"},
      {"npy repeated header key",
       [](const std::string& d) {
         replace_file_header(d, 0, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
                                   "'shape': (2, 3), }", std::string(24, '\0'));
       },
       false, "the header key 'descr' appears twice"},
      {"npy big-endian",
       [](const std::string& d) {
         replace_file_header(d, 0, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }",
                             std::string(24, '\0'));
       },
       false, "unsupported descr '>f4'"},
      {"npy Fortran order",
       [](const std::string& d) {
         replace_file_header(d, 0, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                             std::string(24, '\0'));
       },
       false, "Fortran-order arrays of rank > 1"},
      {"npy absurd shape",
       [](const std::string& d) {
         replace_file_header(d, 0,
                             "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, "
                             "1099511627776), }",
                             std::string(24, '\0'));
       },
       false, "is absurd"},
      {"npy shape overflowing 64 bits",
       [](const std::string& d) {
         replace_file_header(d, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': "
                                   "(99999999999999999999999,), }", std::string(24, '\0'));
       },
       false, "overflows 64 bits"},
      {"npy truncated data",
       [](const std::string& d) {
         const std::string bytes = read_bytes(data_file(d, 0));
         write_bytes(data_file(d, 0), bytes.substr(0, bytes.size() - 5));
       },
       false, "needs 24 data bytes, the file has 19 (truncated)"},
      {"npy trailing bytes",
       [](const std::string& d) { write_bytes(data_file(d, 0), read_bytes(data_file(d, 0)) + "xyz"); },
       false, "(trailing bytes)"},
      {"npy control byte in the header",
       [](const std::string& d) {
         std::string bytes = read_bytes(data_file(d, 0));
         bytes[12] = '\x01';
         write_bytes(data_file(d, 0), bytes);
       },
       false, "the header has the byte 0x01"},
      {"two damaged files reported together",
       [](const std::string& d) {
         write_bytes(data_file(d, 0), "");
         fs::remove(data_file(d, 2));
       },
       false, "is damaged (2 problems)"},
  };
  return cases;
}

}  // namespace

TEST_CASE("malformed checkpoints: a typed error naming the problem, and nothing changes") {
  const std::vector<BadCase>& cases = bad_cases();
  CHECK(cases.size() >= 30);
  for (const BadCase& c : cases) {
    CAPTURE(c.name);
    for (bool built : {true, false}) {
      CAPTURE(built);
      TempDir dir;
      save_trained_adagrad(dir.path());
      c.damage(dir.path());
      std::vector<Variable> vars = make_vars();
      optim::Adagrad target(0.05, 0.1, 1e-7, "target");
      if (built) train(target, vars, 0, 1);
      const Snapshot before = snapshot(target, vars);
      const auto load = [&] {
        target.load_weights(dir.path());
        // A fresh optimizer keeps a well-formed checkpoint pending: its slots are compared at build.
        if (!built) target.build(vars);
      };
      if (c.type_error) {
        CHECK_THROWS_WITH_TEXT(load(), TypeError, c.fragment);
      } else {
        CHECK_THROWS_WITH_TEXT(load(), ValueError, c.fragment);
      }
      check_unchanged(before, target, vars);
      if (built) CHECK_FALSE(target.has_pending_weights());
    }
  }
}

TEST_CASE("parse_npy and parse_manifest take raw bytes (the fuzz entry points)") {
  using optim::detail::parse_manifest;
  using optim::detail::parse_npy;
  const std::string scalar = npy_with("{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
                                      std::string(8, '\0'));
  const optim::detail::NpyHeader h = parse_npy(scalar, "s");
  CHECK(h.shape.empty());
  CHECK(h.dtype == DType::float64);
  CHECK(h.data_bytes == 8);
  // numpy's spellings: double quotes, no trailing comma, Fortran order on rank 1, empty arrays.
  CHECK(parse_npy(npy_with("{\"descr\": \"<i8\", \"fortran_order\": True, \"shape\": (2,)}",
                           std::string(16, '\0')), "d")
            .shape == Shape{2});
  CHECK(parse_npy(npy_with("{'descr':'<i4','fortran_order':False,'shape':(0, 5)}", ""), "e")
            .data_bytes == 0);
  CHECK_THROWS_WITH_TEXT(
      parse_npy(npy_with("{'descr': '<f4', 'fortran_order': False, 'shape': (3), }",
                         std::string(12, '\0')), "t"),
      ValueError, "a 1-tuple is written (n,)");
  CHECK_THROWS_WITH_TEXT(parse_npy(npy_with("{'descr': '<f4', 'fortran_order': False}", ""), "k"),
                         ValueError, "the header lacks 'shape'");
  CHECK_THROWS_WITH_TEXT(parse_npy(std::string("\x93NUMPY\x01\x00\x04\x00{'de", 14), "u"),
                         ValueError, "unterminated string");

  const optim::detail::Manifest m = parse_manifest(
      R"({"format": "tapeflow-optimizer-checkpoint", "version": 1, "class_name": "SGD",
          "config": {}, "iterations": 3, "weights": []})",
      "m");
  CHECK(m.class_name == "SGD");
  CHECK(m.iterations == 3);
  CHECK(m.weights.empty());
  CHECK_THROWS_WITH_TEXT(parse_manifest("{\"format\": \"tapeflow-optimizer-checkpoint\"}", "m2"),
                         ValueError, "m2: the manifest lacks the key 'version'");
}

TEST_CASE("load_weights into an SGD without slots restores iterations at once") {
  TempDir dir;
  std::vector<Variable> vars = make_vars();
  optim::SGD source(0.1);
  train(source, vars, 0, 6);
  source.save_weights(dir.path());
  CHECK(read_manifest(dir.path())["weights"].empty());
  optim::SGD target(0.1);
  target.load_weights(dir.path());
  CHECK_FALSE(target.has_pending_weights());
  CHECK(target.iterations().read_value_no_record().item<std::int64_t>() == 6);
}

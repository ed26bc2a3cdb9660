#include "tapeflow/optim/checkpoint.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <regex>
#include <set>
#include <tuple>
#include <utility>

#include <xtensor/xarray.hpp>
#include <xtensor/xnpy.hpp>

#include "tapeflow/core/check.hpp"
#include "tapeflow/core/format.hpp"
#include "tapeflow/optim/optimizer.hpp"

namespace tapeflow::optim::detail {

using tapeflow::detail::throw_type_error;
using tapeflow::detail::throw_value_error;
namespace fs = std::filesystem;

namespace {

// ---- .npy --------------------------------------------------------------------------------------

constexpr std::size_t kMaxRank = 32;

/// The header dict of a .npy file, parsed as the subset of Python literal syntax numpy writes:
/// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), } plus spaces and a newline.
class NpyDictParser {
 public:
  NpyDictParser(std::string_view text, const std::string& what) : text_(text), what_(what) {}

  void parse(std::string& descr, bool& fortran_order, Shape& shape) {
    bool have_descr = false, have_order = false, have_shape = false;
    expect('{', "at the start of the header dict");
    while (!eat('}')) {
      const std::string key = quoted("a dict key");
      expect(':', fmt::format("after the key '{}'", key));
      bool* seen = nullptr;
      if (key == "descr") {
        seen = &have_descr;
        descr = quoted("the 'descr' value");
      } else if (key == "fortran_order") {
        seen = &have_order;
        fortran_order = boolean();
      } else if (key == "shape") {
        seen = &have_shape;
        shape = tuple();
      } else {
        fail("unknown header key '{}' (expected 'descr', 'fortran_order' and 'shape')", key);
      }
      if (*seen) fail("the header key '{}' appears twice", key);
      *seen = true;
      if (eat('}')) break;
      expect(',', "between header entries");
    }
    skip_space();
    if (pos_ != text_.size()) fail("unexpected text after the header dict at offset {}", pos_);
    if (!have_descr || !have_order || !have_shape) {
      fail("the header lacks {}", !have_descr ? "'descr'" : !have_order ? "'fortran_order'"
                                                                          : "'shape'");
    }
  }

 private:
  template <class... Args>
  [[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) const {
    throw_value_error("{}: not a valid .npy file: {}", what_,
                      fmt::format(format, std::forward<Args>(args)...));
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\t' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool eat(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c, const std::string& context) {
    if (!eat(c)) fail("expected '{}' {} at offset {}", c, context, pos_);
  }
  std::string quoted(const char* context) {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"')) {
      fail("expected a quoted string for {} at offset {}", context, pos_);
    }
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos) fail("unterminated string for {}", context);
    std::string out(text_.substr(pos_, end - pos_));
    if (out.find('\\') != std::string::npos) fail("escape sequences in {} are not supported", context);
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] : {std::pair<std::string_view, bool>{"True", true},
                                      std::pair<std::string_view, bool>{"False", false}}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    }
    fail("'fortran_order' must be True or False (at offset {})", pos_);
  }
  std::uint64_t integer() {
    skip_space();
    std::uint64_t value = 0;
    const std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      const std::uint64_t digit = static_cast<std::uint64_t>(text_[pos_] - '0');
      if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) {
        fail("a dimension in 'shape' overflows 64 bits");
      }
      value = value * 10 + digit;
      ++pos_;
    }
    if (pos_ == start) fail("expected a non-negative integer in 'shape' at offset {}", pos_);
    if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2 numpy wrote 3L
    return value;
  }
  Shape tuple() {
    expect('(', "to open the 'shape' tuple");
    Shape shape;
    if (eat(')')) return shape;
    for (;;) {
      const std::uint64_t dim = integer();
      if (dim > std::numeric_limits<std::size_t>::max()) fail("a dimension overflows size_t");
      shape.push_back(static_cast<std::size_t>(dim));
      if (shape.size() > kMaxRank) fail("'shape' has more than {} dimensions", kMaxRank);
      if (eat(')')) {
        if (shape.size() == 1) fail("'shape' (n) is not a tuple: a 1-tuple is written (n,)");
        break;
      }
      expect(',', "between 'shape' dimensions");
      if (eat(')')) break;
    }
    return shape;
  }

  std::string_view text_;
  const std::string& what_;
  std::size_t pos_ = 0;
};

/// Element count and byte size of a shape; false when either exceeds kMaxTensorBytes.
bool checked_size(const Shape& shape, std::size_t item, std::uint64_t& elements,
                  std::uint64_t& bytes) {
  elements = 1;
  bool zero = false;
  for (std::size_t d : shape) zero = zero || d == 0;
  if (zero) {
    elements = 0;
    bytes = 0;
    return true;
  }
  for (std::size_t d : shape) {
    if (d > kMaxTensorBytes || elements > kMaxTensorBytes / d) return false;
    elements *= d;
  }
  if (elements > kMaxTensorBytes / item) return false;
  bytes = elements * item;
  return true;
}

DType dtype_of_descr(const std::string& descr, const std::string& what) {
  if (descr == "<f4") return DType::float32;
  if (descr == "<f8") return DType::float64;
  if (descr == "<i4") return DType::int32;
  if (descr == "<i8") return DType::int64;
  throw_value_error(
      "{}: not a valid .npy file: unsupported descr '{}' (expected '<f4', '<f8', '<i4' or "
      "'<i8')",
      what, descr);
}

std::string descr_of(DType dtype) {
  switch (dtype) {
    case DType::float32: return "<f4";
    case DType::float64: return "<f8";
    case DType::int32: return "<i4";
    case DType::int64: return "<i8";
    default: break;
  }
  throw_value_error("checkpoint: a weight of dtype {} cannot be saved", dtype_name(dtype));
}

// ---- files -------------------------------------------------------------------------------------

/// The whole file, or a ValueError naming it (missing, unreadable, or larger than `limit`).
std::string read_file(const std::string& path, std::uint64_t limit, const char* who) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    throw_value_error("{}: '{}' does not exist or is not a regular file", who, path);
  }
  const std::uint64_t size = fs::file_size(path, ec);
  if (ec) throw_value_error("{}: cannot read '{}': {}", who, path, ec.message());
  if (size > limit) {
    throw_value_error("{}: '{}' is {} bytes, more than the {} a checkpoint file may have", who,
                      path, size, limit);
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  if (!in || !in.read(bytes.data(), static_cast<std::streamsize>(size))) {
    throw_value_error("{}: cannot read '{}'", who, path);
  }
  return bytes;
}

/// Creates `path` (it must not exist), writes `bytes` and fsyncs it.
void write_file_synced(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw_value_error("save_weights: cannot create '{}': {}", path, std::strerror(errno));
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = errno;
      ::close(fd);
      throw_value_error("save_weights: cannot write '{}': {}", path, std::strerror(error));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    throw_value_error("save_weights: cannot fsync '{}': {}", path, std::strerror(error));
  }
  if (::close(fd) != 0) {
    throw_value_error("save_weights: cannot close '{}': {}", path, std::strerror(errno));
  }
}

void fsync_directory(const std::string& directory) {
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    throw_value_error("save_weights: cannot open '{}': {}", directory, std::strerror(errno));
  }
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) throw_value_error("save_weights: cannot fsync '{}': {}", directory,
                                 std::strerror(error));
}

/// 16 hex digits, fresh per save: new files never overwrite the previous checkpoint's.
std::string unique_token() {
  std::random_device device;
  const std::uint64_t value = (static_cast<std::uint64_t>(device()) << 32) ^ device() ^
                              static_cast<std::uint64_t>(::getpid());
  return fmt::format("{:016x}", value);
}

/// The names save_weights writes: data files and temporary manifests.
bool is_checkpoint_file(const std::string& name) {
  static const std::regex pattern("(w[0-9]+-[0-9a-f]{16}\\.npy|manifest\\.json\\.tmp-[0-9a-f]{16})");
  return std::regex_match(name, pattern);
}

std::string join_path(const std::string& directory, const std::string& name) {
  return (fs::path(directory) / name).string();
}

// ---- manifest ----------------------------------------------------------------------------------

const char* json_type(const Config& value) {
  if (value.is_number_integer()) return "an integer";
  if (value.is_number()) return "a number";
  return value.type_name();
}

/// The value, dumped and cut to 60 characters for messages.
std::string short_dump(const Config& value) {
  std::string text = value.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  return text.size() > 60 ? text.substr(0, 57) + "..." : text;
}

/// The maximal nesting depth of brackets outside strings; stops counting past `limit`.
std::size_t nesting_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
      if (deepest > limit) return deepest;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

class ManifestReader {
 public:
  explicit ManifestReader(const std::string& what) : what_(what) {}

  /// `object[key]`, which must exist (ValueError) and satisfy `ok` (TypeError naming `expected`).
  template <class Pred>
  const Config& field(const Config& object, const std::string& where, const char* key, Pred ok,
                      const char* expected) const {
    const auto found = object.find(key);
    if (found == object.end()) throw_value_error("{}: {} lacks the key '{}'", what_, where, key);
    if (!ok(*found)) {
      throw_type_error("{}: {}'{}' must be {}, received {} {}", what_, prefix(where), key,
                       expected, json_type(*found), short_dump(*found));
    }
    return *found;
  }

  void only_keys(const Config& object, const std::string& where,
                 std::initializer_list<const char*> keys) const {
    for (const auto& item : object.items()) {
      if (std::none_of(keys.begin(), keys.end(),
                       [&](const char* k) { return item.key() == k; })) {
        throw_value_error("{}: {} has an unknown key '{}'", what_, where, item.key());
      }
    }
  }

  static std::string prefix(const std::string& where) {
    return where == "the manifest" ? std::string() : where + ".";
  }

  const std::string& what_;
};

bool is_count(const Config& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v.get<std::int64_t>() >= 0);
}

}  // namespace

NpyHeader parse_npy(std::string_view bytes, const std::string& what) {
  const auto fail = [&](const std::string& reason) {
    throw_value_error("{}: not a valid .npy file: {}", what, reason);
  };
  if (bytes.size() < 10) fail(fmt::format("{} bytes, shorter than the 10-byte preamble", bytes.size()));
  if (bytes.substr(0, 6) != std::string_view("\x93NUMPY", 6)) {
    fail("the magic string \\x93NUMPY is missing");
  }
  const auto u8 = [&](std::size_t i) { return static_cast<std::uint32_t>(
                                           static_cast<unsigned char>(bytes[i])); };
  const std::uint32_t major = u8(6), minor = u8(7);
  if (major < 1 || major > 3 || minor != 0) {
    fail(fmt::format("unsupported format version {}.{} (expected 1.0, 2.0 or 3.0)", major, minor));
  }
  const std::size_t preamble = major == 1 ? 10 : 12;
  if (bytes.size() < preamble) fail("the file ends inside the header length");
  std::uint64_t header_len = u8(8) | (u8(9) << 8);
  if (major > 1) header_len |= (static_cast<std::uint64_t>(u8(10)) << 16) |
                               (static_cast<std::uint64_t>(u8(11)) << 24);
  if (header_len > kMaxNpyHeaderBytes) {
    fail(fmt::format("header length {} exceeds the limit of {} bytes", header_len,
                     kMaxNpyHeaderBytes));
  }
  if (header_len > bytes.size() - preamble) {
    fail(fmt::format("header length {} runs past the end of the file ({} bytes)", header_len,
                     bytes.size()));
  }
  const std::string_view header = bytes.substr(preamble, static_cast<std::size_t>(header_len));
  for (std::size_t i = 0; i < header.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(header[i]);
    if ((c < 0x20 || c > 0x7e) && c != '\n' && c != '\t' && c != '\r') {
      fail(fmt::format("the header has the byte 0x{:02x} at offset {}", c, i));
    }
  }
  std::string descr;
  bool fortran_order = false;
  NpyHeader out;
  NpyDictParser(header, what).parse(descr, fortran_order, out.shape);
  out.dtype = dtype_of_descr(descr, what);
  if (fortran_order && out.shape.size() > 1) {
    fail("Fortran-order arrays of rank > 1 are not supported");
  }
  std::uint64_t elements = 0, data_bytes = 0;
  if (!checked_size(out.shape, dtype_size(out.dtype), elements, data_bytes)) {
    fail(fmt::format("the shape {} of {} is absurd: over {} bytes", shape_str(out.shape),
                     dtype_name(out.dtype), kMaxTensorBytes));
  }
  out.data_offset = preamble + static_cast<std::size_t>(header_len);
  const std::size_t available = bytes.size() - out.data_offset;
  if (data_bytes != available) {
    fail(fmt::format("the shape {} of {} needs {} data bytes, the file has {} ({})",
                     shape_str(out.shape), dtype_name(out.dtype), data_bytes, available,
                     data_bytes > available ? "truncated" : "trailing bytes"));
  }
  out.data_bytes = static_cast<std::size_t>(data_bytes);
  return out;
}

std::string npy_file(DType dtype, const Shape& shape, const void* data) {
  const auto dump = [&](auto tag) {
    using T = decltype(tag);
    xt::xarray<T> array = xt::xarray<T>::from_shape(shape);
    if (array.size() > 0) std::memcpy(array.data(), data, array.size() * sizeof(T));
    return xt::dump_npy(array);
  };
  switch (dtype) {
    case DType::float32: return dump(float{});
    case DType::float64: return dump(double{});
    case DType::int32: return dump(std::int32_t{});
    case DType::int64: return dump(std::int64_t{});
    default: break;
  }
  (void)descr_of(dtype);  // throws
  return {};
}

Manifest parse_manifest(std::string_view text, const std::string& what) {
  if (nesting_depth(text, 64) > 64) {
    throw_value_error("{}: not a valid manifest: JSON nested more than 64 levels deep", what);
  }
  Config json;
  try {
    json = Config::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    throw_value_error("{}: not valid JSON: {}", what, e.what());
  }
  const ManifestReader r(what);
  if (!json.is_object()) {
    throw_type_error("{}: the manifest must be a JSON object, received {} {}", what,
                     json_type(json), short_dump(json));
  }
  const std::string top = "the manifest";
  r.only_keys(json, top, {"format", "version", "class_name", "config", "iterations", "weights"});
  const auto is_string = [](const Config& v) { return v.is_string(); };
  const Config& format = r.field(json, top, "format", is_string, "a string");
  if (format.get<std::string>() != kCheckpointFormat) {
    throw_value_error("{}: 'format' is {}, not \"{}\"", what, short_dump(format),
                      kCheckpointFormat);
  }
  const Config& version =
      r.field(json, top, "version", [](const Config& v) { return v.is_number_integer(); },
              "an integer");
  if (version.get<std::int64_t>() != kCheckpointVersion) {
    throw_value_error("{}: unsupported checkpoint version {} (this tapeflow reads version {})",
                      what, short_dump(version), kCheckpointVersion);
  }
  Manifest out;
  out.class_name = r.field(json, top, "class_name", is_string, "a string").get<std::string>();
  if (out.class_name.empty()) throw_value_error("{}: 'class_name' is empty", what);
  out.config = r.field(json, top, "config", [](const Config& v) { return v.is_object(); },
                       "an object");
  const Config& iterations =
      r.field(json, top, "iterations", [](const Config& v) { return v.is_number_integer(); },
              "an integer");
  if (!is_count(iterations) ||
      (iterations.is_number_unsigned() &&
       iterations.get<std::uint64_t>() >
           static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))) {
    throw_value_error("{}: 'iterations' must be a non-negative int64, received {}", what,
                      short_dump(iterations));
  }
  out.iterations = iterations.get<std::int64_t>();
  const Config& weights =
      r.field(json, top, "weights", [](const Config& v) { return v.is_array(); }, "an array");

  std::set<std::tuple<std::string, std::size_t, std::string>> keys;
  std::set<std::string> files;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    const Config& w = weights[i];
    const std::string where = fmt::format("weights[{}]", i);
    if (!w.is_object()) {
      throw_type_error("{}: {} must be an object, received {} {}", what, where, json_type(w),
                       short_dump(w));
    }
    r.only_keys(w, where, {"variable", "occurrence", "slot", "dtype", "shape", "file"});
    ManifestEntry entry;
    const Config& variable =
        r.field(w, where, "variable", [](const Config& v) { return v.is_string() || v.is_null(); },
                "a string or null");
    if (variable.is_string()) {
      entry.variable = variable.get<std::string>();
      if (entry.variable.empty()) throw_value_error("{}: {}.variable is empty", what, where);
    }
    const Config& occurrence = r.field(w, where, "occurrence", is_count, "a non-negative integer");
    if (occurrence.get<std::uint64_t>() > (std::uint64_t{1} << 31)) {
      throw_value_error("{}: {}.occurrence {} is absurd", what, where, short_dump(occurrence));
    }
    entry.occurrence = occurrence.get<std::size_t>();
    if (variable.is_null() && entry.occurrence != 0) {
      throw_value_error("{}: {}.occurrence must be 0 for a weight that is not a slot", what,
                        where);
    }
    entry.slot = r.field(w, where, "slot", is_string, "a string").get<std::string>();
    if (entry.slot.empty()) throw_value_error("{}: {}.slot is empty", what, where);
    const std::string dtype = r.field(w, where, "dtype", is_string, "a string").get<std::string>();
    if (dtype == "float32") {
      entry.dtype = DType::float32;
    } else if (dtype == "float64") {
      entry.dtype = DType::float64;
    } else if (dtype == "int32") {
      entry.dtype = DType::int32;
    } else if (dtype == "int64") {
      entry.dtype = DType::int64;
    } else {
      throw_value_error("{}: {}.dtype '{}' is not one of float32, float64, int32, int64", what,
                        where, dtype);
    }
    const Config& shape = r.field(
        w, where, "shape",
        [](const Config& v) { return v.is_array() && std::all_of(v.begin(), v.end(), is_count); },
        "an array of non-negative integers");
    if (shape.size() > kMaxRank) {
      throw_value_error("{}: {}.shape has {} dimensions, more than {}", what, where, shape.size(),
                        kMaxRank);
    }
    for (const Config& d : shape) {
      const std::uint64_t dim = d.get<std::uint64_t>();
      if (dim > kMaxTensorBytes) {
        throw_value_error("{}: {}.shape {} is absurd: a dimension over {}", what, where,
                          short_dump(shape), kMaxTensorBytes);
      }
      entry.shape.push_back(static_cast<std::size_t>(dim));
    }
    std::uint64_t elements = 0, bytes = 0;
    if (!checked_size(entry.shape, dtype_size(entry.dtype), elements, bytes)) {
      throw_value_error("{}: {}.shape {} of {} is absurd: over {} bytes", what, where,
                        short_dump(shape), dtype, kMaxTensorBytes);
    }
    entry.file = r.field(w, where, "file", is_string, "a string").get<std::string>();
    const std::string& file = entry.file;
    const bool plain = !file.empty() && file.size() <= 255 && file != "." && file != ".." &&
                       file.find_first_of(std::string("/\\\0", 3)) == std::string::npos &&
                       file.size() > 4 && file.compare(file.size() - 4, 4, ".npy") == 0;
    if (!plain) {
      throw_value_error("{}: {}.file '{}' is not a plain .npy file name in the checkpoint "
                        "directory",
                        what, where, short_dump(w["file"]));
    }
    if (!keys.emplace(entry.variable, entry.occurrence, entry.slot).second) {
      throw_value_error("{}: {} repeats the weight ({}, {}, '{}')", what, where,
                        entry.variable.empty() ? "null" : "'" + entry.variable + "'",
                        entry.occurrence, entry.slot);
    }
    if (!files.insert(file).second) {
      throw_value_error("{}: {}.file '{}' is used twice", what, where, file);
    }
    out.weights.push_back(std::move(entry));
  }
  return out;
}

void save_checkpoint(const OptimizerImpl& optimizer, const std::string& directory) {
  if (optimizer.has_pending_weights()) {
    throw_value_error(
        "save_weights: optimizer '{}' still holds pending weights (set_weights or load_weights "
        "before its slots existed); call build(var_list) or run a step first",
        optimizer.name());
  }
  std::error_code ec;
  if (directory.empty()) throw_value_error("save_weights: the directory name is empty");
  if (!fs::exists(directory, ec)) {
    if (!fs::create_directory(directory, ec) || ec) {
      throw_value_error("save_weights: cannot create the directory '{}': {}", directory,
                        ec ? ec.message() : "unknown error");
    }
    // The new directory's entry is durable before the checkpoint in it is.
    fs::path created = fs::absolute(fs::path(directory), ec);
    if (!created.has_filename()) created = created.parent_path();  // "dir/"
    if (!ec) fsync_directory(created.parent_path().string());
  } else if (!fs::is_directory(directory, ec)) {
    throw_value_error("save_weights: '{}' exists and is not a directory", directory);
  }

  // Everything to write, computed before touching the directory.
  const std::vector<Variable> all = optimizer.weights();
  const std::int64_t iterations =
      all.empty() ? 0 : all.front().read_value_no_record().item<std::int64_t>();
  const std::vector<NamedWeight> named = optimizer.named_weights();
  const std::string token = unique_token();
  Config manifest = Config::object();
  manifest["format"] = kCheckpointFormat;
  manifest["version"] = kCheckpointVersion;
  manifest["class_name"] = optimizer.class_name();
  manifest["config"] = optimizer.get_config();
  manifest["iterations"] = iterations;
  manifest["weights"] = Config::array();
  std::vector<std::pair<std::string, std::string>> files;  // name, bytes
  for (std::size_t k = 0; k < named.size(); ++k) {
    const NamedWeight& w = named[k];
    const Tensor& value = w.value;
    (void)descr_of(value.dtype());
    const std::string file = fmt::format("w{}-{}.npy", k, token);
    Config entry = Config::object();
    entry["variable"] = w.variable.empty() ? Config(nullptr) : Config(w.variable);
    entry["occurrence"] = w.occurrence;
    entry["slot"] = w.slot;
    entry["dtype"] = dtype_name(value.dtype());
    entry["shape"] = Config::array();
    for (std::size_t d : value.shape()) entry["shape"].push_back(d);
    entry["file"] = file;
    manifest["weights"].push_back(std::move(entry));
    files.emplace_back(file, npy_file(value.dtype(), value.shape(), value.raw_data()));
  }

  // New files under fresh names, each fsynced; then the manifest replaced atomically.
  const std::string manifest_path = join_path(directory, kManifestName);
  const std::string temporary = join_path(directory, std::string(kManifestName) + ".tmp-" + token);
  std::vector<std::string> written;
  try {
    for (const auto& [name, bytes] : files) {
      const std::string path = join_path(directory, name);
      write_file_synced(path, bytes);
      written.push_back(path);
    }
    write_file_synced(temporary, manifest.dump(2) + "\n");
    written.push_back(temporary);
    if (std::rename(temporary.c_str(), manifest_path.c_str()) != 0) {
      throw_value_error("save_weights: cannot rename '{}' to '{}': {}", temporary, manifest_path,
                        std::strerror(errno));
    }
    written.pop_back();
    fsync_directory(directory);
  } catch (...) {
    for (const std::string& path : written) fs::remove(path, ec);
    throw;
  }

  // Only now the previous checkpoint's files (and leftovers of interrupted saves) go.
  std::set<std::string> keep;
  for (const auto& file : files) keep.insert(file.first);
  std::vector<fs::path> stale;
  for (const auto& item : fs::directory_iterator(directory, ec)) {
    const std::string name = item.path().filename().string();
    if (is_checkpoint_file(name) && keep.count(name) == 0) stale.push_back(item.path());
  }
  for (const fs::path& path : stale) fs::remove(path, ec);
}

void load_checkpoint(OptimizerImpl& optimizer, const std::string& directory) {
  std::error_code ec;
  if (!fs::is_directory(directory, ec)) {
    throw_value_error("load_weights: the checkpoint directory '{}' does not exist or is not a "
                      "directory",
                      directory);
  }
  const std::string manifest_path = join_path(directory, kManifestName);
  const Manifest manifest =
      parse_manifest(read_file(manifest_path, kMaxManifestBytes, "load_weights"), manifest_path);
  if (manifest.class_name != optimizer.class_name()) {
    throw_value_error("load_weights: '{}' holds a checkpoint of a {}, but optimizer '{}' is a {}",
                      directory, manifest.class_name, optimizer.name(), optimizer.class_name());
  }
  // Every file, read and checked against the manifest; all problems are reported together.
  std::vector<std::string> problems;
  std::vector<NamedWeight> weights;
  for (const ManifestEntry& entry : manifest.weights) {
    const std::string path = join_path(directory, entry.file);
    std::uint64_t elements = 0, data_bytes = 0;
    checked_size(entry.shape, dtype_size(entry.dtype), elements, data_bytes);  // validated
    try {
      const std::string bytes =
          read_file(path, data_bytes + 12 + kMaxNpyHeaderBytes, "load_weights");
      const NpyHeader header = parse_npy(bytes, path);
      if (header.dtype != entry.dtype || header.shape != entry.shape) {
        problems.push_back(fmt::format("{}: holds {} {}, the manifest says {} {}", path,
                                       dtype_name(header.dtype), shape_str(header.shape),
                                       dtype_name(entry.dtype), shape_str(entry.shape)));
        continue;
      }
      NamedWeight weight;
      weight.variable = entry.variable;
      weight.occurrence = entry.occurrence;
      weight.slot = entry.slot;
      weight.value = Tensor::from_data(header.dtype, header.shape, bytes.data() + header.data_offset);
      weights.push_back(std::move(weight));
    } catch (const ValueError& e) {
      problems.push_back(e.what());
    }
  }
  if (!problems.empty()) {
    throw_value_error("load_weights: the checkpoint '{}' is damaged ({} problem{}): {}",
                      directory, problems.size(), problems.size() == 1 ? "" : "s",
                      fmt::join(problems, "; "));
  }
  optimizer.restore_weights(manifest.iterations, std::move(weights), "'" + directory + "'");
}

}  // namespace tapeflow::optim::detail

#pragma once
// Optimizer checkpoints, behind Optimizer::save_weights / load_weights: a directory holding
// `manifest.json` and one numpy `.npy` file per weight. The parsers that load_weights runs on
// untrusted bytes are exposed here for the tests and the libFuzzer target tools/fuzz.
//
// manifest.json (format version 1):
//   {"format": "tapeflow-optimizer-checkpoint", "version": 1, "class_name": "Adagrad",
//    "config": {...get_config()...}, "iterations": 12,
//    "weights": [{"variable": "w:0", "occurrence": 0, "slot": "accumulator",
//                 "dtype": "float32", "shape": [2, 3], "file": "w0-<16 hex digits>.npy"}, ...]}
// `weights` lists every weight after iterations in weights() order; `variable` is null for a
// weight that is not a slot (Nadam's momentum_cache, whose `slot` is then its name).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tapeflow/core/dtype.hpp"
#include "tapeflow/core/json.hpp"
#include "tapeflow/core/storage.hpp"

namespace tapeflow::optim {

class OptimizerImpl;

namespace detail {

/// The manifest's "format" value and its current "version".
inline constexpr const char* kCheckpointFormat = "tapeflow-optimizer-checkpoint";
inline constexpr int kCheckpointVersion = 1;
/// The manifest's file name inside a checkpoint directory.
inline constexpr const char* kManifestName = "manifest.json";
/// Largest accepted .npy header (the dict text), manifest file and tensor payload.
inline constexpr std::size_t kMaxNpyHeaderBytes = std::size_t{1} << 20;
inline constexpr std::size_t kMaxManifestBytes = std::size_t{64} << 20;
inline constexpr std::uint64_t kMaxTensorBytes = std::uint64_t{1} << 40;

/// A parsed .npy preamble: element type, C-order shape, and where the data starts.
struct NpyHeader {
  DType dtype = DType::float32;
  Shape shape;
  std::size_t data_offset = 0;  // bytes before the data (magic, version, length, dict)
  std::size_t data_bytes = 0;   // element count times element size
};

/// Parses and checks a whole .npy file held in `bytes`: the magic string, version 1.0/2.0/3.0,
/// the header length (bounded, inside the file), the header dict's syntax (exactly the keys
/// 'descr', 'fortran_order', 'shape'), a little-endian <f4/<f8/<i4/<i8 descr, C order (Fortran
/// order only for rank <= 1), a shape whose byte size stays under kMaxTensorBytes, and a data
/// size equal to what the shape needs. ValueError naming `what` and the problem otherwise.
NpyHeader parse_npy(std::string_view bytes, const std::string& what);

/// The .npy file of a C-order tensor with `shape` and `dtype` (written with xtensor's xnpy).
std::string npy_file(DType dtype, const Shape& shape, const void* data);

/// One entry of the manifest's "weights".
struct ManifestEntry {
  std::string variable;  // empty for a weight that is not a slot (JSON null)
  std::size_t occurrence = 0;
  std::string slot;
  DType dtype = DType::float32;
  Shape shape;
  std::string file;  // a plain file name in the checkpoint directory
};

/// A validated manifest.
struct Manifest {
  std::string class_name;
  Config config;
  std::int64_t iterations = 0;
  std::vector<ManifestEntry> weights;
};

/// Parses and validates manifest text: JSON syntax (nesting at most 64 deep), exactly the
/// documented keys, their JSON types (TypeError naming the key and the value received), the
/// format and version, a non-negative iteration count, known dtypes, bounded shapes, plain
/// `.npy` file names, and no duplicated weight or file. ValueError otherwise, naming `what`.
Manifest parse_manifest(std::string_view text, const std::string& what);

/// Optimizer::save_weights.
void save_checkpoint(const OptimizerImpl& optimizer, const std::string& directory);
/// Optimizer::load_weights.
void load_checkpoint(OptimizerImpl& optimizer, const std::string& directory);

}  // namespace detail
}  // namespace tapeflow::optim

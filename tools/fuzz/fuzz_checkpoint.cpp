// libFuzzer target for the checkpoint loader's parsers (Optimizer::load_weights): the .npy
// reader (optim::detail::parse_npy) and the manifest validator (optim::detail::parse_manifest).
//
// The first byte of an input picks the parser (even: .npy, odd: manifest); the rest is the file.
// Seeds in tools/fuzz/corpus/checkpoint/ are real save_weights output with that byte in front.
// A parser may only answer with a result or with tapeflow's ValueError / TypeError: any other
// exception, a crash, a sanitizer report or an inconsistent result is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <tapeflow/core/error.hpp>
#include <tapeflow/optim/checkpoint.hpp>

namespace {

void check(bool condition) {
  if (!condition) std::abort();
}

void fuzz_npy(std::string_view bytes) {
  const tapeflow::optim::detail::NpyHeader header =
      tapeflow::optim::detail::parse_npy(bytes, "fuzz.npy");
  // What load_weights relies on before it copies the data out.
  check(header.data_offset <= bytes.size());
  check(header.data_bytes == bytes.size() - header.data_offset);
  std::size_t elements = 1;
  for (std::size_t d : header.shape) elements *= d;
  check(elements * tapeflow::dtype_size(header.dtype) == header.data_bytes);
}

void fuzz_manifest(std::string_view text) {
  const tapeflow::optim::detail::Manifest manifest =
      tapeflow::optim::detail::parse_manifest(text, "fuzz/manifest.json");
  check(manifest.iterations >= 0);
  check(manifest.config.is_object());
  for (const auto& entry : manifest.weights) {
    check(!entry.slot.empty());
    check(entry.file.find('/') == std::string::npos);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    if (data[0] % 2 == 0) {
      fuzz_npy(bytes);
    } else {
      fuzz_manifest(bytes);
    }
  } catch (const tapeflow::ValueError&) {
  } catch (const tapeflow::TypeError&) {
  }
  return 0;
}

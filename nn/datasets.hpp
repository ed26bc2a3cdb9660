#pragma once
// Small real data sets shipped in the repository's data/ folder (see data/README.md).

#include <string>
#include <utility>

#include "tapeflow/core/tensor.hpp"

namespace tapeflow::nn::datasets {

/// Features and labels, one row per example.
struct Dataset {
  Tensor x;  ///< (n, features), float32
  Tensor y;  ///< (n,), int64 class ids
};

/// The UCI optical handwritten digits (data/digits.csv.gz: gzip CSV, 64 pixel counts 0..16 of an
/// 8×8 image and a label 0..9 per row): x (1797, 64) float32 with the raw counts, y (1797,)
/// int64. Reads gzip through zlib (or `gzip -dc` when the library was built without zlib); a
/// plain CSV works too. ValueError for a missing file or a malformed row (naming the line).
Dataset load_digits(const std::string& path);

/// Fisher's iris (data/iris.csv: a header line "150,4,<class names>", then 4 features and a
/// class id per row): x (150, 4) float32, y (150,) int64.
Dataset load_iris(const std::string& path);

/// Splits the rows into {train, test}, the last round(n·test_fraction) rows (after a shuffle
/// from the library's engine when `shuffle`) going to test. ValueError unless 0 < fraction < 1.
std::pair<Dataset, Dataset> train_test_split(const Dataset& data, double test_fraction,
                                             bool shuffle = true);

}  // namespace tapeflow::nn::datasets

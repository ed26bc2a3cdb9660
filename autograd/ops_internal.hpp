#pragma once
// Internal (not installed): ops that other ops' backward closures share.

#include <cstddef>

#include "tapeflow/core/tensor.hpp"

namespace tapeflow::detail {

/// relu's backward in one pass: g where features > 0, else 0 (a select, no temporaries).
/// Recorded, so nested tapes can differentiate it: linear in g (the same mask), constant in
/// features. `features` may be relu's input or its output: both are > 0 at the same elements.
Tensor relu_grad(const Tensor& features, const Tensor& g);

/// C = alpha·op(A)·op(B) + beta·C for row-major float or double matrices with leading
/// dimensions lda, ldb, ldc (BLAS gemm; defined in ops_linalg.cpp, the file that includes BLAS).
/// op(A) is m×k, op(B) k×n; ta / tb transpose A / B.
template <class T>
void blas_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
               std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc);

}  // namespace tapeflow::detail

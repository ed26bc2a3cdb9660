// matmul over BLAS (through xtensor-blas's cxxblas). This is the only file that includes
// xtensor-blas. Transposes reach gemm as flags, never as copies.

#include <xtensor-blas/xblas.hpp>

#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/autograd/ops_internal.hpp"
#include "tapeflow/autograd/record.hpp"
#include "tapeflow/core/kernels.hpp"

namespace tapeflow {

using detail::Grads;
using detail::NeedsGrad;

namespace {

/// C[m,n] = op(A) op(B) for one matrix pair, row-major, with lda/ldb the stored row lengths.
template <class T>
void gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, const T* a, const T* b,
          T* c) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    std::fill(c, c + m * n, T(0));
    return;
  }
  if constexpr (std::is_floating_point<T>::value) {
    const int lda = static_cast<int>(ta ? m : k);
    const int ldb = static_cast<int>(tb ? k : n);
    cxxblas::gemm<int>(cxxblas::RowMajor, ta ? cxxblas::Trans : cxxblas::NoTrans,
                       tb ? cxxblas::Trans : cxxblas::NoTrans, static_cast<int>(m),
                       static_cast<int>(n), static_cast<int>(k), T(1), a, lda, b, ldb, T(0), c,
                       static_cast<int>(n));
  } else {
    // Integer matmul has no BLAS; a plain loop (ikj order for locality).
    std::fill(c, c + m * n, T(0));
    for (std::size_t i = 0; i < m; ++i) {
      for (std::size_t p = 0; p < k; ++p) {
        const T av = ta ? a[p * m + i] : a[i * k + p];
        for (std::size_t j = 0; j < n; ++j) c[i * n + j] += av * (tb ? b[j * k + p] : b[p * n + j]);
      }
    }
  }
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_a, bool transpose_b) {
  if (a.dtype() != b.dtype()) detail::throw_dtype_mismatch("matmul", a.dtype(), b.dtype());
  if (a.dtype() == DType::boolean) {
    detail::throw_type_error("matmul: bool tensors are not supported");
  }
  if (a.rank() < 2 || b.rank() < 2) {
    detail::throw_value_error("matmul: both inputs must have rank >= 2. Received: shapes {} and {}",
                              shape_str(a.shape()), shape_str(b.shape()));
  }
  const Shape& as = a.shape();
  const Shape& bs = b.shape();
  const std::size_t ra = as.size(), rb = bs.size();
  const std::size_t m = transpose_a ? as[ra - 1] : as[ra - 2];
  const std::size_t k = transpose_a ? as[ra - 2] : as[ra - 1];
  const std::size_t kb = transpose_b ? bs[rb - 1] : bs[rb - 2];
  const std::size_t n = transpose_b ? bs[rb - 2] : bs[rb - 1];
  if (k != kb) {
    detail::throw_value_error(
        "matmul: inner dimensions must agree. Received: shapes {} and {} (transpose_a={}, "
        "transpose_b={}): {} != {}",
        shape_str(as), shape_str(bs), transpose_a, transpose_b, k, kb);
  }
  const Shape a_batch(as.begin(), as.end() - 2), b_batch(bs.begin(), bs.end() - 2);
  const Shape batch = broadcast_shape(a_batch, b_batch, "matmul");
  Shape out_shape = batch;
  out_shape.push_back(m);
  out_shape.push_back(n);
  Tensor out = Tensor::empty(a.dtype(), out_shape);
  const std::size_t a_step = as[ra - 2] * as[ra - 1], b_step = bs[rb - 2] * bs[rb - 1];
  detail::visit_dtype(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (!std::is_same<T, bool>::value) {
      const T* pa = static_cast<const T*>(a.raw_data());
      const T* pb = static_cast<const T*>(b.raw_data());
      T* pc = static_cast<T*>(out.storage()->data());
      if (a_batch == b_batch) {
        const std::size_t count = detail::shape_size(batch);
        for (std::size_t i = 0; i < count; ++i) {
          gemm(transpose_a, transpose_b, m, n, k, pa + i * a_step, pb + i * b_step, pc + i * m * n);
        }
      } else {
        detail::for_each_broadcast(batch, a_batch, b_batch,
                                   [&](std::size_t o, std::size_t i, std::size_t j) {
                                     gemm(transpose_a, transpose_b, m, n, k, pa + i * a_step,
                                          pb + j * b_step, pc + o * m * n);
                                   });
      }
    }
  });
  return detail::record(
      "matmul", out, {a, b},
      [a, b, transpose_a, transpose_b](const Tensor& g, NeedsGrad needs) -> Grads {
        Grads grads(2);
        if (!transpose_a && !transpose_b) {
          if (needs[0]) grads[0] = matmul(g, b, false, true);
          if (needs[1]) grads[1] = matmul(a, g, true, false);
        } else if (transpose_a && !transpose_b) {
          if (needs[0]) grads[0] = matmul(b, g, false, true);
          if (needs[1]) grads[1] = matmul(a, g, false, false);
        } else if (!transpose_a && transpose_b) {
          if (needs[0]) grads[0] = matmul(g, b, false, false);
          if (needs[1]) grads[1] = matmul(g, a, true, false);
        } else {
          if (needs[0]) grads[0] = matmul(b, g, true, true);
          if (needs[1]) grads[1] = matmul(g, a, true, true);
        }
        return grads;
      });
}

namespace detail {

template <class T>
void blas_gemm(bool ta, bool tb, std::size_t m, std::size_t n, std::size_t k, T alpha, const T* a,
               std::size_t lda, const T* b, std::size_t ldb, T beta, T* c, std::size_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // BLAS rejects a zero leading dimension: C = beta·C by hand
    for (std::size_t i = 0; i < m; ++i) {
      for (std::size_t j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
    }
    return;
  }
  cxxblas::gemm<int>(cxxblas::RowMajor, ta ? cxxblas::Trans : cxxblas::NoTrans,
                     tb ? cxxblas::Trans : cxxblas::NoTrans, static_cast<int>(m),
                     static_cast<int>(n), static_cast<int>(k), alpha, a, static_cast<int>(lda), b,
                     static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

template void blas_gemm<float>(bool, bool, std::size_t, std::size_t, std::size_t, float,
                               const float*, std::size_t, const float*, std::size_t, float, float*,
                               std::size_t);
template void blas_gemm<double>(bool, bool, std::size_t, std::size_t, std::size_t, double,
                                const double*, std::size_t, const double*, std::size_t, double,
                                double*, std::size_t);

}  // namespace detail

}  // namespace tapeflow

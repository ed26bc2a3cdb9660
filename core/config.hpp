#pragma once
// Build configuration that fixes tapeflow's binary interface.
//
// xt::xarray crosses the library boundary (Tensor::numpy, Tensor's xexpression constructor), and
// XTENSOR_USE_XSIMD changes its storage type and therefore every mangled symbol that names it.
// libtapeflow is built without xsimd, so every translation unit that includes tapeflow must be
// too; otherwise a notebook or program would fail at link time with "undefined symbol".

#if defined(XTENSOR_USE_XSIMD)
#error "tapeflow is built without XTENSOR_USE_XSIMD; undefine it before including tapeflow headers"
#endif

#define TAPEFLOW_VERSION_MAJOR 0
#define TAPEFLOW_VERSION_MINOR 1
#define TAPEFLOW_VERSION_PATCH 0
#define TAPEFLOW_VERSION_STRING "0.1.0"

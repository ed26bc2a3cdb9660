#pragma once
// tapeflow in a Jupyter notebook with xeus-cling's C++17 kernel (xcpp17). A notebook's first cell
// is this include alone:
//
//     #include <tapeflow/xeus_cling.hpp>
//
// It loads libtapeflow into the kernel, includes everything, and gives Tensor, Variable and
// Gradient a rich display (an HTML table, core/display.hpp). libtapeflow lists OpenBLAS and libfmt
// among its own dependencies (linked with --no-as-needed), so loading it loads them too.
//
// Where cling finds the library: cling expands $VARS in pragma paths, then searches these dirs,
// then LD_LIBRARY_PATH and the system dirs. $CONDA_PREFIX/lib is where
// `meson setup --prefix=$CONDA_PREFIX --libdir=lib` installs into the kernel's conda env. Another
// prefix: start the kernel with LD_LIBRARY_PATH (and CPLUS_INCLUDE_PATH) pointing at it, or run
// `#pragma cling add_library_path("/that/prefix/lib")` in a cell before this one. Relative paths
// resolve against the kernel's working directory, not against this header. docs/notebooks.md
// has the details.
//
// Other compilers never see the pragmas. tools/run_notebooks.py reads them from here and does
// the loading itself for clang-repl, which ignores `#pragma cling`.

#if defined(__CLING__)
#pragma cling add_library_path("$CONDA_PREFIX/lib")
#pragma cling load("libtapeflow")
#endif

#include "tapeflow/tapeflow.hpp"

#include "tapeflow/core/display.hpp"

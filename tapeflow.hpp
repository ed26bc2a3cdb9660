#pragma once
// The umbrella header: everything a tapeflow program uses.
//
//     #include <tapeflow/tapeflow.hpp>

#include "tapeflow/core/config.hpp"
#include "tapeflow/core/dtype.hpp"
#include "tapeflow/core/error.hpp"
#include "tapeflow/core/format.hpp"
#include "tapeflow/core/parallel.hpp"
#include "tapeflow/core/random.hpp"
#include "tapeflow/core/tensor.hpp"

#include "tapeflow/autograd/gradcheck.hpp"
#include "tapeflow/autograd/gradient_tape.hpp"
#include "tapeflow/autograd/indexed_slices.hpp"
#include "tapeflow/autograd/ops.hpp"
#include "tapeflow/autograd/variable.hpp"

#include "tapeflow/optim/optim.hpp"
#include "tapeflow/nn/nn.hpp"

#pragma once
// The optim module: Keras optimizers and learning-rate schedules (tapeflow::optim).
//
//     #include <tapeflow/optim/optim.hpp>

#include "tapeflow/optim/learning_rate.hpp"
#include "tapeflow/optim/learning_rate_schedule.hpp"
#include "tapeflow/optim/optimizer.hpp"
#include "tapeflow/optim/schedules.hpp"
#include "tapeflow/optim/serialization.hpp"

#include "tapeflow/optim/builtins.hpp"

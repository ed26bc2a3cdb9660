#pragma once
// The optim module: Keras optimizers and learning-rate schedules (tapeflow::optim).
//
//     #include <tapeflow/optim/optim.hpp>

#include "tapeflow/optim/learning_rate.hpp"
#include "tapeflow/optim/learning_rate_schedule.hpp"
#include "tapeflow/optim/optimizer.hpp"
#include "tapeflow/optim/schedules.hpp"
#include "tapeflow/optim/serialization.hpp"

#include "tapeflow/optim/adagrad.hpp"
#include "tapeflow/optim/adadelta.hpp"
#include "tapeflow/optim/adam.hpp"
#include "tapeflow/optim/adamax.hpp"
#include "tapeflow/optim/ftrl.hpp"
#include "tapeflow/optim/nadam.hpp"
#include "tapeflow/optim/rmsprop.hpp"
#include "tapeflow/optim/sgd.hpp"

#pragma once
// The nn module: layers, losses, metrics, activations, initializers and models (tapeflow::nn).
//
//     #include <tapeflow/nn/nn.hpp>

#include "tapeflow/nn/activations.hpp"
#include "tapeflow/nn/conv.hpp"
#include "tapeflow/nn/datasets.hpp"
#include "tapeflow/nn/dense.hpp"
#include "tapeflow/nn/embedding.hpp"
#include "tapeflow/nn/initializers.hpp"
#include "tapeflow/nn/layer.hpp"
#include "tapeflow/nn/losses.hpp"
#include "tapeflow/nn/metrics.hpp"
#include "tapeflow/nn/model.hpp"
#include "tapeflow/nn/pooling.hpp"
#include "tapeflow/nn/sequential.hpp"

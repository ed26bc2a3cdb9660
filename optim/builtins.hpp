#pragma once
// The one list of built-in optimizers. The registry (serialize / deserialize / optimizer_names),
// the typed tests, the SIMD and trajectory tests and the bench read it; adding an optimizer adds
// one X(...) line here, sorted by Keras class name.
//
//     #define SHOW(Class) std::cout << #Class << "\n";
//     TAPEFLOW_OPTIM_BUILTINS(SHOW)
//     using All = optim::Builtins<std::tuple>;   // std::tuple<Adadelta, Adagrad, ...>

#include <type_traits>
#include <utility>

#include "tapeflow/optim/adadelta.hpp"
#include "tapeflow/optim/adagrad.hpp"
#include "tapeflow/optim/adam.hpp"
#include "tapeflow/optim/adamax.hpp"
#include "tapeflow/optim/ftrl.hpp"
#include "tapeflow/optim/nadam.hpp"
#include "tapeflow/optim/rmsprop.hpp"
#include "tapeflow/optim/sgd.hpp"

/// Calls X(Class) for each built-in optimizer handle class, sorted by name.
#define TAPEFLOW_OPTIM_BUILTINS(X) \
  X(Adadelta)                      \
  X(Adagrad)                       \
  X(Adam)                          \
  X(Adamax)                        \
  X(Ftrl)                          \
  X(Nadam)                         \
  X(RMSprop)                       \
  X(SGD)

namespace tapeflow::optim {

#define TAPEFLOW_OPTIM_COMMA_LIST(Class) , Class
namespace detail {
template <template <class...> class List, class First, class... Rest>
using BuiltinsOf = List<Rest...>;
struct NoOptimizer;
}  // namespace detail
/// The built-in handle classes as a type list: Builtins<std::tuple>, which is what doctest's
/// TEST_CASE_TEMPLATE_APPLY takes.
template <template <class...> class List>
using Builtins =
    detail::BuiltinsOf<List,
                       detail::NoOptimizer TAPEFLOW_OPTIM_BUILTINS(TAPEFLOW_OPTIM_COMMA_LIST)>;
#undef TAPEFLOW_OPTIM_COMMA_LIST

/// The body class of a built-in handle (Adagrad -> AdagradImpl).
template <class Handle>
using BodyOf = std::remove_reference_t<decltype(std::declval<const Handle&>().impl())>;

}  // namespace tapeflow::optim

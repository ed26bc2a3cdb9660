#pragma once
// Embedding: integer ids to dense vectors, as tf.keras.layers.Embedding.

#include <optional>
#include <string>

#include "tapeflow/nn/initializers.hpp"
#include "tapeflow/nn/layer.hpp"

namespace tapeflow::nn {

/// The body of Embedding; see Embedding.
class EmbeddingImpl : public LayerImpl {
 public:
  EmbeddingImpl(int input_dim, int output_dim, Initializer embeddings_initializer,
                const std::string& name, DType dtype);

  Tensor call(const Tensor& inputs) override;
  Shape compute_output_shape(const Shape& input_shape) const override;
  Config get_config() const override;

  std::size_t input_dim() const { return input_dim_; }
  std::size_t output_dim() const { return output_dim_; }
  /// The table (input_dim, output_dim); ValueError before the layer is built.
  Variable embeddings() const;

 protected:
  void build(const Shape& input_shape) override;

 private:
  std::size_t input_dim_;
  std::size_t output_dim_;
  Initializer embeddings_initializer_;
  std::optional<Variable> embeddings_;
};

/// out[i..., :] = embeddings[ids[i...], :]: ids of any shape to shape ids.shape + (output_dim,),
/// through `gather`, so the gradient of `<name>/embeddings:0` is an IndexedSlices (only the rows
/// used) and optimizers take their sparse path. The default initializer "uniform" is Keras's
/// RandomUniform(-0.05, 0.05).
///
/// TypeError for non-integer ids; ValueError for an id outside [0, input_dim) (nothing is
/// computed), and for input_dim or output_dim <= 0.
class Embedding : public Layer {
 public:
  Embedding(int input_dim, int output_dim, Initializer embeddings_initializer = "uniform",
            const std::string& name = "", DType dtype = DType::float32);
  static Embedding from_config(const Config& config);

  std::size_t input_dim() const { return body().input_dim(); }
  std::size_t output_dim() const { return body().output_dim(); }
  Variable embeddings() const { return body().embeddings(); }

 private:
  EmbeddingImpl& body() const { return static_cast<EmbeddingImpl&>(impl()); }
};

}  // namespace tapeflow::nn

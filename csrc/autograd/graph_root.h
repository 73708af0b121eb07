#pragma once
// GraphRoot: the node a backward call starts from; its outputs are the seed gradients, one per root.
#include <string>

#include "core/node.h"

namespace cr {

class GraphRoot final : public Node {
 public:
  explicit GraphRoot(TensorList grads) : grads_(std::move(grads)) {}
  TensorList apply(TensorList&&) override { return std::move(grads_); }
  std::string name() const override { return "GraphRoot"; }
  TensorList grads_;
};

}  // namespace cr

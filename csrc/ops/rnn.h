#pragma once
// Fused recurrent layers: one RNN_TANH / RNN_RELU / LSTM / GRU layer in one direction over a whole
// sequence, as one graph node. See Note [Fused recurrent layers] in rnn.cpp.
#include <string>
#include <vector>

#include "core/tensor.h"

namespace cr {

enum class RnnMode { Tanh, Relu, Lstm, Gru };

/// The mode from PyTorch's names: "RNN_TANH", "RNN_RELU", "LSTM", "GRU" (ValueError otherwise).
RnnMode rnn_mode_from_name(const std::string& name);

/// One layer and direction over a whole sequence.
///   input (T, B, I); h0 (B, P) and, for LSTM, c0 (B, H) (undefined: zeros);
///   w_ih (G*H, I), w_hh (G*H, P), b_ih / b_hh (G*H) or undefined; w_hr (P, H) for an LSTM with
///   projections, else undefined (then P = H). G = 1, 1, 4, 3 by mode; gate order as PyTorch:
///   LSTM (i, f, g, o), GRU (r, z, n) with b_hn inside the r * (...) term.
/// `reverse` runs from the last step to the first. `lengths` (one per batch entry, each in
/// [0, T], empty for all T) restricts each sequence to its first lengths[b] steps: outside them the
/// state is carried unchanged and the output is zero, so the final state is the one at each
/// sequence's last valid step (and a reverse run starts at it).
/// Returns {output (T, B, P), h_n (B, P), c_n (B, H) or undefined}.
TensorList rnn_layer(RnnMode mode, const Tensor& input, const Tensor& h0, const Tensor& c0,
                     const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh,
                     const Tensor& w_hr, bool reverse, const std::vector<int64_t>& lengths);

}  // namespace cr

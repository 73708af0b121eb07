// Fused recurrent layers (ops/rnn.cpp): the private entry point behind chainrule.nn's RNN, LSTM,
// GRU and their cells. It releases the GIL while the kernel runs.
#include "bindings/capture_wrap.h"
#include "bindings/common.h"
#include "ops/rnn.h"

namespace crpy {

void register_rnn(py::module_& m) {
  using py::arg;
  def_traced(
      m, "_rnn_layer",
      [](const std::string& mode, const Tensor& input, const std::optional<Tensor>& hx,
         const std::optional<Tensor>& cx, const Tensor& weight_ih, const Tensor& weight_hh,
         const std::optional<Tensor>& bias_ih, const std::optional<Tensor>& bias_hh,
         const std::optional<Tensor>& weight_hr, bool reverse,
         const std::optional<std::vector<int64_t>>& lengths) {
        cr::RnnMode m = cr::rnn_mode_from_name(mode);
        std::vector<int64_t> lens = lengths ? *lengths : std::vector<int64_t>{};
        TensorList r;
        {
          py::gil_scoped_release nogil;
          r = cr::rnn_layer(m, input, opt(hx), opt(cx), weight_ih, weight_hh, opt(bias_ih), opt(bias_hh),
                            opt(weight_hr), reverse, lens);
        }
        return py::make_tuple(r[0], r[1], r[2]);
      },
      "_rnn_layer(mode, input, hx, cx, weight_ih, weight_hh, bias_ih, bias_hh, weight_hr, reverse, lengths) "
      "-> (output, h_n, c_n)\n\nOne recurrent layer and direction over a whole (seq_len, batch, input_size) "
      "sequence as one graph node; mode is RNN_TANH, RNN_RELU, LSTM or GRU. c_n is None except for LSTM.",
      arg("mode"), arg("input"), arg("hx").none(true), arg("cx").none(true), arg("weight_ih"),
      arg("weight_hh"), arg("bias_ih").none(true), arg("bias_hh").none(true), arg("weight_hr").none(true),
      arg("reverse"), arg("lengths").none(true));
}

}  // namespace crpy

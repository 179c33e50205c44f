"""Writes a one-node ONNX GRU model (opset 14, linear_before_reset=1: PyTorch's cell; with "original",
linear_before_reset=0: the original cell) with random weights, as ../shared/peers/make_onnx_lstm.py does for the LSTM:
make_onnx_gru.py I H OUT.onnx [original]"""
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
I, H, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
original = len(sys.argv) > 4 and sys.argv[4] == "original"
rng = np.random.default_rng(1)
W = numpy_helper.from_array(rng.uniform(-0.1, 0.1, (1, 3 * H, I)).astype(np.float32), "W")
R = numpy_helper.from_array(rng.uniform(-0.1, 0.1, (1, 3 * H, H)).astype(np.float32), "R")
B = numpy_helper.from_array(rng.uniform(-0.1, 0.1, (1, 6 * H)).astype(np.float32), "B")
node = helper.make_node("GRU", ["X", "W", "R", "B", "", "h0"], ["Y", "Y_h"], hidden_size=H, linear_before_reset=0 if original else 1)
g = helper.make_graph([node], "gru",
    [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["T", "N", I]),
     helper.make_tensor_value_info("h0", TensorProto.FLOAT, [1, "N", H])],
    [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["T", 1, "N", H]),
     helper.make_tensor_value_info("Y_h", TensorProto.FLOAT, [1, "N", H])], [W, R, B])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]); m.ir_version = 8
onnx.checker.check_model(m); onnx.save(m, out)

"""Times PyTorch's CPU nn.GRU (a peer) on one shape, as ../shared/peers/torch_lstm.py does nn.LSTM: median microseconds
per call, GFLOP/s counting 2·T·B·3H·(I+H).
usage: torch_gru.py T B I H [reps] [threads]"""
import sys, time, statistics, torch
T, B, I, H = map(int, sys.argv[1:5])
reps = int(sys.argv[5]) if len(sys.argv) > 5 else 50
torch.set_num_threads(int(sys.argv[6]) if len(sys.argv) > 6 else 1)
torch.manual_seed(1)
gru = torch.nn.GRU(I, H).eval()
x = torch.randn(T, B, I); h = torch.randn(1, B, H)
with torch.inference_mode():
    for _ in range(5): gru(x, h)
    ts = []
    for _ in range(reps):
        a = time.perf_counter(); gru(x, h); ts.append((time.perf_counter() - a) * 1e6)
med = statistics.median(ts)
print(f"torch-seq T={T} B={B} I={I} H={H} median_us={med:.2f} gflops={2*T*B*3*H*(I+H)/med/1e3:.2f}")

// Times oneDNN's GRU forward-inference primitives on one shape: linear-before-reset (lbr_gru: PyTorch's nn.GRU cell, four
// bias blocks, the fourth b_hn) or, with "original", the original cell (gru: the reset gate before the recurrent product,
// three bias blocks). Adapted from ../shared/peers/onednn_lstm.cpp.
// usage: onednn_gru T B I H [reps] [original]   prints: median microseconds per call, GFLOP/s counting 2·T·B·3H·(I+H)
#include <oneapi/dnnl/dnnl.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;
int main(int argc, char** argv) {
  if (argc < 5) { std::fprintf(stderr, "usage: T B I H [reps]\n"); return 2; }
  long T = atol(argv[1]), B = atol(argv[2]), I = atol(argv[3]), H = atol(argv[4]);
  int reps = argc > 5 ? atoi(argv[5]) : 50;
  bool original = argc > 6 && std::string(argv[6]) == "original";
  engine eng(engine::kind::cpu, 0); stream s(eng);
  memory::dims src_d = {T, B, I}, iter_d = {1, 1, B, H}, wl_d = {1, 1, I, 3, H}, wi_d = {1, 1, H, 3, H}, b_d = {1, 1, original ? 3 : 4, H}, dst_d = {T, B, H};
  auto md = [](memory::dims d, tag t) { return memory::desc(d, dt::f32, t); };
  auto src_md = md(src_d, tag::tnc), h_md = md(iter_d, tag::ldnc);
  auto wl_any = md(wl_d, tag::any), wi_any = md(wi_d, tag::any), b_md = md(b_d, tag::ldgo), dst_md = md(dst_d, tag::tnc);
  // Both primitives take the same arguments; only the cell differs.
  auto make = [&](auto kind_tag) {
    using prim_t = decltype(kind_tag);
    typename prim_t::desc d(prop_kind::forward_inference, rnn_direction::unidirectional_left2right, src_md, h_md,
                            wl_any, wi_any, b_md, dst_md, h_md);
    typename prim_t::primitive_desc pd(d, eng);
    return std::make_pair(pd, primitive(prim_t(pd)));
  };
  auto [pd, prim] = original ? [&] { auto p = make(gru_forward()); return std::make_pair(rnn_primitive_desc_base(p.first), p.second); }()
                             : [&] { auto p = make(lbr_gru_forward()); return std::make_pair(rnn_primitive_desc_base(p.first), p.second); }();
  std::mt19937 rng(1); std::uniform_real_distribution<float> u(-0.1f, 0.1f);
  auto filled = [&](const memory::desc& m) { memory x(m, eng); float* p = (float*)x.get_data_handle(); size_t n = m.get_size() / 4; for (size_t i = 0; i < n; i++) p[i] = u(rng); return x; };
  memory src = filled(src_md), h0 = filled(h_md), bias = filled(b_md), dst(dst_md, eng), hT(h_md, eng);
  memory wl_user = filled(md(wl_d, tag::ldigo)), wi_user = filled(md(wi_d, tag::ldigo));
  memory wl(pd.weights_layer_desc(), eng), wi(pd.weights_iter_desc(), eng);
  reorder(wl_user, wl).execute(s, wl_user, wl); reorder(wi_user, wi).execute(s, wi_user, wi);
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC_LAYER, src}, {DNNL_ARG_SRC_ITER, h0}, {DNNL_ARG_WEIGHTS_LAYER, wl},
    {DNNL_ARG_WEIGHTS_ITER, wi}, {DNNL_ARG_BIAS, bias}, {DNNL_ARG_DST_LAYER, dst}, {DNNL_ARG_DST_ITER, hT}};
  if (pd.scratchpad_desc().get_size()) args[DNNL_ARG_SCRATCHPAD] = memory(pd.scratchpad_desc(), eng);
  for (int i = 0; i < 5; i++) prim.execute(s, args);
  s.wait();
  std::vector<double> t;
  for (int r = 0; r < reps; r++) {
    auto a = std::chrono::steady_clock::now(); prim.execute(s, args); s.wait();
    t.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  double med = t[t.size() / 2], flop = 2.0 * T * B * 3 * H * (double)(I + H);
  std::printf("onednn T=%ld B=%ld I=%ld H=%ld median_us=%.2f gflops=%.2f impl=%s cell=%s\n", T, B, I, H, med, flop / med / 1e3, pd.impl_info_str(), original ? "gru" : "lbr_gru");
}

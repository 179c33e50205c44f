// Times ONNX Runtime's CPU GRU operator through onnxruntime-node, as ../shared/peers/ort_lstm.js does the LSTM's:
// node ort_gru.js MODEL T B I H [reps] [threads]   (GFLOP/s count 2·T·B·3H·(I+H))
const ort = require(process.env.ORT_NODE || 'onnxruntime-node');
(async () => {
  const [model, T, B, I, H, reps = 50, threads = 1] = process.argv.slice(2).map((v, i) => i ? Number(v) : v);
  const s = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' });
  const rnd = n => Float32Array.from({ length: n }, () => Math.random() * 0.2 - 0.1);
  const feeds = { X: new ort.Tensor('float32', rnd(T * B * I), [T, B, I]), h0: new ort.Tensor('float32', rnd(B * H), [1, B, H]) };
  for (let i = 0; i < 5; i++) await s.run(feeds);
  const ts = [];
  for (let r = 0; r < reps; r++) { const a = process.hrtime.bigint(); await s.run(feeds); ts.push(Number(process.hrtime.bigint() - a) / 1e3); }
  ts.sort((a, b) => a - b); const med = ts[ts.length >> 1];
  console.log(`ort T=${T} B=${B} I=${I} H=${H} median_us=${med.toFixed(2)} gflops=${(2 * T * B * 3 * H * (I + H) / med / 1e3).toFixed(2)}`);
})();

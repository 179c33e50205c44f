// Writes golden TensorFlow.js layers models (model.json + binary weight shards) and their expected outputs.
//
// Each model is built with @tensorflow/tfjs's layers API (pure-JS CPU backend), given seeded weights, and saved with
// tfjs's own model.save through a custom IOHandler that writes what tfjs-node's file handler and tensorflowjs_converter
// write: model.json ({modelTopology, format, generatedBy, convertedBy, weightsManifest: [{paths, weights}]}) and the
// shard files it names. Some cases split the weights into several groups and shards, or store them quantised as
// tensorflowjs_converter's --quantize_uint8 / --quantize_uint16 / --quantize_float16 do (manifest entries with
// quantization {dtype, scale, min} or {dtype: "float16"}).
//
// The expected outputs are tfjs's own: each folder is read back from disk with tf.io.getModelArtifactsForJSON (the
// loader tfjs's http and file handlers share, which concatenates the shards and dequantises), then model.predict.
//
// For each case NAME: tfjs/NAME/model.json + shards, and tfjs/NAME.expected.safetensors holding `input` (float32;
// token ids as float32 for Embedding models) and every model output under LstmSimd's name for it (the layer's name,
// `layer:i` for its i-th output), as float64 of tfjs's float32 results; __metadata__.config lists the output names.
// Refusal fixtures (tfjs/refuse_*/) have no expected file. Deterministic (seeded weights and inputs).
//
// usage: NODE_PATH=<folder with @tensorflow/tfjs@4.22.0> node tests/LstmSimd.Tests/Golden/make_tfjs_golden.js [OUT_DIR]
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

const OUT = process.argv[2] || path.join(__dirname, 'tfjs');
const B = 2, T = 5;

// mulberry32: a small seeded generator, so a rerun writes the same files.
let seed = 20261206;
function random() {
  seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const uniform = (n, scale) => Float32Array.from({ length: n }, () => (2 * random() - 1) * scale);

function seedWeights(model) {
  for (const layer of model.layers) {
    const weights = layer.getWeights();
    if (weights.length) layer.setWeights(weights.map(w => tf.tensor(uniform(w.size, 0.6), w.shape)));
  }
}

// ------------------------------------------------------------------------------------------------ writing a folder

function quantise(values, dtype) {
  if (dtype === 'float16') return { bytes: float16Bytes(values), quantization: { dtype: 'float16' } };
  const levels = dtype === 'uint8' ? 255 : 65535;
  let min = Math.min(...values), max = Math.max(...values);
  const scale = max > min ? (max - min) / levels : 1;
  const q = dtype === 'uint8' ? new Uint8Array(values.length) : new Uint16Array(values.length);
  values.forEach((v, i) => { q[i] = Math.round((v - min) / scale); });
  return { bytes: new Uint8Array(q.buffer), quantization: { dtype, scale, min } };
}

function float16Bytes(values) {
  const out = new Uint16Array(values.length), f = new Float32Array(1), u = new Uint32Array(f.buffer);
  values.forEach((v, i) => {
    f[0] = v;
    const x = u[0], sign = (x >>> 16) & 0x8000, exp = ((x >>> 23) & 0xff) - 127 + 15, mant = x & 0x7fffff;
    if (exp <= 0) { out[i] = sign; return; } // the seeded weights are far from float16's subnormals
    let h = sign | (exp << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++; // round to nearest even
    out[i] = h;
  });
  return new Uint8Array(out.buffer);
}

// Saves with tfjs's model.save, then lays the weights out as `layout` says: groups (weight counts per group), shards
// per group, and a quantisation dtype.
async function saveFolder(model, name, layout = {}) {
  let artifacts;
  await model.save(tf.io.withSaveHandler(async a => { artifacts = a; return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } }; }));
  const data = new Uint8Array(artifacts.weightData);
  let offset = 0;
  const entries = artifacts.weightSpecs.map(spec => {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(data.buffer.slice(offset, offset + 4 * count));
    offset += 4 * count;
    if (!layout.quantize) return { spec, bytes: new Uint8Array(values.buffer) };
    const { bytes, quantization } = quantise(Array.from(values), layout.quantize);
    return { spec: { ...spec, quantization }, bytes };
  });
  const groupSizes = layout.groups || [entries.length];
  const dir = path.join(OUT, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const manifest = [];
  let next = 0;
  groupSizes.forEach((size, g) => {
    const group = entries.slice(next, next + size);
    next += size;
    const bytes = Buffer.concat(group.map(e => Buffer.from(e.bytes)));
    const shards = (layout.shards && layout.shards[g]) || 1;
    const cut = Math.ceil(bytes.length / shards) + 3; // not on a weight's boundary
    const paths = [];
    for (let s = 0; s < shards; s++) {
      const file = `group${g + 1}-shard${s + 1}of${shards}.bin`;
      fs.writeFileSync(path.join(dir, file), bytes.subarray(Math.min(s * cut, bytes.length), s === shards - 1 ? bytes.length : Math.min((s + 1) * cut, bytes.length)));
      paths.push(file);
    }
    manifest.push({ paths, weights: group.map(e => e.spec) });
  });
  const json = {
    modelTopology: artifacts.modelTopology, format: 'layers-model', generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
    convertedBy: null, weightsManifest: manifest,
  };
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
  return dir;
}

// Reads a folder back as tfjs's http/file loaders do (getModelArtifactsForJSON concatenates the shards in manifest order).
async function loadFolder(dir) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  const artifacts = await tf.io.getModelArtifactsForJSON(json, async manifest => {
    const specs = [], buffers = [];
    for (const group of manifest) {
      specs.push(...group.weights);
      for (const p of group.paths) buffers.push(fs.readFileSync(path.join(dir, p)));
    }
    const all = Buffer.concat(buffers);
    return [specs, all.buffer.slice(all.byteOffset, all.byteOffset + all.length)];
  });
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

// ------------------------------------------------------------------------------------------------ expected outputs

function safetensors(file, arrays, config) {
  const header = { __metadata__: { config: JSON.stringify(config) } };
  const parts = [];
  let offset = 0;
  for (const [name, { dtype, shape, values }] of Object.entries(arrays)) {
    const bytes = Buffer.from((dtype === 'F64' ? Float64Array.from(values) : Float32Array.from(values)).buffer);
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let text = JSON.stringify(header);
  while ((8 + text.length) % 8) text += ' ';
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(text.length));
  fs.writeFileSync(file, Buffer.concat([length, Buffer.from(text, 'utf8'), ...parts]));
}

async function golden(name, model, outputNames, input, layout) {
  seedWeights(model);
  await goldenSeeded(name, model, outputNames, input, layout);
}

async function goldenSeeded(name, model, outputNames, input, layout) {
  const dir = await saveFolder(model, name, layout);
  const loaded = await loadFolder(dir);
  let result = loaded.predict(input);
  if (!Array.isArray(result)) result = [result];
  const arrays = { input: { dtype: 'F32', shape: input.shape, values: input.dataSync() } };
  result.forEach((t, k) => { arrays[outputNames[k]] = { dtype: 'F64', shape: t.shape, values: t.dataSync() }; });
  safetensors(path.join(OUT, `${name}.expected.safetensors`), arrays, { outputs: outputNames, layout: layout || {} });
  console.log(`${name}: outputs ${outputNames.join(', ')}`);
}

const features = shape => tf.tensor(uniform(shape.reduce((a, b) => a * b, 1), 1), shape);

function stackedSequential() {
  const m = tf.sequential({ name: 'stacked' });
  m.add(tf.layers.lstm({ name: 'lstm', units: 4, returnSequences: true, inputShape: [T, 3] }));
  m.add(tf.layers.lstm({ name: 'lstm_1', units: 3, returnSequences: true, recurrentActivation: 'sigmoid' }));
  m.add(tf.layers.dense({ name: 'dense', units: 2, activation: 'softmax' }));
  return m;
}

(async () => {
  await tf.setBackend('cpu');
  fs.mkdirSync(OUT, { recursive: true });

  // Sequential, TF.js's default recurrent_activation hard_sigmoid (0.2x + 0.5), one shard.
  await golden('sequential_stacked_softmax', stackedSequential(), ['dense'], features([B, T, 3]));

  // Functional: Bidirectional(concat) → LSTM(return_state) → Dense; outputs dense and the LSTM's c; two groups, the
  // first in three shards cut inside weights.
  {
    const input = tf.input({ name: 'input', shape: [T, 3] });
    const bi = tf.layers.bidirectional({ name: 'bidirectional', layer: tf.layers.lstm({ name: 'lstm', units: 4, returnSequences: true }), mergeMode: 'concat' }).apply(input);
    const [out, , c] = tf.layers.lstm({ name: 'lstm_state', units: 3, returnState: true, activation: 'relu' }).apply(bi);
    const dense = tf.layers.dense({ name: 'dense', units: 2, activation: 'tanh' }).apply(out);
    const model = tf.model({ name: 'functional', inputs: input, outputs: [dense, c] });
    await golden('functional_bidirectional_state_sharded', model, ['dense', 'lstm_state:2'], features([B, T, 3]), { groups: [6, 5], shards: [3, 1] });
  }

  // Embedding → LSTM(go_backwards, no bias) → Dropout → Dense; Bidirectional(ave) in a second model below.
  {
    const m = tf.sequential({ name: 'tagger' });
    m.add(tf.layers.embedding({ name: 'embedding', inputDim: 11, outputDim: 4, inputLength: T }));
    m.add(tf.layers.lstm({ name: 'lstm', units: 5, goBackwards: true, returnSequences: true, useBias: false, recurrentActivation: 'sigmoid' }));
    m.add(tf.layers.dropout({ name: 'dropout', rate: 0.3 }));
    m.add(tf.layers.dense({ name: 'dense', units: 3 }));
    const ids = tf.tensor(Float32Array.from({ length: B * T }, () => Math.floor(random() * 11)), [B, T]);
    await golden('embedding_go_backwards', m, ['dense'], ids);
  }
  {
    const m = tf.sequential({ name: 'average' });
    m.add(tf.layers.bidirectional({ name: 'bidirectional', layer: tf.layers.lstm({ name: 'lstm', units: 3 }), mergeMode: 'ave', inputShape: [T, 2] }));
    await golden('bidirectional_ave', m, ['bidirectional'], features([B, T, 2]));
  }

  // The stacked model's weights quantised as tensorflowjs_converter stores them.
  for (const dtype of ['uint8', 'uint16', 'float16'])
    await golden(`quantized_${dtype}`, stackedSequential(), ['dense'], features([B, T, 3]), { quantize: dtype });

  // A GRU with TF.js's default activations (recurrent_activation hard_sigmoid: clip(0.2·x + 0.5, 0, 1)), where the seeded
  // sequence has always drawn its weights; its input comes from a formula instead, large enough that the gates reach
  // both clipped ends and the slope between them, and leaves the sequence of the cases below as it was.
  {
    const m = tf.sequential({ name: 'gru' });
    m.add(tf.layers.gru({ name: 'gru', units: 3, returnSequences: true, inputShape: [T, 2] }));
    seedWeights(m);
    const input = tf.tensor(Float32Array.from({ length: B * T * 2 }, (_, i) => 4 * Math.sin(1.7 * i + 0.3)), [B, T, 2]);
    await goldenSeeded('gru_hard_sigmoid', m, ['gru'], input);
  }

  // Refusal fixture: a graph model (no layer config).
  {
    const dir = path.join(OUT, 'refuse_graph_model');
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ format: 'graph-model', generatedBy: '2.15.0', convertedBy: 'TensorFlow.js Converter v4.22.0', modelTopology: { node: [], library: {}, versions: {} }, weightsManifest: [] }));
  }

  // GRUs: TF.js runs the original cell only (reset_after=False: the reset gate before the recurrent product, one bias
  // [3H]). A GRU feeding a Dense, and a Bidirectional(GRU) without bias; then a layer LstmSimd does not run.
  {
    const m = tf.sequential({ name: 'gru' });
    m.add(tf.layers.gru({ name: 'gru', units: 4, returnSequences: true, recurrentActivation: 'sigmoid', inputShape: [T, 3] }));
    m.add(tf.layers.dense({ name: 'dense', units: 2 }));
    await golden('gru_original', m, ['dense'], features([B, T, 3]));
  }
  {
    const m = tf.sequential({ name: 'bigru' });
    m.add(tf.layers.bidirectional({ name: 'bidirectional', layer: tf.layers.gru({ name: 'gru', units: 3, useBias: false, recurrentActivation: 'sigmoid' }), mergeMode: 'concat', inputShape: [T, 2] }));
    await golden('gru_original_bidirectional', m, ['bidirectional'], features([B, T, 2]));
  }
  {
    const m = tf.sequential({ name: 'simple' });
    m.add(tf.layers.simpleRNN({ name: 'simple_rnn', units: 3, inputShape: [T, 2] }));
    seedWeights(m);
    await saveFolder(m, 'refuse_simple_rnn');
  }

  // A text classifier: Embedding(mask_zero) → LSTM (recurrent activation sigmoid, the standard cell) → Dense(softmax). The
  // texts are padded with id 0 at the end, and one holds a 0 inside, which the mask skips too. Then, as a refusal
  // fixture, the same model with TF.js's default recurrent activation (hard_sigmoid), which LstmSimd's classifiers do not
  // run. Last, so the cases above keep the weights they have always drawn.
  const classifier = recurrentActivation => {
    const m = tf.sequential({ name: 'classifier' });
    m.add(tf.layers.embedding({ name: 'embedding', inputDim: 13, outputDim: 4, maskZero: true, inputLength: 7 }));
    m.add(tf.layers.lstm({ name: 'lstm', units: 5, recurrentActivation }));
    m.add(tf.layers.dense({ name: 'dense', units: 3, activation: 'softmax' }));
    return m;
  };
  {
    const ids = tf.tensor([[3, 7, 1, 12, 5, 2, 9], [4, 4, 11, 0, 0, 0, 0], [6, 0, 8, 10, 0, 0, 0], [2, 0, 0, 0, 0, 0, 0]], [4, 7]);
    await golden('classifier_mask_zero', classifier('sigmoid'), ['dense'], ids);
    const m = classifier('hardSigmoid');
    seedWeights(m);
    await saveFolder(m, 'refuse_classifier_hard_sigmoid');
  }
})();

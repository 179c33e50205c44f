// Runs a model description written by make_keras_golden.py through TensorFlow.js's layers API (Keras semantics, pure-JS
// CPU backend) with the same weights and input, and writes the model's outputs as JSON: an independent forward pass to
// hold the float64 reference against. usage: NODE_PATH=.../node_modules node keras_tfjs_reference.js SPEC.json OUT.json
const fs = require('fs');
const tf = require('@tensorflow/tfjs');

const camel = { hard_sigmoid: 'hardSigmoid', sigmoid: 'sigmoid', tanh: 'tanh', relu: 'relu', linear: 'linear', softmax: 'softmax' };

function lstm(cfg) {
  return tf.layers.lstm({
    units: cfg.units, activation: camel[cfg.activation], recurrentActivation: camel[cfg.recurrent_activation], useBias: cfg.use_bias,
    returnSequences: cfg.return_sequences, returnState: cfg.return_state, goBackwards: cfg.go_backwards,
  });
}

function create(layer) {
  const cfg = layer.config;
  switch (layer.class_name) {
    case 'LSTM': return lstm(cfg);
    case 'Bidirectional': return tf.layers.bidirectional({ layer: lstm(cfg.layer.config), mergeMode: cfg.merge_mode });
    case 'Dense': return tf.layers.dense({ units: cfg.units, activation: camel[cfg.activation], useBias: cfg.use_bias });
    case 'Embedding': return tf.layers.embedding({ inputDim: cfg.input_dim, outputDim: cfg.output_dim });
    case 'Dropout': return tf.layers.dropout({ rate: cfg.rate });
    default: throw new Error(`no TF.js layer for ${layer.class_name}`);
  }
}

(async () => {
  await tf.setBackend('cpu');
  const spec = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const input = tf.input({ shape: spec.batch_shape.slice(1), dtype: spec.input_dtype });
  const tensors = { input_layer: [input] };
  const layers = [];
  spec.layers.forEach((description, k) => {
    const layer = create(description);
    const [source, index] = spec.inbound[k];
    const out = layer.apply(tensors[source][index]);
    tensors[description.config.name] = Array.isArray(out) ? out : [out];
    layers.push(layer);
  });
  const model = tf.model({ inputs: input, outputs: spec.outputs.map(([name, index]) => tensors[name][index]) });
  layers.forEach((layer, k) => { if (spec.weights[k].length) layer.setWeights(spec.weights[k].map(w => tf.tensor(w))); });
  let result = model.predict(tf.tensor(spec.input, undefined, spec.input_dtype));
  if (!Array.isArray(result)) result = [result];
  fs.writeFileSync(process.argv[3], JSON.stringify(result.map(t => t.arraySync())));
})();

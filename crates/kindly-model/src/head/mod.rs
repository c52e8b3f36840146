//! Classification heads: small candle-nn networks trained on the frozen sentence embedding.
//!
//! A head is a linear layer (multinomial logistic regression), optionally behind one hidden
//! layer. A single-label head ends in a softmax (intents); a multi-label head ends in one sigmoid
//! per label (emotions). Training is deterministic for a given seed: weights are initialised and
//! batches shuffled from a seeded generator, so the same data gives the same head.

use std::collections::HashMap;

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::{AdamW, Linear, Module, Optimizer, ParamsAdamW};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand_distr::{Distribution, Uniform};
use serde::{Deserialize, Serialize};

use crate::ModelError;

mod linear;

/// One label per example (softmax) or any number of them (one sigmoid each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeadKind {
    SingleLabel,
    MultiLabel,
}

/// The shape of a head: what it reads, what it predicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadSpec {
    pub kind: HeadKind,
    pub labels: Vec<String>,
    /// Width of the input: the embedder's dimension.
    pub dimension: usize,
    /// Width of the hidden layer; 0 for a linear head.
    pub hidden: usize,
    /// The hidden layer's activation. Heads stored before it was recorded used GELU.
    #[serde(default)]
    pub activation: Activation,
}

/// The non-linearity after the hidden layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// Tanh-approximated GELU.
    #[default]
    Gelu,
    /// max(0, x): on GoEmotions it scored 0.012–0.015 Ekman macro-F1 above GELU
    /// (`scripts/explore_goemotions.py`).
    Relu,
}

/// How a head is trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainOptions {
    pub epochs: usize,
    pub batch_size: usize,
    /// AdamW's learning rate at the start; it decays linearly to a tenth by the last epoch.
    pub learning_rate: f64,
    pub weight_decay: f64,
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self { epochs: 30, batch_size: 64, learning_rate: 0.01, weight_decay: 0.0, seed: 7 }
    }
}

/// What each training example should predict.
#[derive(Debug, Clone, Copy)]
pub enum Targets<'a> {
    /// The index of each example's label (single-label heads).
    Classes(&'a [u32]),
    /// Row-major `examples × labels` of 0.0 or 1.0 (multi-label heads).
    MultiHot(&'a [f32]),
}

/// A trained head. Inference is a matrix product or two: cheap enough for the async runtime.
pub struct Head {
    spec: HeadSpec,
    hidden: Option<Linear>,
    output: Linear,
}

impl std::fmt::Debug for Head {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Head").field("spec", &self.spec).finish_non_exhaustive()
    }
}

const DEVICE: Device = Device::Cpu;

impl Head {
    /// Trains a head on row-major `inputs` (`examples × spec.dimension`). A linear head takes
    /// hand-derived gradients (the same result, several times faster; see `linear`), a head with
    /// a hidden layer candle's autograd.
    pub fn train(
        spec: HeadSpec,
        inputs: &[f32],
        targets: Targets,
        options: &TrainOptions,
    ) -> Result<Self, ModelError> {
        if spec.hidden > 0 {
            return Self::train_with_autograd(spec, inputs, targets, options);
        }
        check_targets(&spec, inputs, targets)?;
        let wanted = match targets {
            Targets::Classes(c) => linear::Wanted::Classes(c),
            Targets::MultiHot(m) => linear::Wanted::MultiHot(m),
        };
        let labels = spec.labels.len();
        let mut rng = StdRng::seed_from_u64(options.seed);
        let (weight, bias) = linear::train(labels, spec.dimension, inputs, wanted, options, &mut rng)?;
        let weight = Tensor::from_vec(weight, (labels, spec.dimension), &DEVICE)?;
        let output = Linear::new(weight, Some(Tensor::from_vec(bias, labels, &DEVICE)?));
        Ok(Self { spec, hidden: None, output })
    }

    /// Trains through candle's autograd whatever the shape: the reference that the hand-derived
    /// gradients of a linear head are tested and benchmarked against (`kindly bench`).
    pub fn train_with_autograd(
        spec: HeadSpec,
        inputs: &[f32],
        targets: Targets,
        options: &TrainOptions,
    ) -> Result<Self, ModelError> {
        let n = check_targets(&spec, inputs, targets)?;
        let target = match targets {
            Targets::Classes(c) => Tensor::from_slice(c, n, &DEVICE)?,
            Targets::MultiHot(m) => Tensor::from_slice(m, (n, spec.labels.len()), &DEVICE)?,
        };
        let loss_kind = spec.kind;
        let mut rng = StdRng::seed_from_u64(options.seed);
        let out_in = if spec.hidden > 0 { spec.hidden } else { spec.dimension };
        let hidden_vars =
            (spec.hidden > 0).then(|| layer_vars(&mut rng, spec.dimension, spec.hidden)).transpose()?;
        let output_vars = layer_vars(&mut rng, out_in, spec.labels.len())?;
        let mut vars: Vec<Var> = output_vars.to_vec();
        if let Some(h) = &hidden_vars {
            vars.extend(h.iter().cloned());
        }
        let head =
            Self { hidden: hidden_vars.as_ref().map(linear_of), output: linear_of(&output_vars), spec };
        let base_lr = options.learning_rate;
        let mut optimiser = AdamW::new(
            vars,
            ParamsAdamW { lr: base_lr, weight_decay: options.weight_decay, ..ParamsAdamW::default() },
        )?;
        let x = Tensor::from_slice(inputs, (n, head.spec.dimension), &DEVICE)?;
        let mut order: Vec<u32> = (0..n as u32).collect();
        let epochs = options.epochs.max(1);
        for epoch in 0..epochs {
            let progress = epoch as f64 / epochs as f64;
            optimiser.set_learning_rate(base_lr * (1.0 - 0.9 * progress));
            order.shuffle(&mut rng);
            for batch in order.chunks(options.batch_size.max(1)) {
                let index = Tensor::from_slice(batch, batch.len(), &DEVICE)?;
                let logits = head.logits(&x.index_select(&index, 0)?)?;
                let wanted = target.index_select(&index, 0)?;
                let loss = match loss_kind {
                    HeadKind::SingleLabel => candle_nn::loss::cross_entropy(&logits, &wanted)?,
                    HeadKind::MultiLabel => {
                        candle_nn::loss::binary_cross_entropy_with_logit(&logits, &wanted)?
                    }
                };
                optimiser.backward_step(&loss)?;
            }
        }
        Ok(head)
    }

    pub fn spec(&self) -> &HeadSpec {
        &self.spec
    }

    /// Probabilities per label for each row of `inputs`: a softmax for single-label heads, a
    /// sigmoid per label for multi-label heads.
    pub fn predict(&self, inputs: &[f32]) -> Result<Vec<Vec<f32>>, ModelError> {
        self.predict_at_temperature(inputs, 1.0)
    }

    /// As [`Head::predict`], with the logits divided by `temperature` first: above 1 the
    /// probabilities are flatter, in the same order. The intent model reads its head this way so
    /// that a question the head is sure of only by a narrow lead over its second intent does not
    /// rank with one it is sure of by a wide lead (README, "The intent model").
    pub fn predict_at_temperature(
        &self,
        inputs: &[f32],
        temperature: f32,
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let n = check_inputs(&self.spec, inputs)?;
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut logits = self.logits(&Tensor::from_slice(inputs, (n, self.spec.dimension), &DEVICE)?)?;
        if temperature != 1.0 {
            logits = (logits / f64::from(temperature))?;
        }
        let probabilities = match self.spec.kind {
            HeadKind::SingleLabel => candle_nn::ops::softmax_last_dim(&logits)?,
            HeadKind::MultiLabel => candle_nn::ops::sigmoid(&logits)?,
        };
        Ok(probabilities.to_vec2()?)
    }

    /// The weights as a safetensors buffer (the spec is stored beside it).
    pub fn to_safetensors(&self) -> Result<Vec<u8>, ModelError> {
        let mut tensors: Vec<(&str, Tensor)> = vec![("output.weight", self.output.weight().clone())];
        if let Some(b) = self.output.bias() {
            tensors.push(("output.bias", b.clone()));
        }
        if let Some(h) = &self.hidden {
            tensors.push(("hidden.weight", h.weight().clone()));
            if let Some(b) = h.bias() {
                tensors.push(("hidden.bias", b.clone()));
            }
        }
        let views: Vec<(&str, Vec<u8>, Vec<usize>)> = tensors
            .iter()
            .map(|(name, t)| {
                let values: Vec<f32> = t.flatten_all()?.to_vec1()?;
                let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
                Ok((*name, bytes, t.dims().to_vec()))
            })
            .collect::<Result<_, candle_core::Error>>()?;
        let views = views
            .iter()
            .map(|(name, bytes, shape)| {
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                    .map(|v| (*name, v))
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid(e.to_string()))?;
        safetensors::serialize(views, None).map_err(|e| invalid(e.to_string()))
    }

    /// Loads weights written by [`Head::to_safetensors`] and checks them against the spec.
    pub fn from_safetensors(spec: HeadSpec, bytes: &[u8]) -> Result<Self, ModelError> {
        let tensors: HashMap<String, Tensor> = candle_core::safetensors::load_buffer(bytes, &DEVICE)?;
        let get = |name: &str, dims: &[usize]| -> Result<Tensor, ModelError> {
            let t = tensors.get(name).ok_or_else(|| invalid(format!("head weights lack {name}")))?;
            if t.dims() != dims {
                return Err(invalid(format!("{name} has shape {:?}, the spec wants {dims:?}", t.dims())));
            }
            Ok(t.to_dtype(DType::F32)?)
        };
        let labels = spec.labels.len();
        let (hidden, out_in) = if spec.hidden > 0 {
            let w = get("hidden.weight", &[spec.hidden, spec.dimension])?;
            let b = get("hidden.bias", &[spec.hidden])?;
            (Some(Linear::new(w, Some(b))), spec.hidden)
        } else {
            (None, spec.dimension)
        };
        let output =
            Linear::new(get("output.weight", &[labels, out_in])?, Some(get("output.bias", &[labels])?));
        Ok(Self { spec, hidden, output })
    }

    fn logits(&self, x: &Tensor) -> Result<Tensor, candle_core::Error> {
        match &self.hidden {
            Some(h) => {
                let hidden = h.forward(x)?;
                let activated = match self.spec.activation {
                    Activation::Gelu => hidden.gelu()?,
                    Activation::Relu => hidden.relu()?,
                };
                self.output.forward(&activated)
            }
            None => self.output.forward(x),
        }
    }
}

/// A layer's weight (`fan_out × fan_in`, row-major) and bias, drawn uniformly in ±1/√fan_in
/// (as torch does).
fn initial_weights(
    rng: &mut StdRng,
    fan_in: usize,
    fan_out: usize,
) -> Result<(Vec<f32>, Vec<f32>), ModelError> {
    let bound = 1.0 / (fan_in as f32).sqrt();
    let uniform = Uniform::new_inclusive(-bound, bound).map_err(|e| invalid(e.to_string()))?;
    let mut sample = |count: usize| -> Vec<f32> { (0..count).map(|_| uniform.sample(rng)).collect() };
    let weight = sample(fan_in * fan_out);
    Ok((weight, sample(fan_out)))
}

/// A layer's initial weight and bias as variables for autograd.
fn layer_vars(rng: &mut StdRng, fan_in: usize, fan_out: usize) -> Result<[Var; 2], ModelError> {
    let (weight, bias) = initial_weights(rng, fan_in, fan_out)?;
    let weight = Tensor::from_vec(weight, (fan_out, fan_in), &DEVICE)?;
    let bias = Tensor::from_vec(bias, fan_out, &DEVICE)?;
    Ok([Var::from_tensor(&weight)?, Var::from_tensor(&bias)?])
}

fn linear_of(vars: &[Var; 2]) -> Linear {
    Linear::new(vars[0].as_tensor().clone(), Some(vars[1].as_tensor().clone()))
}

/// The number of examples, once the targets match the head's kind, the inputs and its labels.
fn check_targets(spec: &HeadSpec, inputs: &[f32], targets: Targets) -> Result<usize, ModelError> {
    let n = check_inputs(spec, inputs)?;
    match (targets, spec.kind) {
        (Targets::Classes(c), HeadKind::SingleLabel) if c.len() == n => {
            if let Some(bad) = c.iter().find(|&&c| c as usize >= spec.labels.len()) {
                return Err(invalid(format!("class index {bad} is out of range")));
            }
        }
        (Targets::MultiHot(m), HeadKind::MultiLabel) if m.len() == n * spec.labels.len() => {}
        _ => return Err(invalid("targets do not match the head's kind or the number of examples".into())),
    }
    if n == 0 {
        return Err(invalid("no training examples".into()));
    }
    Ok(n)
}

fn check_inputs(spec: &HeadSpec, inputs: &[f32]) -> Result<usize, ModelError> {
    if spec.dimension == 0 || spec.labels.is_empty() {
        return Err(invalid("a head needs a dimension and at least one label".into()));
    }
    if !inputs.len().is_multiple_of(spec.dimension) {
        return Err(invalid(format!(
            "{} input values are not whole rows of dimension {}",
            inputs.len(),
            spec.dimension
        )));
    }
    Ok(inputs.len() / spec.dimension)
}

fn invalid(message: String) -> ModelError {
    ModelError::Head(message)
}

/// Dot products of every row of `queries` with every row of `keys` (cosine similarities for
/// normalised embeddings), row-major `queries × keys`.
pub fn similarity_matrix(queries: &[f32], keys: &[f32], dimension: usize) -> Result<Vec<f32>, ModelError> {
    if dimension == 0 || !queries.len().is_multiple_of(dimension) || !keys.len().is_multiple_of(dimension) {
        return Err(invalid("vectors are not whole rows of the dimension".into()));
    }
    let (q, k) = (queries.len() / dimension, keys.len() / dimension);
    if q == 0 || k == 0 {
        return Ok(Vec::new());
    }
    let queries = Tensor::from_slice(queries, (q, dimension), &DEVICE)?;
    let keys = Tensor::from_slice(keys, (k, dimension), &DEVICE)?;
    Ok(queries.matmul(&keys.t()?)?.flatten_all()?.to_vec1()?)
}

/// The index of the largest value.
pub fn argmax(values: &[f32]) -> Option<usize> {
    values.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two well-separated clusters per label in 4 dimensions.
    fn toy() -> (Vec<f32>, Vec<u32>) {
        let mut rng = StdRng::seed_from_u64(1);
        let noise = Uniform::new(-0.2f32, 0.2).unwrap();
        let centres = [[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 1.0]];
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..300 {
            let c = i % 3;
            x.extend(centres[c].iter().map(|v| v + noise.sample(&mut rng)));
            y.push(c as u32);
        }
        (x, y)
    }

    fn spec(kind: HeadKind, hidden: usize) -> HeadSpec {
        HeadSpec {
            kind,
            labels: vec!["a".into(), "b".into(), "c".into()],
            dimension: 4,
            hidden,
            activation: Activation::default(),
        }
    }

    #[test]
    fn single_label_head_learns_and_round_trips() {
        let (x, y) = toy();
        for (hidden, activation) in [(0, Activation::Gelu), (8, Activation::Gelu), (8, Activation::Relu)] {
            let head = Head::train(
                HeadSpec { activation, ..spec(HeadKind::SingleLabel, hidden) },
                &x,
                Targets::Classes(&y),
                &TrainOptions::default(),
            )
            .unwrap();
            let p = head.predict(&x).unwrap();
            let correct = p.iter().zip(&y).filter(|(p, y)| argmax(p) == Some(**y as usize)).count();
            assert_eq!(correct, y.len(), "hidden {hidden}");
            assert!(p.iter().all(|row| (row.iter().sum::<f32>() - 1.0).abs() < 1e-4));
            let copy = Head::from_safetensors(head.spec().clone(), &head.to_safetensors().unwrap()).unwrap();
            assert_eq!(copy.predict(&x).unwrap(), p);
        }
    }

    #[test]
    fn a_temperature_above_one_flattens_the_probabilities_in_the_same_order() {
        let (x, y) = toy();
        let head =
            Head::train(spec(HeadKind::SingleLabel, 0), &x, Targets::Classes(&y), &TrainOptions::default())
                .unwrap();
        let plain = head.predict(&x[..8]).unwrap();
        assert_eq!(head.predict_at_temperature(&x[..8], 1.0).unwrap(), plain);
        let flat = head.predict_at_temperature(&x[..8], 1.5).unwrap();
        for (p, f) in plain.iter().zip(&flat) {
            assert_eq!(argmax(p), argmax(f));
            assert!((f.iter().sum::<f32>() - 1.0).abs() < 1e-4);
            let best = argmax(p).unwrap();
            assert!(f[best] < p[best], "{f:?} against {p:?}");
            // softmax(z / t) is softmax(z) to the power 1 / t, normalised
            let powered: Vec<f32> = p.iter().map(|v| v.powf(1.0 / 1.5)).collect();
            let total: f32 = powered.iter().sum();
            for (a, b) in f.iter().zip(&powered) {
                assert!((a - b / total).abs() < 1e-4, "{f:?} against {powered:?}");
            }
        }
    }

    #[test]
    fn a_spec_stored_without_an_activation_reads_as_gelu() {
        let stored = r#"{"kind": "multi_label", "labels": ["a"], "dimension": 4, "hidden": 8}"#;
        let spec: HeadSpec = serde_json::from_str(stored).unwrap();
        assert_eq!(spec.activation, Activation::Gelu);
    }

    #[test]
    fn training_is_deterministic() {
        let (x, y) = toy();
        let train = || {
            Head::train(spec(HeadKind::SingleLabel, 0), &x, Targets::Classes(&y), &TrainOptions::default())
                .unwrap()
                .predict(&x[..8])
                .unwrap()
        };
        assert_eq!(train(), train());
    }

    #[test]
    fn the_linear_path_trains_what_autograd_trains() {
        let (x, y) = toy();
        let hot: Vec<f32> =
            y.iter().flat_map(|&c| [(c != 1) as u8 as f32, 0.0, (c == 2) as u8 as f32]).collect();
        let options = TrainOptions { epochs: 5, ..TrainOptions::default() };
        for (kind, targets) in
            [(HeadKind::SingleLabel, Targets::Classes(&y)), (HeadKind::MultiLabel, Targets::MultiHot(&hot))]
        {
            let by_hand = Head::train(spec(kind, 0), &x, targets, &options).unwrap();
            let autograd = Head::train_with_autograd(spec(kind, 0), &x, targets, &options).unwrap();
            let weights = |h: &Head| -> Vec<f32> {
                let mut w: Vec<f32> = h.output.weight().flatten_all().unwrap().to_vec1().unwrap();
                w.extend(h.output.bias().unwrap().to_vec1::<f32>().unwrap());
                w
            };
            let (a, b) = (weights(&by_hand), weights(&autograd));
            let largest = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(largest > 0.5, "the heads learnt something: {b:?}");
            for (a, b) in a.iter().zip(&b) {
                assert!((a - b).abs() < 1e-4 * largest.max(1.0), "{kind:?}: {a} against {b}");
            }
        }
    }

    #[test]
    fn multi_label_head_predicts_each_label() {
        let (x, y) = toy();
        // label c also carries label a
        let hot: Vec<f32> = y
            .iter()
            .flat_map(|&c| [(c == 0 || c == 2) as u8 as f32, (c == 1) as u8 as f32, (c == 2) as u8 as f32])
            .collect();
        let head =
            Head::train(spec(HeadKind::MultiLabel, 0), &x, Targets::MultiHot(&hot), &TrainOptions::default())
                .unwrap();
        let p = head.predict(&x).unwrap();
        for (row, c) in p.iter().zip(&y) {
            assert_eq!(row[0] > 0.5, *c != 1);
            assert_eq!(row[2] > 0.5, *c == 2);
        }
    }

    #[test]
    fn bad_shapes_are_errors() {
        let (x, y) = toy();
        let s = spec(HeadKind::SingleLabel, 0);
        assert!(Head::train(s.clone(), &x[..5], Targets::Classes(&y), &TrainOptions::default()).is_err());
        assert!(Head::train(s.clone(), &x, Targets::Classes(&y[..3]), &TrainOptions::default()).is_err());
        let bad: Vec<u32> = vec![9; y.len()];
        assert!(Head::train(s, &x, Targets::Classes(&bad), &TrainOptions::default()).is_err());
    }
}

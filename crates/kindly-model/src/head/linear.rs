//! Training a linear head (no hidden layer) with hand-derived gradients.
//!
//! Under softmax cross-entropy, and under the mean of per-label sigmoid cross-entropies, the
//! gradient of the loss with respect to the logits is `(probabilities − targets) / count`, so
//! the weights' gradient is one matrix product and no autograd graph is needed. The AdamW update
//! is the one `candle_nn::AdamW` makes, fused into one pass over plain vectors. Through candle's
//! autograd each step allocated a dozen parameter-sized tensors and spent most of its time in
//! page faults and element-wise maps (`perf`), not in the two matrix products that are the real
//! work: for an intent head of 3,456 inputs and 151 intents, `kindly bench` measures the step
//! about 3× as fast this way (README, "What is measured").
//! The same seed draws the same initial weights and batches as the autograd path, and the two
//! train the same head (`tests::the_linear_path_trains_what_autograd_trains`).

use candle_core::Tensor;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use super::{DEVICE, TrainOptions, initial_weights};
use crate::ModelError;

/// What the examples should predict: a class each (softmax cross-entropy) or multi-hot rows
/// (the mean of per-label sigmoid cross-entropies).
pub(super) enum Wanted<'a> {
    Classes(&'a [u32]),
    MultiHot(&'a [f32]),
}

/// AdamW's moments for one parameter vector.
struct Moments {
    first: Vec<f32>,
    second: Vec<f32>,
}

impl Moments {
    fn new(len: usize) -> Self {
        Self { first: vec![0.0; len], second: vec![0.0; len] }
    }
}

/// AdamW's settings for one step (candle's defaults for the betas and epsilon).
struct Step {
    lr: f32,
    decay: f32,
    scale_first: f32,
    scale_second: f32,
}

const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPSILON: f32 = 1e-8;

impl Step {
    fn new(lr: f64, weight_decay: f64, t: i32) -> Self {
        Self {
            lr: lr as f32,
            decay: (1.0 - lr * weight_decay) as f32,
            scale_first: (1.0 / (1.0 - f64::from(BETA1).powi(t))) as f32,
            scale_second: (1.0 / (1.0 - f64::from(BETA2).powi(t))) as f32,
        }
    }

    /// One AdamW update of `theta` with gradient `grad`, as `candle_nn::AdamW::step` makes it.
    fn apply(&self, theta: &mut [f32], grad: &[f32], moments: &mut Moments) {
        for (((t, g), m), v) in
            theta.iter_mut().zip(grad).zip(moments.first.iter_mut()).zip(moments.second.iter_mut())
        {
            *m = *m * BETA1 + g * (1.0 - BETA1);
            *v = *v * BETA2 + g * g * (1.0 - BETA2);
            let adjusted = (*m * self.scale_first) / ((*v * self.scale_second).sqrt() + EPSILON);
            *t = *t * self.decay - adjusted * self.lr;
        }
    }
}

/// Trains the weights (`labels × dimension`, row-major) and bias of a linear head on `n` rows of
/// `inputs`. `rng` has drawn nothing yet: it draws the initial weights, then each epoch's order.
pub(super) fn train(
    labels: usize,
    dimension: usize,
    inputs: &[f32],
    wanted: Wanted,
    options: &TrainOptions,
    rng: &mut StdRng,
) -> Result<(Vec<f32>, Vec<f32>), ModelError> {
    let n = inputs.len() / dimension;
    let (mut weight, mut bias) = initial_weights(rng, dimension, labels)?;
    let (mut weight_moments, mut bias_moments) = (Moments::new(weight.len()), Moments::new(bias.len()));
    let mut order: Vec<usize> = (0..n).collect();
    let mut batch_inputs: Vec<f32> = Vec::with_capacity(options.batch_size.max(1) * dimension);
    let epochs = options.epochs.max(1);
    let mut t = 0;
    for epoch in 0..epochs {
        let lr = options.learning_rate * (1.0 - 0.9 * epoch as f64 / epochs as f64);
        order.shuffle(rng);
        for batch in order.chunks(options.batch_size.max(1)) {
            batch_inputs.clear();
            for &row in batch {
                batch_inputs.extend_from_slice(&inputs[row * dimension..(row + 1) * dimension]);
            }
            let x = Tensor::from_slice(&batch_inputs, (batch.len(), dimension), &DEVICE)?;
            let w = Tensor::from_slice(&weight, (labels, dimension), &DEVICE)?;
            let mut delta: Vec<f32> = x.matmul(&w.t()?)?.flatten_all()?.to_vec1()?;
            logit_gradient(&mut delta, &bias, batch, &wanted);
            let delta_t = Tensor::from_slice(&delta, (batch.len(), labels), &DEVICE)?;
            let weight_grad: Vec<f32> = delta_t.t()?.matmul(&x)?.flatten_all()?.to_vec1()?;
            let mut bias_grad = vec![0.0f32; labels];
            for row in delta.chunks(labels) {
                bias_grad.iter_mut().zip(row).for_each(|(g, d)| *g += d);
            }
            t += 1;
            let step = Step::new(lr, options.weight_decay, t);
            step.apply(&mut weight, &weight_grad, &mut weight_moments);
            step.apply(&mut bias, &bias_grad, &mut bias_moments);
        }
    }
    Ok((weight, bias))
}

/// Turns each row of `scores` (`x · wᵀ`, without the bias) into the loss's gradient with
/// respect to the logits: `(probabilities − targets) / count`, where count is the rows for a
/// softmax and the rows times the labels for the sigmoids (both losses are means).
fn logit_gradient(scores: &mut [f32], bias: &[f32], batch: &[usize], wanted: &Wanted) {
    let labels = bias.len();
    let rows = batch.len() as f32;
    for (row, &example) in scores.chunks_mut(labels).zip(batch) {
        row.iter_mut().zip(bias).for_each(|(z, b)| *z += b);
        match wanted {
            Wanted::Classes(classes) => {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                row.iter_mut().for_each(|z| *z = (*z - max).exp());
                let total: f32 = row.iter().sum();
                row.iter_mut().for_each(|z| *z /= total * rows);
                row[classes[example] as usize] -= 1.0 / rows;
            }
            Wanted::MultiHot(hot) => {
                let count = rows * labels as f32;
                let targets = &hot[example * labels..(example + 1) * labels];
                row.iter_mut().zip(targets).for_each(|(z, y)| *z = (1.0 / (1.0 + (-*z).exp()) - y) / count);
            }
        }
    }
}

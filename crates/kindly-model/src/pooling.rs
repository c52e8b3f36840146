//! Pooling token vectors into one sentence vector, as `1_Pooling/config.json` says.

use candle_core::{D, DType, Result, Tensor};
use serde::Deserialize;

/// The subset of sentence-transformers' pooling config Kindly honours.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct PoolingConfig {
    #[serde(default)]
    pub pooling_mode_cls_token: bool,
    #[serde(default)]
    pub pooling_mode_mean_tokens: bool,
    #[serde(default)]
    pub pooling_mode_max_tokens: bool,
    #[serde(default)]
    pub pooling_mode_mean_sqrt_len_tokens: bool,
}

/// How token vectors become one sentence vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    Cls,
    Mean,
    Max,
    MeanSqrtLen,
}

impl PoolingConfig {
    /// The one pooling mode the config enables. Combinations (concatenated poolings) are not
    /// supported and are refused rather than silently approximated.
    pub fn mode(&self) -> std::result::Result<Pooling, String> {
        let modes = [
            (self.pooling_mode_cls_token, Pooling::Cls),
            (self.pooling_mode_mean_tokens, Pooling::Mean),
            (self.pooling_mode_max_tokens, Pooling::Max),
            (self.pooling_mode_mean_sqrt_len_tokens, Pooling::MeanSqrtLen),
        ];
        let on: Vec<Pooling> = modes.iter().filter(|(on, _)| *on).map(|(_, m)| *m).collect();
        match on.as_slice() {
            [one] => Ok(*one),
            [] => Err("no pooling mode is enabled".into()),
            _ => Err(format!("several pooling modes enabled at once ({on:?}) are not supported")),
        }
    }
}

impl Pooling {
    /// Pools `hidden` (batch, tokens, dim) under `mask` (batch, tokens; 1 for real tokens).
    pub fn apply(self, hidden: &Tensor, mask: &Tensor) -> Result<Tensor> {
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(D::Minus1)?; // (b, t, 1)
        match self {
            Pooling::Cls => hidden.narrow(1, 0, 1)?.squeeze(1),
            Pooling::Mean | Pooling::MeanSqrtLen => {
                let summed = hidden.broadcast_mul(&mask)?.sum(1)?; // (b, d)
                let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?; // (b, 1)
                let counts = if self == Pooling::MeanSqrtLen { counts.sqrt()? } else { counts };
                summed.broadcast_div(&counts)
            }
            Pooling::Max => {
                // Padding must never win the max: push it far below any real activation.
                let penalty = ((mask.ones_like()? - &mask)? * -1e9)?;
                hidden.broadcast_add(&penalty)?.max(1)
            }
        }
    }
}

/// Scales each row to unit length, so that dot products are cosine similarities.
pub fn l2_normalise(v: &Tensor) -> Result<Tensor> {
    let norm = v.sqr()?.sum_keepdim(D::Minus1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
    v.broadcast_div(&norm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn mean_pooling_ignores_padding() {
        let hidden = Tensor::new(&[[[1f32, 2.], [3., 4.], [100., 100.]]], &Device::Cpu).unwrap();
        let mask = Tensor::new(&[[1u32, 1, 0]], &Device::Cpu).unwrap();
        let pooled = Pooling::Mean.apply(&hidden, &mask).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(pooled, vec![vec![2., 3.]]);
        let max = Pooling::Max.apply(&hidden, &mask).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(max, vec![vec![3., 4.]]);
        let cls = Pooling::Cls.apply(&hidden, &mask).unwrap().to_vec2::<f32>().unwrap();
        assert_eq!(cls, vec![vec![1., 2.]]);
    }

    #[test]
    fn config_must_name_exactly_one_mode() {
        let cfg: PoolingConfig = serde_json::from_str(r#"{"pooling_mode_mean_tokens": true}"#).unwrap();
        assert_eq!(cfg.mode().unwrap(), Pooling::Mean);
        assert!(PoolingConfig::default().mode().is_err());
        let both: PoolingConfig =
            serde_json::from_str(r#"{"pooling_mode_mean_tokens": true, "pooling_mode_cls_token": true}"#)
                .unwrap();
        assert!(both.mode().is_err());
    }

    #[test]
    fn normalised_rows_have_unit_length() {
        let v = Tensor::new(&[[3f32, 4.]], &Device::Cpu).unwrap();
        assert_eq!(l2_normalise(&v).unwrap().to_vec2::<f32>().unwrap(), vec![vec![0.6, 0.8]]);
    }
}

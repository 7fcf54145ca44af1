//! Action distributions for policy-gradient agents: [`Categorical`] over logits (discrete
//! actions) and [`DiagGaussian`] with a state-independent log-std (continuous actions).
//!
//! Both work on any leading batch shape: parameters `[..., K]` (or `[..., D]`) give samples and
//! log-probabilities `[...]`. Log-probabilities of a diagonal Gaussian sum over the action
//! dimensions, as a joint density.

use tch::nn::{Init, Path};
use tch::{Kind, Tensor};

use crate::error::{Error, Result};

/// `0.5 · ln(2π)`.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_7;

/// A categorical distribution over the last dimension of `logits` (`[..., K]`).
#[derive(Debug)]
pub struct Categorical {
    log_probs: Tensor,
}

impl Categorical {
    /// From unnormalised logits `[..., K]` (normalised internally with a log-softmax).
    pub fn from_logits(logits: &Tensor) -> Result<Self> {
        if logits.dim() == 0 {
            return Err(Error::Shape(
                "categorical logits need at least one dimension".to_owned(),
            ));
        }
        Ok(Self {
            log_probs: logits.f_log_softmax(-1, Kind::Float)?,
        })
    }

    /// Normalised log-probabilities `[..., K]`.
    pub fn log_probs(&self) -> &Tensor {
        &self.log_probs
    }

    /// Number of categories `K`.
    pub fn num_categories(&self) -> i64 {
        self.log_probs.size().last().copied().unwrap_or(0)
    }

    /// One sample per batch entry: int64 `[...]` (uses libtorch's global generator;
    /// seed it with `tch::manual_seed`).
    pub fn sample(&self) -> Result<Tensor> {
        let size = self.log_probs.size();
        let k = self.num_categories();
        let flat = self.log_probs.f_exp()?.f_reshape([-1, k])?;
        let draws = flat.f_multinomial(1, true)?;
        Ok(draws.f_reshape(&size[..size.len() - 1])?)
    }

    /// Log-probability of integer actions `[...]` (int64); out-of-range actions are an error.
    pub fn log_prob(&self, actions: &Tensor) -> Result<Tensor> {
        let index = actions.f_to_kind(Kind::Int64)?.f_unsqueeze(-1)?;
        Ok(self
            .log_probs
            .f_gather(-1, &index, false)?
            .f_squeeze_dim(-1)?)
    }

    /// Entropy `-Σ p ln p` per batch entry, `[...]`.
    pub fn entropy(&self) -> Result<Tensor> {
        let p_logp = self.log_probs.f_exp()?.f_mul(&self.log_probs)?;
        Ok(p_logp.f_sum_dim_intlist(-1, false, Kind::Float)?.f_neg()?)
    }

    /// The most likely category, int64 `[...]`.
    pub fn mode(&self) -> Result<Tensor> {
        Ok(self.log_probs.f_argmax(-1, false)?)
    }
}

/// A Gaussian with diagonal covariance: mean `[..., D]` from the network, log-std `[D]` a free
/// parameter shared by all states (as in CleanRL's continuous PPO).
#[derive(Debug)]
pub struct DiagGaussian {
    mean: Tensor,
    log_std: Tensor,
}

impl DiagGaussian {
    /// From a mean `[..., D]` and a log-std broadcastable to it (usually `[D]`).
    pub fn new(mean: &Tensor, log_std: &Tensor) -> Result<Self> {
        let (m, s) = (mean.size(), log_std.size());
        if m.is_empty() || s.is_empty() || s.len() > m.len() || m[m.len() - s.len()..] != s[..] {
            return Err(Error::Shape(format!(
                "log-std of shape {s:?} does not match the trailing dimensions of mean {m:?}"
            )));
        }
        Ok(Self {
            mean: mean.shallow_clone(),
            log_std: log_std.shallow_clone(),
        })
    }

    /// Creates the trainable log-std parameter `[dim]` under `path` (name `log_std`).
    pub fn log_std_param(path: &Path, dim: i64, init: f64) -> Result<Tensor> {
        if dim <= 0 {
            return Err(Error::InvalidArgument(format!(
                "action dimension must be positive, got {dim}"
            )));
        }
        Ok(path.f_var("log_std", &[dim], Init::Const(init))?)
    }

    /// The mean `[..., D]`.
    pub fn mean(&self) -> &Tensor {
        &self.mean
    }

    /// `mean + std · ε`, `ε ~ N(0, I)`, shape `[..., D]` (libtorch's global generator).
    pub fn sample(&self) -> Result<Tensor> {
        let eps = self.mean.f_randn_like()?;
        Ok(self.mean.f_add(&eps.f_mul(&self.log_std.f_exp()?)?)?)
    }

    /// Joint log-density of actions `[..., D]`, summed over `D`: `[...]`.
    pub fn log_prob(&self, actions: &Tensor) -> Result<Tensor> {
        let z = actions.f_sub(&self.mean)?.f_div(&self.log_std.f_exp()?)?;
        // −z²/2 − ln σ − ½ ln 2π per dimension.
        let per_dim = z
            .f_square()?
            .f_mul_scalar(-0.5)?
            .f_sub(&self.log_std)?
            .f_sub_scalar(HALF_LN_2PI)?;
        Ok(per_dim.f_sum_dim_intlist(-1, false, Kind::Float)?)
    }

    /// Entropy `Σ_d (½ + ½ ln 2π + ln σ_d)`, `[...]`.
    pub fn entropy(&self) -> Result<Tensor> {
        let per_dim = self
            .log_std
            .f_add_scalar(0.5 + HALF_LN_2PI)?
            .f_expand_as(&self.mean)?;
        Ok(per_dim.f_sum_dim_intlist(-1, false, Kind::Float)?)
    }

    /// The most likely action: the mean.
    pub fn mode(&self) -> Tensor {
        self.mean.shallow_clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    fn t(v: &[f32], shape: &[i64]) -> Tensor {
        Tensor::from_slice(v).view(shape)
    }

    fn assert_close(x: f64, y: f64) {
        assert!((x - y).abs() < 1e-5, "{x} vs {y}");
    }

    #[test]
    fn categorical_log_prob_entropy_mode_closed_form() {
        // logits [0, ln 2, ln 3] -> p = [1/6, 2/6, 3/6]; shifting logits changes nothing.
        let l = [0.0f32, 2f32.ln(), 3f32.ln()];
        let logits = t(
            &[l[0], l[1], l[2], l[0] + 5.0, l[1] + 5.0, l[2] + 5.0],
            &[2, 3],
        );
        let c = Categorical::from_logits(&logits).unwrap();
        assert_eq!(c.num_categories(), 3);
        let lp = c.log_prob(&Tensor::from_slice(&[2i64, 0])).unwrap();
        assert_close(lp.double_value(&[0]), 0.5f64.ln());
        assert_close(lp.double_value(&[1]), (1.0f64 / 6.0).ln());
        let p = [1.0f64 / 6.0, 2.0 / 6.0, 3.0 / 6.0];
        let h: f64 = -p.iter().map(|q| q * q.ln()).sum::<f64>(); // 1.011404...
        let ent = c.entropy().unwrap();
        assert_close(ent.double_value(&[0]), h);
        assert_close(ent.double_value(&[1]), h);
        assert_eq!(Vec::<i64>::try_from(c.mode().unwrap()).unwrap(), vec![2, 2]);

        // Uniform over K: entropy ln K, log-prob −ln K.
        let u =
            Categorical::from_logits(&Tensor::zeros([4, 5], (Kind::Float, Device::Cpu))).unwrap();
        assert_close(u.entropy().unwrap().double_value(&[3]), 5f64.ln());
        assert_close(
            u.log_prob(&Tensor::from_slice(&[4i64, 0, 1, 2]))
                .unwrap()
                .double_value(&[0]),
            -(5f64.ln()),
        );
    }

    #[test]
    fn categorical_samples_follow_the_probabilities() {
        tch::manual_seed(7);
        let l = [0.0f32, 2f32.ln(), 3f32.ln()];
        let logits = t(&l, &[1, 3]).expand([6000, 3], false);
        let s = Categorical::from_logits(&logits).unwrap().sample().unwrap();
        assert_eq!(s.size(), vec![6000]);
        let counts = Vec::<i64>::try_from(s.bincount(None::<Tensor>, 3)).unwrap();
        for (c, p) in counts.iter().zip([1.0 / 6.0, 2.0 / 6.0, 3.0 / 6.0]) {
            let freq = *c as f64 / 6000.0;
            assert!((freq - p).abs() < 0.03, "{counts:?}");
        }
        // Leading batch dims are kept.
        let c = Categorical::from_logits(&Tensor::zeros([2, 3, 4], (Kind::Float, Device::Cpu)))
            .unwrap();
        assert_eq!(c.sample().unwrap().size(), vec![2, 3]);
    }

    #[test]
    fn categorical_bad_input_is_an_error() {
        let c =
            Categorical::from_logits(&Tensor::zeros([2, 3], (Kind::Float, Device::Cpu))).unwrap();
        assert!(matches!(
            c.log_prob(&Tensor::from_slice(&[3i64, 0])),
            Err(Error::Torch(_))
        ));
        assert!(matches!(
            c.log_prob(&Tensor::from_slice(&[0i64, 0, 0])),
            Err(Error::Torch(_))
        ));
        assert!(Categorical::from_logits(&Tensor::from(1.0f32)).is_err());
    }

    #[test]
    fn gaussian_log_prob_and_entropy_closed_form() {
        // Standard normal at 1: −½ − ½ ln 2π.
        let g = DiagGaussian::new(&t(&[0.0], &[1, 1]), &t(&[0.0], &[1])).unwrap();
        assert_close(
            g.log_prob(&t(&[1.0], &[1, 1])).unwrap().double_value(&[0]),
            -0.5 - HALF_LN_2PI,
        );
        // Two dims: μ = [1, −1], σ = [1, 2], x = [2, 1]:
        // dim 0: −½ − ½ ln 2π; dim 1: z = 1 → −½ − ln 2 − ½ ln 2π.
        let log_std = t(&[0.0, 2f32.ln()], &[2]);
        let g = DiagGaussian::new(&t(&[1.0, -1.0, 1.0, -1.0], &[2, 2]), &log_std).unwrap();
        let lp = g.log_prob(&t(&[2.0, 1.0, 1.0, -1.0], &[2, 2])).unwrap();
        assert_close(lp.double_value(&[0]), -1.0 - 2f64.ln() - 2.0 * HALF_LN_2PI);
        // At the mean: −ln σ_0 − ln σ_1 − 2 · ½ ln 2π.
        assert_close(lp.double_value(&[1]), -(2f64.ln()) - 2.0 * HALF_LN_2PI);
        // Entropy: Σ (½ + ½ ln 2π + ln σ) = 1 + ln 2π + ln 2, the same for every row.
        let h = g.entropy().unwrap();
        assert_eq!(h.size(), vec![2]);
        assert_close(h.double_value(&[1]), 1.0 + 2.0 * HALF_LN_2PI + 2f64.ln());
        assert_eq!(g.mode().size(), vec![2, 2]);
    }

    #[test]
    fn gaussian_samples_have_the_right_moments_and_bad_shapes_fail() {
        tch::manual_seed(3);
        let mean = t(&[2.0, -1.0], &[1, 2])
            .expand([20000, 2], false)
            .contiguous();
        let g = DiagGaussian::new(&mean, &t(&[0.5f32.ln(), 3f32.ln()], &[2])).unwrap();
        let s = g.sample().unwrap();
        let m = s.mean_dim(0, false, Kind::Float);
        let sd = s.std_dim(0, true, false);
        assert!(
            (m.double_value(&[0]) - 2.0).abs() < 0.02 && (m.double_value(&[1]) + 1.0).abs() < 0.1
        );
        assert!(
            (sd.double_value(&[0]) - 0.5).abs() < 0.02
                && (sd.double_value(&[1]) - 3.0).abs() < 0.06
        );

        assert!(DiagGaussian::new(&t(&[0.0; 6], &[2, 3]), &t(&[0.0; 2], &[2])).is_err());
        let g = DiagGaussian::new(&t(&[0.0; 6], &[2, 3]), &t(&[0.0; 3], &[3])).unwrap();
        assert!(matches!(
            g.log_prob(&t(&[0.0; 4], &[2, 2])),
            Err(Error::Torch(_))
        ));

        let vs = tch::nn::VarStore::new(Device::Cpu);
        let p = DiagGaussian::log_std_param(&vs.root(), 3, -0.5).unwrap();
        assert_eq!(Vec::<f32>::try_from(p).unwrap(), vec![-0.5; 3]);
        assert!(DiagGaussian::log_std_param(&vs.root().sub("x"), 0, 0.0).is_err());
    }
}

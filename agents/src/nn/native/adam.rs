//! Adam (as PyTorch's `torch.optim.Adam`: bias-corrected, no weight decay) and global-norm
//! gradient clipping (as `torch.nn.utils.clip_grad_norm_`) over a flat parameter vector.

use crate::nn::net::AdamConfig;

/// Scales `grads` so that their global L2 norm is at most `max_norm`, as PyTorch does: with
/// `coef = max_norm / (norm + 1e-6)`, the gradients are multiplied by `coef` only when
/// `coef < 1`. Returns the norm before clipping.
pub fn clip_grad_norm(grads: &mut [f32], max_norm: Option<f32>) -> f32 {
    let norm = grad_norm(grads);
    if let Some(max) = max_norm {
        let coef = max / (norm + 1e-6);
        if coef < 1.0 {
            for g in grads.iter_mut() {
                *g *= coef;
            }
        }
    }
    norm
}

/// The L2 norm of `grads` (accumulated in `f64`).
pub fn grad_norm(grads: &[f32]) -> f32 {
    // Eight partial sums so the loop vectorises.
    let mut acc = [0.0f64; 8];
    let chunks = grads.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for (a, &g) in acc.iter_mut().zip(c) {
            *a += f64::from(g) * f64::from(g);
        }
    }
    let mut sum: f64 = acc.iter().sum();
    for &g in rest {
        sum += f64::from(g) * f64::from(g);
    }
    sum.sqrt() as f32
}

/// Adam's moment estimates and step count for a flat parameter vector.
#[derive(Debug, Clone, PartialEq)]
pub struct Adam {
    /// Settings.
    pub config: AdamConfig,
    /// First moments.
    pub m: Vec<f32>,
    /// Second moments.
    pub v: Vec<f32>,
    /// Steps taken so far.
    pub step: u64,
}

impl Adam {
    /// Fresh state for `len` parameters.
    pub fn new(config: AdamConfig, len: usize) -> Self {
        Self {
            config,
            m: vec![0.0; len],
            v: vec![0.0; len],
            step: 0,
        }
    }

    /// One step with learning rate `lr`:
    /// `m = b1 m + (1 - b1) g`, `v = b2 v + (1 - b2) g²`,
    /// `p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`.
    /// `params`, `grads` and the moments must have the same length.
    pub fn update(&mut self, params: &mut [f32], grads: &[f32], lr: f32) {
        self.step += 1;
        let AdamConfig { beta1, beta2, eps } = self.config;
        let t = self.step.min(i32::MAX as u64) as i32;
        let bc1 = 1.0 - f64::from(beta1).powi(t);
        let bc2 = 1.0 - f64::from(beta2).powi(t);
        let step_size = (f64::from(lr) / bc1) as f32;
        let inv_bc2_sqrt = (1.0 / bc2.sqrt()) as f32;
        let (one_b1, one_b2) = (1.0 - beta1, 1.0 - beta2);
        for (((p, &g), m), v) in params
            .iter_mut()
            .zip(grads)
            .zip(self.m.iter_mut())
            .zip(self.v.iter_mut())
        {
            *m = beta1 * *m + one_b1 * g;
            *v = beta2 * *v + one_b2 * g * g;
            let denom = v.sqrt() * inv_bc2_sqrt + eps;
            *p -= step_size * *m / denom;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adam_matches_hand_computed_steps() {
        let cfg = AdamConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-5,
        };
        let mut adam = Adam::new(cfg, 1);
        let mut p = [1.0f32];
        // Step 1, g = 0.5: m = 0.05, v = 0.00025, m_hat = 0.5, v_hat = 0.25
        // p = 1 - 0.1 * 0.5 / (0.5 + 1e-5).
        adam.update(&mut p, &[0.5], 0.1);
        let expect1 = 1.0 - 0.1 * 0.5 / (0.5 + 1e-5);
        assert!((f64::from(p[0]) - expect1).abs() < 1e-7, "{}", p[0]);
        // Step 2, g = -1: m = 0.045 - 0.1 = -0.055, v = 0.00024975 + 0.001 = 0.00124975.
        adam.update(&mut p, &[-1.0], 0.1);
        let m: f64 = 0.9 * 0.05 - 0.1;
        let v: f64 = 0.999 * 0.00025 + 0.001;
        let m_hat = m / (1.0 - 0.81);
        let v_hat_sqrt = v.sqrt() / (1.0f64 - 0.999 * 0.999).sqrt();
        let expect2 = expect1 - 0.1 * m_hat / (v_hat_sqrt + 1e-5);
        assert!(
            (f64::from(p[0]) - expect2).abs() < 1e-6,
            "{} vs {expect2}",
            p[0]
        );
        assert_eq!(adam.step, 2);
        // 1 - beta2 in f32 is 0.00099998713: relative differences of ~1e-5 from exact decimals.
        assert!((f64::from(adam.m[0]) - m).abs() < 1e-6 * m.abs());
        assert!((f64::from(adam.v[0]) - v).abs() < 1e-4 * v);
    }

    #[test]
    fn clipping_returns_pre_clip_norm_and_scales() {
        let mut g = [3.0f32, 4.0];
        assert_eq!(clip_grad_norm(&mut g, Some(10.0)), 5.0);
        assert_eq!(g, [3.0, 4.0]);
        let n = clip_grad_norm(&mut g, Some(1.0));
        assert_eq!(n, 5.0);
        let coef = 1.0 / (5.0 + 1e-6);
        assert!((g[0] - 3.0 * coef).abs() < 1e-7 && (g[1] - 4.0 * coef).abs() < 1e-7);
        assert!((grad_norm(&g) - 1.0).abs() < 1e-6);
        let mut g = [3.0f32, 4.0];
        assert_eq!(clip_grad_norm(&mut g, None), 5.0);
        assert_eq!(g, [3.0, 4.0]);
        // Long vectors use the chunked path.
        let mut long = vec![1.0f32; 19];
        assert!((clip_grad_norm(&mut long, Some(1.0)) - 19f32.sqrt()).abs() < 1e-6);
        assert!((grad_norm(&long) - 1.0).abs() < 1e-5);
    }
}

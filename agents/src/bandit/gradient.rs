//! Gradient bandit: softmax over learned preferences (Sutton & Barto §2.8).

use super::{BanditAgent, check_k, check_update, filled};
use rand::RngExt;
use tokengym::seeding::rng_from_seed;
use tokengym::{EnvRng, Error, Result};

/// Gradient bandit agent.
///
/// Keeps a preference `H(a)` per arm (all 0 at the start) and pulls arm `a` with probability
/// `π(a) = exp H(a) / Σ_b exp H(b)`. After pulling `A` and receiving `R`:
/// `H(A) ← H(A) + α (R − R̄)(1 − π(A))` and `H(b) ← H(b) − α (R − R̄) π(b)` for `b ≠ A`,
/// where the baseline `R̄` is the average of all rewards so far *including* `R` (or 0 without a
/// baseline). Each update changes the preferences by amounts that sum to zero, so `Σ H` stays 0.
#[derive(Clone, Debug)]
pub struct GradientBandit {
    alpha: f64,
    baseline: bool,
    h: Vec<f64>,
    /// `π`, recomputed after every update (kept to avoid allocating in `select`).
    pi: Vec<f64>,
    mean_reward: f64,
    t: u64,
    rng: EnvRng,
}

impl GradientBandit {
    /// A gradient bandit for `k` arms with step size `alpha > 0`, with or without the
    /// average-reward baseline.
    pub fn new(k: usize, alpha: f64, baseline: bool, seed: u64) -> Result<Self> {
        check_k(k)?;
        if !(alpha.is_finite() && alpha > 0.0) {
            return Err(Error::invalid_argument(format!(
                "gradient bandit alpha must be finite and > 0, got {alpha}"
            )));
        }
        Ok(GradientBandit {
            alpha,
            baseline,
            h: filled(0.0, k, "k (arms)")?,
            pi: filled(1.0 / k as f64, k, "k (arms)")?,
            mean_reward: 0.0,
            t: 0,
            rng: rng_from_seed(Some(seed)),
        })
    }

    /// The current action probabilities `π(a)`.
    pub fn probabilities(&self) -> &[f64] {
        &self.pi
    }

    /// The baseline `R̄` (average reward so far; 0 without a baseline).
    pub fn baseline(&self) -> f64 {
        if self.baseline { self.mean_reward } else { 0.0 }
    }

    fn refresh_probabilities(&mut self) {
        let max = self.h.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut total = 0.0;
        for (p, &h) in self.pi.iter_mut().zip(&self.h) {
            *p = (h - max).exp();
            total += *p;
        }
        for p in &mut self.pi {
            *p /= total;
        }
    }
}

impl BanditAgent for GradientBandit {
    fn k(&self) -> usize {
        self.h.len()
    }

    fn select(&mut self) -> usize {
        let u: f64 = self.rng.random();
        let mut cumulative = 0.0;
        for (a, &p) in self.pi.iter().enumerate() {
            cumulative += p;
            if u < cumulative {
                return a;
            }
        }
        // Rounding can leave the cumulative sum a hair below 1.
        self.pi.len() - 1
    }

    fn update(&mut self, action: usize, reward: f64) -> Result<()> {
        check_update(self.h.len(), action, reward)?;
        self.t += 1;
        self.mean_reward += (reward - self.mean_reward) / self.t as f64;
        let advantage = reward - self.baseline();
        let step = self.alpha * advantage;
        for (b, (h, &p)) in self.h.iter_mut().zip(&self.pi).enumerate() {
            let indicator = if b == action { 1.0 } else { 0.0 };
            *h += step * (indicator - p);
        }
        self.refresh_probabilities();
        Ok(())
    }

    fn reset(&mut self, seed: Option<u64>) {
        if seed.is_some() {
            self.rng = rng_from_seed(seed);
        }
        let k = self.h.len();
        self.h.fill(0.0);
        self.pi.fill(1.0 / k as f64);
        self.mean_reward = 0.0;
        self.t = 0;
    }

    fn estimates(&self) -> &[f64] {
        &self.h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    #[test]
    fn preferences_sum_to_zero_and_probabilities_to_one() {
        for baseline in [true, false] {
            let mut agent = GradientBandit::new(6, 0.1, baseline, 2).unwrap();
            let mut rng = EnvRng::seed_from_u64(4);
            let noise = Normal::new(4.0, 1.0).unwrap();
            for _ in 0..3000 {
                let a = agent.select();
                let r = a as f64 * 0.3 + noise.sample(&mut rng);
                agent.update(a, r).unwrap();
                let sum_h: f64 = agent.estimates().iter().sum();
                let sum_pi: f64 = agent.probabilities().iter().sum();
                assert!(sum_h.abs() < 1e-9, "ΣH = {sum_h}");
                assert!((sum_pi - 1.0).abs() < 1e-12);
            }
            if baseline {
                // Learns the best arm despite the +4 offset of all rewards.
                assert_eq!(agent.greedy_action(), 5);
                assert!(
                    agent.probabilities()[5] > 0.5,
                    "{:?}",
                    agent.probabilities()
                );
            }
        }
    }

    #[test]
    fn one_update_matches_the_formula() {
        let mut agent = GradientBandit::new(3, 0.5, true, 0).unwrap();
        agent.update(0, 1.0).unwrap(); // baseline = 1 (includes R): no change
        assert_eq!(agent.estimates(), &[0.0; 3]);
        agent.update(1, 3.0).unwrap(); // baseline = 2, R - R̄ = 1, π = 1/3 each
        let third = 1.0 / 3.0;
        let expected = [-0.5 * third, 0.5 * (1.0 - third), -0.5 * third];
        for (h, e) in agent.estimates().iter().zip(expected) {
            assert!((h - e).abs() < 1e-12);
        }
        let mut no_baseline = GradientBandit::new(3, 0.5, false, 0).unwrap();
        no_baseline.update(0, 1.0).unwrap();
        assert!((no_baseline.estimates()[0] - 0.5 * (1.0 - third)).abs() < 1e-12);
    }

    #[test]
    fn samples_follow_the_softmax() {
        let mut agent = GradientBandit::new(2, 1.0, false, 7).unwrap();
        agent.update(1, 2.0).unwrap(); // H = [-1, 1] -> π(1) = e / (e + 1/e)
        let p1 = agent.probabilities()[1];
        assert!((p1 - 1.0 / (1.0 + (-2.0f64).exp())).abs() < 1e-12);
        let n = 20_000;
        let ones = (0..n).filter(|_| agent.select() == 1).count() as f64 / n as f64;
        assert!((ones - p1).abs() < 0.01, "{ones} vs {p1}");
    }

    #[test]
    fn reset_and_bad_input() {
        let mut agent = GradientBandit::new(3, 0.1, true, 0).unwrap();
        agent.update(2, 1.0).unwrap();
        agent.update(1, 0.0).unwrap();
        agent.reset(None);
        assert_eq!(agent.estimates(), &[0.0; 3]);
        assert_eq!(agent.baseline(), 0.0);
        assert!(agent.update(3, 0.0).is_err());
        assert!(agent.update(0, f64::NEG_INFINITY).is_err());
        assert!(GradientBandit::new(3, 0.0, true, 0).is_err());
        assert!(GradientBandit::new(0, 0.1, true, 0).is_err());
    }
}

//! Action-value methods with ε-greedy selection (Sutton & Barto §2.2–2.6).

use super::{BanditAgent, StepSize, argmax_random_tie, check_k, check_update, filled};
use rand::RngExt;
use tokengym::seeding::rng_from_seed;
use tokengym::{EnvRng, Error, Result};

/// ε-greedy action-value agent.
///
/// With probability `epsilon` it pulls a uniformly random arm, otherwise an arm with the highest
/// estimate `Q(a)` (ties at random). After pulling `a` and receiving `R`,
/// `Q(a) ← Q(a) + α_n (R − Q(a))` with `α_n = 1/n` (sample average) or a constant `α`.
/// Every estimate starts at `initial_value`: 0 is the book's default, a large value (e.g. 5)
/// gives *optimistic initial values* (§2.6). `epsilon = 0` is the greedy agent.
#[derive(Clone, Debug)]
pub struct EpsilonGreedy {
    epsilon: f64,
    step_size: StepSize,
    initial_value: f64,
    q: Vec<f64>,
    n: Vec<u64>,
    rng: EnvRng,
}

impl EpsilonGreedy {
    /// An agent for `k` arms; fails unless `k >= 1`, `epsilon` is in [0, 1], the step size is
    /// valid and `initial_value` is finite.
    pub fn new(
        k: usize,
        epsilon: f64,
        step_size: StepSize,
        initial_value: f64,
        seed: u64,
    ) -> Result<Self> {
        check_k(k)?;
        if !(0.0..=1.0).contains(&epsilon) {
            return Err(Error::invalid_argument(format!(
                "epsilon must be in [0, 1], got {epsilon}"
            )));
        }
        step_size.validate()?;
        if !initial_value.is_finite() {
            return Err(Error::invalid_argument(format!(
                "initial value must be finite, got {initial_value}"
            )));
        }
        Ok(EpsilonGreedy {
            epsilon,
            step_size,
            initial_value,
            q: filled(initial_value, k, "k (arms)")?,
            n: filled(0, k, "k (arms)")?,
            rng: rng_from_seed(Some(seed)),
        })
    }

    /// The exploration probability.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    /// How many times each arm has been pulled since the last reset.
    pub fn counts(&self) -> &[u64] {
        &self.n
    }
}

impl BanditAgent for EpsilonGreedy {
    fn k(&self) -> usize {
        self.q.len()
    }

    fn select(&mut self) -> usize {
        if self.epsilon > 0.0 && self.rng.random::<f64>() < self.epsilon {
            self.rng.random_range(0..self.q.len())
        } else {
            argmax_random_tie(self.q.iter().copied(), &mut self.rng)
        }
    }

    fn update(&mut self, action: usize, reward: f64) -> Result<()> {
        check_update(self.q.len(), action, reward)?;
        self.n[action] += 1;
        let alpha = self.step_size.at(self.n[action]);
        self.q[action] += alpha * (reward - self.q[action]);
        Ok(())
    }

    fn reset(&mut self, seed: Option<u64>) {
        if seed.is_some() {
            self.rng = rng_from_seed(seed);
        }
        self.q.fill(self.initial_value);
        self.n.fill(0);
    }

    fn estimates(&self) -> &[f64] {
        &self.q
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, Normal};

    #[test]
    fn sample_average_estimates_are_the_mean_of_each_arms_rewards() {
        let mut agent = EpsilonGreedy::new(5, 0.5, StepSize::SampleAverage, 3.0, 1).unwrap();
        let mut rng = EnvRng::seed_from_u64(9);
        let noise = Normal::new(0.0, 2.0).unwrap();
        let mut seen: Vec<Vec<f64>> = vec![Vec::new(); 5];
        for _ in 0..2000 {
            let a = agent.select();
            let r = a as f64 + noise.sample(&mut rng);
            seen[a].push(r);
            agent.update(a, r).unwrap();
        }
        for (a, rewards) in seen.iter().enumerate() {
            assert!(!rewards.is_empty(), "arm {a} never pulled");
            let mean = rewards.iter().sum::<f64>() / rewards.len() as f64;
            assert!(
                (agent.estimates()[a] - mean).abs() < 1e-9,
                "arm {a}: Q = {} vs mean {mean}",
                agent.estimates()[a]
            );
            assert_eq!(agent.counts()[a], rewards.len() as u64);
        }
    }

    #[test]
    fn constant_step_size_is_the_exponential_recency_weighted_average() {
        // Q_{n+1} = (1-α)^n Q_1 + Σ_i α (1-α)^{n-i} R_i   (Sutton & Barto eq. 2.6)
        let alpha = 0.3;
        let q1 = 2.0;
        let mut agent = EpsilonGreedy::new(2, 0.0, StepSize::Constant(alpha), q1, 0).unwrap();
        let rewards = [1.0, -0.5, 4.0, 0.25, 3.0, -2.0, 0.0, 1.5];
        for &r in &rewards {
            agent.update(1, r).unwrap();
        }
        let n = rewards.len() as i32;
        let expected = (1.0 - alpha).powi(n) * q1
            + rewards
                .iter()
                .enumerate()
                .map(|(i, r)| alpha * (1.0 - alpha).powi(n - 1 - i as i32) * r)
                .sum::<f64>();
        assert!((agent.estimates()[1] - expected).abs() < 1e-12);
        assert_eq!(agent.estimates()[0], q1, "other arms are untouched");
    }

    #[test]
    fn greedy_never_explores_once_ties_are_resolved() {
        let mut agent = EpsilonGreedy::new(4, 0.0, StepSize::SampleAverage, 0.0, 3).unwrap();
        // All estimates tie at 0: the first pick is random among the four.
        let first = agent.select();
        agent.update(first, 1.0).unwrap();
        for _ in 0..1000 {
            assert_eq!(agent.select(), first);
        }
        // With ties, every tied arm gets picked sometimes.
        let mut picks = [0u32; 4];
        for seed in 0..400 {
            agent.reset(Some(seed));
            picks[agent.select()] += 1;
        }
        assert!(picks.iter().all(|&p| p > 60), "{picks:?}");
    }

    #[test]
    fn epsilon_explores_at_the_configured_rate() {
        let mut agent = EpsilonGreedy::new(10, 0.2, StepSize::SampleAverage, 0.0, 5).unwrap();
        agent.update(7, 1.0).unwrap();
        let trials = 20_000;
        let off = (0..trials).filter(|_| agent.select() != 7).count() as f64 / trials as f64;
        // Exploration picks arm 7 a tenth of the time: P(not 7) = 0.2 * 0.9 = 0.18.
        assert!((off - 0.18).abs() < 0.015, "{off}");
    }

    #[test]
    fn optimistic_values_and_reset() {
        let mut agent = EpsilonGreedy::new(3, 0.0, StepSize::Constant(0.1), 5.0, 0).unwrap();
        assert_eq!(agent.estimates(), &[5.0; 3]);
        // Disappointment drives a greedy optimistic agent through every arm.
        let mut tried = [false; 3];
        for _ in 0..3 {
            let a = agent.select();
            tried[a] = true;
            agent.update(a, 0.0).unwrap();
        }
        assert_eq!(tried, [true; 3]);
        agent.reset(None);
        assert_eq!(agent.estimates(), &[5.0; 3]);
        assert_eq!(agent.counts(), &[0; 3]);
    }

    #[test]
    fn bad_arguments_are_errors() {
        assert!(EpsilonGreedy::new(0, 0.1, StepSize::SampleAverage, 0.0, 0).is_err());
        assert!(EpsilonGreedy::new(3, 1.1, StepSize::SampleAverage, 0.0, 0).is_err());
        assert!(EpsilonGreedy::new(3, f64::NAN, StepSize::SampleAverage, 0.0, 0).is_err());
        assert!(EpsilonGreedy::new(3, 0.1, StepSize::Constant(0.0), 0.0, 0).is_err());
        assert!(EpsilonGreedy::new(3, 0.1, StepSize::SampleAverage, f64::NAN, 0).is_err());
        let mut agent = EpsilonGreedy::new(3, 0.1, StepSize::SampleAverage, 0.0, 0).unwrap();
        assert!(agent.update(3, 1.0).is_err());
        assert!(agent.update(0, f64::INFINITY).is_err());
        assert_eq!(agent.counts(), &[0; 3]);
    }
}

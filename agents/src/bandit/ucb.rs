//! Upper-confidence-bound action selection (Sutton & Barto §2.7).

use super::{BanditAgent, StepSize, argmax_random_tie, check_k, check_update, filled};
use tokengym::seeding::rng_from_seed;
use tokengym::{EnvRng, Error, Result};

/// UCB agent: pulls `argmax_a [Q(a) + c √(ln t / N(a))]`, where `t` is the current step
/// (1 on the first pull) and `N(a)` the pulls of `a` so far. An arm never pulled counts as
/// maximizing, so the first `k` pulls try every arm once (in random order). Estimates use the
/// given step size (the book's UCB uses sample averages).
#[derive(Clone, Debug)]
pub struct Ucb {
    c: f64,
    step_size: StepSize,
    q: Vec<f64>,
    n: Vec<u64>,
    t: u64,
    rng: EnvRng,
}

impl Ucb {
    /// A UCB agent for `k` arms with exploration weight `c >= 0` (the book uses 2).
    pub fn new(k: usize, c: f64, step_size: StepSize, seed: u64) -> Result<Self> {
        check_k(k)?;
        if !(c.is_finite() && c >= 0.0) {
            return Err(Error::invalid_argument(format!(
                "UCB's c must be finite and >= 0, got {c}"
            )));
        }
        step_size.validate()?;
        Ok(Ucb {
            c,
            step_size,
            q: filled(0.0, k, "k (arms)")?,
            n: filled(0, k, "k (arms)")?,
            t: 0,
            rng: rng_from_seed(Some(seed)),
        })
    }

    /// How many times each arm has been pulled since the last reset.
    pub fn counts(&self) -> &[u64] {
        &self.n
    }
}

impl BanditAgent for Ucb {
    fn k(&self) -> usize {
        self.q.len()
    }

    fn select(&mut self) -> usize {
        let ln_t = ((self.t + 1) as f64).ln();
        let c = self.c;
        let scores = self.q.iter().zip(&self.n).map(|(&q, &n)| {
            if n == 0 {
                f64::INFINITY
            } else {
                q + c * (ln_t / n as f64).sqrt()
            }
        });
        argmax_random_tie(scores, &mut self.rng)
    }

    fn update(&mut self, action: usize, reward: f64) -> Result<()> {
        check_update(self.q.len(), action, reward)?;
        self.t += 1;
        self.n[action] += 1;
        let alpha = self.step_size.at(self.n[action]);
        self.q[action] += alpha * (reward - self.q[action]);
        Ok(())
    }

    fn reset(&mut self, seed: Option<u64>) {
        if seed.is_some() {
            self.rng = rng_from_seed(seed);
        }
        self.q.fill(0.0);
        self.n.fill(0);
        self.t = 0;
    }

    fn estimates(&self) -> &[f64] {
        &self.q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tries_every_arm_once_in_the_first_k_steps() {
        for seed in 0..20 {
            let mut agent = Ucb::new(10, 2.0, StepSize::SampleAverage, seed).unwrap();
            let mut order = Vec::new();
            for _ in 0..10 {
                let a = agent.select();
                order.push(a);
                // Arm 0 pays hugely: UCB must still try the others first.
                agent.update(a, if a == 0 { 100.0 } else { 0.0 }).unwrap();
            }
            let mut sorted = order.clone();
            sorted.sort_unstable();
            assert_eq!(
                sorted,
                (0..10).collect::<Vec<_>>(),
                "seed {seed}: {order:?}"
            );
            assert_eq!(agent.counts(), &[1; 10]);
        }
    }

    #[test]
    fn bonus_favours_rarely_tried_arms() {
        let mut agent = Ucb::new(2, 2.0, StepSize::SampleAverage, 0).unwrap();
        // Arm 0 looks slightly better but has been tried 50 times; arm 1 once.
        for _ in 0..50 {
            agent.update(0, 1.0).unwrap();
        }
        agent.update(1, 0.9).unwrap();
        assert_eq!(agent.select(), 1);
        // With c = 0 UCB is greedy.
        let mut greedy = Ucb::new(2, 0.0, StepSize::SampleAverage, 0).unwrap();
        for _ in 0..50 {
            greedy.update(0, 1.0).unwrap();
        }
        greedy.update(1, 0.9).unwrap();
        assert_eq!(greedy.select(), 0);
    }

    #[test]
    fn reset_forgets_and_bad_input_is_an_error() {
        let mut agent = Ucb::new(3, 1.0, StepSize::SampleAverage, 0).unwrap();
        agent.update(1, 2.0).unwrap();
        assert_eq!(agent.estimates(), &[0.0, 2.0, 0.0]);
        agent.reset(Some(1));
        assert_eq!(agent.estimates(), &[0.0; 3]);
        assert_eq!(agent.counts(), &[0; 3]);
        assert!(agent.update(5, 1.0).is_err());
        assert!(agent.update(0, f64::NAN).is_err());
        assert!(Ucb::new(3, -1.0, StepSize::SampleAverage, 0).is_err());
        assert!(Ucb::new(0, 1.0, StepSize::SampleAverage, 0).is_err());
    }
}

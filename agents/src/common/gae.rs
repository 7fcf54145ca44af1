//! Generalised advantage estimation (GAE(λ)) and discounted returns over a rollout of `T` steps
//! of `N` environments, stored row-major (`index = t * N + env`).
//!
//! Episode ends are handled as Gymnasium 1.x reports them:
//! - `terminated` (a true end of the MDP): the value after the step is 0, nothing is bootstrapped;
//! - `truncated` (a time limit or other cut): the episode *could* have gone on, so the step
//!   bootstraps from the value of its real final observation (`final_values`), not from the next
//!   row's value, which belongs to the freshly reset episode;
//! - in both cases the advantage/return chain is cut, so nothing flows across episodes.
//!
//! For a step `t` with `next_v` as above, `δ_t = r_t + γ next_v − V(s_t)` and
//! `A_t = δ_t + γλ (1 − done_t) A_{t+1}`; the returns (critic targets) are `A_t + V(s_t)`.
//! The computation runs on host slices: it is a sequential scan, cheaper in plain Rust than as
//! `T` small tensor ops. It runs in the buffers' float type ([`Real`]: `f32` for the classic
//! agents' rollouts, `f64` for a language model's per-token rewards); discount and λ are `f64`,
//! as every discount factor of the workspace is, and rounded to that type.
//!
//! A language model's completion is the special case of one environment whose buffer ends with
//! its episode: `num_envs = 1`, one row per generated token, no termination or truncation flag
//! set and no `last_values`, so the value after the last token is 0 and nothing is bootstrapped
//! (`tokengym-lm`'s PPO computes its token advantages this way).

use std::ops::{Add, Mul, Sub};

use crate::error::{Error, Result};

/// The float types GAE and the discounted returns run in (`f32` and `f64`).
pub trait Real: Copy + Add<Output = Self> + Sub<Output = Self> + Mul<Output = Self> {
    /// `x` rounded to this type.
    fn from_f64(x: f64) -> Self;
}

impl Real for f32 {
    fn from_f64(x: f64) -> Self {
        x as f32
    }
}

impl Real for f64 {
    fn from_f64(x: f64) -> Self {
        x
    }
}

/// The steps of a rollout buffer of shape `[T, N]` (row-major slices of length `T * N`), with
/// rewards and values in `F`.
#[derive(Debug, Clone, Copy)]
pub struct Steps<'a, F = f32> {
    /// `N`, the number of environments (columns).
    pub num_envs: usize,
    /// Rewards `r_t`.
    pub rewards: &'a [F],
    /// Whether the step ended its episode by termination.
    pub terminated: &'a [bool],
    /// Whether the step ended its episode by truncation.
    pub truncated: &'a [bool],
    /// `V(final observation)` for truncated steps (read only where `truncated`); `None` means 0.
    pub final_values: Option<&'a [F]>,
    /// `V(s_T)`, the value of the observation after the last row, per environment (length `N`);
    /// `None` means 0 (no bootstrap past the buffer).
    pub last_values: Option<&'a [F]>,
}

impl<F: Real> Steps<'_, F> {
    /// Number of rows `T`; checks that all slices have consistent lengths.
    fn rows(&self) -> Result<usize> {
        let n = self.num_envs;
        if n == 0 {
            return Err(Error::InvalidArgument(
                "num_envs must be positive".to_owned(),
            ));
        }
        let len = self.rewards.len();
        if !len.is_multiple_of(n) {
            return Err(Error::Shape(format!(
                "{len} rewards is not a whole number of rows of {n} environments"
            )));
        }
        let check = |name: &str, got: usize, want: usize| {
            if got == want {
                Ok(())
            } else {
                Err(Error::Shape(format!(
                    "{name} has length {got}, expected {want}"
                )))
            }
        };
        check("terminated", self.terminated.len(), len)?;
        check("truncated", self.truncated.len(), len)?;
        if let Some(f) = self.final_values {
            check("final_values", f.len(), len)?;
        }
        if let Some(l) = self.last_values {
            check("last_values", l.len(), n)?;
        }
        Ok(len / n)
    }

    /// The value after step `k` (flat index) when the row below it is out of the buffer or the
    /// episode ended; `None` when the next row's value of the same episode applies.
    fn end_value(&self, k: usize, last_row: bool) -> Option<F> {
        let zero = F::from_f64(0.0);
        if self.terminated[k] {
            Some(zero)
        } else if self.truncated[k] {
            Some(self.final_values.map_or(zero, |f| f[k]))
        } else if last_row {
            Some(self.last_values.map_or(zero, |l| l[k % self.num_envs]))
        } else {
            None
        }
    }
}

fn check_factor(name: &str, x: f64) -> Result<()> {
    if (0.0..=1.0).contains(&x) {
        Ok(())
    } else {
        Err(Error::InvalidArgument(format!(
            "{name} must be in [0, 1], got {x}"
        )))
    }
}

/// GAE(λ): writes advantages and returns (`advantages + values`) into the output slices, all of
/// length `T * N`. `values` are `V(s_t)` of the rollout's observations. Does not allocate.
pub fn gae_into<F: Real>(
    steps: &Steps<'_, F>,
    values: &[F],
    gamma: f64,
    lambda: f64,
    advantages: &mut [F],
    returns: &mut [F],
) -> Result<()> {
    let rows = steps.rows()?;
    check_factor("gamma", gamma)?;
    check_factor("lambda", lambda)?;
    let len = steps.rewards.len();
    for (name, got) in [
        ("values", values.len()),
        ("advantages", advantages.len()),
        ("returns", returns.len()),
    ] {
        if got != len {
            return Err(Error::Shape(format!(
                "{name} has length {got}, expected {len}"
            )));
        }
    }
    let (gamma, lambda) = (F::from_f64(gamma), F::from_f64(lambda));
    let n = steps.num_envs;
    for t in (0..rows).rev() {
        let last_row = t + 1 == rows;
        for i in 0..n {
            let k = t * n + i;
            let (next_v, next_adv) = match steps.end_value(k, last_row) {
                Some(v) => (v, F::from_f64(0.0)),
                None => (values[k + n], advantages[k + n]),
            };
            let delta = steps.rewards[k] + gamma * next_v - values[k];
            advantages[k] = delta + gamma * lambda * next_adv;
            returns[k] = advantages[k] + values[k];
        }
    }
    Ok(())
}

/// GAE(λ), allocating: returns `(advantages, returns)`.
pub fn gae<F: Real>(
    steps: &Steps<'_, F>,
    values: &[F],
    gamma: f64,
    lambda: f64,
) -> Result<(Vec<F>, Vec<F>)> {
    let mut adv = vec![F::from_f64(0.0); steps.rewards.len()];
    let mut ret = vec![F::from_f64(0.0); steps.rewards.len()];
    gae_into(steps, values, gamma, lambda, &mut adv, &mut ret)?;
    Ok((adv, ret))
}

/// Discounted returns `G_t = r_t + γ G_{t+1}` within each episode (Monte-Carlo targets for
/// REINFORCE), bootstrapped where [`Steps`] says so (truncation, end of buffer). Does not allocate.
pub fn discounted_returns_into<F: Real>(
    steps: &Steps<'_, F>,
    gamma: f64,
    out: &mut [F],
) -> Result<()> {
    let rows = steps.rows()?;
    check_factor("gamma", gamma)?;
    let gamma = F::from_f64(gamma);
    if out.len() != steps.rewards.len() {
        return Err(Error::Shape(format!(
            "output has length {}, expected {}",
            out.len(),
            steps.rewards.len()
        )));
    }
    let n = steps.num_envs;
    for t in (0..rows).rev() {
        let last_row = t + 1 == rows;
        for i in 0..n {
            let k = t * n + i;
            let next = steps.end_value(k, last_row).unwrap_or_else(|| out[k + n]);
            out[k] = steps.rewards[k] + gamma * next;
        }
    }
    Ok(())
}

/// Discounted returns, allocating.
pub fn discounted_returns<F: Real>(steps: &Steps<'_, F>, gamma: f64) -> Result<Vec<F>> {
    let mut out = vec![F::from_f64(0.0); steps.rewards.len()];
    discounted_returns_into(steps, gamma, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: &[f32], b: &[f32]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-5, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn gae_without_episode_ends_matches_hand_computation() {
        // γ = 0.9, λ = 0.8, rewards 1, V = [0.5, 0.4, 0.3], V(s_3) = 0.2:
        // δ = [0.86, 0.87, 0.88]; A2 = 0.88, A1 = 0.87 + 0.72·0.88 = 1.5036,
        // A0 = 0.86 + 0.72·1.5036 = 1.942592.
        let steps = Steps {
            num_envs: 1,
            rewards: &[1.0; 3],
            terminated: &[false; 3],
            truncated: &[false; 3],
            final_values: None,
            last_values: Some(&[0.2]),
        };
        let (adv, ret) = gae(&steps, &[0.5, 0.4, 0.3], 0.9, 0.8).unwrap();
        close(&adv, &[1.942592, 1.5036, 0.88]);
        close(&ret, &[2.442592, 1.9036, 1.18]);
    }

    /// Two environments, rows t = 0..3: env 0 terminates at t = 1, env 1 is truncated at t = 1
    /// with V(final obs) = 10. V = 0.5 everywhere, V(s_3) = 0.5, γ = 0.9, λ = 0.8.
    fn two_env_steps() -> (Vec<bool>, Vec<bool>, Vec<f32>) {
        let terminated = vec![false, false, true, false, false, false];
        let truncated = vec![false, false, false, true, false, false];
        let mut final_values = vec![-99.0; 6]; // only read where truncated
        final_values[3] = 10.0;
        (terminated, truncated, final_values)
    }

    #[test]
    fn termination_does_not_bootstrap_truncation_does() {
        let (terminated, truncated, final_values) = two_env_steps();
        let steps = Steps {
            num_envs: 2,
            rewards: &[1.0; 6],
            terminated: &terminated,
            truncated: &truncated,
            final_values: Some(&final_values),
            last_values: Some(&[0.5, 0.5]),
        };
        let (adv, _) = gae(&steps, &[0.5; 6], 0.9, 0.8).unwrap();
        // env 0: A2 = 1 + 0.45 − 0.5 = 0.95; A1 = 1 − 0.5 = 0.5 (no bootstrap, chain cut);
        //        A0 = 0.95 + 0.72·0.5 = 1.31.
        // env 1: A2 = 0.95; A1 = 1 + 0.9·10 − 0.5 = 9.5 (bootstrap from the final obs);
        //        A0 = 0.95 + 0.72·9.5 = 7.79.
        close(&adv, &[1.31, 7.79, 0.5, 9.5, 0.95, 0.95]);
    }

    #[test]
    fn discounted_returns_match_hand_computation() {
        let (terminated, truncated, final_values) = two_env_steps();
        let mut steps = Steps {
            num_envs: 2,
            rewards: &[1.0; 6],
            terminated: &terminated,
            truncated: &truncated,
            final_values: Some(&final_values),
            last_values: Some(&[0.5, 0.5]),
        };
        // env 0: G2 = 1 + 0.9·0.5 = 1.45, G1 = 1, G0 = 1.9; env 1: G2 = 1.45, G1 = 1 + 9 = 10, G0 = 10.
        close(
            &discounted_returns(&steps, 0.9).unwrap(),
            &[1.9, 10.0, 1.0, 10.0, 1.45, 1.45],
        );
        // Without any bootstrap: plain Monte-Carlo returns of the observed rewards.
        steps.final_values = None;
        steps.last_values = None;
        close(
            &discounted_returns(&steps, 0.9).unwrap(),
            &[1.9, 1.9, 1.0, 1.0, 1.0, 1.0],
        );
    }

    #[test]
    fn lambda_one_gives_discounted_returns_and_lambda_zero_td_targets() {
        let rewards = [0.3, -1.0, 2.0, 0.5, 0.0, 1.5, -0.2, 0.7];
        let values = [0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, 0.8];
        let terminated = [false, false, false, true, false, false, false, false];
        let truncated = [false, false, true, false, false, false, false, false];
        let final_values = [0.0, 0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let steps = Steps {
            num_envs: 2,
            rewards: &rewards,
            terminated: &terminated,
            truncated: &truncated,
            final_values: Some(&final_values),
            last_values: Some(&[0.25, -0.25]),
        };
        let (_, ret1) = gae(&steps, &values, 0.95, 1.0).unwrap();
        close(&ret1, &discounted_returns(&steps, 0.95).unwrap());
        let (adv0, _) = gae(&steps, &values, 0.95, 0.0).unwrap();
        // λ = 0: one-step TD error. Row 0, env 0 continues into row 1: 0.3 + 0.95·(−0.3) − 0.1.
        assert!((adv0[0] - (0.3 + 0.95 * -0.3 - 0.1)).abs() < 1e-6);
        // Row 1, env 0 truncated: bootstrap from 3.0; env 1 terminated: no bootstrap.
        assert!((adv0[2] - (2.0 + 0.95 * 3.0 + 0.3)).abs() < 1e-6);
        assert!((adv0[3] - (0.5 - 0.4)).abs() < 1e-6);
        // Last row bootstraps from last_values.
        assert!((adv0[7] - (0.7 + 0.95 * -0.25 - 0.8)).abs() < 1e-6);
    }

    #[test]
    fn bad_shapes_and_factors_are_errors() {
        let ok = Steps {
            num_envs: 2,
            rewards: &[0.0; 4],
            terminated: &[false; 4],
            truncated: &[false; 4],
            final_values: None,
            last_values: None,
        };
        assert!(gae(&ok, &[0.0; 4], 0.99, 0.95).is_ok());
        assert!(matches!(
            gae(&ok, &[0.0; 3], 0.99, 0.95),
            Err(Error::Shape(_))
        ));
        assert!(matches!(
            gae(&ok, &[0.0; 4], 1.5, 0.95),
            Err(Error::InvalidArgument(_))
        ));
        assert!(matches!(
            gae(&ok, &[0.0; 4], 0.9, f64::NAN),
            Err(Error::InvalidArgument(_))
        ));
        let bad = Steps { num_envs: 3, ..ok };
        assert!(matches!(
            discounted_returns(&bad, 0.9),
            Err(Error::Shape(_))
        ));
        let bad = Steps { num_envs: 0, ..ok };
        assert!(matches!(
            discounted_returns(&bad, 0.9),
            Err(Error::InvalidArgument(_))
        ));
        let bad = Steps {
            last_values: Some(&[0.0; 3]),
            ..ok
        };
        assert!(matches!(
            discounted_returns(&bad, 0.9),
            Err(Error::Shape(_))
        ));
        let bad = Steps {
            truncated: &[false; 2],
            ..ok
        };
        assert!(matches!(
            discounted_returns(&bad, 0.9),
            Err(Error::Shape(_))
        ));
    }
}

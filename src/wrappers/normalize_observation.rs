//! `NormalizeObservation`: standardize `f32` box observations with running statistics.

use crate::env::{ActOf, Env, ObsOf, Step, Transition};
use crate::error::{Error, Result};
use crate::info::Info;
use crate::running_stats::RunningMeanStd;
use crate::space::{BoxSpace, BoxStorage};

/// Default `epsilon` of the normalization wrappers (Gymnasium's `1e-8`).
pub const NORMALIZE_EPSILON: f64 = 1e-8;

/// Replaces each observation `x` by `(x - mean) / sqrt(var + epsilon)`, element-wise, where
/// `mean`/`var` are running statistics of the observations seen so far, *including* the current
/// one (Gymnasium's `NormalizeObservation`).
///
/// The statistics ([`RunningMeanStd`], started like Gymnasium's) are updated on every `reset`
/// and `step` while [`update_running_mean`](Self::update_running_mean) is on; turn it off to
/// freeze them for evaluation, and read or restore them with [`obs_rms`](Self::obs_rms) /
/// [`set_obs_rms`](Self::set_obs_rms). The observation space becomes an unbounded box of the same
/// shape and storage. The flat methods normalize in place in the caller's buffer, so the
/// wrapper never allocates per step.
pub struct NormalizeObservation<E: Env> {
    env: E,
    obs_space: E::ObsSpace,
    obs_rms: RunningMeanStd,
    epsilon: f64,
    update_running_mean: bool,
}

impl<E, V> NormalizeObservation<E>
where
    E: Env<ObsSpace = BoxSpace<f32, V>>,
    V: BoxStorage<f32>,
{
    /// Wraps `env` with `epsilon` [`NORMALIZE_EPSILON`].
    pub fn new(env: E) -> Result<Self> {
        Self::with_epsilon(env, NORMALIZE_EPSILON)
    }

    /// Wraps `env`; `epsilon` must be positive and finite.
    pub fn with_epsilon(env: E, epsilon: f64) -> Result<Self> {
        if !(epsilon.is_finite() && epsilon > 0.0) {
            return Err(Error::invalid_argument(format!(
                "NormalizeObservation: epsilon must be positive, got {epsilon}"
            )));
        }
        let inner = env.observation_space();
        let n = inner.len();
        let obs_space =
            BoxSpace::uniform(f32::NEG_INFINITY, f32::INFINITY, inner.shape().to_vec())?;
        Ok(NormalizeObservation {
            env,
            obs_space,
            obs_rms: RunningMeanStd::new(n),
            epsilon,
            update_running_mean: true,
        })
    }

    /// The running statistics of the raw observations.
    pub fn obs_rms(&self) -> &RunningMeanStd {
        &self.obs_rms
    }

    /// Replaces the statistics (e.g. ones saved with a model); their length must match.
    pub fn set_obs_rms(&mut self, rms: RunningMeanStd) -> Result<()> {
        if rms.len() != self.obs_rms.len() {
            return Err(Error::shape(
                "NormalizeObservation statistics",
                self.obs_rms.len(),
                rms.len(),
            ));
        }
        self.obs_rms = rms;
        Ok(())
    }

    /// Whether the statistics are updated with each observation.
    pub fn update_running_mean(&self) -> bool {
        self.update_running_mean
    }

    /// Freezes (`false`) or resumes (`true`) the statistics.
    pub fn set_update_running_mean(&mut self, update: bool) {
        self.update_running_mean = update;
    }

    /// The `epsilon` added to the variance.
    pub fn epsilon(&self) -> f64 {
        self.epsilon
    }

    inner_accessors!();

    fn normalize(&mut self, x: &mut [f32]) -> Result<()> {
        if self.update_running_mean {
            self.obs_rms.update_f32(x)?;
        } else if x.len() != self.obs_rms.len() {
            return Err(Error::shape("observation", self.obs_rms.len(), x.len()));
        }
        self.obs_rms.normalize_f32(x, self.epsilon);
        Ok(())
    }
}

impl<E, V> Env for NormalizeObservation<E>
where
    E: Env<ObsSpace = BoxSpace<f32, V>>,
    V: BoxStorage<f32>,
{
    type ObsSpace = BoxSpace<f32, V>;
    type ActSpace = E::ActSpace;

    fn observation_space(&self) -> &Self::ObsSpace {
        &self.obs_space
    }
    fn action_space(&self) -> &Self::ActSpace {
        self.env.action_space()
    }
    reset_via_options!();
    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &crate::env::ResetOptions,
    ) -> Result<(ObsOf<Self>, Info)> {
        let (mut obs, info) = self.env.reset_with_options(seed, options)?;
        self.normalize(obs.as_mut_slice())?;
        Ok((obs, info))
    }
    fn step(&mut self, action: &ActOf<Self>) -> Result<Step<ObsOf<Self>>> {
        let mut step = self.env.step(action)?;
        self.normalize(step.obs.as_mut_slice())?;
        Ok(step)
    }
    forward_render!();
    fn reset_flat(&mut self, seed: Option<u64>, obs_out: &mut [f32]) -> Result<Info> {
        let info = self.env.reset_flat(seed, obs_out)?;
        self.normalize(obs_out)?;
        Ok(info)
    }
    fn step_flat(&mut self, action: &ActOf<Self>, obs_out: &mut [f32]) -> Result<Transition> {
        let t = self.env.step_flat(action, obs_out)?;
        self.normalize(obs_out)?;
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::Space;
    use crate::wrappers::test_envs::{Counter, Line};

    #[test]
    fn output_space_is_unbounded_with_the_same_shape() {
        let env = NormalizeObservation::new(Line::new()).unwrap();
        let space = env.observation_space();
        assert_eq!(space.shape(), &[2]);
        assert!(!space.is_bounded());
        assert!(space.contains(&vec![-1e30, 1e30]));
        assert!(NormalizeObservation::with_epsilon(Line::new(), 0.0).is_err());
    }

    #[test]
    fn hand_worked_counter_sequence() {
        // Observations 0, 1, 2: after each, the statistics include it.
        let mut env = NormalizeObservation::new(Counter::new(None)).unwrap();
        let (o0, _) = env.reset(None).unwrap();
        // mean 0, var = (1e-4 * 1 + 0) / (1 + 1e-4): x - mean = 0.
        assert_eq!(o0, [0.0]);
        let o1 = env.step(&0).unwrap().obs;
        let o2 = env.step(&0).unwrap().obs;
        let rms = env.obs_rms();
        assert!((rms.count() - (3.0 + 1e-4)).abs() < 1e-12);
        assert!((rms.mean()[0] - 1.0).abs() < 1e-3);
        assert!((rms.var()[0] - 2.0 / 3.0).abs() < 1e-3);
        // The last observation (2) normalized with the final statistics.
        let expect = (2.0 - rms.mean()[0]) / (rms.var()[0] + 1e-8).sqrt();
        assert!((o2[0] as f64 - expect).abs() < 1e-5, "{o2:?} vs {expect}");
        assert!(o1[0] > 0.0);
    }

    #[test]
    fn frozen_statistics_do_not_move_and_flat_path_matches() {
        let mut typed = NormalizeObservation::new(Counter::new(None)).unwrap();
        let mut flat = NormalizeObservation::new(Counter::new(None)).unwrap();
        let mut buf = [0.0f32];
        typed.reset(None).unwrap();
        flat.reset_flat(None, &mut buf).unwrap();
        for _ in 0..4 {
            let o = typed.step(&1).unwrap().obs;
            flat.step_flat(&1, &mut buf).unwrap();
            assert_eq!(o, buf);
        }
        typed.set_update_running_mean(false);
        assert!(!typed.update_running_mean());
        let before = typed.obs_rms().clone();
        typed.step(&1).unwrap();
        assert_eq!(typed.obs_rms(), &before);
        // Restoring statistics checks their length.
        assert!(typed.set_obs_rms(RunningMeanStd::new(3)).is_err());
        typed.set_obs_rms(RunningMeanStd::empty(1)).unwrap();
        assert_eq!(typed.obs_rms().count(), 0.0);
    }
}

//! `TransformObservation` and `TransformReward`: apply a closure to observations or rewards.

use crate::env::{ActOf, Env, ObsOf, Step, Transition};
use crate::error::Result;
use crate::info::Info;
use crate::space::Space;

/// Applies `f` to every observation from `reset` and `step`; the caller states the new
/// observation space (Gymnasium's `TransformObservation(env, func, observation_space)`).
///
/// The closure's output is not checked against `obs_space` (wrap with
/// [`PassiveEnvChecker`](super::PassiveEnvChecker) to check it once). The flat methods go through
/// the typed path and flatten with the new space.
///
/// ```
/// # use tokengym::wrappers::{TransformObservation, WrapperExt};
/// # use tokengym::space::BoxSpace;
/// # fn demo<E: tokengym::Env<ObsSpace = BoxSpace<f32, [f32; 1]>>>(env: E) -> tokengym::Result<()> {
/// // Double every observation.
/// let doubled = BoxSpace::<f32, [f32; 1]>::new(vec![-2.0], vec![2.0], vec![1])?;
/// let env = env.transform_observation(|o: [f32; 1]| [o[0] * 2.0], doubled);
/// # Ok(()) }
/// ```
pub struct TransformObservation<E, F, S> {
    env: E,
    f: F,
    obs_space: S,
}

impl<E, F, S> TransformObservation<E, F, S>
where
    E: Env,
    S: Space,
    F: FnMut(ObsOf<E>) -> S::Value + Send,
{
    /// Wraps `env`, mapping observations with `f` into `obs_space`.
    pub fn new(env: E, f: F, obs_space: S) -> Self {
        TransformObservation { env, f, obs_space }
    }

    inner_accessors!();
}

impl<E, F, S> Env for TransformObservation<E, F, S>
where
    E: Env,
    S: Space,
    F: FnMut(ObsOf<E>) -> S::Value + Send,
{
    type ObsSpace = S;
    type ActSpace = E::ActSpace;

    fn observation_space(&self) -> &S {
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
    ) -> Result<(S::Value, Info)> {
        let (obs, info) = self.env.reset_with_options(seed, options)?;
        Ok(((self.f)(obs), info))
    }
    fn step(&mut self, action: &ActOf<Self>) -> Result<Step<S::Value>> {
        let step = self.env.step(action)?;
        Ok(step.map_obs(&mut self.f))
    }
    forward_render!();
}

/// Applies `f` to every reward (Gymnasium's `TransformReward`). Observations are untouched and
/// the flat methods are forwarded.
pub struct TransformReward<E, F> {
    env: E,
    f: F,
}

impl<E, F> TransformReward<E, F>
where
    E: Env,
    F: FnMut(f64) -> f64 + Send,
{
    /// Wraps `env`, mapping rewards with `f`.
    pub fn new(env: E, f: F) -> Self {
        TransformReward { env, f }
    }

    inner_accessors!();
}

impl<E, F> Env for TransformReward<E, F>
where
    E: Env,
    F: FnMut(f64) -> f64 + Send,
{
    type ObsSpace = E::ObsSpace;
    type ActSpace = E::ActSpace;

    forward_spaces!();
    reset_via_options!();
    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &crate::env::ResetOptions,
    ) -> Result<(ObsOf<Self>, Info)> {
        self.env.reset_with_options(seed, options)
    }
    fn step(&mut self, action: &ActOf<Self>) -> Result<Step<ObsOf<Self>>> {
        let mut step = self.env.step(action)?;
        step.reward = (self.f)(step.reward);
        Ok(step)
    }
    forward_render!();
    fn reset_flat(&mut self, seed: Option<u64>, obs_out: &mut [f32]) -> Result<Info> {
        self.env.reset_flat(seed, obs_out)
    }
    fn step_flat(&mut self, action: &ActOf<Self>, obs_out: &mut [f32]) -> Result<Transition> {
        let mut t = self.env.step_flat(action, obs_out)?;
        t.reward = (self.f)(t.reward);
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::space::{BoxSpace, Discrete};
    use crate::wrappers::test_envs::Counter;

    #[test]
    fn observations_are_mapped_into_the_new_space() {
        let parity = Discrete::new(2).unwrap();
        let mut env =
            TransformObservation::new(Counter::new(None), |o: [f32; 1]| o[0] as i64 % 2, parity);
        assert_eq!(env.observation_space().n(), 2);
        assert_eq!(env.reset(None).unwrap().0, 0);
        assert_eq!(env.step(&0).unwrap().obs, 1);
        assert_eq!(env.step(&0).unwrap().obs, 0);
        // Flat path: one-hot of the new (Discrete) space.
        let mut buf = [0.0; 2];
        env.step_flat(&0, &mut buf).unwrap();
        assert_eq!(buf, [0.0, 1.0]);
        assert_eq!(env.into_inner().count, 3);
    }

    #[test]
    fn stateful_closure_over_a_vec_space() {
        let space = BoxSpace::<f32>::uniform(f32::NEG_INFINITY, f32::INFINITY, vec![2]).unwrap();
        let mut calls = 0;
        let mut env = TransformObservation::new(
            Counter::new(None),
            move |o: [f32; 1]| {
                calls += 1;
                vec![o[0], calls as f32]
            },
            space,
        );
        env.reset(None).unwrap();
        assert_eq!(env.step(&1).unwrap().obs, vec![1.0, 2.0]);
    }

    #[test]
    fn rewards_are_mapped_on_both_paths() {
        let mut env = TransformReward::new(Counter::new(None), |r| 10.0 * r - 1.0);
        env.reset(None).unwrap();
        assert_eq!(env.step(&1).unwrap().reward, 9.0);
        let mut buf = [0.0];
        let t = env.step_flat(&0, &mut buf).unwrap();
        assert_eq!((t.reward, buf), (-1.0, [2.0]));
    }
}

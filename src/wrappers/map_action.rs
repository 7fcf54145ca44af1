//! `MapBoxAction`: the one mechanism behind [`ClipAction`](super::ClipAction) and
//! [`RescaleAction`](super::RescaleAction): present a box action space of the same shape, and
//! map each action into a buffer owned by the wrapper before stepping the wrapped environment
//! (so stepping does not allocate).

use crate::env::{ActOf, Env, ObsOf, Step, Transition};
use crate::error::Result;
use crate::info::Info;
use crate::space::{BoxElement, BoxSpace, BoxStorage};

/// How a [`MapBoxAction`] turns the action it is given into the wrapped environment's action.
pub trait BoxActionMap<T: BoxElement, V: BoxStorage<T>>: Send + 'static {
    /// Checks `action` against the wrapper's space `outer` and writes the wrapped environment's
    /// action (in `inner`) into `out`, which has the right length.
    fn map(
        &self,
        outer: &BoxSpace<T, V>,
        inner: &BoxSpace<T, V>,
        action: &V,
        out: &mut V,
    ) -> Result<()>;
}

/// A box-action wrapper: its action space, and the map `M` from it to the wrapped
/// environment's box. Built as [`ClipAction`](super::ClipAction) or
/// [`RescaleAction`](super::RescaleAction).
pub struct MapBoxAction<E: Env, M> {
    pub(super) env: E,
    pub(super) act_space: E::ActSpace,
    buf: ActOf<E>,
    map: M,
}

impl<E, T, V, M> MapBoxAction<E, M>
where
    E: Env<ActSpace = BoxSpace<T, V>>,
    T: BoxElement,
    V: BoxStorage<T>,
    M: BoxActionMap<T, V>,
{
    /// Wraps `env`, presenting `act_space` (the same shape as the wrapped box) and mapping with
    /// `map`.
    pub(super) fn with_map(env: E, act_space: BoxSpace<T, V>, map: M) -> Self {
        let n = env.action_space().len();
        MapBoxAction {
            env,
            act_space,
            buf: V::from_fn(n, |_| T::default()),
            map,
        }
    }

    inner_accessors!();

    fn map_action(&mut self, action: &V) -> Result<()> {
        self.map.map(
            &self.act_space,
            self.env.action_space(),
            action,
            &mut self.buf,
        )
    }
}

impl<E, T, V, M> Env for MapBoxAction<E, M>
where
    E: Env<ActSpace = BoxSpace<T, V>>,
    T: BoxElement,
    V: BoxStorage<T>,
    M: BoxActionMap<T, V>,
{
    type ObsSpace = E::ObsSpace;
    type ActSpace = BoxSpace<T, V>;

    fn observation_space(&self) -> &Self::ObsSpace {
        self.env.observation_space()
    }
    fn action_space(&self) -> &Self::ActSpace {
        &self.act_space
    }
    reset_via_options!();
    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &crate::env::ResetOptions,
    ) -> Result<(ObsOf<Self>, Info)> {
        self.env.reset_with_options(seed, options)
    }
    fn step(&mut self, action: &V) -> Result<Step<ObsOf<Self>>> {
        self.map_action(action)?;
        self.env.step(&self.buf)
    }
    forward_render!();
    fn reset_flat(&mut self, seed: Option<u64>, obs_out: &mut [f32]) -> Result<Info> {
        self.env.reset_flat(seed, obs_out)
    }
    fn step_flat(&mut self, action: &V, obs_out: &mut [f32]) -> Result<Transition> {
        self.map_action(action)?;
        self.env.step_flat(&self.buf, obs_out)
    }
}

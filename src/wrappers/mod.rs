//! Wrappers: environments that change another environment's behaviour (Gymnasium's
//! `gymnasium.wrappers`).
//!
//! Every wrapper is a struct generic over the wrapped environment `E: Env` that implements
//! [`Env`] itself, so wrappers stack: `env.time_limit(200)?.order_enforcing()`. Each has
//! `inner()`, `inner_mut()` and `into_inner()`. Wrappers that leave observations alone forward
//! [`Env::reset_flat`] / [`Env::step_flat`] to the wrapped environment, so a stack of them adds
//! no allocation to the vector-env hot path.
//!
//! [`WrapperExt`] adds builder methods for all of them to every environment.

mod order_enforcing;
mod passive_env_checker;
mod time_limit;

#[cfg(test)]
pub(crate) mod test_envs;

pub use order_enforcing::OrderEnforcing;
pub use passive_env_checker::PassiveEnvChecker;
pub use time_limit::TimeLimit;

use crate::env::Env;
use crate::error::Result;

/// Builder methods that wrap an environment: `env.time_limit(500)?.order_enforcing()`.
pub trait WrapperExt: Env + Sized {
    /// Wraps in [`TimeLimit`] (fails when `max_episode_steps == 0`).
    fn time_limit(self, max_episode_steps: u64) -> Result<TimeLimit<Self>> {
        TimeLimit::new(self, max_episode_steps)
    }

    /// Wraps in [`OrderEnforcing`] (render before reset is an error too).
    fn order_enforcing(self) -> OrderEnforcing<Self> {
        OrderEnforcing::new(self)
    }

    /// Wraps in [`PassiveEnvChecker`].
    fn passive_env_checker(self) -> PassiveEnvChecker<Self> {
        PassiveEnvChecker::new(self)
    }
}

impl<E: Env + Sized> WrapperExt for E {}

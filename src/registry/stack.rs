//! The wrapper stack `make` puts around a freshly constructed environment.

use super::spec::EnvSpec;
use crate::env::Env;
use crate::erased::{AnyEnv, EnvExt};
use crate::error::Result;
use crate::wrappers::{OrderEnforcing, PassiveEnvChecker, TimeLimit};

/// Which wrappers to apply, resolved from a spec and the make options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StackOptions {
    pub(crate) env_checker: bool,
    pub(crate) order_enforce: bool,
    pub(crate) max_episode_steps: Option<u64>,
}

impl StackOptions {
    /// The stack a (resolved) spec asks for.
    pub(crate) fn from_spec(spec: &EnvSpec) -> Self {
        StackOptions {
            env_checker: !spec.disable_env_checker,
            order_enforce: spec.order_enforce,
            max_episode_steps: spec.max_episode_steps,
        }
    }
}

/// Wraps the typed `env` as Gymnasium's `make` does, innermost first: `PassiveEnvChecker`
/// (unless disabled), `OrderEnforcing` (if enabled), `TimeLimit` (if a step limit is set); then
/// erases the type. The wrappers are applied to the typed environment, so the erased
/// environment's `step_flat` runs the whole stack without converting through `Value`.
pub(crate) fn apply<E: Env + 'static>(env: E, opts: StackOptions) -> Result<AnyEnv> {
    if opts.env_checker {
        order_enforcing(PassiveEnvChecker::new(env), opts)
    } else {
        order_enforcing(env, opts)
    }
}

fn order_enforcing<E: Env + 'static>(env: E, opts: StackOptions) -> Result<AnyEnv> {
    if opts.order_enforce {
        time_limit(OrderEnforcing::new(env), opts)
    } else {
        time_limit(env, opts)
    }
}

fn time_limit<E: Env + 'static>(env: E, opts: StackOptions) -> Result<AnyEnv> {
    match opts.max_episode_steps {
        Some(steps) => Ok(TimeLimit::new(env, steps)?.boxed()),
        None => Ok(env.boxed()),
    }
}

//! The process-wide registry and the free functions over it.

use super::{EnvConstructor, EnvSpec, Kwargs, MakeOptions, Registry};
use crate::env::Env;
use crate::erased::AnyEnv;
use crate::error::Result;
use crate::vector::{ParallelOptions, ParallelVecEnv, SyncVecEnv};
use std::sync::{LazyLock, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(|| RwLock::new(Registry::new()));

// A panic while the lock was held cannot leave a `Registry` half-updated (every update is one
// map insert or remove), so a poisoned lock is safe to keep using.
fn read() -> RwLockReadGuard<'static, Registry> {
    REGISTRY.read().unwrap_or_else(PoisonError::into_inner)
}

fn write() -> RwLockWriteGuard<'static, Registry> {
    REGISTRY.write().unwrap_or_else(PoisonError::into_inner)
}

/// Registers an environment in the global registry (see [`Registry::register`]).
pub fn register<E, F>(spec: EnvSpec, constructor: F) -> Result<()>
where
    E: Env + 'static,
    F: Fn(&Kwargs) -> Result<E> + Send + Sync + 'static,
{
    write().register(spec, constructor)
}

/// Registers an environment in the global registry, replacing any under the same id (see
/// [`Registry::register_or_replace`]).
pub fn register_or_replace<E, F>(spec: EnvSpec, constructor: F) -> Result<Option<EnvSpec>>
where
    E: Env + 'static,
    F: Fn(&Kwargs) -> Result<E> + Send + Sync + 'static,
{
    write().register_or_replace(spec, constructor)
}

/// Removes an environment from the global registry.
pub fn unregister(id: &str) -> Result<EnvSpec> {
    write().unregister(id)
}

/// Makes a registered environment (Gymnasium's `gymnasium.make(id)`).
pub fn make(id: &str) -> Result<AnyEnv> {
    make_with(id, &MakeOptions::default())
}

/// Makes a registered environment with keyword arguments and overrides (see
/// [`Registry::make_with`]).
///
/// The constructor runs after the registry lock is released, so constructors may themselves
/// call `make`.
pub fn make_with(id: &str, options: &MakeOptions) -> Result<AnyEnv> {
    let ctor = constructor(id)?;
    ctor(options)
}

/// `num_envs` copies of a registered environment stepped in lock-step on the calling thread
/// (Gymnasium's `make_vec(id, num_envs, vectorization_mode="sync")`). Each copy is built by
/// the id's constructor with `options`; seed the batch with `reset(Some(seed))` (copy `i` gets
/// `seed + i`).
pub fn make_vec(id: &str, num_envs: usize, options: &MakeOptions) -> Result<SyncVecEnv<AnyEnv>> {
    let ctor = constructor(id)?;
    SyncVecEnv::from_fn(num_envs, |_| ctor(options))
}

/// [`make_vec`] with the copies spread over worker threads (Gymnasium's `"async"` mode, with
/// threads instead of processes); see [`ParallelVecEnv`] for when this pays off.
pub fn make_vec_parallel(
    id: &str,
    num_envs: usize,
    options: &MakeOptions,
    parallel: ParallelOptions,
) -> Result<ParallelVecEnv<AnyEnv>> {
    let ctor = constructor(id)?;
    ParallelVecEnv::from_fn(num_envs, |_| ctor(options), parallel)
}

/// A detached constructor for a registered id (see [`Registry::constructor`]).
pub fn constructor(id: &str) -> Result<EnvConstructor> {
    read().constructor(id)
}

/// The spec registered under `id` (see [`Registry::spec`]).
pub fn spec(id: &str) -> Result<EnvSpec> {
    read().spec(id).cloned()
}

/// Whether `id` is registered globally.
pub fn is_registered(id: &str) -> bool {
    read().contains(id)
}

/// The globally registered ids, sorted.
pub fn ids() -> Vec<String> {
    read().ids()
}

/// The globally registered specs, sorted by id.
pub fn specs() -> Vec<EnvSpec> {
    read().specs().cloned().collect()
}

/// A copy of the global registry (cheap: constructors are shared).
pub fn snapshot() -> Registry {
    read().clone()
}

/// Runs `f` on the global registry with the write lock held, e.g. to register a whole crate's
/// environments with a function written for any [`Registry`]:
/// `registry::update(|r| my_envs::register_all(r))`.
///
/// `f` must not call the other global registry functions (`make`, `register`, ...): the lock is
/// not re-entrant and that would deadlock.
pub fn update<R>(f: impl FnOnce(&mut Registry) -> R) -> R {
    f(&mut write())
}

/// Gymnasium's `pprint_registry(disable_print=True)`: the global registry's ids, grouped.
pub fn pprint_registry() -> String {
    read().pprint()
}

//! The environment registry: `register` an environment under an id, `make` it by id
//! (Gymnasium's `gymnasium.register` / `gymnasium.make` / `gymnasium.pprint_registry`).
//!
//! A [`Registry`] maps ids such as `CartPole-v1` to an [`EnvSpec`] and a constructor. The
//! constructor is a closure from [`Kwargs`] to any typed environment; the registry builds
//! Gymnasium's default wrapper stack on the typed environment (`PassiveEnvChecker`,
//! `OrderEnforcing`, `TimeLimit`) and hands it out type-erased as an [`AnyEnv`].
//!
//! There is one process-wide registry behind the free functions [`register`], [`make`],
//! [`make_with`], [`spec`], [`ids`] and [`pprint_registry`]; a [`Registry`] value can also be
//! used on its own (in tests, or to keep a private set of environments).
//!
//! A crate that provides environments should offer one function that registers them all in any
//! registry, `fn register_all(registry: &mut Registry) -> Result<()>`, and apply it to the global
//! registry with [`update`]. Registering the same id twice is an error, so such a function
//! should skip ids that are already [`Registry::contains`]ed (or run once, behind a
//! `std::sync::Once`).
//!
//! ```
//! use tokengym::registry::{self, EnvSpec, Kwargs, MakeOptions};
//! use tokengym::space::{BoxSpace, Discrete};
//! use tokengym::{Env, Info, Result, Step};
//!
//! /// Count up by the action; the observation is the count.
//! struct Counter { n: f32, step_size: f32, obs: BoxSpace<f32, [f32; 1]>, act: Discrete }
//!
//! impl Env for Counter {
//!     type ObsSpace = BoxSpace<f32, [f32; 1]>;
//!     type ActSpace = Discrete;
//!     fn observation_space(&self) -> &Self::ObsSpace { &self.obs }
//!     fn action_space(&self) -> &Self::ActSpace { &self.act }
//!     fn reset(&mut self, _seed: Option<u64>) -> Result<([f32; 1], Info)> {
//!         self.n = 0.0;
//!         Ok(([0.0], Info::new()))
//!     }
//!     fn step(&mut self, action: &i64) -> Result<Step<[f32; 1]>> {
//!         use tokengym::space::Space;
//!         self.act.check_action(action)?;
//!         self.n = (self.n + *action as f32 * self.step_size).min(100.0);
//!         Ok(Step::new([self.n], 1.0, self.n >= 100.0, false))
//!     }
//! }
//!
//! registry::register(
//!     EnvSpec::new("doc/Counter-v0")?.with_max_episode_steps(3),
//!     |kw: &Kwargs| {
//!         Ok(Counter {
//!             n: 0.0,
//!             step_size: kw.get_f64("step_size", 1.0)? as f32,
//!             obs: BoxSpace::new(vec![0.0], vec![100.0], vec![1])?,
//!             act: Discrete::new(2)?,
//!         })
//!     },
//! )?;
//!
//! let opts = MakeOptions::new().kwarg("step_size", 2.0);
//! let mut env = registry::make_with("doc/Counter-v0", &opts)?;
//! env.reset(Some(0))?;
//! let one = tokengym::space::Value::Discrete(1);
//! assert_eq!(env.step(&one)?.obs, tokengym::space::Value::BoxF32(vec![2.0]));
//! env.step(&one)?;
//! assert!(env.step(&one)?.truncated); // the spec's TimeLimit of 3 steps
//!
//! // Typos are caught and the valid keyword arguments named.
//! let bad = MakeOptions::new().kwarg("stepsize", 2.0);
//! let err = registry::make_with("doc/Counter-v0", &bad).err().unwrap().to_string();
//! assert!(err.contains("stepsize") && err.contains("step_size"));
//! # Ok::<(), tokengym::Error>(())
//! ```

mod global;
mod kwargs;
mod listing;
mod spec;
mod stack;
mod suggest;

pub use global::{
    constructor, ids, is_registered, make, make_vec, make_vec_parallel, make_with, pprint_registry,
    register, register_or_replace, snapshot, spec, specs, unregister, update,
};
pub use kwargs::{KwArg, Kwargs};
pub use spec::{EnvId, EnvSpec};

use crate::env::Env;
use crate::erased::AnyEnv;
use crate::error::{Error, Result};
use stack::StackOptions;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A ready-to-call constructor for one registered id, detached from the registry: call it as
/// often as needed (from any thread) with the options for each copy. This is what `make_vec`
/// uses to build its sub-environments.
pub type EnvConstructor = Arc<dyn Fn(&MakeOptions) -> Result<AnyEnv> + Send + Sync>;

/// The stored, type-erased factory: keyword arguments and wrapper choices in, wrapped env out.
type Factory = Arc<dyn Fn(&Kwargs, StackOptions) -> Result<AnyEnv> + Send + Sync>;

/// Per-call changes to how an environment is made (Gymnasium's `make(id, max_episode_steps=...,
/// disable_env_checker=..., **kwargs)`).
///
/// ```
/// use tokengym::registry::MakeOptions;
/// let opts = MakeOptions::new().kwarg("g", 9.81).max_episode_steps(100).disable_env_checker(true);
/// assert_eq!(opts.max_episode_steps, Some(100));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MakeOptions {
    /// Keyword arguments merged over the spec's defaults.
    pub kwargs: Kwargs,
    /// Replaces the spec's step limit.
    pub max_episode_steps: Option<u64>,
    /// Replaces the spec's `disable_env_checker`.
    pub disable_env_checker: Option<bool>,
}

impl MakeOptions {
    /// No changes: make the environment as its spec says.
    pub fn new() -> Self {
        MakeOptions::default()
    }

    /// Sets one keyword argument.
    pub fn kwarg(mut self, key: impl Into<String>, value: impl Into<KwArg>) -> Self {
        self.kwargs.insert(key, value);
        self
    }

    /// Sets all keyword arguments (replacing those set before).
    pub fn kwargs(mut self, kwargs: Kwargs) -> Self {
        self.kwargs = kwargs;
        self
    }

    /// Sets the step limit.
    pub fn max_episode_steps(mut self, steps: u64) -> Self {
        self.max_episode_steps = Some(steps);
        self
    }

    /// Leaves out (`true`) or forces (`false`) the `PassiveEnvChecker` wrapper.
    pub fn disable_env_checker(mut self, disable: bool) -> Self {
        self.disable_env_checker = Some(disable);
        self
    }
}

struct Entry {
    spec: EnvSpec,
    factory: Factory,
}

impl Clone for Entry {
    fn clone(&self) -> Self {
        Entry {
            spec: self.spec.clone(),
            factory: Arc::clone(&self.factory),
        }
    }
}

/// A set of registered environments, keyed by id.
///
/// Cloning is cheap (constructors are shared).
#[derive(Clone, Default)]
pub struct Registry {
    entries: BTreeMap<String, Entry>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("ids", &self.entries.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Registers `constructor` under `spec.id()`; fails with [`Error::AlreadyRegistered`] if the
    /// id is taken.
    ///
    /// The constructor receives the spec's keyword arguments merged with the caller's; any key
    /// it does not read makes `make` fail with a message naming the keys it does read. When
    /// `spec.entry_point` is empty it is set to the environment's type name.
    pub fn register<E, F>(&mut self, spec: EnvSpec, constructor: F) -> Result<()>
    where
        E: Env + 'static,
        F: Fn(&Kwargs) -> Result<E> + Send + Sync + 'static,
    {
        let id = spec.id();
        if self.entries.contains_key(&id) {
            return Err(Error::AlreadyRegistered(id));
        }
        self.insert(spec, constructor).map(|_| ())
    }

    /// Registers `constructor` under `spec.id()`, replacing (and returning the spec of) any
    /// environment registered there before.
    pub fn register_or_replace<E, F>(
        &mut self,
        spec: EnvSpec,
        constructor: F,
    ) -> Result<Option<EnvSpec>>
    where
        E: Env + 'static,
        F: Fn(&Kwargs) -> Result<E> + Send + Sync + 'static,
    {
        self.insert(spec, constructor)
    }

    /// As in Gymnasium, a name is either unversioned (`Foo`) or versioned (`Foo-v0`, `Foo-v1`,
    /// ...), never both, so that `make("Foo")` has one meaning.
    fn check_versioning(&self, spec: &EnvSpec) -> Result<()> {
        let clash = self.entries.values().map(|e| &e.spec).find(|other| {
            other.namespace() == spec.namespace()
                && other.name() == spec.name()
                && other.version().is_some() != spec.version().is_some()
        });
        match clash {
            None => Ok(()),
            Some(other) => Err(Error::invalid_argument(format!(
                "cannot register {} while {} is registered: a name is either versioned or \
                 unversioned, not both",
                spec.id(),
                other.id()
            ))),
        }
    }

    fn insert<E, F>(&mut self, mut spec: EnvSpec, constructor: F) -> Result<Option<EnvSpec>>
    where
        E: Env + 'static,
        F: Fn(&Kwargs) -> Result<E> + Send + Sync + 'static,
    {
        self.check_versioning(&spec)?;
        if spec.entry_point.is_empty() {
            spec.entry_point = std::any::type_name::<E>().to_string();
        }
        let id = spec.id();
        let factory: Factory = Arc::new(move |kwargs: &Kwargs, stack: StackOptions| {
            let env = constructor(kwargs)?;
            kwargs.check_unused()?;
            stack::apply(env, stack)
        });
        Ok(self
            .entries
            .insert(id, Entry { spec, factory })
            .map(|old| old.spec))
    }

    /// Removes an environment; returns its spec.
    pub fn unregister(&mut self, id: &str) -> Result<EnvSpec> {
        match self.entries.remove(id) {
            Some(entry) => Ok(entry.spec),
            None => Err(self.unknown(id)),
        }
    }

    /// Whether `id` is registered (exactly; no version resolution).
    pub fn contains(&self, id: &str) -> bool {
        self.entries.contains_key(id)
    }

    /// Number of registered environments.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The registered ids, sorted.
    pub fn ids(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }

    /// The registered specs, sorted by id.
    pub fn specs(&self) -> impl Iterator<Item = &EnvSpec> {
        self.entries.values().map(|e| &e.spec)
    }

    /// The spec registered under `id`. As in Gymnasium, an id without a version resolves to the
    /// highest registered version of that name. Unknown ids give [`Error::UnknownEnv`] with the
    /// closest registered ids.
    pub fn spec(&self, id: &str) -> Result<&EnvSpec> {
        self.entry(id).map(|e| &e.spec)
    }

    /// Makes the environment registered under `id` with its spec's settings.
    pub fn make(&self, id: &str) -> Result<AnyEnv> {
        self.make_with(id, &MakeOptions::default())
    }

    /// Makes the environment registered under `id`, with keyword arguments merged over the
    /// spec's and the spec's step limit / env checker setting overridden as `options` says.
    pub fn make_with(&self, id: &str, options: &MakeOptions) -> Result<AnyEnv> {
        let entry = self.entry(id)?;
        build(&entry.spec, &entry.factory, options)
    }

    /// A constructor for `id` that no longer needs the registry (see [`EnvConstructor`]).
    pub fn constructor(&self, id: &str) -> Result<EnvConstructor> {
        let entry = self.entry(id)?.clone();
        Ok(Arc::new(move |options: &MakeOptions| {
            build(&entry.spec, &entry.factory, options)
        }))
    }

    /// Gymnasium's `pprint_registry`: the ids grouped by namespace (or module), three columns.
    pub fn pprint(&self) -> String {
        listing::pprint(self.specs(), 3, &[])
    }

    /// [`Registry::pprint`] with a chosen number of columns, leaving out some groups.
    pub fn pprint_with(&self, num_cols: usize, exclude_groups: &[&str]) -> String {
        listing::pprint(self.specs(), num_cols, exclude_groups)
    }

    /// One line per environment: id, step limit, reward threshold and description.
    pub fn table(&self) -> String {
        listing::table(self.specs())
    }

    fn entry(&self, id: &str) -> Result<&Entry> {
        if let Some(entry) = self.entries.get(id) {
            return Ok(entry);
        }
        // An id without a version means the newest version (Gymnasium's `make("CartPole")`).
        if let Ok(parsed) = EnvId::parse(id)
            && parsed.version().is_none()
        {
            let newest = self
                .entries
                .values()
                .filter(|e| {
                    let other = e.spec.env_id();
                    other.namespace() == parsed.namespace() && other.name() == parsed.name()
                })
                .max_by_key(|e| e.spec.version());
            if let Some(entry) = newest {
                return Ok(entry);
            }
        }
        Err(self.unknown(id))
    }

    fn unknown(&self, id: &str) -> Error {
        Error::UnknownEnv {
            id: id.to_string(),
            suggestions: suggest::suggestions(id, self.entries.values().map(|e| e.spec.env_id())),
        }
    }
}

/// Resolves the spec with `options`, calls the factory and names the id in argument errors.
fn build(spec: &EnvSpec, factory: &Factory, options: &MakeOptions) -> Result<AnyEnv> {
    let resolved = spec.with_options(options);
    factory(&resolved.kwargs, StackOptions::from_spec(&resolved)).map_err(|e| match e {
        Error::InvalidArgument(msg) => {
            Error::InvalidArgument(format!("making {}: {msg}", spec.id()))
        }
        other => other,
    })
}

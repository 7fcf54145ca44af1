//! `EnvSpec`: how to make a registered environment, and environment ids.

use super::kwargs::Kwargs;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A parsed environment id: `[namespace/]name[-vN]` (Gymnasium's id format).
///
/// Namespaces may hold word characters, `:` and `-`; names may also hold `.`. A trailing `-v`
/// followed by digits is the version.
///
/// ```
/// use tokengym::registry::EnvId;
/// let id = EnvId::parse("tokengym/CartPole-v1")?;
/// assert_eq!(id.namespace(), Some("tokengym"));
/// assert_eq!(id.name(), "CartPole");
/// assert_eq!(id.version(), Some(1));
/// assert!(EnvId::parse("bad id").is_err());
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EnvId {
    namespace: Option<String>,
    name: String,
    version: Option<u64>,
}

impl EnvId {
    /// Parses and validates an id.
    pub fn parse(id: &str) -> Result<Self> {
        let malformed = |why: &str| {
            Error::invalid_argument(format!(
                "malformed environment id {id:?}: {why} (ids have the form [namespace/]name[-vN])"
            ))
        };
        let (namespace, rest) = match id.split_once('/') {
            Some((ns, rest)) => {
                if ns.is_empty() {
                    return Err(malformed("empty namespace"));
                }
                if let Some(c) = ns.chars().find(|&c| !(is_word(c) || c == ':' || c == '-')) {
                    return Err(malformed(&format!("character {c:?} in the namespace")));
                }
                (Some(ns.to_string()), rest)
            }
            None => (None, id),
        };
        if rest.is_empty() {
            return Err(malformed("empty name"));
        }
        if let Some(c) = rest
            .chars()
            .find(|&c| !(is_word(c) || c == ':' || c == '-' || c == '.'))
        {
            return Err(malformed(&format!("character {c:?} in the name")));
        }
        let (name, version) = match rest.rsplit_once("-v") {
            Some((name, digits))
                if !name.is_empty()
                    && !digits.is_empty()
                    && digits.bytes().all(|b| b.is_ascii_digit()) =>
            {
                if digits.len() > 1 && digits.starts_with('0') {
                    return Err(malformed("version with a leading zero"));
                }
                let v = digits
                    .parse::<u64>()
                    .map_err(|_| malformed("version number too large"))?;
                (name.to_string(), Some(v))
            }
            _ => (rest.to_string(), None),
        };
        Ok(EnvId {
            namespace,
            name,
            version,
        })
    }

    /// Builds an id from its parts (the inverse of [`EnvId::parse`]).
    pub fn from_parts(namespace: Option<&str>, name: &str, version: Option<u64>) -> Result<Self> {
        EnvId::parse(&format_id(namespace, name, version))
    }

    /// The namespace, if any.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The name (without namespace or version).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version, if any.
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    /// The same namespace and name with another version.
    pub fn with_version(&self, version: Option<u64>) -> EnvId {
        EnvId {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            version,
        }
    }

    /// `namespace/name` (or `name`): the id without its version.
    pub fn unversioned(&self) -> String {
        format_id(self.namespace(), &self.name, None)
    }
}

impl fmt::Display for EnvId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_id(self.namespace(), &self.name, self.version))
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn format_id(namespace: Option<&str>, name: &str, version: Option<u64>) -> String {
    let mut id = String::new();
    if let Some(ns) = namespace {
        id.push_str(ns);
        id.push('/');
    }
    id.push_str(name);
    if let Some(v) = version {
        id.push_str(&format!("-v{v}"));
    }
    id
}

/// Everything needed to make a registered environment, except the constructor itself
/// (Gymnasium's `EnvSpec`).
///
/// The id is validated on construction and on deserialization; the other fields are public
/// and have builder methods.
///
/// ```
/// use tokengym::registry::{EnvSpec, Kwargs};
/// let spec = EnvSpec::new("CartPole-v1")?
///     .with_max_episode_steps(500)
///     .with_reward_threshold(475.0)
///     .with_description("Balance a pole on a cart.");
/// assert_eq!(spec.name(), "CartPole");
/// assert_eq!(spec.version(), Some(1));
/// assert!(spec.order_enforce && !spec.disable_env_checker);
/// let json = serde_json::to_string(&spec).unwrap();
/// let back: EnvSpec = serde_json::from_str(&json).unwrap();
/// assert_eq!(back, spec);
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "SpecRepr", into = "SpecRepr")]
pub struct EnvSpec {
    id: EnvId,
    /// Episodes are truncated after this many steps (by the `TimeLimit` wrapper `make` adds).
    pub max_episode_steps: Option<u64>,
    /// The return at which the task counts as solved.
    pub reward_threshold: Option<f64>,
    /// Whether the environment is non-deterministic even with the same seed.
    pub nondeterministic: bool,
    /// Whether `make` adds the `OrderEnforcing` wrapper (default `true`).
    pub order_enforce: bool,
    /// Whether `make` leaves out the `PassiveEnvChecker` wrapper (default `false`).
    pub disable_env_checker: bool,
    /// Default keyword arguments passed to the constructor.
    pub kwargs: Kwargs,
    /// A one-line description, shown by listings.
    pub description: String,
    /// Where the environment is defined (a Rust type path). [`Registry::register`] fills it in
    /// from the environment's type when left empty; listings group by its module.
    ///
    /// [`Registry::register`]: super::Registry::register
    pub entry_point: String,
}

impl EnvSpec {
    /// A spec with Gymnasium's defaults: no time limit, order enforcing on, env checker on.
    pub fn new(id: &str) -> Result<Self> {
        Ok(EnvSpec {
            id: EnvId::parse(id)?,
            max_episode_steps: None,
            reward_threshold: None,
            nondeterministic: false,
            order_enforce: true,
            disable_env_checker: false,
            kwargs: Kwargs::new(),
            description: String::new(),
            entry_point: String::new(),
        })
    }

    /// The full id, e.g. `CartPole-v1`.
    pub fn id(&self) -> String {
        self.id.to_string()
    }

    /// The parsed id.
    pub fn env_id(&self) -> &EnvId {
        &self.id
    }

    /// The namespace, if any.
    pub fn namespace(&self) -> Option<&str> {
        self.id.namespace()
    }

    /// The name (without namespace or version).
    pub fn name(&self) -> &str {
        self.id.name()
    }

    /// The version, if any.
    pub fn version(&self) -> Option<u64> {
        self.id.version()
    }

    /// Sets [`EnvSpec::max_episode_steps`].
    pub fn with_max_episode_steps(mut self, steps: u64) -> Self {
        self.max_episode_steps = Some(steps);
        self
    }

    /// Sets [`EnvSpec::reward_threshold`].
    pub fn with_reward_threshold(mut self, threshold: f64) -> Self {
        self.reward_threshold = Some(threshold);
        self
    }

    /// Sets [`EnvSpec::nondeterministic`].
    pub fn with_nondeterministic(mut self, nondeterministic: bool) -> Self {
        self.nondeterministic = nondeterministic;
        self
    }

    /// Sets [`EnvSpec::order_enforce`].
    pub fn with_order_enforce(mut self, order_enforce: bool) -> Self {
        self.order_enforce = order_enforce;
        self
    }

    /// Sets [`EnvSpec::disable_env_checker`].
    pub fn with_disable_env_checker(mut self, disable: bool) -> Self {
        self.disable_env_checker = disable;
        self
    }

    /// Sets one default keyword argument.
    pub fn with_kwarg(
        mut self,
        key: impl Into<String>,
        value: impl Into<super::kwargs::KwArg>,
    ) -> Self {
        self.kwargs.insert(key, value);
        self
    }

    /// Replaces the default keyword arguments.
    pub fn with_kwargs(mut self, kwargs: Kwargs) -> Self {
        self.kwargs = kwargs;
        self
    }

    /// Sets [`EnvSpec::description`].
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Sets [`EnvSpec::entry_point`].
    pub fn with_entry_point(mut self, entry_point: impl Into<String>) -> Self {
        self.entry_point = entry_point.into();
        self
    }

    /// The group a listing shows this spec under: the namespace, else the module of the entry
    /// point (`tokengym_envs::classic_control::cartpole::CartPole` -> `classic_control`), else
    /// the name.
    pub fn group(&self) -> String {
        if let Some(ns) = self.namespace() {
            return ns.to_string();
        }
        let path = self.entry_point.split('<').next().unwrap_or("");
        let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
        match segments.len() {
            0 | 1 => self.name().to_string(),
            2 => segments[0].to_string(),
            _ => segments[1].to_string(),
        }
    }

    /// This spec as `make_with(id, options)` resolves it: kwargs merged, overrides applied.
    pub fn with_options(&self, options: &super::MakeOptions) -> EnvSpec {
        let mut spec = self.clone();
        spec.kwargs = self.kwargs.merged(&options.kwargs);
        if let Some(steps) = options.max_episode_steps {
            spec.max_episode_steps = Some(steps);
        }
        if let Some(disable) = options.disable_env_checker {
            spec.disable_env_checker = disable;
        }
        spec
    }
}

impl fmt::Display for EnvSpec {
    /// Gymnasium-style summary: the id, then each non-default field on its own line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnvSpec(id={}", self.id)?;
        if let Some(steps) = self.max_episode_steps {
            write!(f, ", max_episode_steps={steps}")?;
        }
        if let Some(r) = self.reward_threshold {
            write!(f, ", reward_threshold={r}")?;
        }
        if self.nondeterministic {
            write!(f, ", nondeterministic=true")?;
        }
        if !self.order_enforce {
            write!(f, ", order_enforce=false")?;
        }
        if self.disable_env_checker {
            write!(f, ", disable_env_checker=true")?;
        }
        if !self.kwargs.is_empty() {
            write!(f, ", kwargs={{{}}}", self.kwargs)?;
        }
        write!(f, ")")
    }
}

fn default_true() -> bool {
    true
}

/// The serialized form of an [`EnvSpec`] (the id as a string).
#[derive(Serialize, Deserialize)]
struct SpecRepr {
    id: String,
    #[serde(default)]
    max_episode_steps: Option<u64>,
    #[serde(default)]
    reward_threshold: Option<f64>,
    #[serde(default)]
    nondeterministic: bool,
    #[serde(default = "default_true")]
    order_enforce: bool,
    #[serde(default)]
    disable_env_checker: bool,
    #[serde(default)]
    kwargs: Kwargs,
    #[serde(default)]
    description: String,
    #[serde(default)]
    entry_point: String,
}

impl TryFrom<SpecRepr> for EnvSpec {
    type Error = Error;
    fn try_from(r: SpecRepr) -> Result<Self> {
        Ok(EnvSpec {
            id: EnvId::parse(&r.id)?,
            max_episode_steps: r.max_episode_steps,
            reward_threshold: r.reward_threshold,
            nondeterministic: r.nondeterministic,
            order_enforce: r.order_enforce,
            disable_env_checker: r.disable_env_checker,
            kwargs: r.kwargs,
            description: r.description,
            entry_point: r.entry_point,
        })
    }
}

impl From<EnvSpec> for SpecRepr {
    fn from(s: EnvSpec) -> Self {
        SpecRepr {
            id: s.id.to_string(),
            max_episode_steps: s.max_episode_steps,
            reward_threshold: s.reward_threshold,
            nondeterministic: s.nondeterministic,
            order_enforce: s.order_enforce,
            disable_env_checker: s.disable_env_checker,
            kwargs: s.kwargs,
            description: s.description,
            entry_point: s.entry_point,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ids_like_gymnasium() {
        let cases: &[(&str, Option<&str>, &str, Option<u64>)] = &[
            ("CartPole-v1", None, "CartPole", Some(1)),
            ("CartPole", None, "CartPole", None),
            ("ALE/Pong-v5", Some("ALE"), "Pong", Some(5)),
            ("my-ns:x/Foo.Bar-v10", Some("my-ns:x"), "Foo.Bar", Some(10)),
            ("Foo-vx", None, "Foo-vx", None),
            ("-v1", None, "-v1", None),
            ("a-v1-v2", None, "a-v1", Some(2)),
            ("Cart_Pole-v0", None, "Cart_Pole", Some(0)),
        ];
        for &(id, ns, name, version) in cases {
            let parsed = EnvId::parse(id).unwrap();
            assert_eq!(parsed.namespace(), ns, "{id}");
            assert_eq!(parsed.name(), name, "{id}");
            assert_eq!(parsed.version(), version, "{id}");
            assert_eq!(parsed.to_string(), id);
        }
    }

    proptest::proptest! {
        #[test]
        fn ids_round_trip(
            ns in proptest::option::of("[A-Za-z0-9_:-]{1,8}"),
            name in "[A-Za-z0-9_][A-Za-z0-9_.:]{0,10}",
            version in proptest::option::of(0u64..1000),
        ) {
            let id = EnvId::from_parts(ns.as_deref(), &name, version).unwrap();
            proptest::prop_assert_eq!(id.namespace(), ns.as_deref());
            proptest::prop_assert_eq!(id.name(), name.as_str());
            proptest::prop_assert_eq!(id.version(), version);
            proptest::prop_assert_eq!(EnvId::parse(&id.to_string()).unwrap(), id);
        }

        #[test]
        fn parsing_never_panics_and_round_trips(s in "(\\PC{0,12}/)?\\PC{0,12}(-v[0-9]{1,3})?") {
            if let Ok(id) = EnvId::parse(&s) {
                proptest::prop_assert_eq!(id.to_string(), s);
            }
        }
    }

    #[test]
    fn rejects_malformed_ids() {
        for id in [
            "",
            "a b",
            "/Foo",
            "ns/",
            "a/b/c",
            "Foo!-v1",
            "ns.x/Foo",
            "Foo-v99999999999999999999999",
            "Foo-v01",
        ] {
            let err = EnvId::parse(id).unwrap_err();
            assert!(
                err.to_string().contains("malformed environment id"),
                "{id}: {err}"
            );
        }
    }

    #[test]
    fn spec_defaults_and_serde_validation() {
        let spec: EnvSpec = serde_json::from_str(r#"{"id": "Foo-v0"}"#).unwrap();
        assert!(spec.order_enforce);
        assert!(!spec.disable_env_checker && !spec.nondeterministic);
        assert_eq!(spec.max_episode_steps, None);
        assert!(serde_json::from_str::<EnvSpec>(r#"{"id": "bad id"}"#).is_err());
        let full = EnvSpec::new("ns/Foo-v2")
            .unwrap()
            .with_max_episode_steps(10)
            .with_kwarg("g", 9.8);
        let back: EnvSpec = serde_json::from_str(&serde_json::to_string(&full).unwrap()).unwrap();
        assert_eq!(back, full);
        assert_eq!(
            full.to_string(),
            "EnvSpec(id=ns/Foo-v2, max_episode_steps=10, kwargs={g=9.8})"
        );
    }

    #[test]
    fn groups_by_namespace_then_module() {
        let base = EnvSpec::new("Foo-v0").unwrap();
        assert_eq!(base.group(), "Foo");
        let s = base
            .clone()
            .with_entry_point("tokengym_envs::classic_control::cartpole::CartPole");
        assert_eq!(s.group(), "classic_control");
        let s = base.clone().with_entry_point("mycrate::Walk<f32>");
        assert_eq!(s.group(), "mycrate");
        assert_eq!(EnvSpec::new("ns/Foo-v0").unwrap().group(), "ns");
    }
}

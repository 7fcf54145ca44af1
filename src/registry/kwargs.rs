//! `Kwargs`: the keyword arguments an environment constructor receives (Gymnasium's `**kwargs`).

use crate::error::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Mutex, PoisonError};

/// One keyword-argument value.
///
/// Serializes untagged, so a JSON config reads naturally: `{"g": 9.81, "sparse": true}`.
/// JSON has no infinity or NaN: such floats are written as the strings `"inf"`, `"-inf"` and
/// `"nan"`, which [`Kwargs::get_f64`] reads back as numbers.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum KwArg {
    /// A flag.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A number.
    Float(f64),
    /// Text.
    Str(String),
}

impl Serialize for KwArg {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            KwArg::Bool(b) => s.serialize_bool(*b),
            KwArg::Int(i) => s.serialize_i64(*i),
            KwArg::Float(x) if x.is_nan() => s.serialize_str("nan"),
            KwArg::Float(x) if x.is_infinite() => {
                s.serialize_str(if *x > 0.0 { "inf" } else { "-inf" })
            }
            KwArg::Float(x) => s.serialize_f64(*x),
            KwArg::Str(t) => s.serialize_str(t),
        }
    }
}

impl KwArg {
    /// A short name of the value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            KwArg::Bool(_) => "bool",
            KwArg::Int(_) => "int",
            KwArg::Float(_) => "float",
            KwArg::Str(_) => "string",
        }
    }
}

impl fmt::Display for KwArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KwArg::Bool(b) => write!(f, "{b}"),
            KwArg::Int(i) => write!(f, "{i}"),
            KwArg::Float(x) => write!(f, "{x:?}"),
            KwArg::Str(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<bool> for KwArg {
    fn from(v: bool) -> Self {
        KwArg::Bool(v)
    }
}
impl From<i64> for KwArg {
    fn from(v: i64) -> Self {
        KwArg::Int(v)
    }
}
impl From<i32> for KwArg {
    fn from(v: i32) -> Self {
        KwArg::Int(v.into())
    }
}
impl From<u32> for KwArg {
    fn from(v: u32) -> Self {
        KwArg::Int(v.into())
    }
}
impl From<f64> for KwArg {
    fn from(v: f64) -> Self {
        KwArg::Float(v)
    }
}
impl From<f32> for KwArg {
    fn from(v: f32) -> Self {
        KwArg::Float(v.into())
    }
}
impl From<&str> for KwArg {
    fn from(v: &str) -> Self {
        KwArg::Str(v.to_string())
    }
}
impl From<String> for KwArg {
    fn from(v: String) -> Self {
        KwArg::Str(v)
    }
}

/// Keyword arguments for an environment constructor: a sorted map from name to [`KwArg`].
///
/// Constructors read their parameters with the typed getters ([`Kwargs::get_f64`],
/// [`Kwargs::get_bool`], ...), each with a default for when the key is absent. Every getter
/// records the name it was asked for, so that after construction [`Kwargs::check_unused`] can
/// reject keys nobody read (a typo such as `"gravty"`) and name the accepted ones. The registry
/// does that check itself after calling a constructor, so constructors need not.
///
/// ```
/// use tokengym::registry::Kwargs;
/// let kw = Kwargs::new().with("g", 9.81).with("gravty", 1.0);
/// assert_eq!(kw.get_f64("g", 10.0)?, 9.81);
/// assert_eq!(kw.get_bool("sparse", false)?, false); // absent: the default
/// let err = kw.check_unused().unwrap_err().to_string();
/// assert!(err.contains("gravty") && err.contains("g, sparse"));
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Default)]
pub struct Kwargs {
    values: BTreeMap<String, KwArg>,
    /// Names the getters were asked for (present or not): the accepted keys.
    queried: Mutex<BTreeSet<String>>,
}

impl Kwargs {
    /// No arguments.
    pub fn new() -> Self {
        Kwargs::default()
    }

    /// Builder form of [`Kwargs::insert`].
    pub fn with(mut self, key: impl Into<String>, value: impl Into<KwArg>) -> Self {
        self.insert(key, value);
        self
    }

    /// Sets (or replaces) an argument; returns the previous value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<KwArg>) -> Option<KwArg> {
        self.values.insert(key.into(), value.into())
    }

    /// Removes an argument.
    pub fn remove(&mut self, key: &str) -> Option<KwArg> {
        self.values.remove(key)
    }

    /// Number of arguments.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Whether `key` is set (does not count as reading it).
    pub fn contains_key(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    /// The arguments, sorted by name (does not count as reading them).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &KwArg)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// These arguments with `overrides` merged over them (an override replaces a key's value).
    pub fn merged(&self, overrides: &Kwargs) -> Kwargs {
        let mut values = self.values.clone();
        values.extend(overrides.values.iter().map(|(k, v)| (k.clone(), v.clone())));
        Kwargs::from(values)
    }

    /// The raw value of `key`, if set; records `key` as accepted.
    pub fn get(&self, key: &str) -> Option<&KwArg> {
        self.queried
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key.to_string());
        self.values.get(key)
    }

    /// A flag, or `default` when absent.
    pub fn get_bool(&self, key: &str, default: bool) -> Result<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(KwArg::Bool(b)) => Ok(*b),
            Some(other) => Err(wrong_kind(key, "a bool", other)),
        }
    }

    /// An integer, or `default` when absent.
    pub fn get_i64(&self, key: &str, default: i64) -> Result<i64> {
        match self.get(key) {
            None => Ok(default),
            Some(KwArg::Int(i)) => Ok(*i),
            Some(other) => Err(wrong_kind(key, "an integer", other)),
        }
    }

    /// A non-negative integer, or `default` when absent.
    pub fn get_u64(&self, key: &str, default: u64) -> Result<u64> {
        match self.get(key) {
            None => Ok(default),
            Some(KwArg::Int(i)) => u64::try_from(*i).map_err(|_| {
                Error::invalid_argument(format!(
                    "keyword argument `{key}` must be a non-negative integer, got {i}"
                ))
            }),
            Some(other) => Err(wrong_kind(key, "a non-negative integer", other)),
        }
    }

    /// A non-negative integer that fits in `usize` (a size, a count), or `default` when absent.
    pub fn get_usize(&self, key: &str, default: usize) -> Result<usize> {
        match self.get(key) {
            None => Ok(default),
            Some(KwArg::Int(i)) => usize::try_from(*i).map_err(|_| {
                Error::invalid_argument(format!(
                    "keyword argument `{key}` must be a non-negative integer that fits in usize, \
                     got {i}"
                ))
            }),
            Some(other) => Err(wrong_kind(key, "a non-negative integer", other)),
        }
    }

    /// A number (integers are accepted, as in Python), or `default` when absent.
    pub fn get_f64(&self, key: &str, default: f64) -> Result<f64> {
        match self.get(key) {
            None => Ok(default),
            Some(KwArg::Float(x)) => Ok(*x),
            Some(KwArg::Int(i)) => Ok(*i as f64),
            // How non-finite floats travel through JSON (see `KwArg`).
            Some(KwArg::Str(t)) if t == "inf" => Ok(f64::INFINITY),
            Some(KwArg::Str(t)) if t == "-inf" => Ok(f64::NEG_INFINITY),
            Some(KwArg::Str(t)) if t == "nan" => Ok(f64::NAN),
            Some(other) => Err(wrong_kind(key, "a number", other)),
        }
    }

    /// A string, or `default` when absent.
    pub fn get_str(&self, key: &str, default: &str) -> Result<String> {
        match self.get(key) {
            None => Ok(default.to_string()),
            Some(KwArg::Str(s)) => Ok(s.clone()),
            Some(other) => Err(wrong_kind(key, "a string", other)),
        }
    }

    /// The names the getters have been asked for so far, sorted.
    pub fn accepted(&self) -> Vec<String> {
        self.queried
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .cloned()
            .collect()
    }

    /// Fails with [`Error::InvalidArgument`] if a key was set that no getter has asked for; the
    /// message names the unknown keys and the accepted ones.
    pub fn check_unused(&self) -> Result<()> {
        self.check_unused_as("keyword argument")
    }

    /// [`Kwargs::check_unused`] with `what` naming the arguments in the message.
    fn check_unused_as(&self, what: &str) -> Result<()> {
        let queried = self.queried.lock().unwrap_or_else(PoisonError::into_inner);
        let valid: Vec<&str> = queried.iter().map(String::as_str).collect();
        self.check_keys_as(&valid, what)
    }

    /// Fails with [`Error::InvalidArgument`] if a key is set that `valid` does not list; the
    /// message calls the arguments `what` (e.g. `"reset option"`) and names the valid ones.
    /// Unlike [`Kwargs::check_unused`] this does not depend on which getters ran before, so
    /// the same arguments can be checked against several lists.
    pub fn check_keys_as(&self, valid: &[&str], what: &str) -> Result<()> {
        let unknown: Vec<&str> = self
            .values
            .keys()
            .map(String::as_str)
            .filter(|k| !valid.contains(k))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let valid = if valid.is_empty() {
            format!("this environment takes no {what}s")
        } else {
            format!("valid {what}s: {}", valid.join(", "))
        };
        Err(Error::invalid_argument(format!(
            "unknown {what}{} {}; {valid}",
            if unknown.len() == 1 { "" } else { "s" },
            unknown.join(", ")
        )))
    }
}

fn wrong_kind(key: &str, expected: &str, got: &KwArg) -> Error {
    Error::invalid_argument(format!(
        "keyword argument `{key}` must be {expected}, got {} {got}",
        got.kind()
    ))
}

impl From<BTreeMap<String, KwArg>> for Kwargs {
    fn from(values: BTreeMap<String, KwArg>) -> Self {
        Kwargs {
            values,
            queried: Mutex::default(),
        }
    }
}

impl<K: Into<String>, V: Into<KwArg>> FromIterator<(K, V)> for Kwargs {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Kwargs::from(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect::<BTreeMap<_, _>>(),
        )
    }
}

/// Clones the values; the copy starts with no keys recorded as read.
impl Clone for Kwargs {
    fn clone(&self) -> Self {
        Kwargs::from(self.values.clone())
    }
}

/// Compares the values only.
impl PartialEq for Kwargs {
    fn eq(&self, other: &Self) -> bool {
        self.values == other.values
    }
}

impl fmt::Debug for Kwargs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.values.iter()).finish()
    }
}

/// `key=value, ...` in key order.
impl fmt::Display for Kwargs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (k, v)) in self.values.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{k}={v}")?;
        }
        Ok(())
    }
}

impl Serialize for Kwargs {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.values.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Kwargs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        BTreeMap::<String, KwArg>::deserialize(d).map(Kwargs::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn getters_return_values_or_defaults() {
        let kw = Kwargs::new()
            .with("b", true)
            .with("i", 3)
            .with("x", 2.5)
            .with("s", "hi");
        assert!(kw.get_bool("b", false).unwrap());
        assert_eq!(kw.get_i64("i", 0).unwrap(), 3);
        assert_eq!(kw.get_u64("i", 0).unwrap(), 3);
        assert_eq!(kw.get_usize("i", 0).unwrap(), 3);
        assert_eq!(kw.get_f64("x", 0.0).unwrap(), 2.5);
        assert_eq!(kw.get_f64("i", 0.0).unwrap(), 3.0); // int accepted as a number
        assert_eq!(kw.get_str("s", "").unwrap(), "hi");
        assert_eq!(kw.get_str("absent", "dflt").unwrap(), "dflt");
        assert!(kw.check_unused().is_ok());
    }

    #[test]
    fn wrong_kinds_are_errors() {
        let kw = Kwargs::new().with("x", "text").with("n", -1);
        let err = kw.get_f64("x", 0.0).unwrap_err().to_string();
        assert!(err.contains("`x` must be a number"), "{err}");
        assert!(kw.get_u64("n", 0).is_err());
        assert!(kw.get_usize("n", 0).is_err());
        assert!(kw.get_bool("n", false).is_err());
    }

    #[test]
    fn unused_keys_are_named_with_the_valid_ones() {
        let kw = Kwargs::new().with("gravty", 1.0).with("g", 1.0);
        let _ = kw.get_f64("g", 0.0);
        let _ = kw.get_f64("mass", 0.0);
        let err = kw.check_unused().unwrap_err().to_string();
        assert!(err.contains("unknown keyword argument gravty"), "{err}");
        assert!(err.contains("valid keyword arguments: g, mass"), "{err}");

        let none = Kwargs::new().with("x", 1);
        let err = none.check_unused().unwrap_err().to_string();
        assert!(err.contains("takes no keyword arguments"), "{err}");
    }

    #[test]
    fn merge_and_serde() {
        let base = Kwargs::new().with("a", 1).with("b", false);
        let merged = base.merged(&Kwargs::new().with("b", true).with("c", "x"));
        assert_eq!(
            merged,
            Kwargs::new().with("a", 1).with("b", true).with("c", "x")
        );
        let json = serde_json::to_string(&merged).unwrap();
        assert_eq!(json, r#"{"a":1,"b":true,"c":"x"}"#);
        let back: Kwargs = serde_json::from_str(r#"{"a":1,"b":true,"c":"x","f":1.5}"#).unwrap();
        assert_eq!(back.get("f"), Some(&KwArg::Float(1.5)));
        assert_eq!(back.get("a"), Some(&KwArg::Int(1)));
        assert_eq!(merged.to_string(), "a=1, b=true, c=\"x\"");
    }

    #[test]
    fn non_finite_floats_survive_json() {
        let kw = Kwargs::new()
            .with("hi", f64::INFINITY)
            .with("lo", f64::NEG_INFINITY)
            .with("x", f64::NAN);
        let json = serde_json::to_string(&kw).unwrap();
        assert_eq!(json, r#"{"hi":"inf","lo":"-inf","x":"nan"}"#);
        let back: Kwargs = serde_json::from_str(&json).unwrap();
        assert_eq!(back.get_f64("hi", 0.0).unwrap(), f64::INFINITY);
        assert_eq!(back.get_f64("lo", 0.0).unwrap(), f64::NEG_INFINITY);
        assert!(back.get_f64("x", 0.0).unwrap().is_nan());
        let text: Kwargs = serde_json::from_str(r#"{"s":"infinite"}"#).unwrap();
        assert!(text.get_f64("s", 0.0).is_err());
    }
}

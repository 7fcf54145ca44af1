//! `Info`: the auxiliary data returned by `reset` and `step` (Gymnasium's `info` dict).

use crate::space::Value;
use std::collections::BTreeMap;

/// Statistics of a finished episode, as `RecordEpisodeStatistics` reports them
/// (Gymnasium's `info["episode"] = {"r", "l", "t"}`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EpisodeStats {
    /// Undiscounted return (`r`).
    pub ret: f64,
    /// Length in steps (`l`).
    pub len: u64,
    /// Wall-clock seconds since the episode started (`t`).
    pub time: f64,
}

/// One entry of an [`Info`]'s free-form map.
#[derive(Clone, Debug, PartialEq)]
pub enum InfoValue {
    /// A flag.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A number.
    Float(f64),
    /// Text.
    Text(String),
    /// A vector of numbers.
    Floats(Vec<f64>),
    /// A space value (e.g. a final observation).
    Value(Value),
}

/// Auxiliary information from `reset`/`step`.
///
/// An empty `Info` does not allocate, so environments that report nothing pay nothing on the
/// hot path, and dropping one is a single check. Well-known entries have typed fields; anything
/// else goes into a sorted map created on the first insert.
///
/// ```
/// use tokengym::{Info, InfoValue};
/// let mut info = Info::default();
/// assert!(info.is_empty());
/// info.insert("lives", InfoValue::Int(3));
/// assert_eq!(info.get("lives"), Some(&InfoValue::Int(3)));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Info {
    /// Set on the last step of an episode by `RecordEpisodeStatistics`.
    pub episode: Option<EpisodeStats>,
    extra: Option<BTreeMap<String, InfoValue>>,
}

impl Info {
    /// An empty info (no allocation).
    pub const fn new() -> Self {
        Info {
            episode: None,
            extra: None,
        }
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.episode.is_none() && self.extra.as_ref().is_none_or(BTreeMap::is_empty)
    }

    /// Inserts (or replaces) a free-form entry.
    pub fn insert(&mut self, key: impl Into<String>, value: InfoValue) {
        self.extra
            .get_or_insert_with(BTreeMap::new)
            .insert(key.into(), value);
    }

    /// Builder form of [`Info::insert`].
    pub fn with(mut self, key: impl Into<String>, value: InfoValue) -> Self {
        self.insert(key, value);
        self
    }

    /// A free-form entry.
    pub fn get(&self, key: &str) -> Option<&InfoValue> {
        self.extra.as_ref()?.get(key)
    }

    /// Removes a free-form entry.
    pub fn remove(&mut self, key: &str) -> Option<InfoValue> {
        self.extra.as_mut()?.remove(key)
    }

    /// The free-form entries, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &InfoValue)> {
        self.extra
            .iter()
            .flat_map(|m| m.iter().map(|(k, v)| (k.as_str(), v)))
    }

    /// Clears everything.
    pub fn clear(&mut self) {
        self.episode = None;
        self.extra = None;
    }
}

impl PartialEq for Info {
    /// Equal when the episode statistics and the free-form entries are equal (an emptied map
    /// equals no map).
    fn eq(&self, other: &Self) -> bool {
        self.episode == other.episode && self.iter().eq(other.iter())
    }
}

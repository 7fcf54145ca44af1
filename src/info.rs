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
/// An empty `Info` is one null pointer: creating, moving and dropping it costs nothing, so
/// environments that report nothing pay nothing on the hot path (and `Step`/`Transition` stay
/// small). Its contents live behind one allocation made on the first write: the episode
/// statistics of `RecordEpisodeStatistics` (once per episode) and a sorted free-form map.
///
/// ```
/// use tokengym::{EpisodeStats, Info, InfoValue};
/// let mut info = Info::default();
/// assert!(info.is_empty());
/// info.insert("lives", InfoValue::Int(3));
/// assert_eq!(info.get("lives"), Some(&InfoValue::Int(3)));
/// info.set_episode(Some(EpisodeStats { ret: 10.0, len: 10, time: 0.5 }));
/// assert_eq!(info.episode().map(|e| e.len), Some(10));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Info {
    data: Option<Box<InfoData>>,
}

#[derive(Clone, Debug, Default)]
struct InfoData {
    episode: Option<EpisodeStats>,
    extra: BTreeMap<String, InfoValue>,
}

impl Info {
    /// An empty info (no allocation).
    pub const fn new() -> Self {
        Info { data: None }
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.data
            .as_ref()
            .is_none_or(|d| d.episode.is_none() && d.extra.is_empty())
    }

    fn data_mut(&mut self) -> &mut InfoData {
        self.data.get_or_insert_with(Default::default)
    }

    /// Statistics of the episode that ended with this step (set by `RecordEpisodeStatistics`).
    pub fn episode(&self) -> Option<&EpisodeStats> {
        self.data.as_ref()?.episode.as_ref()
    }

    /// Sets or clears the episode statistics.
    pub fn set_episode(&mut self, stats: Option<EpisodeStats>) {
        match stats {
            Some(s) => self.data_mut().episode = Some(s),
            None => {
                if let Some(d) = self.data.as_mut() {
                    d.episode = None;
                }
            }
        }
    }

    /// Inserts (or replaces) a free-form entry.
    pub fn insert(&mut self, key: impl Into<String>, value: InfoValue) {
        self.data_mut().extra.insert(key.into(), value);
    }

    /// Builder form of [`Info::insert`].
    pub fn with(mut self, key: impl Into<String>, value: InfoValue) -> Self {
        self.insert(key, value);
        self
    }

    /// A free-form entry.
    pub fn get(&self, key: &str) -> Option<&InfoValue> {
        self.data.as_ref()?.extra.get(key)
    }

    /// Removes a free-form entry.
    pub fn remove(&mut self, key: &str) -> Option<InfoValue> {
        self.data.as_mut()?.extra.remove(key)
    }

    /// The free-form entries, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &InfoValue)> {
        self.data
            .iter()
            .flat_map(|d| d.extra.iter().map(|(k, v)| (k.as_str(), v)))
    }

    /// Clears everything (and frees the allocation).
    pub fn clear(&mut self) {
        self.data = None;
    }
}

impl PartialEq for Info {
    /// Equal when the episode statistics and the free-form entries are equal (an emptied info
    /// equals a fresh one).
    fn eq(&self, other: &Self) -> bool {
        self.episode() == other.episode() && self.iter().eq(other.iter())
    }
}

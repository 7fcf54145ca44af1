//! [`StopTokens`]: the token ids that end a generated row. Llama 3 and Qwen stop at several
//! (`generation_config.json`'s `eos_token_id` list), so this is a small set, stored inline (it
//! is `Copy`, and checking a token against it allocates nothing).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// Most stop ids a generation can have.
pub const MAX_STOP_TOKENS: usize = 8;

/// A set of at most [`MAX_STOP_TOKENS`] token ids (in order, without repeats).
///
/// ```
/// use tokengym_lm::decoding::StopTokens;
///
/// let stop = StopTokens::from_ids(&[128001, 128009, 128001])?;
/// assert_eq!(stop.ids(), [128001, 128009]);
/// assert!(stop.contains(128009) && !stop.contains(7));
/// assert!(StopTokens::none().is_empty());
/// assert_eq!(StopTokens::from(Some(2)).ids(), [2]);
/// // In configs: null, one id or a list, as Hugging Face's eos_token_id.
/// let s: StopTokens = serde_json::from_str("[3, 4]").unwrap();
/// assert_eq!(s.ids(), [3, 4]);
/// # Ok::<(), tokengym_lm::error::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StopTokens {
    ids: [i64; MAX_STOP_TOKENS],
    len: usize,
}

impl StopTokens {
    /// No stop token: rows always run to the length limit.
    pub fn none() -> Self {
        Self::default()
    }

    /// The distinct ids of `ids`, in order; more than [`MAX_STOP_TOKENS`] is an error.
    pub fn from_ids(ids: &[i64]) -> Result<Self> {
        let mut out = Self::none();
        for &id in ids {
            if out.contains(id) {
                continue;
            }
            if out.len == MAX_STOP_TOKENS {
                return Err(Error::InvalidArgument(format!(
                    "at most {MAX_STOP_TOKENS} stop tokens are supported, got {}",
                    ids.len()
                )));
            }
            out.ids[out.len] = id;
            out.len += 1;
        }
        Ok(out)
    }

    /// The ids, in order.
    pub fn ids(&self) -> &[i64] {
        &self.ids[..self.len]
    }

    /// Whether `id` ends a row.
    pub fn contains(&self, id: i64) -> bool {
        self.ids().contains(&id)
    }

    /// Whether there is no stop token.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first id, if any (the one written where a single eos id is wanted).
    pub fn first(&self) -> Option<i64> {
        self.ids().first().copied()
    }

    /// Checks every id lies in `[0, vocab)`; `what` names the setting in the error.
    pub fn validate(&self, what: &str, vocab: i64) -> Result<()> {
        for &id in self.ids() {
            if !(0..vocab).contains(&id) {
                return Err(Error::InvalidArgument(format!(
                    "{what} must lie in [0, {vocab}), got {id}"
                )));
            }
        }
        Ok(())
    }
}

impl From<Option<i64>> for StopTokens {
    fn from(id: Option<i64>) -> Self {
        let mut out = Self::none();
        if let Some(id) = id {
            out.ids[0] = id;
            out.len = 1;
        }
        out
    }
}

impl Serialize for StopTokens {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.ids().serialize(s)
    }
}

impl<'de> Deserialize<'de> for StopTokens {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(i64),
            Many(Vec<i64>),
        }
        match Option::<OneOrMany>::deserialize(d)? {
            None => Ok(Self::none()),
            Some(OneOrMany::One(id)) => Ok(Self::from(Some(id))),
            Some(OneOrMany::Many(ids)) => Self::from_ids(&ids).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_forms_and_limits() {
        for (json, ids) in [("null", vec![]), ("5", vec![5]), ("[1, 2, 1]", vec![1, 2])] {
            let s: StopTokens = serde_json::from_str(json).unwrap();
            assert_eq!(s.ids(), ids.as_slice(), "{json}");
        }
        let s = StopTokens::from_ids(&[9, 8]).unwrap();
        assert_eq!(serde_json::to_string(&s).unwrap(), "[9,8]");
        let many: Vec<i64> = (0..9).collect();
        assert!(StopTokens::from_ids(&many).is_err());
        assert!(serde_json::from_str::<StopTokens>("[0,1,2,3,4,5,6,7,8]").is_err());
        assert!(s.validate("eos", 10).is_ok());
        assert!(
            s.validate("eos", 9)
                .unwrap_err()
                .to_string()
                .contains("eos")
        );
        assert_eq!(s.first(), Some(9));
    }
}

//! `TokenSeq`: variable-length sequences of token ids.

use super::{AnySpace, Space, Value, check_flat_len, mismatch};
use crate::error::{Error, Result};
use crate::seeding::below;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// Sequences of token ids `< vocab_size` with length `<= max_len`: the observation space of
/// text-generation environments (prompt + generated tokens).
///
/// Flattened as the ids as `f32`, padded with `-1.0` up to `max_len` (so `flatdim == max_len`).
///
/// ```
/// use tokengym::space::{Space, TokenSeq};
/// let space = TokenSeq::new(50, 4)?;
/// assert!(space.contains(&vec![1, 49]));
/// assert!(!space.contains(&vec![50]));
/// assert_eq!(space.flatten(&vec![7, 8])?, vec![7.0, 8.0, -1.0, -1.0]);
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TokenSeqRepr", into = "TokenSeqRepr")]
pub struct TokenSeq {
    vocab_size: u32,
    max_len: usize,
}

#[derive(Serialize, Deserialize)]
struct TokenSeqRepr {
    vocab_size: u32,
    max_len: usize,
}

impl TryFrom<TokenSeqRepr> for TokenSeq {
    type Error = Error;
    fn try_from(r: TokenSeqRepr) -> Result<Self> {
        TokenSeq::new(r.vocab_size, r.max_len)
    }
}

impl From<TokenSeq> for TokenSeqRepr {
    fn from(t: TokenSeq) -> Self {
        TokenSeqRepr {
            vocab_size: t.vocab_size,
            max_len: t.max_len,
        }
    }
}

impl TokenSeq {
    /// Sequences over a vocabulary of `vocab_size` ids, at most `max_len` long (both positive).
    pub fn new(vocab_size: u32, max_len: usize) -> Result<Self> {
        if vocab_size == 0 || max_len == 0 {
            return Err(Error::invalid_space(format!(
                "TokenSeq needs vocab_size > 0 and max_len > 0, got {vocab_size} and {max_len}"
            )));
        }
        Ok(TokenSeq {
            vocab_size,
            max_len,
        })
    }

    /// Vocabulary size.
    pub fn vocab_size(&self) -> u32 {
        self.vocab_size
    }

    /// Maximum sequence length.
    pub fn max_len(&self) -> usize {
        self.max_len
    }
}

impl Space for TokenSeq {
    type Value = Vec<u32>;

    /// A sequence of uniform length in `0..=max_len` with uniform token ids.
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<u32> {
        let len = below(rng, self.max_len as u64 + 1) as usize;
        (0..len)
            .map(|_| below(rng, u64::from(self.vocab_size)) as u32)
            .collect()
    }

    fn contains(&self, value: &Vec<u32>) -> bool {
        value.len() <= self.max_len && value.iter().all(|&t| t < self.vocab_size)
    }

    fn flatdim(&self) -> usize {
        self.max_len
    }

    fn flatten_into(&self, value: &Vec<u32>, out: &mut [f32]) -> Result<()> {
        check_flat_len(self, out)?;
        if !self.contains(value) {
            return Err(mismatch(self, "sequence too long or token id out of range"));
        }
        out.fill(-1.0);
        for (o, &t) in out.iter_mut().zip(value) {
            *o = t as f32;
        }
        Ok(())
    }

    fn to_any(&self) -> AnySpace {
        AnySpace::TokenSeq(*self)
    }

    fn to_value(&self, value: &Vec<u32>) -> Value {
        Value::Tokens(value.clone())
    }

    fn from_value(&self, value: &Value) -> Result<Vec<u32>> {
        match value {
            Value::Tokens(v) => Ok(v.clone()),
            other => Err(mismatch(
                self,
                format!("expected tokens, got {}", other.kind()),
            )),
        }
    }
}

impl std::fmt::Display for TokenSeq {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TokenSeq(vocab={}, max_len={})",
            self.vocab_size, self.max_len
        )
    }
}

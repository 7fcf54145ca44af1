//! [`TextDataset`]: text lines turned into fixed-shape teacher-forcing batches.
//!
//! Every non-empty line is encoded as `<bos> line <eos>` (the specials the tokenizer has; a
//! tokenizer without them just gets the line). Two layouts:
//!
//! - [`Layout::Pack`] (the default): all lines are concatenated into one token stream which is
//!   cut into windows of `context + 1` tokens with stride `context`; a window gives inputs
//!   `w[..T]` and targets `w[1..]`. No padding, every target counts; a line can span two
//!   windows (the model sees the previous line's end as context, as GPT pre-training does).
//! - [`Layout::Pad`]: one line per row, truncated to `context + 1` tokens and right-padded;
//!   padded targets hold [`IGNORE_INDEX`], so they do not count in the loss. Right padding
//!   needs no attention mask: a real token never attends to the pads after it.
//!
//! Batches are drawn by [`TextDataset::batch_for_step`]: the examples of each epoch are
//! shuffled with a permutation derived from `(seed, epoch)` alone, and step `s` takes examples
//! `s * B .. (s + 1) * B` of the endless sequence of epochs, so a resumed run sees exactly the
//! batches the uninterrupted one would have.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use tch::{Device, Tensor};
use tokengym::seeding::EnvRng;
use tokengym_envs::text::Tokenizer;

use crate::error::{Error, Result};
use crate::model::decoder::IGNORE_INDEX;

/// How lines become rows (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// Concatenate all lines and cut the stream into windows.
    #[default]
    Pack,
    /// One line per row, right-padded, pads ignored in the loss.
    Pad,
}

/// A batch for teacher forcing: `inputs` and `targets` are int64 `[B, T]` on the CPU.
#[derive(Debug)]
pub struct LmBatch {
    /// Token ids fed to the model.
    pub inputs: Tensor,
    /// Next-token targets, [`IGNORE_INDEX`] where nothing is to be predicted.
    pub targets: Tensor,
    /// Number of targets that count (not [`IGNORE_INDEX`]).
    pub real_tokens: usize,
}

impl LmBatch {
    /// The same batch on `device`.
    pub fn to_device(&self, device: Device) -> Result<LmBatch> {
        Ok(LmBatch {
            inputs: self.inputs.f_to_device(device)?,
            targets: self.targets.f_to_device(device)?,
            real_tokens: self.real_tokens,
        })
    }
}

/// Tokenized text cut into examples of `context` input tokens (see the module docs).
#[derive(Debug, Clone)]
pub struct TextDataset {
    /// Example `i`'s inputs are `inputs[i * T .. (i + 1) * T]`.
    inputs: Vec<i64>,
    /// Same layout as `inputs`.
    targets: Vec<i64>,
    context: usize,
    /// Every target token of the dataset that counts, in order (for unigram statistics).
    target_count: usize,
}

impl TextDataset {
    /// Tokenizes the non-empty lines of `text` and lays them out in examples of `context`
    /// tokens. Errors when `context` is 0, a line cannot be encoded, or the text is too short
    /// for a single example.
    pub fn from_text(
        text: &str,
        tokenizer: &dyn Tokenizer,
        context: usize,
        layout: Layout,
    ) -> Result<Self> {
        if context == 0 {
            return Err(Error::InvalidArgument(
                "the context length must be at least 1".to_owned(),
            ));
        }
        let specials = tokenizer.special_tokens();
        let mut lines = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            let body = tokenizer
                .encode(line)
                .map_err(|e| Error::InvalidArgument(format!("line {}: {e}", i + 1)))?;
            let mut ids = Vec::with_capacity(body.len() + 2);
            ids.extend(specials.bos.map(i64::from));
            ids.extend(body.into_iter().map(i64::from));
            ids.extend(specials.eos.map(i64::from));
            lines.push(ids);
        }
        let ds = match layout {
            Layout::Pack => Self::packed(&lines, context),
            Layout::Pad => Self::padded(&lines, context, specials.pad.map_or(0, i64::from)),
        };
        if ds.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "the text is too short for one example of {context} tokens ({} lines)",
                lines.len()
            )));
        }
        Ok(ds)
    }

    fn packed(lines: &[Vec<i64>], context: usize) -> Self {
        let stream: Vec<i64> = lines.concat();
        let n = if stream.len() > context {
            (stream.len() - 1) / context
        } else {
            0
        };
        let mut inputs = Vec::with_capacity(n * context);
        let mut targets = Vec::with_capacity(n * context);
        for i in 0..n {
            let w = &stream[i * context..i * context + context + 1];
            inputs.extend_from_slice(&w[..context]);
            targets.extend_from_slice(&w[1..]);
        }
        Self {
            inputs,
            targets,
            context,
            target_count: n * context,
        }
    }

    fn padded(lines: &[Vec<i64>], context: usize, pad: i64) -> Self {
        let mut inputs = Vec::with_capacity(lines.len() * context);
        let mut targets = Vec::with_capacity(lines.len() * context);
        let mut target_count = 0;
        for line in lines.iter().filter(|l| l.len() >= 2) {
            let line = &line[..line.len().min(context + 1)];
            let real = line.len() - 1;
            inputs.extend_from_slice(&line[..real]);
            inputs.extend(std::iter::repeat_n(pad, context - real));
            targets.extend_from_slice(&line[1..]);
            targets.extend(std::iter::repeat_n(IGNORE_INDEX, context - real));
            target_count += real;
        }
        Self {
            inputs,
            targets,
            context,
            target_count,
        }
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.inputs.len() / self.context
    }

    /// Whether there is no example.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Input tokens per example (`T`).
    pub fn context(&self) -> usize {
        self.context
    }

    /// Number of targets that count, over all examples.
    pub fn target_tokens(&self) -> usize {
        self.target_count
    }

    /// The largest token id in the dataset (for checking it against a model's vocabulary).
    pub fn max_token_id(&self) -> i64 {
        self.inputs
            .iter()
            .chain(&self.targets)
            .copied()
            .max()
            .unwrap_or(0)
    }

    /// Count of every target token id that counts, as a vector of length `vocab`; an error if
    /// an id is `>= vocab`.
    pub fn target_counts(&self, vocab: usize) -> Result<Vec<u64>> {
        let mut counts = vec![0u64; vocab];
        for &t in self.targets.iter().filter(|&&t| t != IGNORE_INDEX) {
            let slot = usize::try_from(t)
                .ok()
                .and_then(|i| counts.get_mut(i))
                .ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "token id {t} does not fit a vocabulary of {vocab}"
                    ))
                })?;
            *slot += 1;
        }
        Ok(counts)
    }

    /// The examples `indices` as one batch (on the CPU). An index out of range is an error.
    pub fn batch(&self, indices: &[usize]) -> Result<LmBatch> {
        if indices.is_empty() {
            return Err(Error::InvalidArgument(
                "a batch needs at least one example".to_owned(),
            ));
        }
        let t = self.context;
        let mut inputs = Vec::with_capacity(indices.len() * t);
        let mut targets = Vec::with_capacity(indices.len() * t);
        for &i in indices {
            if i >= self.len() {
                return Err(Error::InvalidArgument(format!(
                    "example {i} out of range (the dataset has {})",
                    self.len()
                )));
            }
            inputs.extend_from_slice(&self.inputs[i * t..(i + 1) * t]);
            targets.extend_from_slice(&self.targets[i * t..(i + 1) * t]);
        }
        let real_tokens = targets.iter().filter(|&&x| x != IGNORE_INDEX).count();
        let shape = [indices.len() as i64, t as i64];
        Ok(LmBatch {
            inputs: Tensor::from_slice(&inputs).f_reshape(shape)?,
            targets: Tensor::from_slice(&targets).f_reshape(shape)?,
            real_tokens,
        })
    }

    /// The examples of training step `step` (0-based) for batches of `batch_size`: positions
    /// `step * B ..` of the concatenation of epochs, each epoch a permutation seeded by
    /// `(seed, epoch)` (see the module docs).
    pub fn indices_for_step(&self, step: u64, batch_size: usize, seed: u64) -> Vec<usize> {
        let n = self.len() as u64;
        let mut out = Vec::with_capacity(batch_size);
        let mut cached: Option<(u64, Vec<usize>)> = None;
        let start = step * batch_size as u64;
        for k in start..start + batch_size as u64 {
            let (epoch, pos) = (k / n, (k % n) as usize);
            if cached.as_ref().is_none_or(|(e, _)| *e != epoch) {
                cached = Some((epoch, self.epoch_order(seed, epoch)));
            }
            if let Some((_, perm)) = &cached {
                out.push(perm[pos]);
            }
        }
        out
    }

    /// [`batch`](Self::batch) of [`indices_for_step`](Self::indices_for_step).
    pub fn batch_for_step(&self, step: u64, batch_size: usize, seed: u64) -> Result<LmBatch> {
        self.batch(&self.indices_for_step(step, batch_size, seed))
    }

    /// The shuffled order of the examples in `epoch`.
    fn epoch_order(&self, seed: u64, epoch: u64) -> Vec<usize> {
        let mixed = seed
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .wrapping_add(epoch.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let mut rng = EnvRng::seed_from_u64(mixed);
        let mut perm: Vec<usize> = (0..self.len()).collect();
        perm.shuffle(&mut rng);
        perm
    }

    /// Consecutive batches of up to `batch_size` examples covering the dataset in order (the
    /// last one may be smaller); at most `max_batches` of them when given.
    pub fn eval_batches(
        &self,
        batch_size: usize,
        max_batches: Option<usize>,
    ) -> impl Iterator<Item = Result<LmBatch>> + '_ {
        let bs = batch_size.max(1);
        let n_batches = self.len().div_ceil(bs);
        let take = max_batches.map_or(n_batches, |m| m.min(n_batches));
        (0..take).map(move |b| {
            let idx: Vec<usize> = (b * bs..((b + 1) * bs).min(self.len())).collect();
            self.batch(&idx)
        })
    }
}

#[cfg(test)]
mod tests {
    use tokengym_envs::text::{ByteTokenizer, CharTokenizer, DEFAULT_SPECIALS};

    use super::*;

    fn rows(t: &Tensor) -> Vec<Vec<i64>> {
        let size = t.size();
        let flat = Vec::<i64>::try_from(t.reshape([-1])).unwrap();
        flat.chunks(size[1] as usize).map(<[i64]>::to_vec).collect()
    }

    #[test]
    fn packing_shifts_targets_by_one_and_adds_specials() {
        let tok = CharTokenizer::from_corpus("ab", &DEFAULT_SPECIALS).unwrap();
        // a=0 b=1 <bos>=2 <eos>=3: stream 2 0 1 3 2 1 3 (7 tokens) -> 2 windows of 3.
        let ds = TextDataset::from_text("ab\n\nb\n", &tok, 3, Layout::Pack).unwrap();
        assert_eq!(ds.len(), 2);
        assert_eq!(ds.target_tokens(), 6);
        let b = ds.batch(&[0, 1]).unwrap();
        assert_eq!(rows(&b.inputs), vec![vec![2, 0, 1], vec![3, 2, 1]]);
        assert_eq!(rows(&b.targets), vec![vec![0, 1, 3], vec![2, 1, 3]]);
        assert_eq!(b.real_tokens, 6);
        assert_eq!(ds.target_counts(4).unwrap(), vec![1, 2, 1, 2]);
        assert!(ds.target_counts(3).is_err());
    }

    #[test]
    fn padding_masks_pads_in_the_targets() {
        let tok = ByteTokenizer::new(); // bos 256, eos 257, pad 258
        let ds = TextDataset::from_text("a\nbcdef\n", &tok, 4, Layout::Pad).unwrap();
        assert_eq!(ds.len(), 2);
        let b = ds.batch(&[0, 1]).unwrap();
        let i = IGNORE_INDEX;
        assert_eq!(
            rows(&b.inputs),
            vec![vec![256, 97, 258, 258], vec![256, 98, 99, 100]]
        );
        assert_eq!(
            rows(&b.targets),
            vec![vec![97, 257, i, i], vec![98, 99, 100, 101]]
        );
        assert_eq!(b.real_tokens, 6);
        assert_eq!(ds.target_tokens(), 6);
    }

    #[test]
    fn too_short_text_and_zero_context_are_errors() {
        let tok = ByteTokenizer::new();
        assert!(TextDataset::from_text("ab", &tok, 0, Layout::Pack).is_err());
        let err = TextDataset::from_text("ab", &tok, 10, Layout::Pack).unwrap_err();
        assert!(err.to_string().contains("too short"), "{err}");
        assert!(TextDataset::from_text("", &tok, 2, Layout::Pad).is_err());
        let ds = TextDataset::from_text("abcdef", &tok, 2, Layout::Pack).unwrap();
        assert!(ds.batch(&[ds.len()]).is_err());
        assert!(ds.batch(&[]).is_err());
    }

    #[test]
    fn step_batches_cover_each_epoch_once_and_depend_only_on_seed_and_step() {
        let tok = ByteTokenizer::new();
        let text = "abcdefghijklmnopqrstuvwxyz".repeat(4);
        let ds = TextDataset::from_text(&text, &tok, 5, Layout::Pack).unwrap();
        let n = ds.len();
        assert_eq!(n, 21);
        let bs = 7;
        let mut epoch0: Vec<usize> = (0..3).flat_map(|s| ds.indices_for_step(s, bs, 9)).collect();
        epoch0.sort_unstable();
        assert_eq!(epoch0, (0..n).collect::<Vec<_>>());
        assert_eq!(ds.indices_for_step(5, bs, 9), ds.indices_for_step(5, bs, 9));
        assert_ne!(
            ds.indices_for_step(0, bs, 9),
            ds.indices_for_step(0, bs, 10)
        );
        // Epoch 1 is another permutation.
        assert_ne!(ds.indices_for_step(0, bs, 9), ds.indices_for_step(3, bs, 9));
        let evals: Vec<LmBatch> = ds.eval_batches(8, None).map(Result::unwrap).collect();
        assert_eq!(
            evals.iter().map(|b| b.inputs.size()[0]).collect::<Vec<_>>(),
            vec![8, 8, 5]
        );
        assert_eq!(ds.eval_batches(8, Some(1)).count(), 1);
    }
}

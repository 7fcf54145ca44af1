//! Beam search over any [`CausalLm`]: `k` beams per prompt, a length penalty, and early stopping
//! at EOS.
//!
//! Every step extends each live beam by every token, scores the extensions by their summed
//! log-probability (the model's raw log-softmax, no sampling transforms), and keeps, per prompt,
//! the best `2k` candidates in order (ties: lower beam, then lower token id first). A candidate
//! ending in EOS becomes a finished hypothesis if it ranks among the first `k`; the first `k`
//! other candidates become the next live beams. A hypothesis of `L` generated tokens (EOS
//! included) with summed log-probability `s` scores `s / L^alpha` (the Hugging Face length
//! penalty; `alpha = 0` is the plain sum, `alpha > 0` favours longer outputs).
//!
//! A prompt's search ends when it holds `k` finished hypotheses and no live beam can beat the
//! worst of them anymore — a bound that is exact because log-probabilities are never
//! positive: with `alpha > 0` a live beam's best future score is its current sum divided by
//! `max_new_tokens^alpha`, otherwise its sum divided by `(L + 1)^alpha` — or, with
//! `early_stopping`, as soon as `k` hypotheses are finished. After `max_new_tokens` steps the live
//! beams join the finished ones. Results come per prompt, best first.
//!
//! With `use_cache` the model's KV cache follows the beams through [`KvCache::reorder`].

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::decoding::generate::{
    check_prompts, check_token_id, last_logits, to_host_f64, to_host_i64,
};
use crate::decoding::logits_processing::apply_repetition_penalty;
use crate::decoding::stop_tokens::StopTokens;
use crate::error::{Error, Result};
use crate::model::causal_lm::{CausalLm, KvCache};

/// Settings of [`beam_search`]; the default is 4 beams and up to 32 tokens (see
/// [`BeamSearchConfig::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BeamSearchConfig {
    /// Beams per prompt (`k >= 1`); also the most hypotheses returned per prompt.
    pub num_beams: usize,
    /// Most tokens generated (`>= 1`).
    pub max_new_tokens: i64,
    /// Exponent `alpha` of the length penalty `score = sum_logprob / len^alpha` (finite).
    pub length_penalty: f64,
    /// The tokens that finish a hypothesis (kept in its tokens); none: hypotheses run to
    /// `max_new_tokens`. Read from `eos_token_id` too.
    #[serde(alias = "eos_token_id")]
    pub eos_token_ids: StopTokens,
    /// Token fed to the beams of prompts whose search has ended.
    pub pad_token_id: i64,
    /// Stop a prompt as soon as `k` hypotheses are finished, without the bound check.
    pub early_stopping: bool,
    /// Whether to decode with the model's KV cache (same results either way).
    pub use_cache: bool,
    /// Repetition penalty (1 = off), applied as `transformers` applies it in beam search: to
    /// each step's log-probabilities (a token already in the row scores `penalty` times lower);
    /// the hypotheses' sums are of the penalised log-probabilities.
    pub repetition_penalty: f64,
}

impl Default for BeamSearchConfig {
    fn default() -> Self {
        Self::new(4, 32)
    }
}

impl BeamSearchConfig {
    /// `num_beams` beams for up to `max_new_tokens` tokens; length penalty 1, no EOS, pad 0,
    /// no early stopping, with the cache.
    pub fn new(num_beams: usize, max_new_tokens: i64) -> Self {
        Self {
            num_beams,
            max_new_tokens,
            length_penalty: 1.0,
            eos_token_ids: StopTokens::none(),
            pad_token_id: 0,
            early_stopping: false,
            use_cache: true,
            repetition_penalty: 1.0,
        }
    }

    /// Checks the settings against a vocabulary of `vocab` tokens.
    pub fn validate(&self, vocab: i64) -> Result<()> {
        if self.num_beams == 0 {
            return Err(Error::InvalidArgument("num_beams must be >= 1".to_owned()));
        }
        if self.max_new_tokens < 1 {
            return Err(Error::InvalidArgument(format!(
                "max_new_tokens must be >= 1, got {}",
                self.max_new_tokens
            )));
        }
        if !self.length_penalty.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "length_penalty must be finite, got {}",
                self.length_penalty
            )));
        }
        if !(self.repetition_penalty.is_finite() && self.repetition_penalty >= 1.0) {
            return Err(Error::InvalidArgument(format!(
                "repetition penalty must be finite and >= 1, got {}",
                self.repetition_penalty
            )));
        }
        check_token_id("pad_token_id", self.pad_token_id, vocab)?;
        self.eos_token_ids.validate("eos_token_ids", vocab)?;
        Ok(())
    }

    fn score(&self, sum_log_prob: f64, len: usize) -> f64 {
        sum_log_prob / (len as f64).powf(self.length_penalty)
    }

    /// The best score a live beam with summed log-probability `sum` after `len` tokens can
    /// still reach (log-probabilities are `<= 0`, so sums only fall).
    fn best_reachable(&self, sum: f64, len: usize) -> f64 {
        if self.length_penalty > 0.0 {
            self.score(sum, self.max_new_tokens as usize)
        } else {
            self.score(sum, len + 1)
        }
    }
}

/// One output sequence of [`beam_search`].
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    /// Generated tokens only (the EOS included when `finished`).
    pub tokens: Vec<i64>,
    /// Sum of the tokens' log-probabilities (nats).
    pub sum_log_prob: f64,
    /// `sum_log_prob / len^alpha`; results are sorted by it, descending.
    pub score: f64,
    /// Whether the hypothesis ended with EOS (otherwise it hit `max_new_tokens`).
    pub finished: bool,
}

/// A live beam: its generated tokens and summed log-probability.
#[derive(Debug, Clone)]
struct Beam {
    tokens: Vec<i64>,
    sum: f64,
}

/// Beam search from left-padded `prompts` (int64 `[B, T]`, mask `[B, T]` or `None`). Returns,
/// for each prompt, up to `num_beams` hypotheses sorted by score (best first).
pub fn beam_search<M: CausalLm>(
    model: &M,
    prompts: &Tensor,
    attention_mask: Option<&Tensor>,
    cfg: &BeamSearchConfig,
) -> Result<Vec<Vec<Hypothesis>>> {
    let vocab = model.vocab_size();
    cfg.validate(vocab)?;
    let p = check_prompts(model, prompts, attention_mask, cfg.max_new_tokens)?;
    tch::no_grad(|| search(model, p, cfg))
}

fn search<M: CausalLm>(
    model: &M,
    p: crate::decoding::generate::Prompts,
    cfg: &BeamSearchConfig,
) -> Result<Vec<Vec<Hypothesis>>> {
    let (device, vocab) = (model.device(), model.vocab_size());
    let (n_prompts, k) = (p.batch as usize, cfg.num_beams);
    let rows = n_prompts * k;
    let expand = Tensor::f_arange(p.batch, (Kind::Int64, device))?.f_repeat_interleave_self_int(
        k as i64,
        0,
        None::<i64>,
    )?;
    let mut seq = p.tokens.f_index_select(0, &expand)?;
    let mut mask = p.mask.f_index_select(0, &expand)?;
    let mut cache = if cfg.use_cache {
        Some(model.empty_cache(rows as i64)?)
    } else {
        None
    };
    // Only the first beam of each prompt is live at the start (the others are copies).
    let mut beams: Vec<Beam> = (0..rows)
        .map(|r| Beam {
            tokens: Vec::new(),
            sum: if r % k == 0 { 0.0 } else { f64::NEG_INFINITY },
        })
        .collect();
    let mut finished: Vec<Vec<Hypothesis>> = vec![Vec::new(); n_prompts];
    let mut done = vec![false; n_prompts];
    let n_cand = (2 * k as i64).min(k as i64 * vocab);
    for step in 0..cfg.max_new_tokens as usize {
        let model_mask = p.padded.then_some(&mask);
        let logits = last_logits(model, &seq, model_mask, cache.as_mut())?;
        let sums: Vec<f64> = beams.iter().map(|b| b.sum).collect();
        let mut log_probs = logits.f_log_softmax(-1, Kind::Double)?;
        if cfg.repetition_penalty != 1.0 {
            log_probs =
                apply_repetition_penalty(&log_probs, &seq, Some(&mask), cfg.repetition_penalty)?
                    .f_to_kind(Kind::Double)?;
        }
        let totals = log_probs
            .f_add(
                &Tensor::from_slice(&sums)
                    .f_to_device(device)?
                    .f_unsqueeze(1)?,
            )?
            .f_reshape([p.batch, k as i64 * vocab])?;
        let (values, order) = totals.f_sort_stable(true, -1, true)?;
        let values = to_host_f64(&values.f_narrow(1, 0, n_cand)?)?;
        let order = to_host_i64(&order.f_narrow(1, 0, n_cand)?)?;

        let mut next: Vec<(usize, i64, f64)> = Vec::with_capacity(rows);
        for b in 0..n_prompts {
            let first = b * k;
            if done[b] {
                next.extend((first..first + k).map(|r| (r, cfg.pad_token_id, beams[r].sum)));
                continue;
            }
            let mut live = Vec::with_capacity(k);
            for rank in 0..n_cand as usize {
                let (total, flat) = (
                    values[b * n_cand as usize + rank],
                    order[b * n_cand as usize + rank],
                );
                if total == f64::NEG_INFINITY || live.len() == k {
                    break;
                }
                let (src, token) = (first + (flat / vocab) as usize, flat % vocab);
                if cfg.eos_token_ids.contains(token) {
                    if rank < k {
                        let mut tokens = beams[src].tokens.clone();
                        tokens.push(token);
                        finished[b].push(Hypothesis {
                            score: cfg.score(total, tokens.len()),
                            tokens,
                            sum_log_prob: total,
                            finished: true,
                        });
                    }
                } else {
                    live.push((src, token, total));
                }
            }
            // Too few candidates (tiny vocabularies): dead placeholder beams.
            while live.len() < k {
                live.push((first, cfg.pad_token_id, f64::NEG_INFINITY));
            }
            keep_best(&mut finished[b], k);
            let best_live = live.iter().map(|c| c.2).fold(f64::NEG_INFINITY, f64::max);
            done[b] = finished[b].len() >= k
                && (cfg.early_stopping
                    || worst_score(&finished[b]) >= cfg.best_reachable(best_live, step + 1));
            next.extend(live);
        }

        let index: Vec<i64> = next.iter().map(|c| c.0 as i64).collect();
        let tokens: Vec<i64> = next.iter().map(|c| c.1).collect();
        beams = next
            .iter()
            .map(|&(src, token, sum)| {
                let mut tokens = beams[src].tokens.clone();
                tokens.push(token);
                Beam { tokens, sum }
            })
            .collect();
        if done.iter().all(|&d| d) || step + 1 == cfg.max_new_tokens as usize {
            break;
        }
        let index = Tensor::from_slice(&index).f_to_device(device)?;
        let col = Tensor::from_slice(&tokens)
            .f_to_device(device)?
            .f_unsqueeze(1)?;
        seq = Tensor::f_cat(&[&seq.f_index_select(0, &index)?, &col], 1)?;
        mask = Tensor::f_cat(&[&mask.f_index_select(0, &index)?, &col.f_ones_like()?], 1)?;
        if let Some(cache) = cache.as_mut() {
            cache.reorder(&index)?;
        }
    }

    for (b, hyps) in finished.iter_mut().enumerate() {
        if !done[b] {
            for beam in beams[b * k..(b + 1) * k]
                .iter()
                .filter(|x| x.sum.is_finite())
            {
                hyps.push(Hypothesis {
                    score: cfg.score(beam.sum, beam.tokens.len()),
                    tokens: beam.tokens.clone(),
                    sum_log_prob: beam.sum,
                    finished: false,
                });
            }
        }
        keep_best(hyps, k);
    }
    Ok(finished)
}

/// Sorts by score (descending; stable, so earlier hypotheses win ties) and keeps `k`.
fn keep_best(hyps: &mut Vec<Hypothesis>, k: usize) {
    hyps.sort_by(|a, b| b.score.total_cmp(&a.score));
    hyps.truncate(k);
}

fn worst_score(hyps: &[Hypothesis]) -> f64 {
    hyps.iter().map(|h| h.score).fold(f64::INFINITY, f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decoding::generate::{GenerateConfig, generate};
    use crate::decoding::scoring::sequence_log_prob;
    use crate::test_models::ToyLm;
    use tokengym::seeding::rng_from_seed;

    /// Two left-padded prompts of lengths 2 and 3.
    fn prompts() -> (Tensor, Tensor) {
        let tokens = Tensor::from_slice(&[0i64, 5, 1, 2, 3, 4]).reshape([2, 3]);
        let mask = Tensor::from_slice(&[0i64, 1, 1, 1, 1, 1]).reshape([2, 3]);
        (tokens, mask)
    }

    fn search(lm: &ToyLm, cfg: &BeamSearchConfig) -> Vec<Vec<Hypothesis>> {
        let (tokens, mask) = prompts();
        beam_search(lm, &tokens, Some(&mask), cfg).unwrap()
    }

    /// Greedy output per row, cut after the first EOS.
    fn greedy(lm: &ToyLm, max_new: i64, eos: Option<i64>) -> Vec<Vec<i64>> {
        let (tokens, mask) = prompts();
        let cfg = GenerateConfig {
            eos_token_ids: eos.into(),
            ..GenerateConfig::greedy(max_new)
        };
        let g = generate(lm, &tokens, Some(&mask), &cfg, &mut rng_from_seed(Some(0))).unwrap();
        let all: Vec<Vec<i64>> = Vec::try_from(&g.tokens).unwrap();
        all.into_iter()
            .zip(&g.lengths)
            .map(|(row, &n)| row[..n as usize].to_vec())
            .collect()
    }

    #[test]
    fn the_repetition_penalty_lowers_repeated_tokens() {
        // After 3 the model prefers 3 (log-prob -0.49) over 2 (-1.49); penalised by 4 the
        // repeated 3 scores -1.98 and 2 wins.
        let lm = ToyLm::repeating();
        let prompt = Tensor::from_slice(&[3i64]).reshape([1, 1]);
        let go = |cfg: &BeamSearchConfig| beam_search(&lm, &prompt, None, cfg).unwrap();
        assert_eq!(go(&BeamSearchConfig::new(1, 2))[0][0].tokens, [3, 3]);
        let penalised = BeamSearchConfig {
            repetition_penalty: 4.0,
            ..BeamSearchConfig::new(1, 2)
        };
        assert_eq!(go(&penalised)[0][0].tokens, [2, 0]);
        let bad = BeamSearchConfig {
            repetition_penalty: 0.5,
            ..BeamSearchConfig::new(1, 2)
        };
        assert!(beam_search(&lm, &prompt, None, &bad).is_err());
    }

    #[test]
    fn one_beam_equals_greedy() {
        let lm = ToyLm::random(7, 16, 1.5, 21);
        for (eos, alpha) in [(None, 1.0), (Some(2), 0.0), (Some(4), 0.0)] {
            for use_cache in [true, false] {
                let cfg = BeamSearchConfig {
                    eos_token_ids: eos.into(),
                    length_penalty: alpha,
                    use_cache,
                    ..BeamSearchConfig::new(1, 8)
                };
                let beams = search(&lm, &cfg);
                let expect = greedy(&lm, 8, eos);
                for (row, hyps) in beams.iter().enumerate() {
                    assert_eq!(hyps.len(), 1);
                    assert_eq!(hyps[0].tokens, expect[row], "eos {eos:?}, row {row}");
                }
            }
        }
    }

    #[test]
    fn results_are_sorted_and_scores_match_a_rescoring() {
        let lm = ToyLm::random(7, 16, 1.5, 22);
        let cfg = BeamSearchConfig {
            eos_token_ids: StopTokens::from(Some(3)),
            length_penalty: 0.8,
            ..BeamSearchConfig::new(4, 6)
        };
        let prompt_rows: [&[i64]; 2] = [&[5, 1], &[2, 3, 4]];
        for (row, hyps) in search(&lm, &cfg).iter().enumerate() {
            assert_eq!(hyps.len(), 4);
            assert!(hyps.windows(2).all(|w| w[0].score >= w[1].score));
            for h in hyps {
                assert_eq!(h.finished, h.tokens.last() == Some(&3));
                assert!(h.tokens[..h.tokens.len() - 1].iter().all(|&t| t != 3));
                let sum = sequence_log_prob(&lm, prompt_rows[row], &h.tokens).unwrap();
                assert!(
                    (sum - h.sum_log_prob).abs() < 1e-4,
                    "{sum} vs {}",
                    h.sum_log_prob
                );
                let score = h.sum_log_prob / (h.tokens.len() as f64).powf(0.8);
                assert!((score - h.score).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn cache_and_no_cache_agree_with_several_beams() {
        let lm = ToyLm::random(7, 16, 1.0, 23);
        let cfg = BeamSearchConfig {
            eos_token_ids: StopTokens::from(Some(1)),
            ..BeamSearchConfig::new(3, 7)
        };
        let cached = search(&lm, &cfg);
        let plain = search(
            &lm,
            &BeamSearchConfig {
                use_cache: false,
                ..cfg
            },
        );
        assert_eq!(cached.len(), plain.len());
        for (a, b) in cached.iter().zip(&plain) {
            let toks = |h: &[Hypothesis]| h.iter().map(|x| x.tokens.clone()).collect::<Vec<_>>();
            assert_eq!(toks(a), toks(b));
        }
    }

    #[test]
    fn wider_beams_find_a_better_sequence_than_greedy() {
        // EOS = 3. After 0: token 1 (p 0.55) or 2 (p 0.45); after 1: uniform; after 2: EOS.
        let ln = |p: f32| p.ln();
        let lm = ToyLm::bigram(
            vec![
                vec![-30.0, ln(0.55), ln(0.45), -30.0],
                vec![0.0, 0.0, 0.0, 0.0],
                vec![-30.0, -30.0, -30.0, 0.0],
                vec![0.0, 0.0, 0.0, 0.0],
            ],
            8,
        );
        let prompt = Tensor::from_slice(&[0i64]).reshape([1, 1]);
        let cfg = BeamSearchConfig {
            eos_token_ids: StopTokens::from(Some(3)),
            length_penalty: 0.0,
            ..BeamSearchConfig::new(2, 4)
        };
        let hyps = beam_search(&lm, &prompt, None, &cfg).unwrap();
        assert_eq!(hyps[0][0].tokens, [2, 3]);
        assert!(hyps[0][0].finished);
        assert!((hyps[0][0].sum_log_prob - 0.45f64.ln()).abs() < 1e-4);
        let one = BeamSearchConfig {
            num_beams: 1,
            ..cfg
        };
        assert_eq!(
            beam_search(&lm, &prompt, None, &one).unwrap()[0][0].tokens[0],
            1
        );
    }

    #[test]
    fn enough_beams_make_the_search_exhaustive() {
        // V = 4, EOS = 3, 3 steps: 1 + 3 + 9 EOS-terminated sequences and 27 of full length.
        let lm = ToyLm::random(4, 8, 1.5, 25);
        let prompt: &[i64] = &[1, 2];
        let alpha = 0.7;
        let mut all: Vec<Vec<i64>> = vec![vec![3]];
        for a in 0..3 {
            all.push(vec![a, 3]);
            for b in 0..3 {
                all.push(vec![a, b, 3]);
                all.extend((0..3).map(|c| vec![a, b, c]));
            }
        }
        let mut expect: Vec<(f64, Vec<i64>)> = all
            .into_iter()
            .map(|t| {
                let sum = sequence_log_prob(&lm, prompt, &t).unwrap();
                (sum / (t.len() as f64).powf(alpha), t)
            })
            .collect();
        expect.sort_by(|a, b| b.0.total_cmp(&a.0));
        let cfg = BeamSearchConfig {
            eos_token_ids: StopTokens::from(Some(3)),
            length_penalty: alpha,
            ..BeamSearchConfig::new(40, 3)
        };
        let tokens = Tensor::from_slice(prompt).reshape([1, 2]);
        let hyps = &beam_search(&lm, &tokens, None, &cfg).unwrap()[0];
        assert_eq!(hyps.len(), 40);
        for (h, (score, t)) in hyps.iter().zip(&expect) {
            assert_eq!(&h.tokens, t);
            assert!((h.score - score).abs() < 1e-4);
        }
    }

    #[test]
    fn early_stopping_returns_the_first_finished_hypotheses() {
        // EOS = 2. After 0: EOS (p 0.6) or 1 (p 0.4); after 1: EOS (p 0.95).
        let lm = ToyLm::bigram(
            vec![
                vec![-30.0, 0.4f32.ln(), 0.6f32.ln()],
                vec![-30.0, 0.05f32.ln(), 0.95f32.ln()],
                vec![0.0, 0.0, 0.0],
            ],
            8,
        );
        let prompt = Tensor::from_slice(&[0i64]).reshape([1, 1]);
        // With alpha = 1, [1, EOS] scores ln(0.38) / 2 > ln(0.6) / 1: worth waiting for.
        let cfg = BeamSearchConfig {
            eos_token_ids: StopTokens::from(Some(2)),
            ..BeamSearchConfig::new(1, 4)
        };
        let patient = beam_search(&lm, &prompt, None, &cfg).unwrap();
        assert_eq!(patient[0][0].tokens, [1, 2]);
        let eager = BeamSearchConfig {
            early_stopping: true,
            ..cfg
        };
        let eager = beam_search(&lm, &prompt, None, &eager).unwrap();
        assert_eq!(eager[0][0].tokens, [2]);
        assert!(eager[0][0].finished);
    }

    #[test]
    fn bad_inputs_are_errors() {
        let lm = ToyLm::random(7, 6, 1.0, 24);
        let (tokens, mask) = prompts();
        let run = |cfg: BeamSearchConfig| beam_search(&lm, &tokens, Some(&mask), &cfg).is_err();
        assert!(run(BeamSearchConfig::new(0, 2)));
        assert!(run(BeamSearchConfig::new(2, 0)));
        assert!(run(BeamSearchConfig::new(2, 4)));
        assert!(run(BeamSearchConfig {
            eos_token_ids: StopTokens::from(Some(7)),
            ..BeamSearchConfig::new(2, 2)
        }));
        assert!(run(BeamSearchConfig {
            length_penalty: f64::NAN,
            ..BeamSearchConfig::new(2, 2)
        }));
        assert!(!run(BeamSearchConfig::new(2, 3)));
    }
}

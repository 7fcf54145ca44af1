//! ROUGE-N, ROUGE-L and ROUGE-Lsum over token lists, as `rouge_score` 0.1.2 computes them.

use std::collections::HashMap;

/// Precision, recall and F1 of one ROUGE measure (each in `[0, 1]`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RougeScore {
    /// Matches over the prediction's size (n-grams or tokens).
    pub precision: f64,
    /// Matches over the target's size.
    pub recall: f64,
    /// The harmonic mean `2 p r / (p + r)`, 0 when both are 0.
    pub fmeasure: f64,
}

impl RougeScore {
    /// The score with these precision and recall, and their F1.
    pub fn new(precision: f64, recall: f64) -> Self {
        // The same operations in the same order as `rouge_score.scoring.fmeasure`.
        let fmeasure = if precision + recall > 0.0 {
            2.0 * precision * recall / (precision + recall)
        } else {
            0.0
        };
        RougeScore {
            precision,
            recall,
            fmeasure,
        }
    }
}

/// ROUGE-N: n-gram overlap with clipped counts. Each distinct n-gram of the target matches at
/// most as often as it occurs in the prediction; precision divides the matches by the
/// prediction's n-gram count, recall by the target's (a text shorter than `n` has none, and
/// scores 0). `n` must be at least 1 (the metric is undefined for 0: this gives 0).
pub fn rouge_n<S: AsRef<str>>(target: &[S], prediction: &[S], n: usize) -> RougeScore {
    if n == 0 {
        return RougeScore::default();
    }
    let target_counts = ngram_counts(target, n);
    let prediction_counts = ngram_counts(prediction, n);
    let matches: usize = target_counts
        .iter()
        .map(|(gram, &c)| c.min(prediction_counts.get(gram).copied().unwrap_or(0)))
        .sum();
    let target_total = (target.len() + 1).saturating_sub(n);
    let prediction_total = (prediction.len() + 1).saturating_sub(n);
    RougeScore::new(
        matches as f64 / prediction_total.max(1) as f64,
        matches as f64 / target_total.max(1) as f64,
    )
}

fn ngram_counts<S: AsRef<str>>(tokens: &[S], n: usize) -> HashMap<Vec<&str>, usize> {
    let mut counts = HashMap::new();
    for window in tokens.windows(n) {
        let gram: Vec<&str> = window.iter().map(AsRef::as_ref).collect();
        *counts.entry(gram).or_insert(0) += 1;
    }
    counts
}

/// ROUGE-L (`rougeL`): the longest common subsequence of the two token lists over the
/// prediction's length (precision) and the target's (recall). Either list empty scores 0.
pub fn rouge_l<S: AsRef<str>>(target: &[S], prediction: &[S]) -> RougeScore {
    if target.is_empty() || prediction.is_empty() {
        return RougeScore::default();
    }
    let lcs = *lcs_table(target, prediction)
        .last()
        .and_then(|row| row.last())
        .unwrap_or(&0);
    RougeScore::new(
        lcs as f64 / prediction.len() as f64,
        lcs as f64 / target.len() as f64,
    )
}

/// The LCS lengths table: `t[i][j]` is the LCS length of `a[..i]` and `b[..j]`.
fn lcs_table<S: AsRef<str>>(a: &[S], b: &[S]) -> Vec<Vec<usize>> {
    let mut t = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            t[i + 1][j + 1] = if x.as_ref() == y.as_ref() {
                t[i][j] + 1
            } else {
                t[i][j + 1].max(t[i + 1][j])
            };
        }
    }
    t
}

/// The positions in `a` of one LCS of `a` and `b`, in increasing order: the one
/// `rouge_score` reads back (from the end, taking a match when the tokens are equal, else
/// stepping back in `b` only when that keeps a strictly longer LCS, else in `a`).
fn lcs_positions<S: AsRef<str>>(a: &[S], b: &[S]) -> Vec<usize> {
    let t = lcs_table(a, b);
    let (mut i, mut j) = (a.len(), b.len());
    let mut positions = Vec::new();
    while i > 0 && j > 0 {
        if a[i - 1].as_ref() == b[j - 1].as_ref() {
            positions.push(i - 1);
            i -= 1;
            j -= 1;
        } else if t[i][j - 1] > t[i - 1][j] {
            j -= 1;
        } else {
            i -= 1;
        }
    }
    positions.reverse();
    positions
}

/// ROUGE-Lsum (`rougeLsum`): summary-level LCS over sentences (Lin 2004, section 3.2).
///
/// For each target sentence, the union of its LCS positions with every prediction sentence
/// gives candidate hits; a hit counts while its token has occurrences left in both texts (each
/// counted over all sentences, and used up by hits). Precision is hits over the prediction's
/// token count, recall over the target's. No sentences, or no tokens, on either side score 0.
/// [`RougeScorer`](super::RougeScorer) splits texts into sentences at newlines.
pub fn rouge_lsum<S: AsRef<str>>(target: &[Vec<S>], prediction: &[Vec<S>]) -> RougeScore {
    let m: usize = target.iter().map(Vec::len).sum();
    let n: usize = prediction.iter().map(Vec::len).sum();
    if m == 0 || n == 0 {
        return RougeScore::default();
    }
    let mut left_target = token_counts(target);
    let mut left_prediction = token_counts(prediction);
    let mut hits = 0usize;
    for sentence in target {
        let mut union: Vec<usize> = prediction
            .iter()
            .flat_map(|p| lcs_positions(sentence, p))
            .collect();
        union.sort_unstable();
        union.dedup();
        for i in union {
            let token = sentence[i].as_ref();
            let (Some(ct), Some(cp)) = (left_target.get_mut(token), left_prediction.get_mut(token))
            else {
                continue;
            };
            if *ct > 0 && *cp > 0 {
                hits += 1;
                *ct -= 1;
                *cp -= 1;
            }
        }
    }
    RougeScore::new(hits as f64 / n as f64, hits as f64 / m as f64)
}

fn token_counts<S: AsRef<str>>(sentences: &[Vec<S>]) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for token in sentences.iter().flatten() {
        *counts.entry(token.as_ref()).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    #[test]
    fn hand_computed_values() {
        // Clipped unigrams: "the" twice in the target matches twice, "cat" once.
        let s = rouge_n(&toks("the cat the dog"), &toks("the the the cat"), 1);
        assert_eq!((s.precision, s.recall), (0.75, 0.75));
        let s = rouge_n(&toks("a b c"), &toks("a b d"), 2);
        assert_eq!((s.precision, s.recall), (0.5, 0.5));
        assert_eq!(rouge_n(&toks("a"), &toks("a"), 2), RougeScore::default());
        assert_eq!(rouge_n(&toks("a"), &toks("a"), 0), RougeScore::default());
        let s = rouge_l(&toks("a b c d"), &toks("a c e"));
        assert_eq!((s.precision, s.recall), (2.0 / 3.0, 0.5));
        assert!((s.fmeasure - 4.0 / 7.0).abs() < 1e-15);
        assert_eq!(rouge_l(&toks(""), &toks("a")), RougeScore::default());
        // Lin's example: r = w1 w2 w3 w4 w5, c1 = w1 w2 w6 w7 w8, c2 = w1 w3 w8 w9 w5;
        // the union LCS is w1 w2 w3 w5: 4 hits of 5 reference and 10 candidate tokens.
        let r = vec![toks("w1 w2 w3 w4 w5")];
        let c = vec![toks("w1 w2 w6 w7 w8"), toks("w1 w3 w8 w9 w5")];
        let s = rouge_lsum(&r, &c);
        assert_eq!((s.precision, s.recall), (0.4, 0.8));
        assert_eq!(rouge_lsum(&r, &[]), RougeScore::default());
    }
}

//! The memory a batch of language-model rows needs, checked before the batch is run: a
//! `--batch`, `--batch-size` or `--num-beams` far too large for the machine must be a one-line
//! error, not an aborted allocation or minutes of swapping followed by the out-of-memory killer.

use anyhow::{Result, bail};
use tokengym_lm::model::DecoderConfig;

/// Bytes that `rows` sequences of up to the model's context need at once while decoding with
/// the KV cache (f32): keys and values of every layer, one hidden state per position for the
/// forward pass, and a row of logits each. An estimate from below: real use is higher.
pub fn decoding_bytes(config: &DecoderConfig, rows: usize) -> u128 {
    let kv_heads = config.n_kv_heads.unwrap_or(config.n_heads).max(1) as u128;
    let head_dim = config
        .explicit_head_dim
        .unwrap_or(config.d_model / config.n_heads.max(1))
        .max(1) as u128;
    let ctx = config.context_len.max(1) as u128;
    let per_position =
        2 * config.n_layers.max(1) as u128 * kv_heads * head_dim + config.d_model.max(1) as u128;
    let per_row = ctx * per_position + config.vocab_size.max(1) as u128;
    rows as u128 * per_row * 4
}

/// The memory this machine has available now (`MemAvailable` of `/proc/meminfo`), if known.
pub fn available_bytes() -> Option<u128> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u128 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// An error when `rows` rows of the model (`what` says which flag asked for them) need more
/// memory than `available` bytes; nothing is checked when `available` is unknown.
pub fn check_rows_fit(
    config: &DecoderConfig,
    rows: usize,
    what: &str,
    available: Option<u128>,
) -> Result<()> {
    let need = decoding_bytes(config, rows);
    if let Some(have) = available
        && need > have
    {
        let gib = |b: u128| b as f64 / (1u128 << 30) as f64;
        bail!(
            "{what}: {rows} rows of this model need at least {:.1} GiB at once (keys, values, \
             hidden states and logits of a full context), more than the {:.1} GiB of memory \
             available; use fewer",
            gib(need),
            gib(have)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_grows_with_rows_and_refuses_what_does_not_fit() {
        let cfg = DecoderConfig::tiny(50);
        let one = decoding_bytes(&cfg, 1);
        assert!(one > 0);
        assert_eq!(decoding_bytes(&cfg, 1000), 1000 * one);
        check_rows_fit(&cfg, 16, "--batch", Some(1 << 30)).unwrap();
        let e = check_rows_fit(&cfg, 10_000_000, "--batch", Some(1 << 30)).unwrap_err();
        assert!(
            e.to_string().contains("--batch") && e.to_string().contains("GiB"),
            "{e}"
        );
        check_rows_fit(&cfg, usize::MAX, "--batch", None).unwrap();
    }
}

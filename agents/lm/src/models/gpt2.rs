//! GPT-2 (`model_type` `gpt2`): learned positions, LayerNorm, fused `Conv1D` attention, GELU MLP,
//! tied head.

use serde_json::{Value, json};

use crate::error::Result;
use crate::model::{Activation, DecoderConfig, ModelFamily, PositionEncoding};
use crate::models::hf_config::HfConfig;

/// Reads `n_embd`, `n_layer`, `n_head`, `n_positions`, `vocab_size`, `layer_norm_epsilon`,
/// `n_inner`, `activation_function` (`gelu_new`/`gelu_pytorch_tanh`: tanh GELU, `gelu`: exact),
/// `resid_pdrop` and `tie_word_embeddings`. Unscaled or per-layer scaled attention and
/// cross-attention are errors.
pub fn config(c: &HfConfig) -> Result<DecoderConfig> {
    let activation = gelu(c, "activation_function")?;
    if !c.bool_or("scale_attn_weights", true)? {
        return Err(c.error("scale_attn_weights = false is not supported"));
    }
    for key in [
        "scale_attn_by_inverse_layer_idx",
        "add_cross_attention",
        "reorder_and_upcast_attn",
    ] {
        if c.bool_or(key, false)? {
            return Err(c.error(format!("{key} = true is not supported")));
        }
    }
    Ok(DecoderConfig {
        vocab_size: c.int("vocab_size")?,
        context_len: c.int("n_positions")?,
        d_model: c.int("n_embd")?,
        n_layers: c.int("n_layer")?,
        n_heads: c.int("n_head")?,
        d_ff: c.int_opt("n_inner")?,
        dropout: c.float_or("resid_pdrop", 0.1)?,
        position: PositionEncoding::Learned,
        tie_embeddings: c.bool_or("tie_word_embeddings", true)?,
        layer_norm_eps: c.float_or("layer_norm_epsilon", 1e-5)?,
        bias: true,
        activation,
        family: ModelFamily::Gpt2,
        ..DecoderConfig::tiny(1)
    })
}

/// The GELU named by `key` (absent: `gelu_new`).
pub(crate) fn gelu(c: &HfConfig, key: &str) -> Result<Activation> {
    match c.str_opt(key)? {
        None | Some("gelu_new" | "gelu_pytorch_tanh") => Ok(Activation::Tanh),
        Some("gelu") => Ok(Activation::Exact),
        Some(other) => Err(c.error(format!(
            "unsupported {key} {other:?}: expected gelu_new, gelu_pytorch_tanh or gelu"
        ))),
    }
}

/// The name `transformers` gives a GELU.
pub(crate) fn gelu_name(a: Activation) -> &'static str {
    match a {
        Activation::Exact => "gelu",
        _ => "gelu_new",
    }
}

/// The `config.json` fields of `cfg` as a GPT-2 folder (beside the common ones).
pub fn hf_fields(cfg: &DecoderConfig) -> Value {
    json!({
        "architectures": ["GPT2LMHeadModel"],
        "vocab_size": cfg.vocab_size,
        "n_positions": cfg.context_len,
        "n_embd": cfg.d_model,
        "n_layer": cfg.n_layers,
        "n_head": cfg.n_heads,
        "n_inner": cfg.d_ff,
        "activation_function": gelu_name(cfg.activation),
        "resid_pdrop": cfg.dropout,
        "embd_pdrop": cfg.dropout,
        "attn_pdrop": cfg.dropout,
        "layer_norm_epsilon": cfg.layer_norm_eps,
        "scale_attn_weights": true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HF_TINY: &str = r#"{
        "activation_function": "gelu_new", "architectures": ["GPT2LMHeadModel"],
        "attn_pdrop": 0.1, "bos_token_id": 50256, "embd_pdrop": 0.1, "eos_token_id": 50256,
        "initializer_range": 0.02, "layer_norm_epsilon": 1e-05, "model_type": "gpt2",
        "n_embd": 32, "n_head": 4, "n_inner": null, "n_layer": 2, "n_positions": 64,
        "reorder_and_upcast_attn": false, "resid_pdrop": 0.1,
        "scale_attn_by_inverse_layer_idx": false, "scale_attn_weights": true,
        "vocab_size": 100
    }"#;

    fn read(json: &str) -> Result<DecoderConfig> {
        let cfg = config(&HfConfig::parse(json)?)?;
        cfg.validate()?;
        Ok(cfg)
    }

    #[test]
    fn reads_hugging_face_gpt2_config() {
        let cfg = read(HF_TINY).unwrap();
        assert_eq!(cfg.vocab_size, 100);
        assert_eq!(cfg.context_len, 64);
        assert_eq!((cfg.d_model, cfg.n_layers, cfg.n_heads), (32, 2, 4));
        assert_eq!(cfg.ff_dim(), 128);
        assert_eq!(cfg.position, PositionEncoding::Learned);
        assert_eq!(cfg.activation, Activation::Tanh);
        assert_eq!(cfg.family, ModelFamily::Gpt2);
        assert!(cfg.tie_embeddings);
        assert_eq!(cfg.layer_norm_eps, 1e-5);
        let exact = HF_TINY.replace("gelu_new", "gelu");
        assert_eq!(read(&exact).unwrap().activation, Activation::Exact);
        let inner = HF_TINY.replace("\"n_inner\": null", "\"n_inner\": 40");
        assert_eq!(read(&inner).unwrap().ff_dim(), 40);
    }

    #[test]
    fn rejects_unsupported_hugging_face_configs() {
        let err = |json: &str| read(json).unwrap_err().to_string();
        assert!(err(&HF_TINY.replace("gelu_new", "relu")).contains("activation_function"));
        assert!(err(&HF_TINY.replace("\"n_embd\": 32,", "")).contains("n_embd"));
        let unscaled = HF_TINY.replace(
            "\"scale_attn_weights\": true",
            "\"scale_attn_weights\": false",
        );
        assert!(err(&unscaled).contains("scale_attn_weights"));
        assert!(HfConfig::parse("[1, 2]").is_err());
        assert!(HfConfig::parse("{not json").is_err());
    }
}

//! Llama (`model_type` `llama`: Llama 1-3, SmolLM, TinyLlama): RoPE in the `rotate_half` layout
//! with `rope_scaling`, RMSNorm, a gated SiLU MLP, grouped-query attention and an optional bias
//! on the attention and MLP projections. Qwen2 and Qwen3 are read through the same function with
//! their differences ([`LlamaVariant`]).

use serde_json::{Value, json};

use crate::error::Result;
#[cfg(test)]
use crate::model::RopeScaling;
use crate::model::{Activation, DecoderConfig, ModelFamily, NormKind, PositionEncoding};
use crate::models::hf_config::HfConfig;
use crate::models::rope_params::read_rope;
use crate::models::sliding_window::{WindowStyle, read_window, window_fields};

/// What a Llama-shaped family changes.
#[derive(Debug, Clone, Copy)]
pub struct LlamaVariant {
    /// The family.
    pub family: ModelFamily,
    /// Biases on q/k/v (Qwen2: always, without an `attention_bias` field).
    pub qkv_bias_always: bool,
    /// Per-head q/k RMSNorm (Qwen3).
    pub qk_norm: bool,
    /// `head_dim` when the config has none (`None`: `hidden_size / num_attention_heads`).
    pub default_head_dim: Option<i64>,
    /// `tie_word_embeddings` when the config does not say.
    pub default_tied: bool,
    /// How the config states sliding-window attention.
    pub window: WindowStyle,
}

/// The Llama family itself.
pub const LLAMA: LlamaVariant = LlamaVariant {
    family: ModelFamily::Llama,
    qkv_bias_always: false,
    qk_norm: false,
    default_head_dim: None,
    default_tied: false,
    window: WindowStyle::Unsupported,
};

/// Reads a Llama `config.json`.
pub fn config(c: &HfConfig) -> Result<DecoderConfig> {
    llama_like(c, LLAMA)
}

/// Reads `hidden_size`, `intermediate_size`, `num_hidden_layers`, `num_attention_heads`,
/// `num_key_value_heads`, `head_dim`, `max_position_embeddings`, `vocab_size`, `rms_norm_eps`,
/// `hidden_act` (`silu` only), `attention_bias`, `mlp_bias`, `tie_word_embeddings`,
/// `attention_dropout`, the RoPE settings and the family's sliding-window fields
/// ([`read_window`]).
pub fn llama_like(c: &HfConfig, v: LlamaVariant) -> Result<DecoderConfig> {
    match c.str_opt("hidden_act")? {
        None | Some("silu") => {}
        Some(other) => {
            return Err(c.error(format!("hidden_act {other:?} is not supported (only silu)")));
        }
    }
    let n_layers = c.int("num_hidden_layers")?;
    let (layer_attention, window_size) = read_window(c, v.window, n_layers.max(0))?;
    let d_model = c.int("hidden_size")?;
    let n_heads = c.int("num_attention_heads")?;
    let max_positions = c.int("max_position_embeddings")?;
    let (rope_theta, rope_scaling) = read_rope(c, 10_000.0, max_positions)?;
    let head_dim = c.int_opt("head_dim")?.or(v.default_head_dim);
    let attention_bias = c.bool_or("attention_bias", false)?;
    Ok(DecoderConfig {
        vocab_size: c.int("vocab_size")?,
        context_len: max_positions,
        d_model,
        n_layers,
        n_heads,
        n_kv_heads: Some(c.int_opt("num_key_value_heads")?.unwrap_or(n_heads)),
        explicit_head_dim: head_dim.filter(|&h| n_heads <= 0 || h * n_heads != d_model),
        d_ff: Some(c.int("intermediate_size")?),
        dropout: c.float_or("attention_dropout", 0.0)?,
        position: PositionEncoding::Rope,
        rope_theta,
        rope_scaling,
        tie_embeddings: c.bool_or("tie_word_embeddings", v.default_tied)?,
        layer_norm_eps: c.float_or("rms_norm_eps", 1e-6)?,
        bias: false,
        qkv_bias: Some(v.qkv_bias_always || attention_bias),
        attn_out_bias: Some(attention_bias),
        mlp_bias: Some(c.bool_or("mlp_bias", false)?),
        activation: Activation::Silu,
        norm: NormKind::RmsNorm,
        gated_mlp: true,
        qk_norm: v.qk_norm,
        layer_attention,
        window_size,
        family: v.family,
        ..DecoderConfig::tiny(1)
    })
}

/// The RoPE fields of `cfg` in transformers 5's `rope_parameters` form.
pub fn rope_parameters(cfg: &DecoderConfig) -> Value {
    let mut p = match &cfg.rope_scaling {
        None => json!({"rope_type": "default"}),
        Some(s) => serde_json::to_value(s).unwrap_or(Value::Null),
    };
    if let Value::Object(m) = &mut p {
        m.insert("rope_theta".to_owned(), json!(cfg.rope_theta));
    }
    p
}

/// The `config.json` fields of a Llama-shaped `cfg` under `architecture`, with the
/// sliding-window fields of `window`.
pub fn hf_fields(cfg: &DecoderConfig, architecture: &str, window: WindowStyle) -> Result<Value> {
    let mut fields = json!({
        "architectures": [architecture],
        "vocab_size": cfg.vocab_size,
        "max_position_embeddings": cfg.context_len,
        "hidden_size": cfg.d_model,
        "intermediate_size": cfg.ff_dim(),
        "num_hidden_layers": cfg.n_layers,
        "num_attention_heads": cfg.n_heads,
        "num_key_value_heads": cfg.kv_heads(),
        "head_dim": cfg.head_dim(),
        "hidden_act": "silu",
        "rms_norm_eps": cfg.layer_norm_eps,
        "attention_bias": cfg.has_attn_out_bias(),
        "mlp_bias": cfg.has_mlp_bias(),
        "attention_dropout": cfg.dropout,
        "rope_parameters": rope_parameters(cfg),
    });
    if let Value::Object(m) = &mut fields {
        for (key, value) in window_fields(cfg, window)? {
            m.insert(key.to_owned(), value);
        }
    }
    Ok(fields)
}

/// Whether `scaling` survives a round trip through [`rope_parameters`] (a test helper).
#[cfg(test)]
fn round_trips(scaling: Option<RopeScaling>) -> bool {
    let cfg = DecoderConfig {
        rope_scaling: scaling.clone(),
        ..DecoderConfig::tiny(1)
    };
    let json = json!({"model_type": "llama", "rope_parameters": rope_parameters(&cfg)});
    let c = HfConfig::parse(&json.to_string()).unwrap();
    read_rope(&c, 1.0, 64).unwrap() == (cfg.rope_theta, scaling)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LLAMA_JSON: &str = r#"{"model_type": "llama", "vocab_size": 50, "hidden_size": 32,
        "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 2, "max_position_embeddings": 64, "rms_norm_eps": 1e-5,
        "hidden_act": "silu", "tie_word_embeddings": false}"#;

    #[test]
    fn reads_a_llama_config() {
        let cfg = config(&HfConfig::parse(LLAMA_JSON).unwrap()).unwrap();
        cfg.validate().unwrap();
        assert_eq!((cfg.n_heads, cfg.kv_heads(), cfg.head_dim()), (4, 2, 8));
        assert_eq!(cfg.explicit_head_dim, None);
        assert_eq!(cfg.norm, NormKind::RmsNorm);
        assert!(cfg.gated_mlp && !cfg.tie_embeddings && !cfg.has_qkv_bias());
        assert_eq!(cfg.layer_norm_eps, 1e-5);
        let gelu = LLAMA_JSON.replace("\"silu\"", "\"gelu\"");
        let err = config(&HfConfig::parse(&gelu).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("hidden_act"), "{err}");
        let biased =
            LLAMA_JSON.replace("\"hidden_act\"", "\"attention_bias\": true, \"hidden_act\"");
        let cfg = config(&HfConfig::parse(&biased).unwrap()).unwrap();
        assert!(cfg.has_qkv_bias() && cfg.has_attn_out_bias() && !cfg.has_mlp_bias());
    }

    #[test]
    fn rope_parameters_round_trip() {
        assert!(round_trips(None));
        assert!(round_trips(Some(RopeScaling::Linear { factor: 2.0 })));
        assert!(round_trips(Some(RopeScaling::Llama3 {
            factor: 8.0,
            low_freq_factor: 1.0,
            high_freq_factor: 4.0,
            original_max_position_embeddings: 16,
        })));
        assert!(round_trips(Some(RopeScaling::Yarn {
            factor: 2.0,
            original_max_position_embeddings: 32,
            attention_factor: 1.07,
            beta_fast: 32.0,
            beta_slow: 1.0,
            truncate: false,
        })));
    }
}

//! The Hugging Face model families the decoder implements, one compact file each: how a
//! family's `config.json` maps onto a [`DecoderConfig`] and back.
//!
//! | `model_type` | file | what differs |
//! |---|---|---|
//! | `gpt2` | [`gpt2`] | learned positions, fused `Conv1D` attention |
//! | `gpt_neo` | [`gpt_neo`] | global/local layers, unscaled f32 attention, q/k/v without bias |
//! | `llama` | [`llama`] | RoPE (+ scaling), RMSNorm, gated SiLU MLP, grouped-query attention |
//! | `mistral` | [`mistral`] | Llama + a sliding window in every layer |
//! | `qwen2` | [`qwen2`] | Llama + q/k/v biases, optional sliding-window layers |
//! | `qwen3` | [`qwen3`] | Llama + per-head q/k RMSNorm, free `head_dim` |
//!
//! The weights of a folder are read by [`crate::model::folder`]; [`config_from_hf`] is the
//! entry point for the config.
//!
//! ```
//! use tokengym_lm::models::config_from_hf;
//!
//! let cfg = config_from_hf(r#"{"model_type": "qwen2", "vocab_size": 100, "hidden_size": 32,
//!     "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
//!     "num_key_value_heads": 2, "max_position_embeddings": 128}"#)?;
//! assert_eq!((cfg.kv_heads(), cfg.head_dim()), (2, 8));
//! assert!(cfg.has_qkv_bias() && !cfg.has_attn_out_bias());
//! let err = config_from_hf(r#"{"model_type": "mamba"}"#).unwrap_err().to_string();
//! assert!(err.contains("gpt2, gpt_neo, llama, mistral, qwen2, qwen3"), "{err}");
//! # Ok::<(), tokengym_lm::error::Error>(())
//! ```

pub mod gpt2;
pub mod gpt_neo;
pub mod hf_config;
pub mod llama;
pub mod mistral;
pub mod qwen2;
pub mod qwen3;
pub mod rope_params;
pub mod sliding_window;

use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::model::{DecoderConfig, ModelFamily};
pub use hf_config::HfConfig;

/// The `model_type`s that load.
pub const SUPPORTED_MODEL_TYPES: &str = "gpt2, gpt_neo, llama, mistral, qwen2, qwen3";

/// Reads a Hugging Face `config.json` (its text) into a validated [`DecoderConfig`]. An unknown
/// `model_type` or an option this decoder does not implement is an error that says so.
pub fn config_from_hf(json: &str) -> Result<DecoderConfig> {
    let c = HfConfig::parse(json)?;
    let cfg = match c.model_type() {
        "gpt2" => gpt2::config(&c)?,
        "gpt_neo" => gpt_neo::config(&c)?,
        "llama" => llama::config(&c)?,
        "mistral" => mistral::config(&c)?,
        "qwen2" => qwen2::config(&c)?,
        "qwen3" => qwen3::config(&c)?,
        other => {
            return Err(Error::InvalidArgument(format!(
                "config.json: model_type {other:?} is not supported (supported: \
                 {SUPPORTED_MODEL_TYPES})"
            )));
        }
    };
    cfg.validate()?;
    Ok(cfg)
}

/// Whether a `config.json` text is in Hugging Face's format (it has a `model_type`) rather than
/// our own [`DecoderConfig`].
pub fn is_hf_config(json: &str) -> bool {
    serde_json::from_str::<Value>(json)
        .ok()
        .is_some_and(|v| v.get("model_type").is_some())
}

/// Whether the folder `dir` holds a Hugging Face model: its `config.json` is readable and in
/// Hugging Face's format (see [`is_hf_config`]).
pub fn is_hf_folder(dir: &std::path::Path) -> bool {
    std::fs::read_to_string(dir.join(crate::model::CONFIG_FILE)).is_ok_and(|t| is_hf_config(&t))
}

/// The Hugging Face `config.json` for `cfg` (`dtype`: the stored weights' dtype name, e.g.
/// `float32`, `bfloat16`). Our own decoder with learned positions is written as GPT-2; with RoPE
/// it has no Hugging Face equivalent and is an error.
pub fn config_to_hf(cfg: &DecoderConfig, dtype: &str) -> Result<Value> {
    let family = match cfg.family {
        ModelFamily::Gpt if cfg.position == crate::model::PositionEncoding::Learned => {
            ModelFamily::Gpt2
        }
        ModelFamily::Gpt => {
            return Err(Error::InvalidArgument(
                "our own RoPE decoder has no Hugging Face model type; save it in our format"
                    .to_owned(),
            ));
        }
        f => f,
    };
    if family == ModelFamily::Gpt2 {
        let gpt2_like = cfg.bias
            && cfg.norm == crate::model::NormKind::LayerNorm
            && cfg.activation != crate::model::Activation::Silu;
        if !gpt2_like {
            return Err(Error::InvalidArgument(
                "only a decoder with GPT-2's biases, LayerNorm and GELU can be written as gpt2"
                    .to_owned(),
            ));
        }
    }
    let mut fields = match family {
        ModelFamily::Gpt | ModelFamily::Gpt2 => gpt2::hf_fields(cfg),
        ModelFamily::GptNeo => gpt_neo::hf_fields(cfg),
        ModelFamily::Llama => llama::hf_fields(cfg, "LlamaForCausalLM", llama::LLAMA.window)?,
        ModelFamily::Mistral => {
            llama::hf_fields(cfg, "MistralForCausalLM", mistral::MISTRAL.window)?
        }
        ModelFamily::Qwen2 => llama::hf_fields(cfg, "Qwen2ForCausalLM", qwen2::QWEN2.window)?,
        ModelFamily::Qwen3 => llama::hf_fields(cfg, "Qwen3ForCausalLM", qwen3::QWEN3.window)?,
    };
    if let Value::Object(m) = &mut fields {
        let model_type = family.hf_model_type().unwrap_or("gpt2");
        m.insert("model_type".to_owned(), json!(model_type));
        m.insert("tie_word_embeddings".to_owned(), json!(cfg.tie_embeddings));
        m.insert("dtype".to_owned(), json!(dtype));
    }
    Ok(fields)
}

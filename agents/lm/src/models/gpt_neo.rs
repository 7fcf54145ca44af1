//! GPT-Neo (`model_type` `gpt_neo`): learned positions, LayerNorm, separate q/k/v projections
//! without bias (the output projection has one), unscaled attention computed in f32, and layers
//! that alternate global and local attention (`attention_types` / `attention_layers`, with
//! `window_size`).

use serde_json::{Value, json};

use crate::error::Result;
use crate::model::{DecoderConfig, LayerAttention, ModelFamily, PositionEncoding};
use crate::models::gpt2::{gelu, gelu_name};
use crate::models::hf_config::HfConfig;

/// Reads `hidden_size`, `num_layers`, `num_heads`, `max_position_embeddings`, `vocab_size`,
/// `intermediate_size`, `activation_function`, `layer_norm_epsilon`, `resid_dropout`,
/// `window_size`, `tie_word_embeddings` and the per-layer attention kinds (`attention_layers`,
/// else `attention_types` expanded as `[[kinds, repeat], ...]`).
pub fn config(c: &HfConfig) -> Result<DecoderConfig> {
    let n_layers = c.int("num_layers")?;
    let layers = layer_kinds(c)?;
    if layers.len() as i64 != n_layers {
        return Err(c.error(format!(
            "the attention layer kinds list {} layers, num_layers is {n_layers}",
            layers.len()
        )));
    }
    Ok(DecoderConfig {
        vocab_size: c.int("vocab_size")?,
        context_len: c.int("max_position_embeddings")?,
        d_model: c.int("hidden_size")?,
        n_layers,
        n_heads: c.int("num_heads")?,
        d_ff: c.int_opt("intermediate_size")?,
        dropout: c.float_or("resid_dropout", 0.0)?,
        position: PositionEncoding::Learned,
        tie_embeddings: c.bool_or("tie_word_embeddings", true)?,
        layer_norm_eps: c.float_or("layer_norm_epsilon", 1e-5)?,
        bias: true,
        qkv_bias: Some(false),
        activation: gelu(c, "activation_function")?,
        attn_scale: Some(1.0),
        attn_f32: true,
        layer_attention: layers,
        window_size: Some(c.int_opt("window_size")?.unwrap_or(256)),
        family: ModelFamily::GptNeo,
        ..DecoderConfig::tiny(1)
    })
}

fn kind(c: &HfConfig, v: &Value) -> Result<LayerAttention> {
    match v.as_str() {
        Some("global") => Ok(LayerAttention::Global),
        Some("local") => Ok(LayerAttention::Local),
        _ => Err(c.error(format!(
            "attention kind {v} is not supported (global or local)"
        ))),
    }
}

fn layer_kinds(c: &HfConfig) -> Result<Vec<LayerAttention>> {
    if let Some(Value::Array(list)) = c.get("attention_layers") {
        return list.iter().map(|v| kind(c, v)).collect();
    }
    let Some(Value::Array(types)) = c.get("attention_types") else {
        return Err(c.error("needs attention_layers or attention_types"));
    };
    let mut out = Vec::new();
    for entry in types {
        let pair = entry.as_array().filter(|p| p.len() == 2);
        let (Some(Value::Array(kinds)), Some(repeat)) = (
            pair.and_then(|p| p.first()),
            pair.and_then(|p| p[1].as_u64()),
        ) else {
            return Err(c.error(format!(
                "attention_types entry {entry} is not [[kinds...], repeat]"
            )));
        };
        for _ in 0..repeat {
            for k in kinds {
                out.push(kind(c, k)?);
            }
        }
    }
    Ok(out)
}

/// The `config.json` fields of `cfg` as a GPT-Neo folder.
pub fn hf_fields(cfg: &DecoderConfig) -> Value {
    let names: Vec<&str> = (0..cfg.n_layers as usize)
        .map(|i| if cfg.is_local(i) { "local" } else { "global" })
        .collect();
    let types: Vec<Value> = names.iter().map(|n| json!([[n], 1])).collect();
    json!({
        "architectures": ["GPTNeoForCausalLM"],
        "vocab_size": cfg.vocab_size,
        "max_position_embeddings": cfg.context_len,
        "hidden_size": cfg.d_model,
        "num_layers": cfg.n_layers,
        "num_heads": cfg.n_heads,
        "intermediate_size": cfg.d_ff,
        "activation_function": gelu_name(cfg.activation),
        "attention_types": types,
        "attention_layers": names,
        "window_size": cfg.window_size,
        "resid_dropout": cfg.dropout,
        "embed_dropout": cfg.dropout,
        "attention_dropout": cfg.dropout,
        "layer_norm_epsilon": cfg.layer_norm_eps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attention_types_expand_to_layers() {
        let json = r#"{"model_type": "gpt_neo", "vocab_size": 10, "max_position_embeddings": 16,
            "hidden_size": 8, "num_layers": 4, "num_heads": 2, "window_size": 3,
            "attention_types": [[["global", "local"], 2]]}"#;
        let cfg = config(&HfConfig::parse(json).unwrap()).unwrap();
        cfg.validate().unwrap();
        use LayerAttention::{Global, Local};
        assert_eq!(cfg.layer_attention, [Global, Local, Global, Local]);
        assert_eq!(cfg.window_size, Some(3));
        let bad = json.replace("\"local\"", "\"sparse\"");
        let err = config(&HfConfig::parse(&bad).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("sparse"), "{err}");
        let short = json.replace("2]]", "1]]");
        assert!(config(&HfConfig::parse(&short).unwrap()).is_err());
    }
}

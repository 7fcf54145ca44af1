//! Sliding-window attention of the Llama-shaped families, as their `config.json` states it, read
//! into the decoder's per-layer [`LayerAttention`] and `window_size` (a sliding layer's query
//! sees the keys less than `sliding_window` positions back, its own included — the mask
//! `transformers` builds) and written back.
//!
//! - Llama has none: a `sliding_window`, `use_sliding_window = true` or a sliding entry in
//!   `layer_types` is an error.
//! - Mistral slides in every layer: `sliding_window` (4096 when the field is absent, as
//!   `MistralConfig` defaults it; `null` for none). `layer_types`, which `transformers` ignores
//!   for Mistral, is ignored too.
//! - Qwen2 and Qwen3 slide only when `use_sliding_window` is true, in the layers `layer_types`
//!   marks `sliding_attention` or, without it, in the layers from `max_window_layers` (default
//!   28) on, with window `sliding_window` (default 4096).

use serde_json::{Value, json};

use crate::error::Result;
use crate::model::{DecoderConfig, LayerAttention};
use crate::models::hf_config::HfConfig;

/// How a family states sliding-window attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowStyle {
    /// No sliding windows (Llama).
    Unsupported,
    /// One `sliding_window` for every layer (Mistral).
    EveryLayer,
    /// `use_sliding_window`, `sliding_window`, `max_window_layers` and `layer_types` (Qwen2/3).
    PerLayer,
}

/// Mistral's and Qwen's `sliding_window` when the field is absent.
const DEFAULT_WINDOW: i64 = 4096;
/// Qwen's `max_window_layers` when the field is absent.
const DEFAULT_MAX_WINDOW_LAYERS: i64 = 28;

/// The per-layer attention kinds (empty: every layer global) and the window of `c`.
pub fn read_window(
    c: &HfConfig,
    style: WindowStyle,
    n_layers: i64,
) -> Result<(Vec<LayerAttention>, Option<i64>)> {
    let window = match style {
        WindowStyle::Unsupported => {
            if c.bool_or("use_sliding_window", false)? || c.get("sliding_window").is_some() {
                return Err(c.error(format!(
                    "sliding-window attention is not part of {} (no sliding_window or \
                     use_sliding_window)",
                    c.model_type()
                )));
            }
            None
        }
        WindowStyle::EveryLayer => match c.raw("sliding_window") {
            None => Some(DEFAULT_WINDOW),
            Some(Value::Null) => None,
            Some(_) => c.int_opt("sliding_window")?,
        },
        WindowStyle::PerLayer => {
            if c.bool_or("use_sliding_window", false)? {
                Some(c.int_opt("sliding_window")?.unwrap_or(DEFAULT_WINDOW))
            } else {
                None
            }
        }
    };
    if let Some(w) = window
        && w <= 0
    {
        return Err(c.error(format!("sliding_window must be positive, got {w}")));
    }
    let layers = match (style, window) {
        (WindowStyle::EveryLayer, Some(_)) => vec![LayerAttention::Local; n_layers as usize],
        (WindowStyle::EveryLayer, None) => Vec::new(),
        _ => layer_types(c, style, window.is_some(), n_layers)?,
    };
    let any_local = layers.contains(&LayerAttention::Local);
    Ok((layers, window.filter(|_| any_local)))
}

/// `layer_types` (or, for Qwen without it, the layers from `max_window_layers` on when sliding).
fn layer_types(
    c: &HfConfig,
    style: WindowStyle,
    sliding: bool,
    n_layers: i64,
) -> Result<Vec<LayerAttention>> {
    let Some(types) = c.get("layer_types") else {
        if !sliding {
            return Ok(Vec::new());
        }
        let first = c
            .int_opt("max_window_layers")?
            .unwrap_or(DEFAULT_MAX_WINDOW_LAYERS);
        return Ok((0..n_layers)
            .map(|i| {
                if i >= first {
                    LayerAttention::Local
                } else {
                    LayerAttention::Global
                }
            })
            .collect());
    };
    let list = types
        .as_array()
        .filter(|l| l.len() as i64 == n_layers)
        .ok_or_else(|| {
            c.error(format!(
                "layer_types must list one entry for each of the {n_layers} layers, got {types}"
            ))
        })?;
    let mut layers = Vec::with_capacity(list.len());
    for t in list {
        layers.push(match t.as_str() {
            Some("full_attention") => LayerAttention::Global,
            Some("sliding_attention") if sliding && style == WindowStyle::PerLayer => {
                LayerAttention::Local
            }
            Some("sliding_attention") => {
                return Err(c.error(
                    "layer_types has sliding_attention layers but no sliding window is set \
                     (use_sliding_window is false)",
                ));
            }
            _ => {
                return Err(c.error(format!(
                    "layer_types entry {t} is not supported (full_attention or \
                     sliding_attention)"
                )));
            }
        });
    }
    if layers.iter().all(|l| *l == LayerAttention::Global) {
        layers.clear();
    }
    Ok(layers)
}

/// The sliding-window fields of `cfg` in the `config.json` form of `style`; an error when the
/// family cannot state `cfg`'s layers.
pub fn window_fields(
    cfg: &DecoderConfig,
    style: WindowStyle,
) -> Result<Vec<(&'static str, Value)>> {
    let local: Vec<bool> = (0..cfg.n_layers as usize)
        .map(|i| cfg.is_local(i))
        .collect();
    let any = local.iter().any(|&l| l);
    let unstateable = |what: &str| {
        crate::error::Error::InvalidArgument(format!(
            "{:?} cannot state {what} in its config.json",
            cfg.family
        ))
    };
    Ok(match style {
        WindowStyle::Unsupported if any => return Err(unstateable("sliding-window layers")),
        WindowStyle::Unsupported => Vec::new(),
        WindowStyle::EveryLayer if any && !local.iter().all(|&l| l) => {
            return Err(unstateable("a mix of global and sliding-window layers"));
        }
        WindowStyle::EveryLayer => vec![("sliding_window", json!(cfg.window_size.filter(|_| any)))],
        WindowStyle::PerLayer => {
            let types: Vec<&str> = local
                .iter()
                .map(|&l| {
                    if l {
                        "sliding_attention"
                    } else {
                        "full_attention"
                    }
                })
                .collect();
            let first_local = local.iter().position(|&l| l).unwrap_or(local.len());
            vec![
                ("use_sliding_window", json!(any)),
                ("sliding_window", json!(cfg.window_size.filter(|_| any))),
                ("max_window_layers", json!(first_local)),
                ("layer_types", json!(types)),
            ]
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str, style: WindowStyle) -> Result<(Vec<LayerAttention>, Option<i64>)> {
        read_window(&HfConfig::parse(json).unwrap(), style, 3)
    }

    #[test]
    fn mistral_slides_in_every_layer_with_its_default() {
        use LayerAttention::Local;
        let every = WindowStyle::EveryLayer;
        let (l, w) = read(r#"{"model_type": "mistral"}"#, every).unwrap();
        assert_eq!((l, w), (vec![Local; 3], Some(4096)));
        let (l, w) = read(r#"{"model_type": "mistral", "sliding_window": 5}"#, every).unwrap();
        assert_eq!((l, w), (vec![Local; 3], Some(5)));
        let (l, w) = read(
            r#"{"model_type": "mistral", "sliding_window": null}"#,
            every,
        )
        .unwrap();
        assert_eq!((l, w), (vec![], None));
        let err = read(r#"{"model_type": "mistral", "sliding_window": 0}"#, every).unwrap_err();
        assert!(err.to_string().contains("positive"), "{err}");
    }

    #[test]
    fn qwen_slides_where_its_fields_say() {
        use LayerAttention::{Global, Local};
        let per = WindowStyle::PerLayer;
        // Off unless use_sliding_window (real Qwen2.5 configs carry a window and all-full types).
        let off = r#"{"model_type": "qwen2", "sliding_window": 32768, "max_window_layers": 1,
            "layer_types": ["full_attention", "full_attention", "full_attention"]}"#;
        assert_eq!(read(off, per).unwrap(), (vec![], None));
        let derived = r#"{"model_type": "qwen2", "use_sliding_window": true, "sliding_window": 4,
            "max_window_layers": 1}"#;
        assert_eq!(
            read(derived, per).unwrap(),
            (vec![Global, Local, Local], Some(4))
        );
        let listed = r#"{"model_type": "qwen3", "use_sliding_window": true, "sliding_window": 4,
            "layer_types": ["sliding_attention", "full_attention", "sliding_attention"]}"#;
        assert_eq!(
            read(listed, per).unwrap(),
            (vec![Local, Global, Local], Some(4))
        );
        let contradicting = r#"{"model_type": "qwen2",
            "layer_types": ["sliding_attention", "full_attention", "full_attention"]}"#;
        let err = read(contradicting, per).unwrap_err().to_string();
        assert!(err.contains("use_sliding_window"), "{err}");
        let short = r#"{"model_type": "qwen2", "layer_types": ["full_attention"]}"#;
        assert!(
            read(short, per)
                .unwrap_err()
                .to_string()
                .contains("3 layers")
        );
        let odd = r#"{"model_type": "qwen2", "use_sliding_window": true,
            "layer_types": ["chunked_attention", "full_attention", "full_attention"]}"#;
        assert!(
            read(odd, per)
                .unwrap_err()
                .to_string()
                .contains("chunked_attention")
        );
    }

    #[test]
    fn llama_has_no_sliding_window() {
        let none = WindowStyle::Unsupported;
        assert_eq!(
            read(r#"{"model_type": "llama"}"#, none).unwrap(),
            (vec![], None)
        );
        for bad in [
            r#"{"model_type": "llama", "sliding_window": 8}"#,
            r#"{"model_type": "llama", "use_sliding_window": true}"#,
        ] {
            assert!(
                read(bad, none).unwrap_err().to_string().contains("sliding"),
                "{bad}"
            );
        }
    }

    #[test]
    fn fields_round_trip() {
        for (json, style) in [
            (
                r#"{"model_type": "qwen2", "use_sliding_window": true, "sliding_window": 4,
                "max_window_layers": 1}"#,
                WindowStyle::PerLayer,
            ),
            (
                r#"{"model_type": "mistral", "sliding_window": 6}"#,
                WindowStyle::EveryLayer,
            ),
            (
                r#"{"model_type": "mistral", "sliding_window": null}"#,
                WindowStyle::EveryLayer,
            ),
        ] {
            let (layer_attention, window_size) = read(json, style).unwrap();
            let cfg = DecoderConfig {
                n_layers: 3,
                layer_attention: layer_attention.clone(),
                window_size,
                ..DecoderConfig::tiny(8)
            };
            let mut obj = serde_json::Map::new();
            obj.insert("model_type".into(), json!("x"));
            for (k, v) in window_fields(&cfg, style).unwrap() {
                obj.insert(k.into(), v);
            }
            let again = read_window(
                &HfConfig::parse(&Value::Object(obj).to_string()).unwrap(),
                style,
                3,
            )
            .unwrap();
            assert_eq!(again, (layer_attention, window_size), "{json}");
        }
    }
}

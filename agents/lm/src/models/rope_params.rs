//! RoPE settings of a Hugging Face `config.json`, in either format: the classic top-level
//! `rope_theta` with an optional `rope_scaling` object, or transformers 5's `rope_parameters`
//! object (which holds `rope_theta` too). Missing values get the defaults `transformers`
//! fills in (`original_max_position_embeddings` = `max_position_embeddings`, YaRN's
//! `attention_factor` from `factor`, `beta_fast` 32, `beta_slow` 1, `truncate` true).

use serde_json::{Map, Value};

use crate::error::Result;
use crate::model::RopeScaling;
use crate::models::hf_config::HfConfig;

/// The RoPE types this decoder implements.
pub const SUPPORTED_ROPE_TYPES: &str = "default, linear, dynamic, llama3, yarn";

/// `(rope_theta, rope_scaling)` of `cfg`; `default_theta` when the config has none.
pub fn read_rope(
    cfg: &HfConfig,
    default_theta: f64,
    max_positions: i64,
) -> Result<(f64, Option<RopeScaling>)> {
    let empty = Map::new();
    let (params, theta) = match cfg.get("rope_parameters") {
        Some(Value::Object(p)) => {
            let theta = match p.get("rope_theta").filter(|v| !v.is_null()) {
                Some(v) => v.as_f64().ok_or_else(|| {
                    cfg.error(format!(
                        "rope_parameters.rope_theta must be a number, got {v}"
                    ))
                })?,
                None => cfg.float_or("rope_theta", default_theta)?,
            };
            (p, theta)
        }
        Some(other) => {
            return Err(cfg.error(format!(
                "rope_parameters must be an object, got {other} (per-layer RoPE is not supported)"
            )));
        }
        None => {
            let theta = cfg.float_or("rope_theta", default_theta)?;
            match cfg.get("rope_scaling") {
                None => (&empty, theta),
                Some(Value::Object(p)) => (p, theta),
                Some(other) => {
                    return Err(cfg.error(format!("rope_scaling must be an object, got {other}")));
                }
            }
        }
    };
    let num = |key: &str| -> Result<Option<f64>> {
        match params.get(key).filter(|v| !v.is_null()) {
            None => Ok(None),
            Some(v) => v.as_f64().map(Some).ok_or_else(|| {
                cfg.error(format!("RoPE parameter {key:?} must be a number, got {v}"))
            }),
        }
    };
    let factor = |kind: &str| -> Result<f64> {
        num("factor")?.ok_or_else(|| cfg.error(format!("{kind} RoPE scaling needs a factor")))
    };
    let original = || -> Result<i64> {
        match params
            .get("original_max_position_embeddings")
            .filter(|v| !v.is_null())
        {
            None => Ok(max_positions),
            Some(v) => v.as_i64().ok_or_else(|| {
                cfg.error(format!(
                    "original_max_position_embeddings must be an integer, got {v}"
                ))
            }),
        }
    };
    if let Some(p) =
        num("partial_rotary_factor")?.or(cfg.get("partial_rotary_factor").and_then(Value::as_f64))
        && p != 1.0
    {
        return Err(cfg.error(format!(
            "partial_rotary_factor {p} is not supported (only 1.0)"
        )));
    }
    let rope_type = match params.get("rope_type").or_else(|| params.get("type")) {
        None | Some(Value::Null) => "default",
        Some(Value::String(s)) => s.as_str(),
        Some(other) => return Err(cfg.error(format!("rope_type must be a string, got {other}"))),
    };
    let scaling = match rope_type {
        "default" => None,
        "linear" => Some(RopeScaling::Linear {
            factor: factor("linear")?,
        }),
        "dynamic" => Some(RopeScaling::Dynamic {
            factor: factor("dynamic")?,
        }),
        "llama3" => Some(RopeScaling::Llama3 {
            factor: factor("llama3")?,
            low_freq_factor: num("low_freq_factor")?
                .ok_or_else(|| cfg.error("llama3 RoPE scaling needs low_freq_factor"))?,
            high_freq_factor: num("high_freq_factor")?
                .ok_or_else(|| cfg.error("llama3 RoPE scaling needs high_freq_factor"))?,
            original_max_position_embeddings: original()?,
        }),
        "yarn" => {
            let original = original()?;
            let factor = match num("factor")? {
                Some(f) => f,
                None => max_positions as f64 / original as f64,
            };
            let mscale = |scale: f64, m: f64| {
                if scale <= 1.0 {
                    1.0
                } else {
                    0.1 * m * scale.ln() + 1.0
                }
            };
            let attention_factor = match num("attention_factor")? {
                Some(a) => a,
                None => match (num("mscale")?, num("mscale_all_dim")?) {
                    (Some(m), Some(all)) if m != 0.0 && all != 0.0 => {
                        mscale(factor, m) / mscale(factor, all)
                    }
                    _ => mscale(factor, 1.0),
                },
            };
            let or_default = |v: Option<f64>, d: f64| v.filter(|&x| x != 0.0).unwrap_or(d);
            let truncate = match params.get("truncate").filter(|v| !v.is_null()) {
                None => true,
                Some(v) => v.as_bool().ok_or_else(|| {
                    cfg.error(format!("yarn truncate must be a boolean, got {v}"))
                })?,
            };
            Some(RopeScaling::Yarn {
                factor,
                original_max_position_embeddings: original,
                attention_factor,
                beta_fast: or_default(num("beta_fast")?, 32.0),
                beta_slow: or_default(num("beta_slow")?, 1.0),
                truncate,
            })
        }
        other => {
            return Err(cfg.error(format!(
                "rope_type {other:?} is not supported (supported: {SUPPORTED_ROPE_TYPES})"
            )));
        }
    };
    Ok((theta, scaling))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> Result<(f64, Option<RopeScaling>)> {
        read_rope(&HfConfig::parse(json).unwrap(), 10_000.0, 64)
    }

    #[test]
    fn classic_and_transformers_5_formats() {
        let (theta, s) = read(r#"{"model_type": "llama"}"#).unwrap();
        assert_eq!((theta, s), (10_000.0, None));
        let (theta, s) = read(
            r#"{"model_type": "llama", "rope_theta": 500000.0, "rope_scaling": {"rope_type":
            "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
            "original_max_position_embeddings": 16}}"#,
        )
        .unwrap();
        assert_eq!(theta, 500_000.0);
        assert_eq!(
            s,
            Some(RopeScaling::Llama3 {
                factor: 8.0,
                low_freq_factor: 1.0,
                high_freq_factor: 4.0,
                original_max_position_embeddings: 16
            })
        );
        let (theta, s) = read(
            r#"{"model_type": "llama", "rope_parameters": {"rope_type": "linear",
            "factor": 2.0, "rope_theta": 1000.0}}"#,
        )
        .unwrap();
        assert_eq!(
            (theta, s),
            (1000.0, Some(RopeScaling::Linear { factor: 2.0 }))
        );
        // The old "type" key, and YaRN's defaults.
        let (_, s) = read(
            r#"{"model_type": "qwen3", "rope_scaling": {"type": "yarn", "factor": 4.0,
            "original_max_position_embeddings": 32}}"#,
        )
        .unwrap();
        let Some(RopeScaling::Yarn {
            attention_factor,
            beta_fast,
            beta_slow,
            truncate,
            ..
        }) = s
        else {
            panic!("{s:?}");
        };
        assert!((attention_factor - (0.1 * 4f64.ln() + 1.0)).abs() < 1e-12);
        assert_eq!((beta_fast, beta_slow, truncate), (32.0, 1.0, true));
    }

    #[test]
    fn unsupported_rope_settings_are_errors() {
        for (json, needle) in [
            (
                r#"{"model_type": "llama", "rope_scaling": {"rope_type": "longrope"}}"#,
                "longrope",
            ),
            (
                r#"{"model_type": "llama", "rope_scaling": {"rope_type": "linear"}}"#,
                "factor",
            ),
            (r#"{"model_type": "llama", "rope_scaling": [1]}"#, "object"),
            (
                r#"{"model_type": "llama", "partial_rotary_factor": 0.5}"#,
                "partial_rotary",
            ),
            (
                r#"{"model_type": "llama", "rope_scaling": {"rope_type": "llama3", "factor": 8}}"#,
                "low_freq_factor",
            ),
        ] {
            let err = read(json).unwrap_err().to_string();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }
}

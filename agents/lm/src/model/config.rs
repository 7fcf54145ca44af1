//! [`DecoderConfig`]: the hyper-parameters of the GPT decoder ([`Decoder`](super::Decoder)), its presets and
//! the conversion from a Hugging Face GPT-2 `config.json`.
//!
//! A config is plain data (serde, unknown fields rejected); [`DecoderConfig::validate`] checks that
//! the numbers fit together and every constructor of the model calls it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// How the model knows where a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionEncoding {
    /// Rotary position embeddings (RoPE) on the queries and keys of every head, over the full head
    /// dimension, in the GPT-NeoX / Llama "rotate_half" layout: dimension `i < Dh/2` is paired
    /// with `i + Dh/2` and the pair is rotated by `pos * theta^(-2i/Dh)`.
    Rope,
    /// GPT-2's learned absolute position embedding (`transformer.wpe.weight`, `[context_len, d]`),
    /// added to the token embedding.
    Learned,
}

/// The nonlinearity of the feed-forward layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeluKind {
    /// GELU with the tanh approximation (GPT-2's `gelu_new`, torch `approximate="tanh"`).
    #[default]
    Tanh,
    /// The exact GELU `x * Phi(x)` (torch `approximate="none"`).
    Exact,
}

impl GeluKind {
    /// The `approximate` argument of torch's `gelu`.
    pub fn torch_name(self) -> &'static str {
        match self {
            Self::Tanh => "tanh",
            Self::Exact => "none",
        }
    }
}

fn default_rope_theta() -> f64 {
    10_000.0
}

fn default_layer_norm_eps() -> f64 {
    1e-5
}

fn default_true() -> bool {
    true
}

/// Hyper-parameters of the GPT decoder.
///
/// ```
/// use tokengym_lm::model::{DecoderConfig, PositionEncoding};
///
/// let cfg = DecoderConfig::tiny(100);
/// assert_eq!((cfg.d_model, cfg.n_layers, cfg.n_heads, cfg.context_len), (128, 4, 4, 64));
/// assert_eq!(cfg.ff_dim(), 512);
/// assert_eq!(cfg.position, PositionEncoding::Rope);
/// let json = serde_json::to_string(&cfg).unwrap();
/// assert_eq!(serde_json::from_str::<DecoderConfig>(&json).unwrap(), cfg);
/// # Ok::<(), tokengym_lm::error::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecoderConfig {
    /// Number of token ids `V`.
    pub vocab_size: i64,
    /// Longest sequence the model accepts (size of the position table / RoPE table).
    pub context_len: i64,
    /// Width of the residual stream.
    pub d_model: i64,
    /// Number of transformer blocks.
    pub n_layers: i64,
    /// Number of attention heads (must divide `d_model`).
    pub n_heads: i64,
    /// Width of the feed-forward layer; `None` means `4 * d_model`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub d_ff: Option<i64>,
    /// Dropout probability on the embeddings, attention weights and residual branches (training
    /// mode only).
    #[serde(default)]
    pub dropout: f64,
    /// Rotary or learned absolute positions.
    pub position: PositionEncoding,
    /// RoPE base `theta` (ignored for learned positions).
    #[serde(default = "default_rope_theta")]
    pub rope_theta: f64,
    /// Whether the LM head reuses the token embedding matrix (GPT-2 does).
    #[serde(default = "default_true")]
    pub tie_embeddings: bool,
    /// Epsilon of the layer norms.
    #[serde(default = "default_layer_norm_eps")]
    pub layer_norm_eps: f64,
    /// Whether the linear layers and layer norms have biases (GPT-2 does).
    #[serde(default = "default_true")]
    pub bias: bool,
    /// The feed-forward nonlinearity.
    #[serde(default)]
    pub activation: GeluKind,
}

impl DecoderConfig {
    /// A small model for tests and experiments: `d_model` 128, 4 layers, 4 heads, context 64,
    /// RoPE, tied embeddings, biases, no dropout.
    pub fn tiny(vocab_size: i64) -> Self {
        Self {
            vocab_size,
            context_len: 64,
            d_model: 128,
            n_layers: 4,
            n_heads: 4,
            d_ff: None,
            dropout: 0.0,
            position: PositionEncoding::Rope,
            rope_theta: default_rope_theta(),
            tie_embeddings: true,
            layer_norm_eps: default_layer_norm_eps(),
            bias: true,
            activation: GeluKind::Tanh,
        }
    }

    /// Width of the feed-forward layer (`d_ff`, or `4 * d_model` when unset).
    pub fn ff_dim(&self) -> i64 {
        self.d_ff.unwrap_or(4 * self.d_model)
    }

    /// Width of one attention head (`d_model / n_heads`).
    pub fn head_dim(&self) -> i64 {
        if self.n_heads > 0 {
            self.d_model / self.n_heads
        } else {
            0
        }
    }

    /// Checks that all sizes are positive and fit together.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidArgument(format!("DecoderConfig: {msg}")));
        for (name, v) in [
            ("vocab_size", self.vocab_size),
            ("context_len", self.context_len),
            ("d_model", self.d_model),
            ("n_layers", self.n_layers),
            ("n_heads", self.n_heads),
            ("d_ff", self.ff_dim()),
        ] {
            if v <= 0 {
                return bad(format!("{name} must be positive, got {v}"));
            }
        }
        if self.d_model % self.n_heads != 0 {
            return bad(format!(
                "d_model {} is not divisible by n_heads {}",
                self.d_model, self.n_heads
            ));
        }
        if self.position == PositionEncoding::Rope {
            if self.head_dim() % 2 != 0 {
                return bad(format!(
                    "RoPE needs an even head dimension, got {}",
                    self.head_dim()
                ));
            }
            if !(self.rope_theta.is_finite() && self.rope_theta > 1.0) {
                return bad(format!(
                    "rope_theta must be finite and > 1, got {}",
                    self.rope_theta
                ));
            }
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        if !(self.layer_norm_eps.is_finite() && self.layer_norm_eps > 0.0) {
            return bad(format!(
                "layer_norm_eps must be finite and positive, got {}",
                self.layer_norm_eps
            ));
        }
        Ok(())
    }

    /// Reads a Hugging Face GPT-2 `config.json` (text): `n_embd`, `n_layer`, `n_head`,
    /// `n_positions`, `vocab_size`, `layer_norm_epsilon`, `n_inner`, `activation_function`
    /// (`gelu_new`/`gelu_pytorch_tanh` give [`GeluKind::Tanh`], `gelu` gives
    /// [`GeluKind::Exact`], anything else is an error), `resid_pdrop` and
    /// `tie_word_embeddings`. Variants of GPT-2 this model does not implement (unscaled
    /// attention, per-layer attention scaling, cross-attention) are errors.
    pub fn from_hf_gpt2_config(json: &str) -> Result<Self> {
        let value: Value = serde_json::from_str(json).map_err(|e| {
            Error::InvalidArgument(format!("GPT-2 config.json is not valid JSON: {e}"))
        })?;
        let obj = value.as_object().ok_or_else(|| {
            Error::InvalidArgument("GPT-2 config.json must be a JSON object".to_owned())
        })?;
        let bad = |msg: String| Error::InvalidArgument(format!("GPT-2 config.json: {msg}"));
        if let Some(mt) = obj.get("model_type")
            && mt.as_str() != Some("gpt2")
        {
            return Err(bad(format!("model_type must be \"gpt2\", got {mt}")));
        }
        let int = |key: &str| -> Result<i64> {
            obj.get(key)
                .and_then(Value::as_i64)
                .ok_or_else(|| bad(format!("missing or non-integer field {key:?}")))
        };
        let float_or = |key: &str, default: f64| -> Result<f64> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(default),
                Some(v) => v
                    .as_f64()
                    .ok_or_else(|| bad(format!("field {key:?} must be a number, got {v}"))),
            }
        };
        let bool_or = |key: &str, default: bool| -> Result<bool> {
            match obj.get(key) {
                None | Some(Value::Null) => Ok(default),
                Some(v) => v
                    .as_bool()
                    .ok_or_else(|| bad(format!("field {key:?} must be a boolean, got {v}"))),
            }
        };
        let d_ff = match obj.get("n_inner") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_i64()
                    .ok_or_else(|| bad(format!("n_inner must be an integer or null, got {v}")))?,
            ),
        };
        let activation = match obj.get("activation_function") {
            None => GeluKind::Tanh,
            Some(v) => match v.as_str() {
                Some("gelu_new" | "gelu_pytorch_tanh") => GeluKind::Tanh,
                Some("gelu") => GeluKind::Exact,
                _ => {
                    return Err(bad(format!(
                        "unsupported activation_function {v}: expected gelu_new, \
                         gelu_pytorch_tanh or gelu"
                    )));
                }
            },
        };
        if !bool_or("scale_attn_weights", true)? {
            return Err(bad("scale_attn_weights = false is not supported".to_owned()));
        }
        if bool_or("scale_attn_by_inverse_layer_idx", false)? {
            return Err(bad(
                "scale_attn_by_inverse_layer_idx = true is not supported".to_owned(),
            ));
        }
        if bool_or("add_cross_attention", false)? {
            return Err(bad("add_cross_attention = true is not supported".to_owned()));
        }
        let cfg = Self {
            vocab_size: int("vocab_size")?,
            context_len: int("n_positions")?,
            d_model: int("n_embd")?,
            n_layers: int("n_layer")?,
            n_heads: int("n_head")?,
            d_ff,
            dropout: float_or("resid_pdrop", 0.1)?,
            position: PositionEncoding::Learned,
            rope_theta: default_rope_theta(),
            tie_embeddings: bool_or("tie_word_embeddings", true)?,
            layer_norm_eps: float_or("layer_norm_epsilon", default_layer_norm_eps())?,
            bias: true,
            activation,
        };
        cfg.validate()?;
        Ok(cfg)
    }
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

    #[test]
    fn tiny_preset_is_valid() {
        let cfg = DecoderConfig::tiny(50);
        cfg.validate().unwrap();
        assert_eq!(cfg.head_dim(), 32);
    }

    #[test]
    fn validate_rejects_inconsistent_sizes() {
        let mut cfg = DecoderConfig::tiny(50);
        cfg.n_heads = 3;
        assert!(
            cfg.validate()
                .unwrap_err()
                .to_string()
                .contains("divisible")
        );
        let mut cfg = DecoderConfig::tiny(50);
        cfg.vocab_size = 0;
        assert!(cfg.validate().is_err());
        let mut cfg = DecoderConfig::tiny(50);
        cfg.dropout = 1.0;
        assert!(cfg.validate().is_err());
        let mut cfg = DecoderConfig::tiny(50);
        cfg.d_model = 12;
        cfg.n_heads = 4; // head dim 3: odd, RoPE cannot pair it
        assert!(cfg.validate().unwrap_err().to_string().contains("even"));
        cfg.position = PositionEncoding::Learned;
        cfg.validate().unwrap();
    }

    #[test]
    fn serde_round_trip_defaults_and_unknown_fields() {
        let json = r#"{"vocab_size": 10, "context_len": 8, "d_model": 16, "n_layers": 1,
                       "n_heads": 2, "position": "learned"}"#;
        let cfg: DecoderConfig = serde_json::from_str(json).unwrap();
        assert_eq!(cfg.ff_dim(), 64);
        assert_eq!(cfg.rope_theta, 10_000.0);
        assert!(cfg.tie_embeddings && cfg.bias);
        assert_eq!(cfg.activation, GeluKind::Tanh);
        let back: DecoderConfig =
            serde_json::from_str(&serde_json::to_string(&cfg).unwrap()).unwrap();
        assert_eq!(back, cfg);
        let extra = json.replace("\"n_heads\"", "\"n_kv_heads\": 1, \"n_heads\"");
        assert!(serde_json::from_str::<DecoderConfig>(&extra).is_err());
    }

    #[test]
    fn reads_hugging_face_gpt2_config() {
        let cfg = DecoderConfig::from_hf_gpt2_config(HF_TINY).unwrap();
        assert_eq!(cfg.vocab_size, 100);
        assert_eq!(cfg.context_len, 64);
        assert_eq!((cfg.d_model, cfg.n_layers, cfg.n_heads), (32, 2, 4));
        assert_eq!(cfg.ff_dim(), 128);
        assert_eq!(cfg.position, PositionEncoding::Learned);
        assert_eq!(cfg.activation, GeluKind::Tanh);
        assert!(cfg.tie_embeddings);
        assert_eq!(cfg.layer_norm_eps, 1e-5);

        let exact = HF_TINY.replace("gelu_new", "gelu");
        assert_eq!(
            DecoderConfig::from_hf_gpt2_config(&exact)
                .unwrap()
                .activation,
            GeluKind::Exact
        );
        let inner = HF_TINY.replace("\"n_inner\": null", "\"n_inner\": 40");
        assert_eq!(
            DecoderConfig::from_hf_gpt2_config(&inner).unwrap().ff_dim(),
            40
        );
    }

    #[test]
    fn rejects_unsupported_hugging_face_configs() {
        let relu = HF_TINY.replace("gelu_new", "relu");
        let err = DecoderConfig::from_hf_gpt2_config(&relu)
            .unwrap_err()
            .to_string();
        assert!(err.contains("activation_function"), "{err}");
        let missing = HF_TINY.replace("\"n_embd\": 32,", "");
        let err = DecoderConfig::from_hf_gpt2_config(&missing)
            .unwrap_err()
            .to_string();
        assert!(err.contains("n_embd"), "{err}");
        let llama = HF_TINY.replace("\"gpt2\"", "\"llama\"");
        assert!(DecoderConfig::from_hf_gpt2_config(&llama).is_err());
        let unscaled = HF_TINY.replace(
            "\"scale_attn_weights\": true",
            "\"scale_attn_weights\": false",
        );
        assert!(DecoderConfig::from_hf_gpt2_config(&unscaled).is_err());
        assert!(DecoderConfig::from_hf_gpt2_config("[1, 2]").is_err());
        assert!(DecoderConfig::from_hf_gpt2_config("{not json").is_err());
    }
}

//! [`DecoderConfig`]: the hyper-parameters of the decoder ([`Decoder`](super::Decoder)) and the
//! small per-family choices it is built from (positions, norm, activation, MLP shape, attention
//! heads, biases, RoPE scaling, local attention layers).
//!
//! A config is plain data (serde, unknown fields rejected). Every field added for the Hugging Face
//! families has a default equal to the original GPT behaviour, so configs written before those
//! fields existed still read the same. [`DecoderConfig::validate`] checks that the numbers fit
//! together and every constructor of the model calls it. Reading a Hugging Face `config.json`
//! lives in [`crate::models`].

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
pub use crate::model::rope::RopeScaling;

/// How the model knows where a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionEncoding {
    /// Rotary position embeddings (RoPE) on the queries and keys of every head, over the full head
    /// dimension, in the GPT-NeoX / Llama "rotate_half" layout: dimension `i < Dh/2` is paired
    /// with `i + Dh/2` and the pair is rotated by `pos * inv_freq[i]` (see [`RopeScaling`]).
    Rope,
    /// GPT-2's learned absolute position embedding (`[context_len, d]`), added to the token
    /// embedding.
    Learned,
}

/// The nonlinearity of the feed-forward layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// GELU with the tanh approximation (GPT-2's `gelu_new`, torch `approximate="tanh"`).
    #[default]
    Tanh,
    /// The exact GELU `x * Phi(x)` (torch `approximate="none"`).
    Exact,
    /// SiLU `x * sigmoid(x)` (Llama and Qwen, in their gated MLP).
    Silu,
}

impl Activation {
    /// Applies the nonlinearity.
    pub fn apply(self, x: &tch::Tensor) -> Result<tch::Tensor> {
        Ok(match self {
            Self::Tanh => x.f_gelu("tanh")?,
            Self::Exact => x.f_gelu("none")?,
            Self::Silu => x.f_silu()?,
        })
    }
}

/// The normalisation before each sub-layer and after the last block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormKind {
    /// Layer normalisation (GPT-2, GPT-Neo), with a bias when the model has biases.
    #[default]
    LayerNorm,
    /// RMS normalisation without bias, computed in f32 as Llama does.
    RmsNorm,
}

/// Which model family the decoder is: it fixes the variable names (those of the family's
/// Hugging Face checkpoints) and the `config.json` written when the model is saved as a Hugging
/// Face folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelFamily {
    /// Our own decoder (GPT-2 variable names; RoPE or learned positions).
    #[default]
    Gpt,
    /// Hugging Face `gpt2`.
    Gpt2,
    /// Hugging Face `gpt_neo`.
    GptNeo,
    /// Hugging Face `llama` (also Llama-2/3, SmolLM).
    Llama,
    /// Hugging Face `mistral` (Mistral 7B; Llama's layout with sliding-window attention).
    Mistral,
    /// Hugging Face `qwen2` (Qwen2, Qwen2.5).
    Qwen2,
    /// Hugging Face `qwen3`.
    Qwen3,
}

impl ModelFamily {
    /// The variable-name layout of this family's checkpoints.
    pub fn layout(self) -> WeightLayout {
        match self {
            Self::Gpt | Self::Gpt2 => WeightLayout::Gpt2,
            Self::GptNeo => WeightLayout::GptNeo,
            Self::Llama | Self::Mistral | Self::Qwen2 | Self::Qwen3 => WeightLayout::Llama,
        }
    }

    /// The Hugging Face `model_type` (`None` for our own decoder).
    pub fn hf_model_type(self) -> Option<&'static str> {
        match self {
            Self::Gpt => None,
            Self::Gpt2 => Some("gpt2"),
            Self::GptNeo => Some("gpt_neo"),
            Self::Llama => Some("llama"),
            Self::Mistral => Some("mistral"),
            Self::Qwen2 => Some("qwen2"),
            Self::Qwen3 => Some("qwen3"),
        }
    }
}

/// How a family names and shapes its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightLayout {
    /// `transformer.{wte,wpe,h.i.{ln_1,attn.{c_attn,c_proj},ln_2,mlp.{c_fc,c_proj}},ln_f}`, with
    /// `Conv1D` weights stored `[in, out]` and queries/keys/values fused in `c_attn`.
    Gpt2,
    /// `transformer.{wte,wpe,h.i.{ln_1,attn.attention.{q,k,v,out}_proj,ln_2,mlp.{c_fc,c_proj}},
    /// ln_f}` with `Linear` weights (`[out, in]`).
    GptNeo,
    /// `model.{embed_tokens,layers.i.{input_layernorm,self_attn.{q,k,v,o}_proj,
    /// self_attn.{q,k}_norm,post_attention_layernorm,mlp.{gate,up,down}_proj},norm}` with
    /// `Linear` weights.
    Llama,
}

/// What a layer's attention sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerAttention {
    /// Every earlier key.
    Global,
    /// Only keys less than [`DecoderConfig::window_size`] columns back (the query's own column
    /// included), as GPT-Neo's local layers.
    Local,
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

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// Hyper-parameters of the decoder.
///
/// ```
/// use tokengym_lm::model::{DecoderConfig, PositionEncoding};
///
/// let cfg = DecoderConfig::tiny(100);
/// assert_eq!((cfg.d_model, cfg.n_layers, cfg.n_heads, cfg.context_len), (128, 4, 4, 64));
/// assert_eq!(cfg.ff_dim(), 512);
/// assert_eq!(cfg.kv_heads(), 4);
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
    /// Number of attention (query) heads.
    pub n_heads: i64,
    /// Number of key/value heads (grouped-query attention); `None` means `n_heads`. Must divide
    /// `n_heads`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_kv_heads: Option<i64>,
    /// Width of one head; `None` means `d_model / n_heads` (Qwen3 sets it explicitly).
    #[serde(default, rename = "head_dim", skip_serializing_if = "Option::is_none")]
    pub explicit_head_dim: Option<i64>,
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
    /// RoPE frequency scaling (`None`: plain RoPE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rope_scaling: Option<RopeScaling>,
    /// Whether the LM head reuses the token embedding matrix (GPT-2 does).
    #[serde(default = "default_true")]
    pub tie_embeddings: bool,
    /// Epsilon of the normalisations (LayerNorm or RMSNorm).
    #[serde(default = "default_layer_norm_eps")]
    pub layer_norm_eps: f64,
    /// Whether the linear layers and layer norms have biases (GPT-2 does); the three fields
    /// below override it per group of layers.
    #[serde(default = "default_true")]
    pub bias: bool,
    /// Biases on the query/key/value projections (`None`: `bias`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qkv_bias: Option<bool>,
    /// Bias on the attention output projection (`None`: `bias`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attn_out_bias: Option<bool>,
    /// Biases on the feed-forward layers (`None`: `bias`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mlp_bias: Option<bool>,
    /// The feed-forward nonlinearity.
    #[serde(default)]
    pub activation: Activation,
    /// LayerNorm or RMSNorm.
    #[serde(default, skip_serializing_if = "is_default")]
    pub norm: NormKind,
    /// A gated feed-forward layer `down(act(gate(x)) * up(x))` (Llama's SwiGLU) instead of
    /// `proj(act(fc(x)))`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub gated_mlp: bool,
    /// RMS-normalise each query and key head before RoPE (Qwen3).
    #[serde(default, skip_serializing_if = "is_false")]
    pub qk_norm: bool,
    /// The factor on `q . k`; `None` means `1 / sqrt(head_dim)` (GPT-Neo uses 1.0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attn_scale: Option<f64>,
    /// Compute attention scores in f32 whatever the model's dtype (GPT-Neo does).
    #[serde(default, skip_serializing_if = "is_false")]
    pub attn_f32: bool,
    /// Per-layer global or local attention; empty means all global.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layer_attention: Vec<LayerAttention>,
    /// How many columns back a local layer sees (its own included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_size: Option<i64>,
    /// The family (variable names, Hugging Face export).
    #[serde(default, skip_serializing_if = "is_default")]
    pub family: ModelFamily,
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
            n_kv_heads: None,
            explicit_head_dim: None,
            d_ff: None,
            dropout: 0.0,
            position: PositionEncoding::Rope,
            rope_theta: default_rope_theta(),
            rope_scaling: None,
            tie_embeddings: true,
            layer_norm_eps: default_layer_norm_eps(),
            bias: true,
            qkv_bias: None,
            attn_out_bias: None,
            mlp_bias: None,
            activation: Activation::Tanh,
            norm: NormKind::LayerNorm,
            gated_mlp: false,
            qk_norm: false,
            attn_scale: None,
            attn_f32: false,
            layer_attention: Vec::new(),
            window_size: None,
            family: ModelFamily::Gpt,
        }
    }

    /// Width of the feed-forward layer (`d_ff`, or `4 * d_model` when unset).
    pub fn ff_dim(&self) -> i64 {
        self.d_ff.unwrap_or(4 * self.d_model)
    }

    /// Width of one attention head (the explicit `head_dim`, else `d_model / n_heads`).
    pub fn head_dim(&self) -> i64 {
        match self.explicit_head_dim {
            Some(h) => h,
            None if self.n_heads > 0 => self.d_model / self.n_heads,
            None => 0,
        }
    }

    /// Number of key/value heads (`n_kv_heads`, or `n_heads`).
    pub fn kv_heads(&self) -> i64 {
        self.n_kv_heads.unwrap_or(self.n_heads)
    }

    /// Whether the query/key/value projections have biases.
    pub fn has_qkv_bias(&self) -> bool {
        self.qkv_bias.unwrap_or(self.bias)
    }

    /// Whether the attention output projection has a bias.
    pub fn has_attn_out_bias(&self) -> bool {
        self.attn_out_bias.unwrap_or(self.bias)
    }

    /// Whether the feed-forward layers have biases.
    pub fn has_mlp_bias(&self) -> bool {
        self.mlp_bias.unwrap_or(self.bias)
    }

    /// Whether layer `i` attends locally.
    pub fn is_local(&self, layer: usize) -> bool {
        self.layer_attention.get(layer) == Some(&LayerAttention::Local)
    }

    /// Checks that all sizes are positive and fit together, and that the family's layout can
    /// hold the options chosen.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidArgument(format!("DecoderConfig: {msg}")));
        for (name, v) in [
            ("vocab_size", self.vocab_size),
            ("context_len", self.context_len),
            ("d_model", self.d_model),
            ("n_layers", self.n_layers),
            ("n_heads", self.n_heads),
            ("n_kv_heads", self.kv_heads()),
            ("head_dim", self.head_dim()),
            ("d_ff", self.ff_dim()),
        ] {
            if v <= 0 {
                return bad(format!("{name} must be positive, got {v}"));
            }
        }
        if self.explicit_head_dim.is_none() && self.d_model % self.n_heads != 0 {
            return bad(format!(
                "d_model {} is not divisible by n_heads {}",
                self.d_model, self.n_heads
            ));
        }
        if self.n_heads % self.kv_heads() != 0 {
            return bad(format!(
                "n_heads {} is not a multiple of n_kv_heads {}",
                self.n_heads,
                self.kv_heads()
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
            if let Some(s) = &self.rope_scaling {
                s.validate()?;
            }
        } else if self.rope_scaling.is_some() {
            return bad("rope_scaling needs RoPE positions".to_owned());
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
        if let Some(s) = self.attn_scale
            && !(s.is_finite() && s > 0.0)
        {
            return bad(format!("attn_scale must be finite and positive, got {s}"));
        }
        if !self.layer_attention.is_empty() && self.layer_attention.len() != self.n_layers as usize
        {
            return bad(format!(
                "layer_attention has {} entries for {} layers",
                self.layer_attention.len(),
                self.n_layers
            ));
        }
        let any_local = self.layer_attention.contains(&LayerAttention::Local);
        match self.window_size {
            Some(w) if w <= 0 => return bad(format!("window_size must be positive, got {w}")),
            None if any_local => return bad("local layers need a window_size".to_owned()),
            _ => {}
        }
        if self.family.layout() == WeightLayout::Gpt2 {
            let fused = self.kv_heads() == self.n_heads
                && self.head_dim() * self.n_heads == self.d_model
                && self.has_qkv_bias() == self.has_attn_out_bias()
                && self.has_qkv_bias() == self.has_mlp_bias();
            if !fused || self.gated_mlp || self.qk_norm {
                return bad(format!(
                    "the {:?} layout (fused c_attn, GPT-2 MLP) cannot hold grouped-query heads, \
                     an explicit head_dim, per-layer biases, a gated MLP or q/k norms",
                    self.family
                ));
            }
        }
        let llama = self.family.layout() == WeightLayout::Llama;
        if !llama && self.qk_norm {
            return bad("qk_norm needs the Llama layout".to_owned());
        }
        if llama != self.gated_mlp {
            return bad(format!(
                "the {:?} family has {} MLP",
                self.family,
                if llama { "a gated" } else { "an ungated" }
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;

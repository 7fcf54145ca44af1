//! The post-LayerNorm transformer encoder of BERT, DistilBERT and RoBERTa with its
//! sequence-classification head, with the variable names of their Hugging Face checkpoints.
//!
//! Each layer: self-attention over the real (non-padding) tokens, `LayerNorm(x + attention)`,
//! then `LayerNorm(x + W2 act(W1 x))`. The head reads the first token's hidden state (`[CLS]` /
//! `<s>`).

use std::path::Path;

use tch::nn::{Init, Path as VarPath, VarStore};
use tch::{Device, Kind, Tensor};

use crate::classifier::config::{ClassifierConfig, EncoderFamily};
use crate::error::{Error, Result};
use crate::model::folder::{MappedWeights, weight_files};
use crate::model::layers::{Affine, AffineLayout, Norm};
use crate::model::{CONFIG_FILE, NormKind};

/// One encoder layer.
#[derive(Debug)]
struct Layer {
    q: Affine,
    k: Affine,
    v: Affine,
    out: Affine,
    attn_norm: Norm,
    ff_in: Affine,
    ff_out: Affine,
    ff_norm: Norm,
}

/// The classification head on the first token.
#[derive(Debug)]
enum Head {
    /// BERT: `tanh(pooler(h0))`, then `classifier`.
    Pooler { pooler: Affine, classifier: Affine },
    /// DistilBERT: `relu(pre_classifier(h0))`, then `classifier`.
    PreClassifier { pre: Affine, classifier: Affine },
    /// RoBERTa: `tanh(dense(h0))`, then `out_proj`.
    Dense { dense: Affine, out_proj: Affine },
}

/// A `*ForSequenceClassification` model: token ids in, one logit per label out.
#[derive(Debug)]
pub struct SequenceClassifier {
    cfg: ClassifierConfig,
    word: Tensor,
    position: Tensor,
    token_type: Option<Tensor>,
    embed_norm: Norm,
    layers: Vec<Layer>,
    head: Head,
}

fn linear(path: &VarPath, name: &str, inp: i64, out: i64) -> Result<Affine> {
    // Zero weights: every classifier is loaded from a folder right after it is built.
    Affine::new(&(path / name), inp, out, 0.0, true, AffineLayout::Linear)
}

fn layer_norm(path: &VarPath, name: &str, cfg: &ClassifierConfig) -> Result<Norm> {
    Norm::new(
        &(path / name),
        NormKind::LayerNorm,
        cfg.hidden,
        cfg.layer_norm_eps,
        true,
    )
}

impl SequenceClassifier {
    /// Loads the classifier of a Hugging Face model folder (`config.json` of a supported
    /// family, safetensors weights) onto `device` in f32. Every variable must be in the files
    /// and every tensor must belong to the model.
    pub fn load(dir: &Path, device: Device) -> Result<(VarStore, Self)> {
        let path = dir.join(CONFIG_FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::InvalidArgument(format!("cannot read {}: {e}", path.display())))?;
        let cfg = ClassifierConfig::from_hf(&text)
            .map_err(|e| Error::InvalidArgument(format!("{}: {e}", dir.display())))?;
        let weights = MappedWeights::open(&weight_files(dir)?)?;
        let vs = VarStore::new(device);
        let model = Self::new(&vs.root(), cfg)?;
        // Buffers some checkpoints carry are not parameters.
        weights.load_renamed(&vs, |name| {
            let buffer = name.ends_with("embeddings.position_ids")
                || name.ends_with("embeddings.token_type_ids");
            (!buffer).then(|| name.to_owned())
        })?;
        Ok((vs, model))
    }

    /// Creates the variables (zeros) under `path`, named as the family's checkpoints name them.
    pub fn new(path: &VarPath, cfg: ClassifierConfig) -> Result<Self> {
        let h = cfg.hidden;
        let enc = path / cfg.family.prefix();
        let emb = &enc / "embeddings";
        let zeros = Init::Const(0.0);
        let word = (&emb / "word_embeddings").f_var("weight", &[cfg.vocab_size, h], zeros)?;
        let position =
            (&emb / "position_embeddings").f_var("weight", &[cfg.max_positions, h], zeros)?;
        let token_type = if cfg.type_vocab_size > 0 {
            Some((&emb / "token_type_embeddings").f_var(
                "weight",
                &[cfg.type_vocab_size, h],
                zeros,
            )?)
        } else {
            None
        };
        let embed_norm = layer_norm(&emb, "LayerNorm", &cfg)?;
        let distil = cfg.family == EncoderFamily::DistilBert;
        let layers = (0..cfg.n_layers)
            .map(|i| {
                let l = if distil {
                    &enc / "transformer" / "layer" / i
                } else {
                    &enc / "encoder" / "layer" / i
                };
                let ff = cfg.intermediate;
                if distil {
                    let a = &l / "attention";
                    Ok(Layer {
                        q: linear(&a, "q_lin", h, h)?,
                        k: linear(&a, "k_lin", h, h)?,
                        v: linear(&a, "v_lin", h, h)?,
                        out: linear(&a, "out_lin", h, h)?,
                        attn_norm: layer_norm(&l, "sa_layer_norm", &cfg)?,
                        ff_in: linear(&(&l / "ffn"), "lin1", h, ff)?,
                        ff_out: linear(&(&l / "ffn"), "lin2", ff, h)?,
                        ff_norm: layer_norm(&l, "output_layer_norm", &cfg)?,
                    })
                } else {
                    let a = &l / "attention";
                    let s = &a / "self";
                    Ok(Layer {
                        q: linear(&s, "query", h, h)?,
                        k: linear(&s, "key", h, h)?,
                        v: linear(&s, "value", h, h)?,
                        out: linear(&(&a / "output"), "dense", h, h)?,
                        attn_norm: layer_norm(&(&a / "output"), "LayerNorm", &cfg)?,
                        ff_in: linear(&(&l / "intermediate"), "dense", h, ff)?,
                        ff_out: linear(&(&l / "output"), "dense", ff, h)?,
                        ff_norm: layer_norm(&(&l / "output"), "LayerNorm", &cfg)?,
                    })
                }
            })
            .collect::<Result<Vec<_>>>()?;
        let n = cfg.labels.len() as i64;
        let head = match cfg.family {
            EncoderFamily::Bert => Head::Pooler {
                pooler: linear(&(&enc / "pooler"), "dense", h, h)?,
                classifier: linear(path, "classifier", h, n)?,
            },
            EncoderFamily::DistilBert => Head::PreClassifier {
                pre: linear(path, "pre_classifier", h, h)?,
                classifier: linear(path, "classifier", h, n)?,
            },
            EncoderFamily::Roberta => Head::Dense {
                dense: linear(&(path / "classifier"), "dense", h, h)?,
                out_proj: linear(&(path / "classifier"), "out_proj", h, n)?,
            },
        };
        Ok(Self {
            cfg,
            word,
            position,
            token_type,
            embed_norm,
            layers,
            head,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ClassifierConfig {
        &self.cfg
    }

    /// The logits `[B, labels]` of token ids `[B, T]` (int64, right-padded with the pad id);
    /// `attention_mask` (`[B, T]`, 1 = real token) defaults to all real. An id outside the
    /// vocabulary or a sequence longer than [`ClassifierConfig::max_len`] is an error.
    pub fn logits(&self, ids: &Tensor, attention_mask: Option<&Tensor>) -> Result<Tensor> {
        let size = ids.size();
        let [b, t] = size[..] else {
            return Err(Error::Shape(format!(
                "token ids must be [B, T], got {size:?}"
            )));
        };
        if ids.kind() != Kind::Int64 {
            return Err(Error::InvalidArgument(format!(
                "token ids must be int64, got {:?}",
                ids.kind()
            )));
        }
        if b < 1 {
            return Err(Error::Shape(format!(
                "an empty batch of token ids {size:?}"
            )));
        }
        if t < 1 || t > self.cfg.max_len() {
            return Err(Error::InvalidArgument(format!(
                "a classifier input has 1 to {} tokens, got {t}",
                self.cfg.max_len()
            )));
        }
        let (lo, hi) = (ids.f_min()?.int64_value(&[]), ids.f_max()?.int64_value(&[]));
        if lo < 0 || hi >= self.cfg.vocab_size {
            return Err(Error::InvalidArgument(format!(
                "token id {} is outside the classifier's vocabulary of {}",
                if lo < 0 { lo } else { hi },
                self.cfg.vocab_size
            )));
        }
        let device = self.word.device();
        let ids = ids.f_to_device(device)?;
        let real = match attention_mask {
            Some(m) if m.size() != size => {
                return Err(Error::Shape(format!(
                    "attention mask {:?} does not match the ids {size:?}",
                    m.size()
                )));
            }
            Some(m) => m.f_to_device(device)?.f_ne(0)?,
            None => Tensor::f_ones([b, t], (Kind::Bool, device))?,
        };
        let positions = match self.cfg.family {
            // As transformers: positions count the non-padding ids, after pad_token_id.
            EncoderFamily::Roberta => {
                let not_pad = ids.f_ne(self.cfg.pad_token_id)?.f_to_kind(Kind::Int64)?;
                not_pad
                    .f_cumsum(1, Kind::Int64)?
                    .f_mul(&not_pad)?
                    .f_add_scalar(self.cfg.pad_token_id)?
            }
            _ => Tensor::f_arange(t, (Kind::Int64, device))?.f_unsqueeze(0)?,
        };
        let mut x = Tensor::f_embedding(&self.word, &ids, -1, false, false)?.f_add(
            &Tensor::f_embedding(&self.position, &positions, -1, false, false)?,
        )?;
        if let Some(tt) = &self.token_type {
            x = x.f_add(&tt.f_get(0)?)?;
        }
        x = self.embed_norm.forward(&x)?;
        let key_mask = real.f_view([b, 1, 1, t])?;
        let (heads, dh) = (self.cfg.n_heads, self.cfg.hidden / self.cfg.n_heads);
        let split = |y: Tensor| y.f_view([b, t, heads, dh])?.f_transpose(1, 2);
        for l in &self.layers {
            let q = split(l.q.forward(&x)?)?;
            let k = split(l.k.forward(&x)?)?;
            let v = split(l.v.forward(&x)?)?;
            let a = Tensor::f_scaled_dot_product_attention(
                &q,
                &k,
                &v,
                Some(&key_mask),
                0.0,
                false,
                None::<f64>,
                false,
            )?
            .f_transpose(1, 2)?
            .f_reshape([b, t, self.cfg.hidden])?;
            x = l.attn_norm.forward(&x.f_add(&l.out.forward(&a)?)?)?;
            let f = l
                .ff_out
                .forward(&self.cfg.activation.apply(&l.ff_in.forward(&x)?)?)?;
            x = l.ff_norm.forward(&x.f_add(&f)?)?;
        }
        let first = x.f_select(1, 0)?;
        Ok(match &self.head {
            Head::Pooler { pooler, classifier } => {
                classifier.forward(&pooler.forward(&first)?.f_tanh()?)?
            }
            Head::PreClassifier { pre, classifier } => {
                classifier.forward(&pre.forward(&first)?.f_relu()?)?
            }
            Head::Dense { dense, out_proj } => {
                out_proj.forward(&dense.forward(&first)?.f_tanh()?)?
            }
        })
    }
}

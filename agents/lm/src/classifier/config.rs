//! The configuration of a sequence classifier, read from a Hugging Face `config.json` of a
//! `*ForSequenceClassification` model: BERT (`bert`), DistilBERT (`distilbert`) and RoBERTa
//! (`roberta`).

use crate::error::{Error, Result};
use crate::model::Activation;
use crate::models::HfConfig;

/// The `model_type`s a classifier loads from.
pub const SUPPORTED_CLASSIFIER_TYPES: &str = "bert, distilbert, roberta";

/// The encoder family: names of the variables, position ids and classification head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncoderFamily {
    /// BERT: token-type embeddings, a tanh pooler on the first token, then a linear classifier.
    Bert,
    /// DistilBERT: no token types; `pre_classifier` + ReLU on the first token, then `classifier`.
    DistilBert,
    /// RoBERTa: positions counted from `pad_token_id + 1` over non-padding tokens; a
    /// dense + tanh head on the first token, then `out_proj`.
    Roberta,
}

impl EncoderFamily {
    /// The prefix of the encoder's variables (`bert`, `distilbert`, `roberta`).
    pub fn prefix(self) -> &'static str {
        match self {
            Self::Bert => "bert",
            Self::DistilBert => "distilbert",
            Self::Roberta => "roberta",
        }
    }
}

/// A sequence classifier's sizes and options.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassifierConfig {
    /// The family.
    pub family: EncoderFamily,
    /// Vocabulary size.
    pub vocab_size: i64,
    /// Width of the hidden states.
    pub hidden: i64,
    /// Number of encoder layers.
    pub n_layers: i64,
    /// Number of attention heads.
    pub n_heads: i64,
    /// Width of the feed-forward layer.
    pub intermediate: i64,
    /// Number of position embeddings.
    pub max_positions: i64,
    /// Number of token types (0 for DistilBERT, which has none).
    pub type_vocab_size: i64,
    /// LayerNorm epsilon.
    pub layer_norm_eps: f64,
    /// The feed-forward nonlinearity (`gelu`, `gelu_new`).
    pub activation: Activation,
    /// The padding id (RoBERTa's positions start after it).
    pub pad_token_id: i64,
    /// The label names in id order (`id2label`).
    pub labels: Vec<String>,
}

impl ClassifierConfig {
    /// The longest input in tokens: the position embeddings (less RoBERTa's `pad + 1` offset).
    pub fn max_len(&self) -> i64 {
        match self.family {
            EncoderFamily::Roberta => self.max_positions - self.pad_token_id - 1,
            _ => self.max_positions,
        }
    }

    /// The index of label `name` (an `id2label` name, or a number).
    pub fn label_index(&self, name: &str) -> Result<usize> {
        if let Some(i) = self.labels.iter().position(|l| l == name) {
            return Ok(i);
        }
        match name.parse::<usize>() {
            Ok(i) if i < self.labels.len() => Ok(i),
            _ => Err(Error::InvalidArgument(format!(
                "the classifier has no label {name:?} (its labels: {})",
                self.labels.join(", ")
            ))),
        }
    }

    /// Reads a `config.json` text.
    pub fn from_hf(json: &str) -> Result<Self> {
        let c = HfConfig::parse(json)?;
        let family = match c.model_type() {
            "bert" => EncoderFamily::Bert,
            "distilbert" => EncoderFamily::DistilBert,
            "roberta" => EncoderFamily::Roberta,
            other => {
                return Err(Error::InvalidArgument(format!(
                    "config.json: model_type {other:?} is not a supported classifier \
                     (supported: {SUPPORTED_CLASSIFIER_TYPES})"
                )));
            }
        };
        let distil = family == EncoderFamily::DistilBert;
        let key =
            |bert: &'static str, distilbert: &'static str| if distil { distilbert } else { bert };
        let act_key = key("hidden_act", "activation");
        let activation = match c.str_opt(act_key)?.unwrap_or("gelu") {
            "gelu" => Activation::Exact,
            "gelu_new" | "gelu_pytorch_tanh" => Activation::Tanh,
            other => {
                return Err(c.error(format!(
                    "{act_key} {other:?} is not supported (gelu, gelu_new)"
                )));
            }
        };
        if distil && c.bool_or("sinusoidal_pos_embds", false)? {
            return Err(c.error("sinusoidal_pos_embds = true is not supported"));
        }
        if let Some(kind) = c.str_opt("position_embedding_type")?
            && kind != "absolute"
        {
            return Err(c.error(format!(
                "position_embedding_type {kind:?} is not supported (absolute)"
            )));
        }
        if let Some(problem) = c.str_opt("problem_type")?
            && problem == "regression"
        {
            return Err(c.error("problem_type regression is not a classifier"));
        }
        let labels = read_labels(&c)?;
        let cfg = Self {
            family,
            vocab_size: c.int("vocab_size")?,
            hidden: c.int(key("hidden_size", "dim"))?,
            n_layers: c.int(key("num_hidden_layers", "n_layers"))?,
            n_heads: c.int(key("num_attention_heads", "n_heads"))?,
            intermediate: c.int(key("intermediate_size", "hidden_dim"))?,
            max_positions: c.int("max_position_embeddings")?,
            type_vocab_size: if distil {
                0
            } else {
                c.int_opt("type_vocab_size")?.unwrap_or(2)
            },
            layer_norm_eps: if distil {
                1e-12
            } else {
                c.float_or("layer_norm_eps", 1e-12)?
            },
            activation,
            pad_token_id: c.int_opt("pad_token_id")?.unwrap_or(
                if family == EncoderFamily::Roberta {
                    1
                } else {
                    0
                },
            ),
            labels,
        };
        cfg.validate()?;
        Ok(cfg)
    }

    fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::InvalidArgument(format!("classifier config: {msg}")));
        for (name, v) in [
            ("vocab_size", self.vocab_size),
            ("hidden size", self.hidden),
            ("layers", self.n_layers),
            ("heads", self.n_heads),
            ("intermediate size", self.intermediate),
            ("max_position_embeddings", self.max_positions),
        ] {
            if v <= 0 {
                return bad(format!("{name} must be positive, got {v}"));
            }
        }
        if self.hidden % self.n_heads != 0 {
            return bad(format!(
                "hidden size {} is not divisible by {} heads",
                self.hidden, self.n_heads
            ));
        }
        if self.max_len() < 2 {
            return bad(format!(
                "max_position_embeddings {} leaves no room for a text",
                self.max_positions
            ));
        }
        if !(0..self.vocab_size).contains(&self.pad_token_id) {
            return bad(format!(
                "pad_token_id {} is outside the vocabulary",
                self.pad_token_id
            ));
        }
        if self.labels.is_empty() {
            return bad("no labels".to_owned());
        }
        Ok(())
    }
}

/// `id2label` in id order (`LABEL_i` names when only `num_labels` is given, 2 labels when
/// neither is, as transformers defaults).
fn read_labels(c: &HfConfig) -> Result<Vec<String>> {
    let Some(map) = c.get("id2label") else {
        let n = c.int_opt("num_labels")?.unwrap_or(2);
        return Ok((0..n).map(|i| format!("LABEL_{i}")).collect());
    };
    let obj = map
        .as_object()
        .ok_or_else(|| c.error("id2label must be an object"))?;
    let mut labels = vec![None; obj.len()];
    for (k, v) in obj {
        let i = k
            .parse::<usize>()
            .ok()
            .filter(|&i| i < labels.len())
            .ok_or_else(|| {
                c.error(format!(
                    "id2label key {k:?} is not an id below {}",
                    obj.len()
                ))
            })?;
        labels[i] = Some(
            v.as_str()
                .ok_or_else(|| c.error(format!("id2label[{k}] must be a string")))?
                .to_owned(),
        );
    }
    labels
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| c.error("id2label has duplicate ids"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BERT: &str = r#"{"model_type": "bert", "vocab_size": 50, "hidden_size": 16,
        "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32,
        "max_position_embeddings": 20, "id2label": {"0": "NEGATIVE", "1": "POSITIVE"}}"#;

    #[test]
    fn reads_labels_and_families() {
        let cfg = ClassifierConfig::from_hf(BERT).unwrap();
        assert_eq!(cfg.family, EncoderFamily::Bert);
        assert_eq!(cfg.labels, ["NEGATIVE", "POSITIVE"]);
        assert_eq!(
            (
                cfg.label_index("POSITIVE").unwrap(),
                cfg.label_index("0").unwrap()
            ),
            (1, 0)
        );
        let err = cfg.label_index("happy").unwrap_err().to_string();
        assert!(err.contains("NEGATIVE, POSITIVE"), "{err}");
        let roberta = BERT.replace("\"bert\"", "\"roberta\"").replace("20", "22");
        let cfg = ClassifierConfig::from_hf(&roberta).unwrap();
        assert_eq!((cfg.pad_token_id, cfg.max_len()), (1, 20));
        let three = BERT.replace(
            r#""id2label": {"0": "NEGATIVE", "1": "POSITIVE"}"#,
            r#""num_labels": 3"#,
        );
        assert_eq!(ClassifierConfig::from_hf(&three).unwrap().labels.len(), 3);
    }

    #[test]
    fn unsupported_options_are_errors() {
        for (from, to, needle) in [
            ("\"bert\"", "\"gpt2\"", "bert, distilbert, roberta"),
            (
                "\"model_type\"",
                "\"hidden_act\": \"swish\", \"model_type\"",
                "hidden_act",
            ),
            (
                "\"model_type\"",
                "\"position_embedding_type\": \"relative_key\", \"model_type\"",
                "position_embedding_type",
            ),
            (
                "\"num_attention_heads\": 2",
                "\"num_attention_heads\": 3",
                "divisible",
            ),
            ("\"1\": \"POSITIVE\"", "\"7\": \"POSITIVE\"", "id2label"),
        ] {
            let err = ClassifierConfig::from_hf(&BERT.replace(from, to))
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{to}: {err}");
        }
    }
}

//! A scalar value head on a language model: `V(s_t) = w · h_t + b` on the final hidden state
//! `h_t` (the LM head's input, [`Decoder::hidden_states`]) of the position that is about to emit
//! response token `t`.
//!
//! The head's variables live under a path of the policy's [`VarStore`](tch::nn::VarStore)
//! (conventionally `vs.root() / "value_head"`), so one optimizer trains policy and value
//! together; a [`FrozenDecoder`](crate::rl::FrozenDecoder) copy ignores them (it only copies the
//! variables of the GPT).

use tch::Tensor;
use tch::nn::{Init, Path};

use crate::error::{Error, Result};
use crate::model::decoder::Decoder;

/// The value head's weights.
#[derive(Debug)]
pub struct ValueHead {
    weight: Tensor,
    bias: Tensor,
    d_model: i64,
}

impl ValueHead {
    /// A head for hidden states of width `d_model`: weight normal(0, 1/sqrt(d)·0.1), bias 0.
    pub fn new(path: &Path, d_model: i64) -> Result<Self> {
        if d_model < 1 {
            return Err(Error::InvalidArgument(format!(
                "value head width must be >= 1, got {d_model}"
            )));
        }
        let stdev = 0.1 / (d_model as f64).sqrt();
        let weight = path.f_var("weight", &[1, d_model], Init::Randn { mean: 0.0, stdev })?;
        let bias = path.f_var("bias", &[1], Init::Const(0.0))?;
        Ok(Self {
            weight,
            bias,
            d_model,
        })
    }

    /// Values `[..]` of hidden states `[.., d]`.
    pub fn forward(&self, hidden: &Tensor) -> Result<Tensor> {
        let size = hidden.size();
        if size.last() != Some(&self.d_model) {
            return Err(Error::Shape(format!(
                "value head expects hidden states [.., {}], got {size:?}",
                self.d_model
            )));
        }
        Ok(hidden
            .f_linear(&self.weight, Some(&self.bias))?
            .f_squeeze_dim(-1)?)
    }

    /// Values `[B, N]` of the positions that emit the `N` response tokens after a `T`-token
    /// prompt, and the logits `[B, T + N, V]` of the same forward pass of `model` over
    /// `tokens` `[B, T + N]` (mask `[B, T + N]`).
    pub fn values_and_logits(
        &self,
        model: &Decoder,
        tokens: &Tensor,
        mask: &Tensor,
        prompt_len: i64,
        response_len: i64,
    ) -> Result<(Tensor, Tensor)> {
        let (hidden, logits) = model.hidden_states(tokens, Some(mask), false)?;
        let values = self.forward(&hidden.f_narrow(1, prompt_len - 1, response_len)?)?;
        Ok((values, logits))
    }
}

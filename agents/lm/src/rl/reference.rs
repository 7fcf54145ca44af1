//! A frozen copy of a [`Decoder`]: the reference policy of a KL penalty.
//!
//! The copy lives in its own [`VarStore`] (same device, same configuration), its weights are
//! copied from the policy's store with [`VarStore::copy`], and the store is frozen
//! (`requires_grad = false`), so no optimizer or backward pass ever touches it.

use tch::Tensor;
use tch::nn::VarStore;

use crate::error::{Error, Result};
use crate::model::config::DecoderConfig;
use crate::model::decoder::Decoder;

/// A [`Decoder`] with frozen weights copied from another model's [`VarStore`].
#[derive(Debug)]
pub struct FrozenDecoder {
    vs: VarStore,
    model: Decoder,
}

impl FrozenDecoder {
    /// A frozen copy of the model with configuration `cfg` whose weights live in `source` (the
    /// policy's store). Errors when the stores' variables do not match (another architecture).
    pub fn copy_of(source: &VarStore, cfg: &DecoderConfig) -> Result<Self> {
        let mut vs = VarStore::new(source.device());
        // The copy keeps the source's dtype (a bf16 policy gets a bf16 reference).
        if let Some(kind) = source.variables().values().next().map(Tensor::kind) {
            vs.set_kind(kind);
        }
        let model = Decoder::new_for_loading(&vs.root(), cfg.clone())?;
        vs.copy(source)?;
        vs.freeze();
        Ok(Self { vs, model })
    }

    /// The frozen model.
    pub fn model(&self) -> &Decoder {
        &self.model
    }

    /// The frozen store.
    pub fn var_store(&self) -> &VarStore {
        &self.vs
    }

    /// Copies the weights of `source` again (e.g. to move the reference to the current policy).
    pub fn sync_from(&mut self, source: &VarStore) -> Result<()> {
        self.vs.copy(source)?;
        Ok(())
    }

    /// Copies the frozen weights back into the variables of the same names in `target` (a
    /// policy's store, which may hold more, such as a value head, left as they are): undoes an
    /// update of the policy.
    pub fn copy_into(&self, target: &VarStore) -> Result<()> {
        let mine = self.vs.variables();
        let theirs = target.variables();
        for name in mine.keys() {
            if !theirs.contains_key(name) {
                return Err(Error::InvalidArgument(format!(
                    "the policy's store has no variable {name}"
                )));
            }
        }
        tch::no_grad(|| -> Result<()> {
            for (name, src) in &mine {
                let mut dst = theirs[name].shallow_clone();
                dst.f_copy_(src)?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::causal_lm::CausalLm;
    use tch::{Device, Tensor};

    #[test]
    fn copy_is_identical_frozen_and_independent() {
        tch::manual_seed(0);
        let vs = VarStore::new(Device::Cpu);
        let mut cfg = DecoderConfig::tiny(10);
        (cfg.d_model, cfg.n_layers, cfg.context_len) = (16, 1, 8);
        let policy = Decoder::new(&vs.root(), cfg.clone()).unwrap();
        let frozen = FrozenDecoder::copy_of(&vs, &cfg).unwrap();
        let toks = Tensor::from_slice(&[1i64, 2, 3]).reshape([1, 3]);
        let a = tch::no_grad(|| policy.logits(&toks, None)).unwrap();
        let b = tch::no_grad(|| frozen.model().logits(&toks, None)).unwrap();
        assert!(a.allclose(&b, 0.0, 0.0, false));
        assert!(
            frozen
                .var_store()
                .trainable_variables()
                .iter()
                .all(|v| !v.requires_grad())
        );
        // Changing the policy leaves the copy alone.
        tch::no_grad(|| {
            for mut v in vs.trainable_variables() {
                let _ = v.f_add_scalar_(0.5).unwrap();
            }
        });
        let b2 = tch::no_grad(|| frozen.model().logits(&toks, None)).unwrap();
        assert!(b.allclose(&b2, 0.0, 0.0, false));
        // Copying back undoes the change, also into a store with more variables.
        let _head = (vs.root() / "value_head").var("w", &[2], tch::nn::Init::Const(1.0));
        frozen.copy_into(&vs).unwrap();
        let a2 = tch::no_grad(|| policy.logits(&toks, None)).unwrap();
        assert!(a.allclose(&a2, 0.0, 0.0, false));
        // A bf16 policy gets a bf16 copy.
        let mut low = VarStore::new(Device::Cpu);
        let _low_policy = Decoder::new(&low.root(), cfg.clone()).unwrap();
        low.set_kind(tch::Kind::BFloat16);
        let low_copy = FrozenDecoder::copy_of(&low, &cfg).unwrap();
        assert!(
            low_copy
                .var_store()
                .variables()
                .values()
                .all(|t| t.kind() == tch::Kind::BFloat16)
        );
        // Another architecture does not copy.
        let mut other = cfg.clone();
        other.d_model = 32;
        assert!(FrozenDecoder::copy_of(&vs, &other).is_err());
    }
}

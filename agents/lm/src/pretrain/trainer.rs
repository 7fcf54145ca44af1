//! Teacher-forcing training of a [`Decoder`] on a [`TextDataset`]: AdamW, linear warm-up + cosine
//! decay ([`LrSchedule`]), gradient-norm clipping, periodic validation, atomic checkpoints and
//! resuming.
//!
//! **Weight decay.** tch's `nn::AdamW` applies one decay to every variable of a group, and the
//! model's variables are created without groups, so the optimizer runs with decay 0 and the
//! trainer applies AdamW's *decoupled* decay itself, `p <- p * (1 - lr * wd)` just before each
//! optimizer step (what PyTorch's AdamW does), to the weight matrices only: biases, LayerNorm
//! parameters and the token/position embeddings are not decayed.
//!
//! **Non-finite values.** A NaN or infinite training loss or gradient norm stops training with
//! [`Error::NonFinite`] before the optimizer step, so the weights in memory and the last
//! checkpoint on disk stay those of the last good step.
//!
//! **Resuming** restores the weights and the step count; the AdamW moments restart from zero
//! (see [`crate::pretrain::checkpoint`]).

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tch::nn::{self, OptimizerConfig, VarStore};
use tch::{Device, Kind, Tensor};

use crate::error::{Error, Result};
use crate::model::config::DecoderConfig;
use crate::model::decoder::Decoder;
use crate::pretrain::checkpoint::{
    TokenizerSource, TrainerState, load_checkpoint, load_checkpoint_as, save_checkpoint,
};
use crate::pretrain::config::TrainerConfig;
use crate::pretrain::dataset::{LmBatch, TextDataset};
use crate::pretrain::lr_schedule::LrSchedule;
use crate::pretrain::validation::{EvalStats, evaluate};
use tokengym_agents::nn::DeviceChoice;

/// What one training step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// The step's index (0-based; the trainer's step count is one more afterwards).
    pub step: u64,
    /// Mean cross-entropy of the batch (nats per token).
    pub loss: f64,
    /// Learning rate used.
    pub lr: f64,
    /// Global gradient norm before clipping.
    pub grad_norm: f64,
    /// Target tokens in the batch.
    pub tokens: usize,
}

/// What [`Trainer::fit`] reports to its observer.
#[derive(Debug, Clone, Copy)]
pub enum FitEvent {
    /// After every training step.
    Step(StepStats),
    /// After every validation.
    Eval {
        /// Steps taken so far.
        step: u64,
        /// Mean training loss since the previous validation.
        train_loss: f64,
        /// The validation result.
        eval: EvalStats,
        /// Learning rate of the last step.
        lr: f64,
        /// Training tokens per second since the previous validation.
        tokens_per_second: f64,
    },
}

/// The result of [`Trainer::fit`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// Steps taken by this call.
    pub steps_run: u64,
    /// The trainer's step count at the end.
    pub final_step: u64,
    /// Mean training loss over the last (up to 10) steps.
    pub final_train_loss: f64,
    /// Validation on the whole validation set at the end.
    pub final_eval: EvalStats,
    /// Training tokens per second (training steps only).
    pub tokens_per_second: f64,
    /// Wall-clock seconds of the call (evaluations and checkpoints included).
    pub wall_seconds: f64,
}

/// Where [`Trainer::fit`] writes checkpoints.
#[derive(Debug, Clone)]
pub struct CheckpointTarget {
    /// The checkpoint folder (replaced atomically at every save).
    pub dir: PathBuf,
    /// The tokenizer stored with the model.
    pub tokenizer: TokenizerSource,
}

/// A GPT, its optimizer and schedule, and the step count.
pub struct Trainer {
    cfg: TrainerConfig,
    vs: VarStore,
    model: Decoder,
    opt: nn::Optimizer,
    schedule: LrSchedule,
    decayed: Vec<Tensor>,
    decayed_names: Vec<String>,
    step: u64,
    device: Device,
}

impl std::fmt::Debug for Trainer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("config", &self.cfg)
            .field("model", self.model.config())
            .field("step", &self.step)
            .finish()
    }
}

impl Trainer {
    /// A fresh model of `model_cfg` (initialised from `cfg.seed`) ready to train with `cfg`.
    pub fn new(model_cfg: DecoderConfig, cfg: TrainerConfig) -> Result<Self> {
        cfg.validate()?;
        let device = cfg.device.parse::<DeviceChoice>()?.resolve()?;
        tch::manual_seed(cfg.seed as i64);
        let vs = VarStore::new(device);
        let model = Decoder::new(&vs.root(), model_cfg)?;
        Self::assemble(vs, model, cfg, 0)
    }

    /// Continues the run saved in checkpoint folder `dir` with settings `cfg` (normally the
    /// saved ones with a new `steps`): weights and step count are restored, the optimizer
    /// moments restart. Returns the trainer and the checkpoint's tokenizer.
    pub fn resume(
        dir: &Path,
        cfg: TrainerConfig,
    ) -> Result<(Self, Box<dyn tokengym_envs::text::Tokenizer>)> {
        cfg.validate()?;
        let device = cfg.device.parse::<DeviceChoice>()?.resolve()?;
        tch::manual_seed(cfg.seed as i64);
        let loaded = load_checkpoint(dir, device)?;
        let state = loaded
            .state
            .ok_or_else(|| Error::checkpoint(dir, "no trainer_state.json: not a training run"))?;
        let trainer = Self::assemble(loaded.vs, loaded.model, cfg, state.step)?;
        Ok((trainer, loaded.tokenizer))
    }

    /// Continues training the model of folder `dir` — a Hugging Face model folder of a
    /// supported family or one of our checkpoints — from step 0 with `cfg`, its weights loaded
    /// in `dtype` (`None`: as stored; f32 is the usual choice for training). Returns the
    /// trainer, the folder's tokenizer (as [`load_checkpoint_as`] reads it) and the source to
    /// checkpoint with ([`TokenizerSource::of_folder`]: a Hugging Face model is saved as one).
    pub fn from_pretrained(
        dir: &Path,
        cfg: TrainerConfig,
        dtype: Option<Kind>,
    ) -> Result<(
        Self,
        Box<dyn tokengym_envs::text::Tokenizer>,
        TokenizerSource,
    )> {
        cfg.validate()?;
        let device = cfg.device.parse::<DeviceChoice>()?.resolve()?;
        tch::manual_seed(cfg.seed as i64);
        let source = TokenizerSource::of_folder(dir)?;
        let loaded = load_checkpoint_as(dir, device, dtype)?;
        let trainer = Self::assemble(loaded.vs, loaded.model, cfg, 0)?;
        Ok((trainer, loaded.tokenizer, source))
    }

    fn assemble(vs: VarStore, model: Decoder, cfg: TrainerConfig, step: u64) -> Result<Self> {
        let ctx = model.config().context_len;
        if cfg.context as i64 > ctx {
            return Err(Error::InvalidArgument(format!(
                "training context {} exceeds the model's context length {ctx}",
                cfg.context
            )));
        }
        let opt = nn::AdamW {
            beta1: cfg.beta1,
            beta2: cfg.beta2,
            wd: 0.0,
            eps: 1e-8,
            amsgrad: false,
        }
        .build(&vs, cfg.lr)?;
        let mut decayed: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(name, t)| t.dim() >= 2 && !is_embedding(name))
            .collect();
        decayed.sort_by(|a, b| a.0.cmp(&b.0));
        let schedule = cfg.schedule()?;
        let device = vs.device();
        Ok(Self {
            cfg,
            vs,
            model,
            opt,
            schedule,
            decayed_names: decayed.iter().map(|(n, _)| n.clone()).collect(),
            decayed: decayed.into_iter().map(|(_, t)| t).collect(),
            step,
            device,
        })
    }

    /// The model.
    pub fn model(&self) -> &Decoder {
        &self.model
    }

    /// The model's variables.
    pub fn var_store(&self) -> &VarStore {
        &self.vs
    }

    /// Names of the variables that get weight decay (the weight matrices; see the module
    /// docs), sorted.
    pub fn decayed_variables(&self) -> &[String] {
        &self.decayed_names
    }

    /// The training settings.
    pub fn config(&self) -> &TrainerConfig {
        &self.cfg
    }

    /// Optimizer steps taken so far (including those before a resume).
    pub fn step(&self) -> u64 {
        self.step
    }

    /// The device the model lives on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// One optimizer step on `batch`: forward with dropout, loss, backward, clipping, decoupled
    /// weight decay, AdamW update. A non-finite loss or gradient norm is an error and leaves
    /// the weights untouched.
    pub fn train_step(&mut self, batch: &LmBatch) -> Result<StepStats> {
        let lr = self.schedule.lr_at(self.step);
        self.opt.set_lr(lr);
        self.opt.zero_grad();
        let b = batch.to_device(self.device)?;
        let loss = self.model.loss(&b.inputs, &b.targets, None, true)?;
        let loss_value = loss.f_double_value(&[])?;
        if !loss_value.is_finite() {
            return Err(Error::NonFinite(format!(
                "training loss is {loss_value} at step {}",
                self.step
            )));
        }
        loss.f_backward()?;
        let grad_norm = self.clip_gradients()?;
        if !grad_norm.is_finite() {
            self.opt.zero_grad();
            return Err(Error::NonFinite(format!(
                "gradient norm is {grad_norm} at step {}",
                self.step
            )));
        }
        let factor = 1.0 - lr * self.cfg.weight_decay;
        if factor != 1.0 {
            tch::no_grad(|| -> Result<()> {
                for p in &self.decayed {
                    let _ = p.shallow_clone().f_mul_scalar_(factor)?;
                }
                Ok(())
            })?;
        }
        self.opt.step();
        let stats = StepStats {
            step: self.step,
            loss: loss_value,
            lr,
            grad_norm,
            tokens: batch.real_tokens,
        };
        self.step += 1;
        Ok(stats)
    }

    /// The global L2 norm of the gradients (before clipping); scales them to `grad_clip` when
    /// it is exceeded.
    fn clip_gradients(&self) -> Result<f64> {
        tch::no_grad(|| {
            let grads: Vec<Tensor> = self
                .vs
                .trainable_variables()
                .iter()
                .map(Tensor::grad)
                .filter(Tensor::defined)
                .collect();
            if grads.is_empty() {
                return Ok(0.0);
            }
            let norms = grads
                .iter()
                .map(|g| g.f_norm())
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let total = Tensor::f_stack(&norms, 0)?.f_norm()?.f_double_value(&[])?;
            let max = self.cfg.grad_clip;
            if max > 0.0 && total.is_finite() && total > max {
                let coef = max / (total + 1e-6);
                for g in &grads {
                    let _ = g.shallow_clone().f_mul_scalar_(coef)?;
                }
            }
            Ok(total)
        })
    }

    /// Mean NLL and perplexity over the real targets of `data` (evaluation mode, no
    /// gradients), in batches of the training batch size; at most `max_batches` batches.
    pub fn evaluate(&self, data: &TextDataset, max_batches: Option<usize>) -> Result<EvalStats> {
        evaluate(&self.model, data, self.cfg.batch_size, max_batches)
    }

    /// Trains until the step count reaches `cfg.steps`, validating every `eval_every` steps
    /// (and checkpointing then, when `checkpoint` is given), then validates on the whole
    /// validation set and writes the final checkpoint. `on_event` sees every step and every
    /// validation; an error from it stops training.
    pub fn fit(
        &mut self,
        train: &TextDataset,
        valid: &TextDataset,
        checkpoint: Option<&CheckpointTarget>,
        on_event: &mut dyn FnMut(&FitEvent) -> Result<()>,
    ) -> Result<FitReport> {
        if train.context() != self.cfg.context || valid.context() != self.cfg.context {
            return Err(Error::InvalidArgument(format!(
                "datasets have contexts {} and {}, the trainer {}",
                train.context(),
                valid.context(),
                self.cfg.context
            )));
        }
        let vocab = self.model.config().vocab_size;
        for (name, d) in [("training", train), ("validation", valid)] {
            if d.max_token_id() >= vocab {
                return Err(Error::InvalidArgument(format!(
                    "the {name} data holds token id {} but the model's vocabulary has {vocab}",
                    d.max_token_id()
                )));
            }
        }
        let start = Instant::now();
        let first_step = self.step;
        let mut train_seconds = 0.0;
        let mut train_tokens = 0usize;
        let mut window = (0.0f64, 0u64, 0usize, 0.0f64); // loss sum, steps, tokens, seconds
        let mut recent: Vec<f64> = Vec::with_capacity(10);
        let mut last_lr = self.schedule.lr_at(self.step);
        let periodic = (self.cfg.eval_batches > 0).then_some(self.cfg.eval_batches);
        while self.step < self.cfg.steps {
            let t0 = Instant::now();
            let batch = train.batch_for_step(self.step, self.cfg.batch_size, self.cfg.seed)?;
            let stats = self.train_step(&batch)?;
            let dt = t0.elapsed().as_secs_f64();
            train_seconds += dt;
            train_tokens += stats.tokens;
            window = (
                window.0 + stats.loss,
                window.1 + 1,
                window.2 + stats.tokens,
                window.3 + dt,
            );
            if recent.len() == 10 {
                recent.remove(0);
            }
            recent.push(stats.loss);
            last_lr = stats.lr;
            on_event(&FitEvent::Step(stats))?;
            let due = self.cfg.eval_every > 0 && self.step.is_multiple_of(self.cfg.eval_every);
            if due && self.step < self.cfg.steps {
                let eval = self.evaluate(valid, periodic)?;
                let train_loss = window.0 / window.1.max(1) as f64;
                on_event(&FitEvent::Eval {
                    step: self.step,
                    train_loss,
                    eval,
                    lr: last_lr,
                    tokens_per_second: window.2 as f64 / window.3.max(1e-9),
                })?;
                if let Some(target) = checkpoint {
                    self.save(target, Some(train_loss), Some(eval.loss))?;
                }
                window = (0.0, 0, 0, 0.0);
            }
        }
        let final_eval = self.evaluate(valid, None)?;
        let final_train_loss = if recent.is_empty() {
            f64::NAN
        } else {
            recent.iter().sum::<f64>() / recent.len() as f64
        };
        if window.1 > 0 || self.step == first_step {
            on_event(&FitEvent::Eval {
                step: self.step,
                train_loss: if window.1 > 0 {
                    window.0 / window.1 as f64
                } else {
                    f64::NAN
                },
                eval: final_eval,
                lr: last_lr,
                tokens_per_second: window.2 as f64 / window.3.max(1e-9),
            })?;
        }
        if let Some(target) = checkpoint {
            let train_loss = final_train_loss.is_finite().then_some(final_train_loss);
            self.save(target, train_loss, Some(final_eval.loss))?;
        }
        Ok(FitReport {
            steps_run: self.step - first_step,
            final_step: self.step,
            final_train_loss,
            final_eval,
            tokens_per_second: train_tokens as f64 / train_seconds.max(1e-9),
            wall_seconds: start.elapsed().as_secs_f64(),
        })
    }

    /// Writes a checkpoint of the current weights and step to `target` (atomically).
    pub fn save(
        &self,
        target: &CheckpointTarget,
        train_loss: Option<f64>,
        val_loss: Option<f64>,
    ) -> Result<()> {
        let mut state = TrainerState::new(self.step, &target.tokenizer, self.cfg.clone());
        state.train_loss = train_loss;
        state.val_loss = val_loss;
        save_checkpoint(
            &target.dir,
            &self.vs,
            self.model.config(),
            &state,
            &target.tokenizer,
        )
    }
}

/// Whether variable `name` is a token or position embedding (no weight decay), in every
/// family's naming.
fn is_embedding(name: &str) -> bool {
    [".wte.", ".wpe.", ".embed_tokens."]
        .iter()
        .any(|e| name.contains(e))
}

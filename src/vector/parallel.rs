//! `ParallelVecEnv`: sub-environments split across persistent worker threads.

use super::buffers::{ChunkMut, VecStep};
use super::chunk::{self, Status};
use super::handoff::{Handoff, Padded, lock};
use super::tuner::Tuner;
use super::{AutoresetMode, VecEnv};
use crate::env::{ActOf, Env};
use crate::error::{Error, Result};
use crate::space::Space;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Settings of a [`ParallelVecEnv`].
///
/// ```
/// use tokengym::vector::{AutoresetMode, ParallelOptions};
/// let opts = ParallelOptions::default()
///     .num_threads(2)
///     .autoreset_mode(AutoresetMode::SameStep);
/// assert_eq!(opts.get_num_threads(), Some(2));
/// ```
#[derive(Clone, Debug)]
pub struct ParallelOptions {
    num_threads: Option<usize>,
    chunks_per_thread: usize,
    mode: AutoresetMode,
    spin: Duration,
    adaptive: bool,
}

impl Default for ParallelOptions {
    fn default() -> Self {
        ParallelOptions {
            num_threads: None,
            chunks_per_thread: 1,
            mode: AutoresetMode::default(),
            spin: Duration::from_micros(50),
            adaptive: true,
        }
    }
}

impl ParallelOptions {
    /// Number of threads stepping sub-environments, *including* the calling thread (which steps
    /// the first share itself). Default: [`std::thread::available_parallelism`]. Always capped
    /// at the number of sub-environments; `1` means no worker threads at all.
    pub fn num_threads(mut self, n: usize) -> Self {
        self.num_threads = Some(n);
        self
    }

    /// Into how many chunks per thread the sub-environments are split (default 1, at least 1).
    /// Threads claim chunks dynamically, so more chunks balance uneven step times and
    /// late-waking threads better, at the cost of more synchronisation per step.
    pub fn chunks_per_thread(mut self, k: usize) -> Self {
        self.chunks_per_thread = k.max(1);
        self
    }

    /// The autoreset mode (default [`AutoresetMode::NextStep`]).
    pub fn autoreset_mode(mut self, mode: AutoresetMode) -> Self {
        self.mode = mode;
        self
    }

    /// How long a waiting thread spins before it yields (for as long again) and then parks
    /// (default 50 µs). Longer spins lower the latency when steps come in quick succession;
    /// shorter ones waste less CPU time when the caller does other work between steps.
    pub fn spin(mut self, spin: Duration) -> Self {
        self.spin = spin;
        self
    }

    /// Whether to measure, now and then, if a step runs faster on the calling thread alone
    /// and run it that way when it does (default `true`). Results never depend on this; see
    /// [`ParallelVecEnv::running_inline`].
    pub fn adaptive(mut self, adaptive: bool) -> Self {
        self.adaptive = adaptive;
        self
    }

    /// The requested number of threads, if set.
    pub fn get_num_threads(&self) -> Option<usize> {
        self.num_threads
    }
}

/// What a worker is asked to do.
#[derive(Clone, Copy, Debug)]
enum Command {
    Idle,
    Step,
    Reset { seed: Option<u64>, masked: bool },
}

/// One worker's sub-environments, inputs and result buffers.
struct Slot<E: Env> {
    envs: Vec<E>,
    /// Index of `envs[0]` in the vector environment.
    first: usize,
    mode: AutoresetMode,
    cmd: Command,
    actions: Vec<ActOf<E>>,
    status: Vec<Status>,
    mask: Vec<bool>,
    out: VecStep,
    result: Result<()>,
    panicked: bool,
}

impl<E: Env> Slot<E> {
    /// Runs the pending command on the slot's own inputs and buffers.
    fn run(&mut self) {
        let n = self.envs.len();
        let mask = match self.cmd {
            Command::Reset { masked: true, .. } => Some(&self.mask[..]),
            _ => None,
        };
        let (result, panicked) = run_command(
            self.cmd,
            &mut self.envs,
            self.first,
            self.mode,
            &self.status,
            &self.actions,
            mask,
            &mut self.out.chunk_mut(0, n),
        );
        self.cmd = Command::Idle;
        (self.result, self.panicked) = (result, panicked);
    }
}

/// Runs `cmd` on `envs` (sub-environments `first..`), catching panics; returns the result and
/// whether a panic was caught.
#[allow(clippy::too_many_arguments)]
fn run_command<E: Env>(
    cmd: Command,
    envs: &mut [E],
    first: usize,
    mode: AutoresetMode,
    status: &[Status],
    actions: &[ActOf<E>],
    mask: Option<&[bool]>,
    view: &mut ChunkMut<'_>,
) -> (Result<()>, bool) {
    let outcome = catch_unwind(AssertUnwindSafe(|| match cmd {
        Command::Idle => Ok(()),
        Command::Step => chunk::step_chunk(envs, status, mode, actions, view),
        Command::Reset { seed, .. } => chunk::reset_chunk(envs, first, seed, mask, view),
    }));
    match outcome {
        Ok(r) => (r, false),
        Err(payload) => (Err(panic_error(payload.as_ref())), true),
    }
}

fn panic_error(payload: &(dyn std::any::Any + Send)) -> Error {
    let msg = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_string());
    Error::Worker(format!("a sub-environment panicked: {msg}"))
}

struct Shared<E: Env> {
    handoff: Handoff,
    /// The chunks, in sub-environment order.
    slots: Vec<Padded<Mutex<Slot<E>>>>,
}

impl<E: Env> Shared<E> {
    /// Claims and runs chunks of the current round until none is left.
    /// Thread `t` (`0` = the calling thread) claims and runs chunks of the current round until
    /// none is left.
    fn work(&self, t: usize) {
        for k in self.handoff.claim_order(t) {
            if self.handoff.claim(k) {
                lock(&self.slots[k]).run();
                self.handoff.finish();
            }
        }
    }
}

fn worker_loop<E: Env>(shared: Arc<Shared<E>>, w: usize) {
    shared.handoff.mark_started();
    let mut seen = 0;
    while let Some(epoch) = shared.handoff.wait_for_work(w, seen) {
        seen = epoch;
        shared.work(w + 1);
    }
}

/// A vector environment whose sub-environments are stepped by persistent worker threads
/// (the counterpart of Gymnasium's `AsyncVectorEnv`, with threads instead of processes).
///
/// The sub-environments are split into contiguous chunks
/// ([`ParallelOptions::chunks_per_thread`] per thread). On every call the calling thread and
/// `num_threads - 1` persistent workers claim chunks from a shared atomic counter until none is
/// left, so the calling thread does its share of the work and nobody waits for a worker that
/// has not woken up yet. Work is handed over through atomics that waiting threads spin on
/// briefly before parking (see [`ParallelOptions::spin`]); a step costs well under a
/// microsecond of synchronisation and does not allocate. Each chunk writes into its own
/// buffers, which the calling thread copies into the shared [`VecStep`]. When stepping on the
/// calling thread alone is measured to be faster (see [`ParallelOptions::adaptive`] and
/// [`ParallelVecEnv::running_inline`]), the chunks run there and write straight into the
/// [`VecStep`], and the workers sleep.
///
/// Results, seeding and autoreset behaviour are identical to [`SyncVecEnv`](super::SyncVecEnv)
/// for the same seeds and actions, because both run the same per-sub-environment code and each
/// sub-environment's randomness lives in the sub-environment.
///
/// Errors: a sub-environment's error is returned as is (the one of the lowest index if several
/// fail). A panicking sub-environment is caught: the call returns [`Error::Worker`] and the
/// vector environment refuses all further work with [`Error::Worker`]. Worker threads are shut
/// down and joined on drop.
pub struct ParallelVecEnv<E: Env + 'static> {
    shared: Arc<Shared<E>>,
    workers: Vec<JoinHandle<()>>,
    /// `(first index, length)` of each chunk.
    ranges: Vec<(usize, usize)>,
    obs_space: E::ObsSpace,
    act_space: E::ActSpace,
    mode: AutoresetMode,
    status: Vec<Status>,
    out: VecStep,
    poisoned: Option<String>,
    tuner: Tuner,
}

impl<E: Env + 'static> ParallelVecEnv<E> {
    /// A parallel vector environment over `envs` with default options.
    pub fn new(envs: Vec<E>) -> Result<Self> {
        Self::with_options(envs, ParallelOptions::default())
    }

    /// `num_envs` sub-environments built by `make(0), make(1), ...`, with `options`.
    pub fn from_fn(
        num_envs: usize,
        make: impl FnMut(usize) -> Result<E>,
        options: ParallelOptions,
    ) -> Result<Self> {
        Self::with_options(
            (0..num_envs).map(make).collect::<Result<Vec<_>>>()?,
            options,
        )
    }

    /// A parallel vector environment over `envs` with `options`.
    ///
    /// Fails if `envs` is empty, the sub-environments' spaces differ, `num_threads` is `0`, or a
    /// thread cannot be spawned.
    pub fn with_options(envs: Vec<E>, options: ParallelOptions) -> Result<Self> {
        let (obs_space, act_space) = chunk::common_spaces(&envs)?;
        let n = envs.len();
        let threads = match options.num_threads {
            Some(0) => {
                return Err(Error::invalid_argument("num_threads must be at least 1"));
            }
            Some(t) => t,
            None => std::thread::available_parallelism().map_or(1, |p| p.get()),
        }
        .min(n);
        let chunks = threads.saturating_mul(options.chunks_per_thread).min(n);
        let dim = obs_space.flatdim();
        let mode = options.mode;

        // Chunk k gets n / chunks sub-environments, plus one for the first n % chunks chunks.
        let mut rest = envs.into_iter();
        let mut ranges = Vec::with_capacity(chunks);
        let mut slots = Vec::with_capacity(chunks);
        let mut first = 0;
        for k in 0..chunks {
            let len = n / chunks + usize::from(k < n % chunks);
            ranges.push((first, len));
            slots.push(Padded(Mutex::new(Slot {
                envs: rest.by_ref().take(len).collect(),
                first,
                mode,
                cmd: Command::Idle,
                actions: Vec::with_capacity(len),
                status: vec![Status::NeedsReset; len],
                mask: vec![false; len],
                out: VecStep::new(len, dim, mode),
                result: Ok(()),
                panicked: false,
            })));
            first += len;
        }
        let shared = Arc::new(Shared {
            handoff: Handoff::new(threads - 1, chunks, options.spin),
            slots,
        });
        let mut venv = ParallelVecEnv {
            shared,
            workers: Vec::with_capacity(threads - 1),
            ranges,
            obs_space,
            act_space,
            mode,
            status: vec![Status::NeedsReset; n],
            out: VecStep::new(n, dim, mode),
            poisoned: None,
            tuner: Tuner::new(options.adaptive && threads > 1),
        };
        for w in 0..threads - 1 {
            let shared = venv.shared.clone();
            let handle = std::thread::Builder::new()
                .name(format!("tokengym-vec-{w}"))
                .spawn(move || worker_loop(shared, w))
                .map_err(|e| Error::Worker(format!("cannot spawn worker thread: {e}")))?;
            // On an error above, dropping `venv` shuts down the workers spawned so far.
            venv.workers.push(handle);
        }
        venv.shared.handoff.wait_started(&venv.workers)?;
        Ok(venv)
    }

    /// Number of threads stepping sub-environments, including the calling thread.
    pub fn num_threads(&self) -> usize {
        self.workers.len() + 1
    }

    /// Whether steps currently run on the calling thread alone.
    ///
    /// With [`ParallelOptions::adaptive`] (the default), the vector environment times a
    /// few hundred steps both ways every 4096 steps and runs the rest the faster way: when the
    /// whole batch steps in less time than a handoff to other cores takes (a handful of cheap
    /// environments), it behaves like a [`SyncVecEnv`](super::SyncVecEnv) and the workers
    /// sleep.
    pub fn running_inline(&self) -> bool {
        self.tuner.inline()
    }

    /// Number of chunks the sub-environments are split into.
    pub fn num_chunks(&self) -> usize {
        self.ranges.len()
    }

    /// Calls `f(i, env)` on every sub-environment, on the calling thread, and collects the
    /// results (Gymnasium's `call`).
    pub fn call<R>(&mut self, mut f: impl FnMut(usize, &mut E) -> R) -> Vec<R> {
        let mut results = Vec::with_capacity(self.status.len());
        for slot in &self.shared.slots {
            let mut slot = lock(slot);
            let first = slot.first;
            for (j, env) in slot.envs.iter_mut().enumerate() {
                results.push(f(first + j, env));
            }
        }
        results
    }

    /// Stops the workers and takes the sub-environments back.
    pub fn into_envs(self) -> Vec<E> {
        let mut envs = Vec::with_capacity(self.status.len());
        for slot in &self.shared.slots {
            envs.append(&mut lock(slot).envs);
        }
        envs
    }

    fn check_usable(&self) -> Result<()> {
        match &self.poisoned {
            None => Ok(()),
            Some(why) => Err(Error::Worker(format!(
                "the vector environment is unusable after an earlier failure: {why}"
            ))),
        }
    }

    /// Runs `cmd` on every chunk (with `actions` / `mask` indexed by sub-environment), collects
    /// the results into `self.out` and returns the error of the lowest sub-environment index.
    /// With `inline`, the calling thread runs every chunk itself.
    fn execute(
        &mut self,
        cmd: Command,
        actions: &[ActOf<E>],
        mask: Option<&[bool]>,
        inline: bool,
    ) -> Result<()> {
        if inline {
            return self.execute_inline(cmd, actions, mask);
        }
        for (slot, &(first, len)) in self.shared.slots.iter().zip(&self.ranges) {
            let mut slot = lock(slot);
            slot.cmd = cmd;
            slot.status
                .copy_from_slice(&self.status[first..first + len]);
            if let Command::Step = cmd {
                let src = &actions[first..first + len];
                if slot.actions.len() == len {
                    slot.actions.clone_from_slice(src);
                } else {
                    slot.actions.clear();
                    slot.actions.extend_from_slice(src);
                }
            }
            if let Some(m) = mask {
                slot.mask.copy_from_slice(&m[first..first + len]);
            }
        }

        self.shared.handoff.publish(&self.workers);
        self.shared.work(0);
        if let Err(e) = self.shared.handoff.wait_done(&self.workers) {
            self.poisoned = Some(e.to_string());
            self.status.fill(Status::NeedsReset);
            return Err(e);
        }

        let mut first_err = None;
        for (slot, &(first, len)) in self.shared.slots.iter().zip(&self.ranges) {
            let mut slot = lock(slot);
            let result = std::mem::replace(&mut slot.result, Ok(()));
            if slot.panicked && self.poisoned.is_none() {
                self.poisoned = Some(result.as_ref().err().map_or_else(
                    || "a sub-environment panicked".to_string(),
                    |e| e.to_string(),
                ));
            }
            match result {
                Err(e) => {
                    first_err.get_or_insert(e);
                }
                Ok(()) if first_err.is_none() => {
                    let mask = mask.map(|m| &m[first..first + len]);
                    self.out.take_rows_from(first, &mut slot.out, mask);
                }
                Ok(()) => {}
            }
        }
        match first_err {
            Some(e) => {
                self.status.fill(Status::NeedsReset);
                Err(e)
            }
            None => Ok(()),
        }
    }

    /// [`ParallelVecEnv::execute`] on the calling thread alone: every chunk runs straight on
    /// the inputs and writes straight into `self.out`, like a `SyncVecEnv`.
    fn execute_inline(
        &mut self,
        cmd: Command,
        actions: &[ActOf<E>],
        mask: Option<&[bool]>,
    ) -> Result<()> {
        // Every chunk runs even after one fails, as on the threaded path, so that both leave
        // the same states behind; the lowest-index error wins.
        let mut first_err = None;
        for (slot, &(first, len)) in self.shared.slots.iter().zip(&self.ranges) {
            let mut slot = lock(slot);
            let chunk_actions = match cmd {
                Command::Step => &actions[first..first + len],
                _ => &[],
            };
            let (result, panicked) = run_command(
                cmd,
                &mut slot.envs,
                first,
                self.mode,
                &self.status[first..first + len],
                chunk_actions,
                mask.map(|m| &m[first..first + len]),
                &mut self.out.chunk_mut(first, len),
            );
            if let Err(e) = result {
                if panicked && self.poisoned.is_none() {
                    self.poisoned = Some(e.to_string());
                }
                first_err.get_or_insert(e);
            }
        }
        match first_err {
            Some(e) => {
                self.status.fill(Status::NeedsReset);
                Err(e)
            }
            None => Ok(()),
        }
    }

    fn reset_impl(&mut self, seed: Option<u64>, mask: Option<&[bool]>) -> Result<&VecStep> {
        self.check_usable()?;
        let cmd = Command::Reset {
            seed,
            masked: mask.is_some(),
        };
        self.execute(cmd, &[], mask, self.tuner.inline())?;
        chunk::mark_reset(&mut self.status, mask);
        Ok(&self.out)
    }
}

impl<E: Env + 'static> VecEnv for ParallelVecEnv<E> {
    type ObsSpace = E::ObsSpace;
    type ActSpace = E::ActSpace;

    fn num_envs(&self) -> usize {
        self.status.len()
    }

    fn single_observation_space(&self) -> &E::ObsSpace {
        &self.obs_space
    }

    fn single_action_space(&self) -> &E::ActSpace {
        &self.act_space
    }

    fn obs_dim(&self) -> usize {
        self.out.obs.ncols()
    }

    fn autoreset_mode(&self) -> AutoresetMode {
        self.mode
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<&VecStep> {
        self.reset_impl(seed, None)
    }

    fn reset_masked(&mut self, seed: Option<u64>, mask: &[bool]) -> Result<&VecStep> {
        chunk::check_mask(mask, self.num_envs())?;
        self.reset_impl(seed, Some(mask))
    }

    fn step(&mut self, actions: &[ActOf<E>]) -> Result<&VecStep> {
        self.check_usable()?;
        let n = self.num_envs();
        if actions.len() != n {
            return Err(Error::shape(
                "actions (one per sub-environment)",
                n,
                actions.len(),
            ));
        }
        chunk::check_steppable(&self.status, self.mode)?;
        let plan = self.tuner.plan();
        let start = plan.measure.then(Instant::now);
        self.execute(Command::Step, actions, None, plan.inline)?;
        self.tuner
            .record(plan, start.map_or(Duration::ZERO, |t| t.elapsed()));
        chunk::mark_stepped(
            &mut self.status,
            self.mode,
            &self.out.terminated,
            &self.out.truncated,
        );
        Ok(&self.out)
    }

    fn last(&self) -> &VecStep {
        &self.out
    }
}

impl<E: Env + 'static> Drop for ParallelVecEnv<E> {
    fn drop(&mut self) {
        self.shared.handoff.shutdown(&self.workers);
        for handle in self.workers.drain(..) {
            // A worker only ends by shutdown; a join error would mean it panicked outside
            // `catch_unwind`, which has already been reported through `wait_done`.
            let _ = handle.join();
        }
    }
}

//! The low-latency handoff between `ParallelVecEnv`'s calling thread and its workers.
//!
//! A step of cheap environments takes well under a microsecond, less than one round trip
//! through a channel or a condition variable. So the calling thread publishes a round of work
//! (a number of *chunks*) by bumping an atomic *epoch* counter; every thread, the calling one
//! included, then claims chunks through one atomic flag per chunk until none is left, and
//! counts each finished chunk down on `remaining`. Each thread scans the chunks starting from
//! its own home range, so in the steady state every chunk stays with the same thread (its
//! sub-environments stay in that core's cache), while a worker that is slow to wake up
//! (descheduled on a busy machine) simply finds its chunks already done by the others: a round
//! never waits for a thread that has not started.
//!
//! Each side waits for the other in three phases: spin on the atomic (with `spin_loop` hints)
//! for `spin`, then `yield_now` for another `spin`, then park.
//! A thread about to park raises its `sleeping` flag and re-checks the counter; the other side
//! unparks it only when the flag is up. Both sides use sequentially consistent operations on
//! the flag and the counter, so either the sleeper sees the new value or the waker sees the
//! flag: a wake-up cannot be lost. Parks by the calling thread also time out every millisecond
//! so that a worker thread that died is noticed.

use crate::error::{Error, Result};
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle, Thread};
use std::time::{Duration, Instant};

/// Keeps a value on its own cache lines (no false sharing between the threads).
#[repr(align(128))]
#[derive(Debug, Default)]
pub(super) struct Padded<T>(pub(super) T);

impl<T> Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Locks `m`, ignoring poisoning (the protected data is only touched under `catch_unwind`, and
/// a poisoned vector environment refuses further work anyway).
pub(super) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// How long the calling thread checks the exit status of the workers between parks.
const PARK_TIMEOUT: Duration = Duration::from_millis(1);

/// How many spin iterations run between two reads of the clock.
const SPINS_PER_CLOCK_READ: u32 = 64;

/// Shared state of the handoff protocol.
pub(super) struct Handoff {
    epoch: Padded<AtomicU64>,
    /// Chunks of the current round not finished yet.
    remaining: Padded<AtomicUsize>,
    /// Whether each chunk of the current round has been claimed.
    claimed: Vec<Padded<AtomicBool>>,
    /// Number of chunks in every round.
    chunks: usize,
    /// Number of threads taking part (workers + the calling thread).
    threads: usize,
    /// Worker threads that have started running their loop.
    started: AtomicUsize,
    shutdown: AtomicBool,
    main_sleeping: Padded<AtomicBool>,
    main_thread: Mutex<Option<Thread>>,
    worker_sleeping: Vec<Padded<AtomicBool>>,
    spin: Duration,
}

/// Where a waiting thread is in its spin / yield / park schedule.
struct Backoff {
    start: Option<Instant>,
    spins: u32,
    spin: Duration,
}

enum Phase {
    Spin,
    Yield,
    Park,
}

impl Backoff {
    fn new(spin: Duration) -> Self {
        Backoff {
            start: None,
            spins: 0,
            spin,
        }
    }

    /// Waits a little; returns the phase reached (the caller parks itself in `Park`).
    fn pause(&mut self) -> Phase {
        self.spins = self.spins.wrapping_add(1);
        if !self.spins.is_multiple_of(SPINS_PER_CLOCK_READ) {
            std::hint::spin_loop();
            return Phase::Spin;
        }
        let start = *self.start.get_or_insert_with(Instant::now);
        let waited = start.elapsed();
        if waited < self.spin {
            std::hint::spin_loop();
            Phase::Spin
        } else if waited < self.spin.saturating_mul(2) {
            thread::yield_now();
            Phase::Yield
        } else {
            Phase::Park
        }
    }
}

impl Handoff {
    /// The handoff for `workers` worker threads sharing rounds of `chunks` chunks, that spin for
    /// `spin` before yielding.
    pub(super) fn new(workers: usize, chunks: usize, spin: Duration) -> Self {
        Handoff {
            epoch: Padded(AtomicU64::new(0)),
            remaining: Padded(AtomicUsize::new(0)),
            claimed: (0..chunks).map(|_| Padded(AtomicBool::new(true))).collect(),
            chunks,
            threads: workers + 1,
            started: AtomicUsize::new(0),
            shutdown: AtomicBool::new(false),
            main_sleeping: Padded(AtomicBool::new(false)),
            main_thread: Mutex::new(None),
            worker_sleeping: (0..workers)
                .map(|_| Padded(AtomicBool::new(false)))
                .collect(),
            spin,
        }
    }

    /// Calling thread: starts a round (the chunks' inputs are already in place) and wakes the
    /// workers. Call only when the previous round is finished ([`Handoff::wait_done`]).
    pub(super) fn publish(&self, workers: &[JoinHandle<()>]) {
        // `remaining` first: a late worker of the previous round may claim a chunk as soon as
        // its flag is cleared, and must find `remaining` already counting this round.
        self.remaining.store(self.chunks, Ordering::SeqCst);
        for flag in &self.claimed {
            flag.store(false, Ordering::SeqCst);
        }
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.wake_workers(workers);
    }

    /// Worker: reports that it has started (its thread is fully set up).
    pub(super) fn mark_started(&self) {
        self.started.fetch_add(1, Ordering::SeqCst);
    }

    /// Calling thread: waits until every worker has started, so that thread start-up (which
    /// allocates) is over before the first step. Fails if a worker exited first.
    pub(super) fn wait_started(&self, workers: &[JoinHandle<()>]) -> Result<()> {
        while self.started.load(Ordering::SeqCst) < workers.len() {
            if workers.iter().any(|h| h.is_finished()) {
                return Err(Error::Worker(
                    "a worker thread exited at start-up".to_string(),
                ));
            }
            thread::yield_now();
        }
        Ok(())
    }

    /// Thread `t` (`0` = the calling thread, `w + 1` = worker `w`): the chunks in the order
    /// it tries to claim them, its home range first.
    pub(super) fn claim_order(&self, t: usize) -> impl Iterator<Item = usize> + use<> {
        let start = t * self.chunks / self.threads;
        let chunks = self.chunks;
        (0..chunks).map(move |i| (start + i) % chunks)
    }

    /// Any thread: claims chunk `k` of the current round, if nobody has yet.
    pub(super) fn claim(&self, k: usize) -> bool {
        let flag = &self.claimed[k];
        !flag.load(Ordering::Relaxed) && !flag.swap(true, Ordering::SeqCst)
    }

    /// Any thread: reports a claimed chunk as finished.
    pub(super) fn finish(&self) {
        if self.remaining.fetch_sub(1, Ordering::SeqCst) == 1
            && self.main_sleeping.load(Ordering::SeqCst)
            && let Some(main) = lock(&self.main_thread).as_ref()
        {
            main.unpark();
        }
    }

    /// Calling thread: tells every worker to exit (they finish their current command first).
    pub(super) fn shutdown(&self, workers: &[JoinHandle<()>]) {
        self.shutdown.store(true, Ordering::SeqCst);
        self.epoch.fetch_add(1, Ordering::SeqCst);
        self.wake_workers(workers);
    }

    fn wake_workers(&self, workers: &[JoinHandle<()>]) {
        for (flag, handle) in self.worker_sleeping.iter().zip(workers) {
            if flag.load(Ordering::SeqCst) {
                handle.thread().unpark();
            }
        }
    }

    /// Calling thread: waits until every chunk of the round is finished. Fails if a worker
    /// thread exited without finishing its chunk.
    pub(super) fn wait_done(&self, workers: &[JoinHandle<()>]) -> Result<()> {
        let mut backoff = Backoff::new(self.spin);
        loop {
            if self.remaining.load(Ordering::Acquire) == 0 {
                return Ok(());
            }
            if let Phase::Park = backoff.pause() {
                self.register_main_thread();
                self.main_sleeping.store(true, Ordering::SeqCst);
                if self.remaining.load(Ordering::SeqCst) != 0 {
                    thread::park_timeout(PARK_TIMEOUT);
                }
                self.main_sleeping.store(false, Ordering::SeqCst);
                if self.remaining.load(Ordering::Acquire) != 0
                    && workers.iter().any(|h| h.is_finished())
                {
                    return Err(Error::Worker(
                        "a worker thread exited while it had work".to_string(),
                    ));
                }
            }
        }
    }

    fn register_main_thread(&self) {
        let me = thread::current();
        let mut slot = lock(&self.main_thread);
        if slot.as_ref().map(Thread::id) != Some(me.id()) {
            *slot = Some(me);
        }
    }

    /// Worker `w`: waits for an epoch other than `seen`; `None` means shut down.
    pub(super) fn wait_for_work(&self, w: usize, seen: u64) -> Option<u64> {
        let mut backoff = Backoff::new(self.spin);
        loop {
            let epoch = self.epoch.load(Ordering::Acquire);
            if epoch != seen {
                return (!self.shutdown.load(Ordering::Acquire)).then_some(epoch);
            }
            if let Phase::Park = backoff.pause() {
                let flag = &self.worker_sleeping[w];
                flag.store(true, Ordering::SeqCst);
                if self.epoch.load(Ordering::SeqCst) == seen {
                    thread::park();
                }
                flag.store(false, Ordering::SeqCst);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// Many rounds of 5 chunks shared by the calling thread and two workers, with a zero spin
    /// budget (every wait parks) and with a large one: every chunk runs exactly once per round,
    /// and shutdown ends the workers.
    #[test]
    fn every_chunk_runs_once_per_round() {
        const CHUNKS: usize = 5;
        for spin in [Duration::ZERO, Duration::from_micros(200)] {
            let h = Arc::new(Handoff::new(2, CHUNKS, spin));
            let runs: Arc<Vec<AtomicU64>> =
                Arc::new((0..CHUNKS).map(|_| AtomicU64::new(0)).collect());
            let work = |h: &Handoff, t: usize, runs: &[AtomicU64]| {
                for k in h.claim_order(t) {
                    if h.claim(k) {
                        runs[k].fetch_add(1, Ordering::SeqCst);
                        h.finish();
                    }
                }
            };
            let handles: Vec<_> = (0..2)
                .map(|w| {
                    let (h, runs) = (h.clone(), runs.clone());
                    thread::spawn(move || {
                        let mut seen = 0;
                        while let Some(e) = h.wait_for_work(w, seen) {
                            seen = e;
                            work(&h, w + 1, &runs);
                        }
                    })
                })
                .collect();
            for round in 1..=2000 {
                h.publish(&handles);
                work(&h, 0, &runs);
                h.wait_done(&handles).unwrap();
                for r in runs.iter() {
                    assert_eq!(r.load(Ordering::SeqCst), round);
                }
            }
            h.shutdown(&handles);
            for w in handles {
                w.join().unwrap();
            }
        }
    }

    #[test]
    fn dead_worker_is_reported() {
        let h = Handoff::new(1, 1, Duration::ZERO);
        let handles = vec![thread::spawn(|| {})];
        while !handles[0].is_finished() {
            thread::yield_now();
        }
        h.publish(&handles);
        assert!(h.claim(0)); // claimed but never finished
        assert!(!h.claim(0));
        assert_eq!(h.claim_order(1).collect::<Vec<_>>(), vec![0]);
        assert!(matches!(h.wait_done(&handles), Err(Error::Worker(_))));
    }
}

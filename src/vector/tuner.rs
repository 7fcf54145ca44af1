//! `ParallelVecEnv`'s choice between running a step on all its threads and running it inline
//! on the calling thread alone.
//!
//! Handing chunks to other cores costs a few hundred nanoseconds per step; for a handful of
//! cheap environments that is more than the work itself. Which way is faster depends on the
//! environment, the batch size and the machine, so the tuner measures: at the start of every
//! cycle of [`CYCLE`] steps it times [`PROBE`] steps on all threads and [`PROBE`] steps inline
//! (the first [`WARM_UP`] of each probe are not counted: after a switch the workers may have
//! to wake up), then runs the rest of the cycle the faster way. Results do not depend on the
//! choice: every sub-environment runs the same code with the same inputs either way.

use std::time::Duration;

/// Steps in one measure-then-decide cycle.
pub(super) const CYCLE: u64 = 4096;
/// Steps timed for each of the two ways at the start of a cycle.
pub(super) const PROBE: u64 = 128;
/// Steps at the start of each probe that are not timed.
pub(super) const WARM_UP: u64 = 16;

/// How the next step should run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Plan {
    /// Run every chunk on the calling thread.
    pub(super) inline: bool,
    /// Time this step and report it with [`Tuner::record`].
    pub(super) measure: bool,
}

/// The measure-then-decide state.
#[derive(Clone, Debug)]
pub(super) struct Tuner {
    enabled: bool,
    step: u64,
    inline: bool,
    parallel_time: Duration,
    inline_time: Duration,
}

impl Tuner {
    /// A tuner; a disabled one always plans parallel steps without timing.
    pub(super) fn new(enabled: bool) -> Self {
        Tuner {
            enabled,
            step: 0,
            inline: false,
            parallel_time: Duration::ZERO,
            inline_time: Duration::ZERO,
        }
    }

    /// Whether steps currently run inline (outside the probes).
    pub(super) fn inline(&self) -> bool {
        self.inline
    }

    /// How the next step runs.
    pub(super) fn plan(&self) -> Plan {
        if !self.enabled {
            return Plan {
                inline: false,
                measure: false,
            };
        }
        let p = self.step % CYCLE;
        if p < PROBE {
            Plan {
                inline: false,
                measure: p >= WARM_UP,
            }
        } else if p < 2 * PROBE {
            Plan {
                inline: true,
                measure: p >= PROBE + WARM_UP,
            }
        } else {
            Plan {
                inline: self.inline,
                measure: false,
            }
        }
    }

    /// Records a finished step that ran as `plan` said, taking `elapsed` if it was timed.
    pub(super) fn record(&mut self, plan: Plan, elapsed: Duration) {
        if !self.enabled {
            return;
        }
        if plan.measure {
            if plan.inline {
                self.inline_time += elapsed;
            } else {
                self.parallel_time += elapsed;
            }
        }
        self.step += 1;
        if self.step % CYCLE == 2 * PROBE {
            // Both probes time the same number of steps, so the totals compare directly.
            self.inline = self.inline_time < self.parallel_time;
            self.inline_time = Duration::ZERO;
            self.parallel_time = Duration::ZERO;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_cycle(t: &mut Tuner, parallel: Duration, inline: Duration) -> (u64, u64) {
        let (mut par_steps, mut inline_steps) = (0, 0);
        for _ in 0..CYCLE {
            let plan = t.plan();
            if plan.inline {
                inline_steps += 1;
            } else {
                par_steps += 1;
            }
            t.record(plan, if plan.inline { inline } else { parallel });
        }
        (par_steps, inline_steps)
    }

    #[test]
    fn picks_the_faster_way_each_cycle() {
        let mut t = Tuner::new(true);
        let (par, inl) = run_cycle(&mut t, Duration::from_nanos(900), Duration::from_nanos(500));
        assert!(t.inline());
        assert_eq!((par, inl), (PROBE, CYCLE - PROBE));
        let (par, inl) = run_cycle(&mut t, Duration::from_nanos(300), Duration::from_nanos(500));
        assert!(!t.inline());
        assert_eq!((par, inl), (CYCLE - PROBE, PROBE));
    }

    #[test]
    fn probes_skip_warm_up_and_disabled_never_inlines() {
        let t = Tuner::new(true);
        assert_eq!(
            t.plan(),
            Plan {
                inline: false,
                measure: false
            }
        );
        let mut t = Tuner::new(false);
        for _ in 0..CYCLE {
            let plan = t.plan();
            assert!(!plan.inline && !plan.measure);
            t.record(plan, Duration::from_nanos(1));
        }
        assert!(!t.inline());
    }
}

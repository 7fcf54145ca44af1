//! `RecordEpisodeStatistics`: report each finished episode's return, length and duration.

use crate::env::{ActOf, Env, ObsOf, Step, Transition};
use crate::error::{Error, Result};
use crate::info::{EpisodeStats, Info};
use std::collections::VecDeque;
use std::time::Instant;

/// Accumulates the undiscounted return and the length of the current episode and, on its last
/// step (`terminated || truncated`), sets `info.set_episode(Some(EpisodeStats { ret, len, time }))`
/// where `time` is the wall-clock seconds since the reset (Gymnasium's
/// `RecordEpisodeStatistics`, `info["episode"] = {"r", "l", "t"}`).
///
/// The most recent `buffer_length` returns, lengths and durations are also kept in bounded
/// queues (Gymnasium's `return_queue`, `length_queue`, `time_queue`; default 100). Observations
/// are untouched and the flat methods are forwarded; nothing allocates per step (the queues
/// are allocated once, at their capacity).
pub struct RecordEpisodeStatistics<E> {
    env: E,
    episode_return: f64,
    episode_length: u64,
    episode_start: Instant,
    episode_count: u64,
    buffer_length: usize,
    return_queue: VecDeque<f64>,
    length_queue: VecDeque<u64>,
    time_queue: VecDeque<f64>,
}

/// Gymnasium's default `buffer_length`.
pub const DEFAULT_STATS_BUFFER: usize = 100;

impl<E: Env> RecordEpisodeStatistics<E> {
    /// Wraps `env`, keeping the last [`DEFAULT_STATS_BUFFER`] episodes in the queues.
    pub fn new(env: E) -> Self {
        Self::build(env, DEFAULT_STATS_BUFFER)
    }

    /// Wraps `env`, keeping the last `buffer_length` episodes (must be positive).
    pub fn with_buffer_length(env: E, buffer_length: usize) -> Result<Self> {
        if buffer_length == 0 {
            return Err(Error::invalid_argument(
                "RecordEpisodeStatistics: buffer_length must be positive",
            ));
        }
        Ok(Self::build(env, buffer_length))
    }

    fn build(env: E, buffer_length: usize) -> Self {
        RecordEpisodeStatistics {
            env,
            episode_return: 0.0,
            episode_length: 0,
            episode_start: Instant::now(),
            episode_count: 0,
            buffer_length,
            return_queue: VecDeque::with_capacity(buffer_length),
            length_queue: VecDeque::with_capacity(buffer_length),
            time_queue: VecDeque::with_capacity(buffer_length),
        }
    }

    /// Returns of the most recent finished episodes, oldest first.
    pub fn return_queue(&self) -> &VecDeque<f64> {
        &self.return_queue
    }

    /// Lengths of the most recent finished episodes, oldest first.
    pub fn length_queue(&self) -> &VecDeque<u64> {
        &self.length_queue
    }

    /// Durations (seconds) of the most recent finished episodes, oldest first.
    pub fn time_queue(&self) -> &VecDeque<f64> {
        &self.time_queue
    }

    /// Number of finished episodes.
    pub fn episode_count(&self) -> u64 {
        self.episode_count
    }

    /// Return accumulated so far in the current episode.
    pub fn current_return(&self) -> f64 {
        self.episode_return
    }

    /// Steps taken so far in the current episode.
    pub fn current_length(&self) -> u64 {
        self.episode_length
    }

    inner_accessors!();

    fn start_episode(&mut self) {
        self.episode_return = 0.0;
        self.episode_length = 0;
        self.episode_start = Instant::now();
    }

    fn record(&mut self, reward: f64, done: bool, info: &mut Info) {
        self.episode_return += reward;
        self.episode_length += 1;
        if done {
            let stats = EpisodeStats {
                ret: self.episode_return,
                len: self.episode_length,
                time: self.episode_start.elapsed().as_secs_f64(),
            };
            info.set_episode(Some(stats));
            self.episode_count += 1;
            if self.return_queue.len() == self.buffer_length {
                self.return_queue.pop_front();
                self.length_queue.pop_front();
                self.time_queue.pop_front();
            }
            self.return_queue.push_back(stats.ret);
            self.length_queue.push_back(stats.len);
            self.time_queue.push_back(stats.time);
            // A step after the end without a reset starts counting a new episode.
            self.start_episode();
        }
    }
}

impl<E: Env> Env for RecordEpisodeStatistics<E> {
    type ObsSpace = E::ObsSpace;
    type ActSpace = E::ActSpace;

    forward_spaces!();
    reset_via_options!();
    fn reset_with_options(
        &mut self,
        seed: Option<u64>,
        options: &crate::env::ResetOptions,
    ) -> Result<(ObsOf<Self>, Info)> {
        let out = self.env.reset_with_options(seed, options)?;
        self.start_episode();
        Ok(out)
    }
    fn step(&mut self, action: &ActOf<Self>) -> Result<Step<ObsOf<Self>>> {
        let mut step = self.env.step(action)?;
        let done = step.done();
        self.record(step.reward, done, &mut step.info);
        Ok(step)
    }
    forward_render!();
    fn reset_flat(&mut self, seed: Option<u64>, obs_out: &mut [f32]) -> Result<Info> {
        let info = self.env.reset_flat(seed, obs_out)?;
        self.start_episode();
        Ok(info)
    }
    fn step_flat(&mut self, action: &ActOf<Self>, obs_out: &mut [f32]) -> Result<Transition> {
        let mut t = self.env.step_flat(action, obs_out)?;
        let done = t.done();
        self.record(t.reward, done, &mut t.info);
        Ok(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wrappers::test_envs::Counter;

    #[test]
    fn reports_return_and_length_on_the_last_step_only() {
        let mut env = RecordEpisodeStatistics::new(Counter::new(Some(3)));
        env.reset(None).unwrap();
        let s1 = env.step(&1).unwrap();
        assert_eq!(s1.info.episode(), None);
        assert_eq!(env.current_return(), 1.0);
        assert_eq!(env.step(&0).unwrap().info.episode(), None);
        let s3 = env.step(&1).unwrap();
        let stats = *s3.info.episode().expect("episode stats on the last step");
        assert_eq!((stats.ret, stats.len), (2.0, 3));
        assert!(stats.time >= 0.0);
        assert_eq!(env.episode_count(), 1);
        assert_eq!(
            env.return_queue().iter().copied().collect::<Vec<_>>(),
            [2.0]
        );
        assert_eq!(env.length_queue().iter().copied().collect::<Vec<_>>(), [3]);
        assert_eq!(env.time_queue().len(), 1);
    }

    #[test]
    fn queues_are_bounded_and_reset_restarts_counting() {
        let mut env =
            RecordEpisodeStatistics::with_buffer_length(Counter::new(Some(2)), 2).unwrap();
        let mut obs = [0.0];
        for episode in 0..3u64 {
            env.reset_flat(None, &mut obs).unwrap();
            env.step_flat(&1, &mut obs).unwrap();
            let t = env.step_flat(&(episode as i64 % 2), &mut obs).unwrap();
            assert_eq!(t.info.episode().map(|e| e.len), Some(2));
        }
        // Returns were 1, 2, 1; only the last two are kept.
        assert_eq!(
            env.return_queue().iter().copied().collect::<Vec<_>>(),
            [2.0, 1.0]
        );
        assert_eq!(env.episode_count(), 3);
        // An abandoned episode does not leak into the next.
        env.reset(None).unwrap();
        env.step(&1).unwrap();
        env.reset(None).unwrap();
        assert_eq!(env.current_length(), 0);
        assert_eq!(env.current_return(), 0.0);
        assert!(RecordEpisodeStatistics::with_buffer_length(Counter::new(None), 0).is_err());
    }
}

//! The k-armed bandit testbed of Sutton & Barto, *Reinforcement Learning: An Introduction*
//! (2nd ed.), chapter 2: [`KArmedBandit`] (registered as `Bandit-v0`), with its options
//! [`BanditConfig`]. The environment's description, spaces, rewards and episode end are in the
//! documentation of [`KArmedBandit`].

use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use tokengym::seeding::rng_from_seed;
use tokengym::space::{BoxSpace, Discrete, Space};
use tokengym::{Env, EnvRng, Error, Frame, Info, RenderMode, Result, Step};

/// Number of arms of the book's testbed.
pub const DEFAULT_ARMS: usize = 10;
/// Standard deviation of the non-stationary random walk (the book's Exercise 2.5).
pub const DEFAULT_WALK_STD: f64 = 0.01;
/// Length of one run of the testbed, used as `Bandit-v0`'s `max_episode_steps`.
pub const DEFAULT_RUN_STEPS: u64 = 1000;

const RENDER_MODES: [RenderMode; 1] = [RenderMode::Ansi];

/// Options of [`KArmedBandit`]; the defaults are the book's 10-armed testbed.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BanditConfig {
    /// Number of arms (at least 1).
    pub k: usize,
    /// Mean of the distribution the true values are drawn from at reset (default 0; the book's
    /// Figure 2.5 uses 4).
    pub value_mean: f64,
    /// Standard deviation of that distribution (default 1; 0 starts all arms equal, as in
    /// Exercise 2.5).
    pub value_std: f64,
    /// Standard deviation of the reward around `q*(a)` (default 1; 0 pays `q*(a)` exactly).
    pub reward_std: f64,
    /// Whether the true values stay fixed during an episode (default true).
    pub stationary: bool,
    /// Standard deviation of each value's random-walk step when not stationary (default 0.01).
    pub walk_std: f64,
}

impl Default for BanditConfig {
    fn default() -> Self {
        BanditConfig {
            k: DEFAULT_ARMS,
            value_mean: 0.0,
            value_std: 1.0,
            reward_std: 1.0,
            stationary: true,
            walk_std: DEFAULT_WALK_STD,
        }
    }
}

impl BanditConfig {
    /// Checks that `k >= 1`, the mean is finite and the standard deviations are finite and
    /// non-negative.
    pub fn validate(&self) -> Result<()> {
        if self.k == 0 {
            return Err(Error::invalid_argument("bandit: k must be at least 1"));
        }
        if !self.value_mean.is_finite() {
            return Err(Error::invalid_argument(format!(
                "bandit: value_mean must be finite, got {}",
                self.value_mean
            )));
        }
        for (name, v) in [
            ("value_std", self.value_std),
            ("reward_std", self.reward_std),
            ("walk_std", self.walk_std),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(Error::invalid_argument(format!(
                    "bandit: {name} must be finite and >= 0, got {v}"
                )));
            }
        }
        Ok(())
    }
}

/// The k-armed bandit: pull one of `k` arms, each paying a noisy reward around its own unknown
/// true value, and find the best arm while earning (Sutton & Barto's testbed, chapter 2).
///
/// # Description
/// Each of the `k` arms `a` has a true value `q*(a)`. Pulling an arm pays a reward drawn from
/// `N(q*(a), reward_std²)`; the agent must find the best arm while it earns. In the
/// *non-stationary* variant every `q*(a)` takes an independent `N(0, walk_std²)` random-walk
/// step after each pull (the book's Exercise 2.5). The true values are not observed, but
/// [`true_values`](KArmedBandit::true_values), [`optimal_action`](KArmedBandit::optimal_action)
/// and [`is_optimal`](KArmedBandit::is_optimal) expose them, e.g. to plot the fraction of
/// optimal pulls as the book does.
///
/// # Action Space
/// `Discrete(k)`: the index of the arm to pull, `0..k`. Any other action is an
/// [`Error::InvalidAction`].
///
/// # Observation Space
/// `Box(0, 0, (1,), f32)`, always `[0.0]`. A bandit has a single state; a one-element box
/// (rather than `Discrete(1)`) flattens to one column for vector envs.
///
/// | Num | Observation | Min | Max |
/// |---|---|---|---|
/// | 0 | constant (the single state) | 0 | 0 |
///
/// # Rewards
/// A draw from `N(q*(a), reward_std²)` for the pulled arm `a`, unbounded; with
/// `reward_std = 0` the pull pays `q*(a)` exactly. In the non-stationary variant the values
/// take their random-walk step after the reward is drawn. `Bandit-v0` has no reward threshold.
///
/// # Starting State
/// Every [`Env::reset`] redraws the true values `q*(a) ~ N(value_mean, value_std²)`, so every
/// episode is a fresh bandit problem (one "run" of the testbed). As everywhere in tokengym,
/// `reset(Some(seed))` re-seeds the environment's RNG and `reset(None)` continues its stream
/// (seeded from OS entropy if no seed was ever given). The observation is `[0.0]`. Stepping
/// before the first reset is an [`Error::ResetNeeded`].
///
/// # Episode End
/// - Termination: never; a bandit has no terminal state.
/// - Truncation: not by this type. The registered `Bandit-v0` is wrapped in a 1000-step
///   `TimeLimit` ([`DEFAULT_RUN_STEPS`]; the book's runs are 1000 pulls long); change it with
///   `max_episode_steps` in [`make_with`](crate::make_with). Used directly, an episode lasts as
///   long as the caller keeps pulling.
///
/// # Arguments
/// [`BanditConfig`], passed to [`KArmedBandit::with_config`] (checked by
/// [`BanditConfig::validate`]); [`KArmedBandit::new`] is the default, the book's 10-armed
/// testbed. Its fields are also the keyword arguments of `Bandit-v0` in `make_with` (in
/// [`MakeOptions`](tokengym::MakeOptions)): `k` (default 10, [`DEFAULT_ARMS`]), `value_mean`
/// (0; the book's Figure 2.5 uses 4), `value_std` (1; 0 starts all arms equal, as in
/// Exercise 2.5), `reward_std` (1), `stationary` (`true`) and `walk_std` (0.01,
/// [`DEFAULT_WALK_STD`]). Renders as text (`ansi`): one line per arm with its `q*(a)`, the best
/// arm marked.
///
/// # Version History
/// - v0: initial version (tokengym 0.1), registered as `Bandit-v0`: the 10-armed testbed of
///   Sutton & Barto (2nd ed.), chapter 2, with the non-stationary variant of Exercise 2.5.
///
/// ```
/// use tokengym::Env;
/// use tokengym_envs::toy::bandit::{BanditConfig, KArmedBandit};
/// let mut env = KArmedBandit::with_config(BanditConfig { k: 5, ..BanditConfig::default() })?;
/// env.reset(Some(0))?;
/// let best = env.optimal_action();
/// assert_eq!(env.true_values().len(), 5);
/// let step = env.step(&(best as i64))?;
/// assert!(step.reward.is_finite() && !step.done());
/// assert!(env.step(&5).is_err()); // outside Discrete(5)
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct KArmedBandit {
    config: BanditConfig,
    /// True values `q*(a)`; empty until the first reset.
    values: Vec<f64>,
    rng: EnvRng,
    observation_space: BoxSpace<f32, [f32; 1]>,
    action_space: Discrete,
}

impl Default for KArmedBandit {
    fn default() -> Self {
        Self::new()
    }
}

impl KArmedBandit {
    /// The book's 10-armed testbed (stationary, unit-variance rewards).
    pub fn new() -> Self {
        Self::build(BanditConfig::default())
    }

    /// A bandit with the given options; fails if they are invalid (see
    /// [`BanditConfig::validate`]).
    pub fn with_config(config: BanditConfig) -> Result<Self> {
        config.validate()?;
        // `k` comes from the user: an arm count that does not fit is an error, not an abort.
        let mut values = Vec::new();
        values.try_reserve_exact(config.k).map_err(|_| {
            Error::invalid_argument(format!("k = {} arms do not fit in memory", config.k))
        })?;
        Ok(Self {
            values,
            ..Self::build(config)
        })
    }

    fn build(config: BanditConfig) -> Self {
        KArmedBandit {
            config,
            values: Vec::new(),
            rng: rng_from_seed(None),
            observation_space: BoxSpace::new(vec![0.0], vec![0.0], vec![1])
                .expect("the constant observation box [0, 0] is valid"),
            action_space: Discrete::new(config.k as u64).expect("k >= 1 was validated"),
        }
    }

    /// The options this bandit was built with.
    pub fn config(&self) -> &BanditConfig {
        &self.config
    }

    /// Number of arms.
    pub fn k(&self) -> usize {
        self.config.k
    }

    /// The current true values `q*(a)` (empty before the first reset).
    pub fn true_values(&self) -> &[f64] {
        &self.values
    }

    /// The arm with the highest true value now (the lowest index among equals; 0 before the
    /// first reset).
    pub fn optimal_action(&self) -> usize {
        let mut best = 0;
        for (a, &q) in self.values.iter().enumerate() {
            if q > self.values[best] {
                best = a;
            }
        }
        best
    }

    /// Whether arm `a` has the highest true value now (ties all count as optimal).
    pub fn is_optimal(&self, a: usize) -> bool {
        let max = self
            .values
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max);
        self.values.get(a).is_some_and(|&q| q == max)
    }

    fn normal(&mut self) -> f64 {
        StandardNormal.sample(&mut self.rng)
    }
}

impl Env for KArmedBandit {
    type ObsSpace = BoxSpace<f32, [f32; 1]>;
    type ActSpace = Discrete;

    fn observation_space(&self) -> &Self::ObsSpace {
        &self.observation_space
    }

    fn action_space(&self) -> &Self::ActSpace {
        &self.action_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<([f32; 1], Info)> {
        if seed.is_some() {
            self.rng = rng_from_seed(seed);
        }
        self.values.clear();
        for _ in 0..self.config.k {
            let z = self.normal();
            self.values
                .push(self.config.value_mean + self.config.value_std * z);
        }
        Ok(([0.0], Info::new()))
    }

    fn step(&mut self, action: &i64) -> Result<Step<[f32; 1]>> {
        if self.values.is_empty() {
            return Err(Error::ResetNeeded);
        }
        self.action_space.check_action(action)?;
        // `check_action` guarantees 0 <= action < k.
        let a = *action as usize;
        let noise = if self.config.reward_std > 0.0 {
            self.config.reward_std * self.normal()
        } else {
            0.0
        };
        let reward = self.values[a] + noise;
        if !self.config.stationary && self.config.walk_std > 0.0 {
            for i in 0..self.values.len() {
                let z: f64 = StandardNormal.sample(&mut self.rng);
                self.values[i] += self.config.walk_std * z;
            }
        }
        Ok(Step::new([0.0], reward, false, false))
    }

    fn render_modes(&self) -> &[RenderMode] {
        &RENDER_MODES
    }

    fn render(&self, mode: RenderMode) -> Result<Frame> {
        match mode {
            RenderMode::Ansi => {
                let mut text = String::new();
                let best = self.optimal_action();
                for (a, q) in self.values.iter().enumerate() {
                    let mark = if a == best { "  <- best" } else { "" };
                    let _ = writeln!(text, "arm {a:>3}: q* = {q:+.3}{mark}");
                }
                if self.values.is_empty() {
                    text.push_str("(not reset yet)\n");
                }
                Ok(Frame::Ansi(text))
            }
            other => Err(tokengym::env::unsupported_render_mode(other, &RENDER_MODES)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bandit(config: BanditConfig) -> KArmedBandit {
        KArmedBandit::with_config(config).unwrap()
    }

    #[test]
    fn values_are_redrawn_on_every_reset_and_reproducible_by_seed() {
        let mut env = KArmedBandit::new();
        assert!(matches!(env.step(&0), Err(Error::ResetNeeded)));
        env.reset(Some(7)).unwrap();
        let first = env.true_values().to_vec();
        assert_eq!(first.len(), 10);
        env.reset(None).unwrap();
        assert_ne!(
            env.true_values(),
            &first[..],
            "reset(None) draws a fresh problem"
        );
        env.reset(Some(7)).unwrap();
        assert_eq!(env.true_values(), &first[..], "same seed, same problem");
        let mut other = KArmedBandit::new();
        other.reset(Some(8)).unwrap();
        assert_ne!(other.true_values(), &first[..]);
    }

    #[test]
    fn true_values_and_rewards_have_the_configured_distribution() {
        let mut env = KArmedBandit::new();
        let mut values = Vec::new();
        for seed in 0..500 {
            env.reset(Some(seed)).unwrap();
            values.extend_from_slice(env.true_values());
        }
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!((var - 1.0).abs() < 0.08, "variance {var}");

        env.reset(Some(1)).unwrap();
        let q = env.true_values()[3];
        let rewards: Vec<f64> = (0..20_000).map(|_| env.step(&3).unwrap().reward).collect();
        let m = rewards.iter().sum::<f64>() / rewards.len() as f64;
        let v = rewards.iter().map(|r| (r - m).powi(2)).sum::<f64>() / rewards.len() as f64;
        assert!((m - q).abs() < 0.03, "reward mean {m} vs q* {q}");
        assert!((v - 1.0).abs() < 0.05, "reward variance {v}");
        assert_eq!(env.true_values()[3], q, "stationary values do not move");
    }

    #[test]
    fn deterministic_rewards_pay_the_true_value() {
        let mut env = bandit(BanditConfig {
            k: 4,
            value_mean: 4.0,
            reward_std: 0.0,
            ..BanditConfig::default()
        });
        env.reset(Some(3)).unwrap();
        for a in 0..4 {
            let step = env.step(&(a as i64)).unwrap();
            assert_eq!(step.reward, env.true_values()[a]);
            assert_eq!(step.obs, [0.0]);
            assert!(!step.terminated && !step.truncated);
        }
    }

    #[test]
    fn non_stationary_values_random_walk() {
        let mut env = bandit(BanditConfig {
            stationary: false,
            value_std: 0.0,
            walk_std: 0.1,
            ..BanditConfig::default()
        });
        env.reset(Some(0)).unwrap();
        assert!(env.true_values().iter().all(|&q| q == 0.0));
        for _ in 0..400 {
            env.step(&0).unwrap();
        }
        // After 400 steps each value is N(0, 400 * 0.01) = N(0, 2²): far from all-equal.
        let q = env.true_values();
        assert!(q.iter().all(|&v| v != 0.0));
        let spread = q.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            - q.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(spread > 0.5, "spread {spread}");
    }

    #[test]
    fn optimal_action_is_the_argmax() {
        let mut env = KArmedBandit::new();
        for seed in 0..20 {
            env.reset(Some(seed)).unwrap();
            let q = env.true_values();
            let best = env.optimal_action();
            assert!(q.iter().all(|&v| v <= q[best]));
            assert!(env.is_optimal(best));
            assert!(!env.is_optimal((best + 1) % 10) || q[(best + 1) % 10] == q[best]);
            assert!(!env.is_optimal(10));
        }
    }

    #[test]
    fn invalid_actions_and_configs_are_errors() {
        let mut env = KArmedBandit::new();
        env.reset(Some(0)).unwrap();
        assert!(matches!(env.step(&10), Err(Error::InvalidAction { .. })));
        assert!(matches!(env.step(&-1), Err(Error::InvalidAction { .. })));
        for bad in [
            BanditConfig {
                k: 0,
                ..BanditConfig::default()
            },
            BanditConfig {
                reward_std: -1.0,
                ..BanditConfig::default()
            },
            BanditConfig {
                walk_std: f64::NAN,
                ..BanditConfig::default()
            },
            BanditConfig {
                value_mean: f64::INFINITY,
                ..BanditConfig::default()
            },
        ] {
            assert!(KArmedBandit::with_config(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn renders_text_and_passes_the_checker() {
        let mut env = KArmedBandit::new();
        env.reset(Some(0)).unwrap();
        let Frame::Ansi(text) = env.render(RenderMode::Ansi).unwrap() else {
            panic!("ansi frame expected")
        };
        assert_eq!(text.lines().count(), 10);
        assert_eq!(text.matches("<- best").count(), 1);
        assert!(env.render(RenderMode::RgbArray).is_err());
        let report = tokengym::check_env(&mut env, &Default::default());
        assert!(
            report.is_ok(),
            "{:?}",
            report.failures().collect::<Vec<_>>()
        );
    }

    #[test]
    fn registered_as_bandit_v0_with_kwargs_and_a_1000_step_limit() {
        use tokengym::registry::MakeOptions;
        use tokengym::space::{AnySpace, Value};
        let mut env = crate::make("Bandit-v0").unwrap();
        assert!(matches!(env.action_space(), AnySpace::Discrete(d) if d.n() == 10));
        env.reset(Some(0)).unwrap();
        for t in 1..=1000 {
            let step = env.step(&Value::Discrete(0)).unwrap();
            assert_eq!(step.truncated, t == 1000, "step {t}");
            assert!(!step.terminated);
        }
        let options = MakeOptions::new()
            .kwarg("k", 3i64)
            .kwarg("reward_std", 0.0)
            .kwarg("stationary", false);
        let mut env = crate::make_with("Bandit-v0", &options).unwrap();
        assert!(matches!(env.action_space(), AnySpace::Discrete(d) if d.n() == 3));
        env.reset(Some(0)).unwrap();
        assert!(env.step(&Value::Discrete(3)).is_err());
        let bad = MakeOptions::new().kwarg("k", 0i64);
        assert!(crate::make_with("Bandit-v0", &bad).is_err());
    }
}

//! The built-in environment ids and the `make` functions that know them.
//!
//! The core crate's registry starts empty (it knows no concrete environment). [`register_envs`]
//! adds this crate's environments under their Gymnasium ids, with Gymnasium 1.4's
//! `max_episode_steps` and `reward_threshold`; [`make`] and [`make_with`] call it first, so
//! `tokengym_envs::make("CartPole-v1")` works with no set-up.

use crate::classic_control::{
    Acrobot, AcrobotConfig, AcrobotDynamics, CartPole, CartPoleConfig, ContinuousMountainCar,
    ContinuousMountainCarConfig, MountainCar, MountainCarConfig, Pendulum, PendulumConfig,
};
use crate::text::{
    ArithmeticReward, ByteTokenizer, LexiconReward, PromptSet, RewardFn, TextGenConfig, TextGenEnv,
};
use crate::toy::GridWorld;
use crate::toy::bandit::{BanditConfig, DEFAULT_RUN_STEPS, KArmedBandit};
use crate::toy_text::{
    Blackjack, BlackjackConfig, CliffWalking, CliffWalkingConfig, FrozenLake, FrozenLakeConfig,
    Taxi, TaxiConfig,
};
use std::sync::{Arc, OnceLock};
use tokengym::registry::{self, EnvSpec, Kwargs, MakeOptions, Registry};
use tokengym::vector::{ParallelOptions, ParallelVecEnv, SyncVecEnv};
use tokengym::{AnyEnv, Error, Result};

/// Adds every built-in environment to `reg`, skipping ids that are already there.
///
/// | id | max_episode_steps | reward_threshold | keyword arguments |
/// |---|---|---|---|
/// | `CartPole-v0` | 200 | 195 | `sutton_barto_reward` |
/// | `CartPole-v1` | 500 | 475 | `sutton_barto_reward` |
/// | `MountainCar-v0` | 200 | -110 | `goal_velocity` |
/// | `MountainCarContinuous-v0` | 999 | 90 | `goal_velocity` |
/// | `Acrobot-v1` | 500 | -100 | `book_or_nips` (`"book"`/`"nips"`), `torque_noise_max` |
/// | `Pendulum-v1` | 200 | — | `g` |
/// | `Bandit-v0` | 1000 | — | `k`, `value_mean`, `value_std`, `reward_std`, `stationary`, `walk_std` |
/// | `GridWorld4x3-v0` | — | — | `slip` (0.2), `step_reward` (-0.04) |
/// | `CliffWalking-v0` | — | — | — (our course grid world, [`GridWorld::cliff_walking`]) |
/// | `FrozenLake-v1` | 100 | 0.70 | `desc`, `map_name` (`"4x4"`), `is_slippery` (true), `success_rate` (1/3), `reward_schedule` (`"1,0,0"`) |
/// | `FrozenLake8x8-v1` | 200 | 0.85 | the same, `map_name` `"8x8"` |
/// | `CliffWalking-v1` | — | — | `is_slippery` (false) |
/// | `CliffWalkingSlippery-v1` | — | — | `is_slippery` (true) |
/// | `Blackjack-v1` | — | — | `natural` (false), `sab` (true) |
/// | `Taxi-v4` | 200 | 8 | `is_rainy` (false), `fickle_passenger` (false), `rainy_probability` (0.8), `fickle_probability` (0.3) |
/// | `TextGen-Sentiment-v0` | — | — | `max_new_tokens` (24), `prompt_seed` (0), `num_prompts` (1000), `prompt_words` (3), `add_bos` (false) |
/// | `TextGen-Arithmetic-v0` | — | — | `max_new_tokens` (4), `prompt_seed` (0), `num_prompts` (1000), `max_operand` (99), `add_bos` (false) |
///
/// The toy-text environments ([`crate::toy_text`]) are Gymnasium 1.4's, under Gymnasium's ids.
/// Gymnasium calls its cliff walking `CliffWalking-v1`; our older course grid world keeps
/// `CliffWalking-v0` (it is not Gymnasium's env: no `info["prob"]`, other rendering), so an
/// unversioned `make("CliffWalking")` now gives the newest, Gymnasium's. FrozenLake's list
/// arguments travel as strings: `desc` as rows separated by commas or newlines
/// (`"SFFF,FHFH,FFFH,HFFG"`), `reward_schedule` as three comma-separated numbers, and
/// `map_name = "random"` stands for Gymnasium's `map_name=None` (an unseeded random 8x8 map).
///
/// The text environments ([`TextGenEnv`]) use the [`ByteTokenizer`]; they end episodes
/// themselves (`<eos>` or `max_new_tokens`), so their specs have no time limit.
pub fn register_all(reg: &mut Registry) -> Result<()> {
    let cartpole = |kw: &Kwargs| -> Result<CartPole> {
        Ok(CartPole::with_config(CartPoleConfig {
            sutton_barto_reward: kw.get_bool("sutton_barto_reward", false)?,
        }))
    };
    add(
        reg,
        EnvSpec::new("CartPole-v0")?
            .with_max_episode_steps(200)
            .with_reward_threshold(195.0)
            .with_description("balance a pole on a cart (200-step version)"),
        cartpole,
    )?;
    add(
        reg,
        EnvSpec::new("CartPole-v1")?
            .with_max_episode_steps(500)
            .with_reward_threshold(475.0)
            .with_description("balance a pole on a cart"),
        cartpole,
    )?;
    add(
        reg,
        EnvSpec::new("MountainCar-v0")?
            .with_max_episode_steps(200)
            .with_reward_threshold(-110.0)
            .with_description("drive an underpowered car up a hill (3 discrete actions)"),
        |kw: &Kwargs| {
            MountainCar::with_config(MountainCarConfig {
                goal_velocity: kw.get_f64("goal_velocity", 0.0)?,
            })
        },
    )?;
    add(
        reg,
        EnvSpec::new("MountainCarContinuous-v0")?
            .with_max_episode_steps(999)
            .with_reward_threshold(90.0)
            .with_description("drive an underpowered car up a hill (continuous force)"),
        |kw: &Kwargs| {
            ContinuousMountainCar::with_config(ContinuousMountainCarConfig {
                goal_velocity: kw.get_f64("goal_velocity", 0.0)?,
            })
        },
    )?;
    add(
        reg,
        EnvSpec::new("Acrobot-v1")?
            .with_max_episode_steps(500)
            .with_reward_threshold(-100.0)
            .with_description("swing a two-link arm above a line"),
        |kw: &Kwargs| {
            let defaults = AcrobotConfig::default();
            let book_or_nips = match kw.get_str("book_or_nips", "book")?.as_str() {
                "book" => AcrobotDynamics::Book,
                "nips" => AcrobotDynamics::Nips,
                other => {
                    return Err(Error::invalid_argument(format!(
                        "Acrobot-v1: book_or_nips must be \"book\" or \"nips\", got {other:?}"
                    )));
                }
            };
            Acrobot::with_config(AcrobotConfig {
                book_or_nips,
                torque_noise_max: kw.get_f64("torque_noise_max", defaults.torque_noise_max)?,
                ..defaults
            })
        },
    )?;
    add(
        reg,
        EnvSpec::new("Pendulum-v1")?
            .with_max_episode_steps(200)
            .with_description("swing a pendulum up and hold it (continuous torque)"),
        |kw: &Kwargs| {
            Pendulum::with_config(PendulumConfig {
                g: kw.get_f64("g", PendulumConfig::default().g)?,
                ..PendulumConfig::default()
            })
        },
    )?;
    add(
        reg,
        EnvSpec::new("Bandit-v0")?
            .with_max_episode_steps(DEFAULT_RUN_STEPS)
            .with_description(
                "k-armed bandit (Sutton & Barto ch. 2); true values redrawn each reset",
            ),
        |kw: &Kwargs| {
            let d = BanditConfig::default();
            KArmedBandit::with_config(BanditConfig {
                k: kw.get_usize("k", d.k)?,
                value_mean: kw.get_f64("value_mean", d.value_mean)?,
                value_std: kw.get_f64("value_std", d.value_std)?,
                reward_std: kw.get_f64("reward_std", d.reward_std)?,
                stationary: kw.get_bool("stationary", d.stationary)?,
                walk_std: kw.get_f64("walk_std", d.walk_std)?,
            })
        },
    )?;
    add(
        reg,
        EnvSpec::new("GridWorld4x3-v0")?.with_description(
            "Russell & Norvig's 4x3 world: 0.8/0.1/0.1 moves, -0.04 per step, +1/-1 exits",
        ),
        |kw: &Kwargs| {
            GridWorld::four_by_three(kw.get_f64("slip", 0.2)?, kw.get_f64("step_reward", -0.04)?)
        },
    )?;
    // Our course grid world (no time limit); Gymnasium's env is CliffWalking-v1 below.
    add(
        reg,
        EnvSpec::new("CliffWalking-v0")?.with_description(
            "Sutton & Barto's cliff walking: 4x12, -1 per step, -100 for the cliff",
        ),
        |_kw: &Kwargs| Ok(GridWorld::cliff_walking()),
    )?;
    for (id, map, steps, threshold) in [
        ("FrozenLake-v1", "4x4", 100, 0.70),
        ("FrozenLake8x8-v1", "8x8", 200, 0.85),
    ] {
        add(
            reg,
            EnvSpec::new(id)?
                .with_max_episode_steps(steps)
                .with_reward_threshold(threshold)
                .with_description("cross a frozen lake to the goal without falling into a hole"),
            move |kw: &Kwargs| FrozenLake::with_config(frozen_lake_config(kw, map)?),
        )?;
    }
    add(
        reg,
        EnvSpec::new("Blackjack-v1")?
            .with_description("beat the dealer at blackjack (Sutton & Barto's rules by default)"),
        |kw: &Kwargs| {
            Ok(Blackjack::with_config(BlackjackConfig {
                natural: kw.get_bool("natural", false)?,
                sab: kw.get_bool("sab", true)?,
            }))
        },
    )?;
    add(
        reg,
        EnvSpec::new("Taxi-v4")?
            .with_max_episode_steps(200)
            .with_reward_threshold(8.0)
            .with_description("drive a taxi to the passenger, then to their destination"),
        |kw: &Kwargs| {
            let d = TaxiConfig::default();
            Taxi::with_config(TaxiConfig {
                is_rainy: kw.get_bool("is_rainy", d.is_rainy)?,
                fickle_passenger: kw.get_bool("fickle_passenger", d.fickle_passenger)?,
                rainy_probability: kw.get_f64("rainy_probability", d.rainy_probability)?,
                fickle_probability: kw.get_f64("fickle_probability", d.fickle_probability)?,
            })
        },
    )?;
    // Gymnasium registers both without a time limit; so do we.
    for (id, slippery) in [
        ("CliffWalking-v1", false),
        ("CliffWalkingSlippery-v1", true),
    ] {
        add(
            reg,
            EnvSpec::new(id)?.with_description(
                "Gymnasium's cliff walking: 4x12, -1 per step, -100 and back to start for the cliff",
            ),
            move |kw: &Kwargs| {
                Ok(CliffWalking::with_config(CliffWalkingConfig {
                    is_slippery: kw.get_bool("is_slippery", slippery)?,
                }))
            },
        )?;
    }
    add(
        reg,
        EnvSpec::new("TextGen-Sentiment-v0")?.with_description(
            "continue a review opening token by token; reward = positive fraction of its sentiment words",
        ),
        |kw: &Kwargs| {
            let prompts = PromptSet::sentiment(
                kw.get_u64("prompt_seed", 0)?,
                kw.get_usize("num_prompts", 1000)?,
                kw.get_usize("prompt_words", 3)?,
            )?;
            text_env(kw, prompts, Arc::new(LexiconReward::default()), 24)
        },
    )?;
    add(
        reg,
        EnvSpec::new("TextGen-Arithmetic-v0")?.with_description(
            "answer a+b= / a-b= token by token; reward 1 for the right leading integer",
        ),
        |kw: &Kwargs| {
            let max_operand = u32::try_from(kw.get_u64("max_operand", 99)?).map_err(|_| {
                Error::invalid_argument("TextGen-Arithmetic-v0: max_operand does not fit u32")
            })?;
            let prompts = PromptSet::arithmetic(
                kw.get_u64("prompt_seed", 0)?,
                kw.get_usize("num_prompts", 1000)?,
                max_operand,
            )?;
            text_env(kw, prompts, Arc::new(ArithmeticReward), 4)
        },
    )?;
    Ok(())
}

/// FrozenLake's keyword arguments (see [`register_all`] for how lists travel as strings).
fn frozen_lake_config(kw: &Kwargs, default_map: &str) -> Result<FrozenLakeConfig> {
    let d = FrozenLakeConfig::default();
    let desc = match kw.get("desc") {
        None => None,
        Some(_) => Some(
            kw.get_str("desc", "")?
                .split([',', '\n'])
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect(),
        ),
    };
    let map_name = match kw.get_str("map_name", default_map)?.as_str() {
        "random" => None,
        other => Some(other.to_string()),
    };
    let reward_schedule = match kw.get("reward_schedule") {
        None => d.reward_schedule,
        Some(_) => {
            let text = kw.get_str("reward_schedule", "")?;
            let parsed: std::result::Result<Vec<f64>, _> =
                text.split(',').map(|x| x.trim().parse::<f64>()).collect();
            match parsed.ok().and_then(|v| <[f64; 3]>::try_from(v).ok()) {
                Some(r) => r,
                None => {
                    return Err(Error::invalid_argument(format!(
                        "FrozenLake: reward_schedule must be three comma-separated numbers \
                         (goal, hole, frozen), got {text:?}"
                    )));
                }
            }
        }
    };
    Ok(FrozenLakeConfig {
        desc,
        map_name,
        is_slippery: kw.get_bool("is_slippery", d.is_slippery)?,
        success_rate: kw.get_f64("success_rate", d.success_rate)?,
        reward_schedule,
    })
}

/// A byte-level [`TextGenEnv`] with the common text kwargs (`max_new_tokens`, `add_bos`).
fn text_env(
    kw: &Kwargs,
    prompts: PromptSet,
    reward: Arc<dyn RewardFn>,
    default_new_tokens: usize,
) -> Result<TextGenEnv> {
    let cfg = TextGenConfig {
        max_new_tokens: kw.get_usize("max_new_tokens", default_new_tokens)?,
        add_bos: kw.get_bool("add_bos", false)?,
        ..TextGenConfig::default()
    };
    TextGenEnv::new(Arc::new(ByteTokenizer::new()), prompts, reward, cfg)
}

fn add<E, F>(reg: &mut Registry, spec: EnvSpec, constructor: F) -> Result<()>
where
    E: tokengym::Env + 'static,
    F: Fn(&Kwargs) -> Result<E> + Send + Sync + 'static,
{
    if reg.contains(&spec.id()) {
        return Ok(());
    }
    reg.register(spec, constructor)
}

/// Registers the built-in environments in the global registry (once; later calls are free).
pub fn register_envs() -> Result<()> {
    static DONE: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| registry::update(register_all).map_err(|e| e.to_string()))
        .clone()
        .map_err(Error::InvalidArgument)
}

/// Gymnasium's `make`: the environment registered as `id`, with its spec's wrappers
/// (`PassiveEnvChecker`, `OrderEnforcing`, `TimeLimit`). Built-in ids need no set-up.
///
/// ```
/// use tokengym::Env;
/// use tokengym::space::Value;
/// let mut env = tokengym_envs::make("CartPole-v1")?;
/// let (obs, _info) = env.reset(Some(0))?;
/// let step = env.step(&Value::Discrete(1))?;
/// assert_eq!(step.reward, 1.0);
/// assert!(tokengym_envs::make("CartPole-v9").is_err()); // names the closest ids
/// # Ok::<(), tokengym::Error>(())
/// ```
pub fn make(id: &str) -> Result<AnyEnv> {
    register_envs()?;
    registry::make(id)
}

/// [`make`] with keyword arguments and overrides (Gymnasium's `make(id, **kwargs)`).
pub fn make_with(id: &str, options: &MakeOptions) -> Result<AnyEnv> {
    register_envs()?;
    registry::make_with(id, options)
}

/// Gymnasium's `make_vec(id, num_envs)` (sync mode): `num_envs` copies of the environment,
/// stepped together; observations come back as one `ndarray::Array2<f32>`.
///
/// ```
/// use tokengym::vector::VecEnv;
/// use tokengym::space::Value;
/// let mut envs = tokengym_envs::make_vec("CartPole-v1", 4, &Default::default())?;
/// let first = envs.reset(Some(0))?;
/// assert_eq!(first.obs().dim(), (4, 4));
/// let step = envs.step(&[Value::Discrete(0), Value::Discrete(1), Value::Discrete(0), Value::Discrete(1)])?;
/// assert_eq!(step.rewards(), [1.0; 4]);
/// # Ok::<(), tokengym::Error>(())
/// ```
pub fn make_vec(id: &str, num_envs: usize, options: &MakeOptions) -> Result<SyncVecEnv<AnyEnv>> {
    register_envs()?;
    registry::make_vec(id, num_envs, options)
}

/// [`make_vec`] with the copies stepped on worker threads (see [`ParallelVecEnv`]).
pub fn make_vec_parallel(
    id: &str,
    num_envs: usize,
    options: &MakeOptions,
    parallel: ParallelOptions,
) -> Result<ParallelVecEnv<AnyEnv>> {
    register_envs()?;
    registry::make_vec_parallel(id, num_envs, options, parallel)
}

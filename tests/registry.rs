//! The registry: register, make, kwargs, the default wrapper stack, errors and listings.

use rand::{RngExt, SeedableRng};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use tokengym::registry::{self, EnvSpec, KwArg, Kwargs, MakeOptions, Registry};
use tokengym::space::{BoxSpace, Discrete, Space, Value};
use tokengym::{Env, EnvRng, Error, Info, Result, Step};

// ---- An allocation counter for this thread, to check that `step_flat` does not allocate. ----

struct CountingAlloc;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // `try_with`: thread-locals may already be gone while a thread shuts down.
        if COUNTING.try_with(Cell::get).unwrap_or(false) {
            let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn count_allocs(f: impl FnOnce()) -> u64 {
    ALLOCS.with(|c| c.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCS.with(Cell::get)
}

// ---- A user-defined environment: the whole thing, registered and made, in under 40 lines. ----

/// A random walk on a line; reach +goal to win, -goal to lose.
#[rustfmt::skip]
struct Walk { pos: i64, goal: i64, rng: EnvRng, obs: BoxSpace<f32, [f32; 1]>, act: Discrete }

#[rustfmt::skip]
impl Env for Walk {
    type ObsSpace = BoxSpace<f32, [f32; 1]>;
    type ActSpace = Discrete;
    fn observation_space(&self) -> &Self::ObsSpace { &self.obs }
    fn action_space(&self) -> &Self::ActSpace { &self.act }
    fn reset(&mut self, seed: Option<u64>) -> Result<([f32; 1], Info)> {
        if let Some(s) = seed { self.rng = EnvRng::seed_from_u64(s); }
        self.pos = self.rng.random_range(-1..=1);
        Ok(([self.pos as f32], Info::new()))
    }
    fn step(&mut self, action: &i64) -> Result<Step<[f32; 1]>> {
        self.act.check_action(action)?;
        self.pos += if *action == 1 { 1 } else { -1 };
        let done = self.pos.abs() >= self.goal;
        Ok(Step::new([self.pos as f32], (self.pos >= self.goal) as i64 as f64, done, false))
    }
}

#[rustfmt::skip]
fn walk(kw: &Kwargs) -> Result<Walk> {
    let goal = kw.get_i64("goal", 3)?;
    if goal < 2 { return Err(Error::invalid_argument(format!("goal must be >= 2, got {goal}"))); }
    let g = goal as f32;
    Ok(Walk { pos: 0, goal, rng: EnvRng::seed_from_u64(0), obs: BoxSpace::new(vec![-g], vec![g], vec![1])?, act: Discrete::new(2)? })
}

#[test]
fn user_defined_env_registers_and_runs_through_make() -> Result<()> {
    registry::register(
        EnvSpec::new("test/Walk-v0")?.with_max_episode_steps(50),
        walk,
    )?;
    let mut env = registry::make("test/Walk-v0")?;
    let (obs, _) = env.reset(Some(1))?;
    assert!(env.observation_space().contains(&obs));
    let mut steps = 0;
    loop {
        let step = env.step(&Value::Discrete(1))?;
        steps += 1;
        if step.done() {
            assert!(step.terminated && step.reward == 1.0);
            break;
        }
    }
    assert!(steps <= 4);
    assert!(registry::ids().contains(&"test/Walk-v0".to_string()));
    assert_eq!(registry::spec("test/Walk-v0")?.max_episode_steps, Some(50));
    assert!(registry::pprint_registry().contains("===== test =====\n"));
    Ok(())
}

/// A fresh registry with the walk under `Walk-v0` and `Walk-v1` (goal 5 by default).
fn local() -> Registry {
    let mut reg = Registry::new();
    reg.register(EnvSpec::new("Walk-v0").unwrap(), walk)
        .unwrap();
    reg.register(
        EnvSpec::new("Walk-v1")
            .unwrap()
            .with_kwarg("goal", 5)
            .with_max_episode_steps(7),
        walk,
    )
    .unwrap();
    reg
}

#[test]
fn duplicate_ids_are_rejected_unless_replaced() {
    let mut reg = local();
    let err = reg
        .register(EnvSpec::new("Walk-v0").unwrap(), walk)
        .unwrap_err();
    assert!(
        matches!(err, Error::AlreadyRegistered(ref id) if id == "Walk-v0"),
        "{err}"
    );
    let old = reg.register_or_replace(
        EnvSpec::new("Walk-v0").unwrap().with_max_episode_steps(9),
        walk,
    );
    assert_eq!(old.unwrap().map(|s| s.max_episode_steps), Some(None));
    assert_eq!(reg.spec("Walk-v0").unwrap().max_episode_steps, Some(9));
    assert_eq!(reg.unregister("Walk-v0").unwrap().id(), "Walk-v0");
    assert!(!reg.contains("Walk-v0"));
    // A name is versioned or unversioned, never both (as in Gymnasium).
    let err = reg
        .register(EnvSpec::new("Walk").unwrap(), walk)
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot register Walk while Walk-v1"),
        "{err}"
    );
    reg.register(EnvSpec::new("Plain").unwrap(), walk).unwrap();
    assert!(
        reg.register(EnvSpec::new("Plain-v0").unwrap(), walk)
            .is_err()
    );
    assert!(
        reg.register(EnvSpec::new("ns/Plain-v0").unwrap(), walk)
            .is_ok()
    );
}

fn unknown(reg: &Registry, id: &str) -> Vec<String> {
    match reg.make(id) {
        Err(Error::UnknownEnv {
            id: got,
            suggestions,
        }) => {
            assert_eq!(got, id);
            suggestions
        }
        Err(other) => panic!("expected UnknownEnv for {id}, got {other}"),
        Ok(_) => panic!("{id} should be unknown"),
    }
}

#[test]
fn unknown_ids_suggest_close_ones() {
    let mut reg = local();
    reg.register(EnvSpec::new("CartPole-v1").unwrap(), walk)
        .unwrap();
    reg.register(EnvSpec::new("Pendulum-v1").unwrap(), walk)
        .unwrap();
    assert_eq!(unknown(&reg, "CartPole-v0"), vec!["CartPole-v1"]);
    assert_eq!(unknown(&reg, "cartpole"), vec!["CartPole-v1"]);
    assert_eq!(unknown(&reg, "Wakl-v3"), vec!["Walk-v1", "Walk-v0"]);
    assert!(unknown(&reg, "Completely-Different-v0").is_empty());
    assert!(unknown(&reg, "not an id").is_empty());
    let msg = reg.make("CartPol-v1").err().unwrap().to_string();
    assert!(msg.contains("did you mean CartPole-v1"), "{msg}");
    // An unversioned id resolves to the newest version, as in Gymnasium.
    assert_eq!(reg.spec("Walk").unwrap().id(), "Walk-v1");
}

#[test]
fn kwargs_are_merged_and_unknown_ones_rejected() -> Result<()> {
    let reg = local();
    // The spec's default goal is 5; the options override it.
    let mut env = reg.make("Walk-v1")?;
    env.reset(Some(0))?;
    assert!(env.observation_space().contains(&Value::BoxF32(vec![5.0])));
    let mut env = reg.make_with("Walk-v1", &MakeOptions::new().kwarg("goal", 2))?;
    assert!(!env.observation_space().contains(&Value::BoxF32(vec![5.0])));
    env.reset(Some(0))?;

    let err = reg
        .make_with("Walk-v1", &MakeOptions::new().kwarg("gaol", 4))
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("making Walk-v1"), "{err}");
    assert!(
        err.contains("unknown keyword argument gaol; valid keyword arguments: goal"),
        "{err}"
    );
    let err = reg
        .make_with("Walk-v1", &MakeOptions::new().kwarg("goal", "far"))
        .err()
        .unwrap();
    assert!(
        err.to_string().contains("`goal` must be an integer"),
        "{err}"
    );
    let err = reg
        .make_with("Walk-v1", &MakeOptions::new().kwarg("goal", 1))
        .err()
        .unwrap();
    assert!(err.to_string().contains("goal must be >= 2"), "{err}");
    // The resolved spec shows what was made.
    let resolved = reg
        .spec("Walk-v1")?
        .with_options(&MakeOptions::new().kwarg("goal", 9));
    assert_eq!(resolved.kwargs.get("goal"), Some(&KwArg::Int(9)));
    Ok(())
}

#[test]
fn time_limit_comes_from_the_spec_or_the_options() -> Result<()> {
    let reg = local();
    let episode_len = |opts: &MakeOptions| -> Result<(usize, bool)> {
        let mut env = reg.make_with("Walk-v1", opts)?;
        env.reset(Some(3))?;
        let mut n = 0;
        loop {
            // Alternate left/right: never reaches the goal.
            let step = env.step(&Value::Discrete((n % 2) as i64))?;
            n += 1;
            if step.done() {
                return Ok((n, step.truncated));
            }
        }
    };
    assert_eq!(episode_len(&MakeOptions::new())?, (7, true));
    assert_eq!(
        episode_len(&MakeOptions::new().max_episode_steps(2))?,
        (2, true)
    );
    Ok(())
}

/// Reports a NaN observation on reset; steps work before any reset.
struct Broken {
    obs: BoxSpace<f32, [f32; 1]>,
    act: Discrete,
}

impl Env for Broken {
    type ObsSpace = BoxSpace<f32, [f32; 1]>;
    type ActSpace = Discrete;
    fn observation_space(&self) -> &Self::ObsSpace {
        &self.obs
    }
    fn action_space(&self) -> &Self::ActSpace {
        &self.act
    }
    fn reset(&mut self, _seed: Option<u64>) -> Result<([f32; 1], Info)> {
        Ok(([f32::NAN], Info::new()))
    }
    fn step(&mut self, _action: &i64) -> Result<Step<[f32; 1]>> {
        Ok(Step::new([0.0], 0.0, false, false))
    }
}

fn broken(_: &Kwargs) -> Result<Broken> {
    Ok(Broken {
        obs: BoxSpace::new(vec![-1.0], vec![1.0], vec![1])?,
        act: Discrete::new(2)?,
    })
}

#[test]
fn env_checker_and_order_enforcing_are_applied_as_the_spec_says() -> Result<()> {
    let mut reg = Registry::new();
    reg.register(EnvSpec::new("Broken-v0")?, broken)?;
    reg.register(
        EnvSpec::new("Lax-v0")?
            .with_disable_env_checker(true)
            .with_order_enforce(false),
        broken,
    )?;

    // Default stack: order enforcing rejects step before reset; the checker rejects NaN obs.
    let mut env = reg.make("Broken-v0")?;
    assert!(matches!(
        env.step(&Value::Discrete(0)),
        Err(Error::ResetNeeded)
    ));
    assert!(matches!(env.reset(None), Err(Error::NonFinite { .. })));
    // Checker disabled by the options.
    let mut env = reg.make_with("Broken-v0", &MakeOptions::new().disable_env_checker(true))?;
    assert!(env.reset(None).is_ok());

    // Spec without either wrapper; the options can turn the checker back on.
    let mut env = reg.make("Lax-v0")?;
    assert!(env.step(&Value::Discrete(0)).is_ok());
    assert!(env.reset(None).is_ok());
    let mut env = reg.make_with("Lax-v0", &MakeOptions::new().disable_env_checker(false))?;
    assert!(env.reset(None).is_err());
    Ok(())
}

#[test]
fn detached_constructors_work_across_threads() -> Result<()> {
    let reg = local();
    let ctor = reg.constructor("Walk-v1")?;
    drop(reg);
    let handles: Vec<_> = (0..3)
        .map(|i| {
            let ctor = ctor.clone();
            std::thread::spawn(move || -> Result<Value> {
                let mut env = ctor(&MakeOptions::new().kwarg("goal", 2 + i))?;
                Ok(env.reset(Some(7))?.0)
            })
        })
        .collect();
    for h in handles {
        let obs = h.join().expect("worker thread panicked")?;
        assert!(matches!(obs, Value::BoxF32(ref v) if v.len() == 1));
    }
    Ok(())
}

#[test]
fn step_flat_through_the_default_stack_does_not_allocate() -> Result<()> {
    let reg = local();
    let mut env = reg.make_with("Walk-v1", &MakeOptions::new().kwarg("goal", 1_000_000))?;
    let mut obs = vec![0.0f32; env.observation_space().flatdim()];
    let right = Value::Discrete(1);
    // The first reset/step go through the passive checker's one-time checks.
    env.reset_flat(Some(0), &mut obs)?;
    env.step_flat(&right, &mut obs)?;
    let mut result = Ok(());
    let allocs = count_allocs(|| {
        for _ in 0..5 {
            if let Err(e) = env.step_flat(&right, &mut obs) {
                result = Err(e);
            }
        }
    });
    result?;
    assert_eq!(allocs, 0, "step_flat allocated");
    // The counter does see allocations.
    assert!(count_allocs(|| drop(std::hint::black_box(vec![1u8]))) > 0);
    Ok(())
}

#[test]
fn listings_group_and_describe() -> Result<()> {
    let mut reg = local();
    reg.register(
        EnvSpec::new("ns/Other-v0")?.with_description("another walk"),
        walk,
    )?;
    let out = reg.pprint();
    // Without a namespace the group is the defining crate (this test crate).
    assert!(
        out.starts_with("===== ns =====\nns/Other-v0\n\n===== registry =====\n"),
        "{out}"
    );
    assert!(out.contains("Walk-v0     Walk-v1"), "{out}");
    assert!(reg.table().contains("another walk"));
    let spec = reg.spec("Walk-v0")?;
    assert!(spec.entry_point.ends_with("Walk"), "{}", spec.entry_point);
    Ok(())
}

/// What an environment crate offers: one function that registers its environments anywhere.
fn register_all(reg: &mut Registry) -> Result<()> {
    for (id, steps) in [("suite/Short-v0", 5), ("suite/Long-v0", 500)] {
        if !reg.contains(id) {
            reg.register(EnvSpec::new(id)?.with_max_episode_steps(steps), walk)?;
        }
    }
    Ok(())
}

#[test]
fn a_crates_environments_register_globally_through_update() -> Result<()> {
    registry::update(register_all)?;
    registry::update(register_all)?; // idempotent
    assert_eq!(registry::spec("suite/Short")?.max_episode_steps, Some(5));
    let mut env = registry::make("suite/Long-v0")?;
    env.reset(Some(0))?;
    assert!(registry::pprint_registry().contains("===== suite =====\nsuite/Long-v0"));
    Ok(())
}

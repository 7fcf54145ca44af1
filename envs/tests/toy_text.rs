//! The toy-text environments replay Gymnasium 1.4 exactly
//! (`tests/fixtures/toy_text/toy_text.json`, recorded by `tests/fixtures/gen_toy_text.py`):
//! for every variant, the transition table `P`, and for several seeds the reset observation
//! and info, a seeded random-action episode (observations, rewards, flags, `info["prob"]` with
//! Python's int/float type, ansi renders) through `make` (Gymnasium's time limits), and the
//! next unseeded reset; `generate_random_map` for a few (size, p, seed). Also: the `Mdp` view
//! equals `P`, its outcomes sum to 1, and value iteration on it gives the known optimal
//! returns; bad arguments are errors.

use serde_json::Value as Json;
use tokengym::registry::{KwArg, MakeOptions};
use tokengym::space::{AnySpace, Discrete, Space, Value};
use tokengym::{Env, Error, Frame, Info, InfoValue, RenderMode};
use tokengym_envs::toy::Mdp;
use tokengym_envs::toy_text::{
    Blackjack, BlackjackConfig, CliffWalking, CliffWalkingConfig, FrozenLake, FrozenLakeConfig,
    Taxi, TaxiConfig, generate_random_map,
};

fn load(file: &str) -> Json {
    let path = format!(
        "{}/../tests/fixtures/toy_text/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture exists"))
        .expect("fixture is JSON")
}

fn fixture() -> Json {
    load("toy_text.json")
}

/// The generator's `p_digest`: FNV-1a over `"s a i prob_bits next reward term\n"` lines.
fn p_digest(mdp: &impl Mdp) -> (u64, usize) {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    let mut n = 0;
    for s in 0..mdp.n_states() {
        for a in 0..mdp.n_actions() {
            for (i, o) in mdp.transitions(s, a).iter().enumerate() {
                let line = format!(
                    "{s} {a} {i} {} {} {} {}\n",
                    o.prob.to_bits(),
                    o.next,
                    o.reward as i64,
                    u8::from(o.terminal)
                );
                for b in line.bytes() {
                    h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
                }
                n += 1;
            }
        }
    }
    (h, n)
}

fn variant<'a>(data: &'a Json, name: &str) -> &'a Json {
    data["variants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("{name} in the fixture"))
}

fn str_list(v: &Json) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// The `make` options of a fixture variant (lists as our string kwargs).
fn make_options(kwargs: &Json) -> MakeOptions {
    let mut options = MakeOptions::new();
    for (k, v) in kwargs.as_object().unwrap() {
        let arg: KwArg = match v {
            Json::Bool(b) => KwArg::Bool(*b),
            Json::Number(n) if n.is_i64() => KwArg::Int(n.as_i64().unwrap()),
            Json::Number(n) => KwArg::Float(n.as_f64().unwrap()),
            Json::Array(items) => KwArg::Str(
                items
                    .iter()
                    .map(|x| match x {
                        Json::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect::<Vec<_>>()
                    .join(","),
            ),
            other => panic!("unexpected kwarg {other}"),
        };
        options = options.kwarg(k.as_str(), arg);
    }
    options
}

/// The typed FrozenLake of a fixture variant.
fn frozen_lake(v: &Json) -> FrozenLake {
    let kw = &v["kwargs"];
    let d = FrozenLakeConfig::default();
    FrozenLake::with_config(FrozenLakeConfig {
        desc: kw.get("desc").map(str_list),
        map_name: Some(
            if v["env_id"] == "FrozenLake8x8-v1" {
                "8x8"
            } else {
                "4x4"
            }
            .into(),
        ),
        is_slippery: kw
            .get("is_slippery")
            .map_or(d.is_slippery, |b| b.as_bool().unwrap()),
        success_rate: kw
            .get("success_rate")
            .map_or(d.success_rate, |x| x.as_f64().unwrap()),
        reward_schedule: kw.get("reward_schedule").map_or(d.reward_schedule, |r| {
            let r: Vec<f64> = r
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            [r[0], r[1], r[2]]
        }),
    })
    .unwrap()
}

/// `info` as Gymnasium's dict, keeping int vs float.
fn check_info(info: &Info, want: &Json, what: &str) {
    let want = want.as_object().unwrap();
    assert_eq!(
        info.iter().count(),
        want.len(),
        "{what}: info keys {info:?}"
    );
    for (k, w) in want {
        let got = info
            .get(k)
            .unwrap_or_else(|| panic!("{what}: info[{k}] missing"));
        match (got, w) {
            (InfoValue::Int(i), Json::Number(n)) if n.is_i64() => {
                assert_eq!(Some(*i), n.as_i64(), "{what}: info[{k}]")
            }
            (InfoValue::Float(x), Json::Number(n)) if n.is_f64() => {
                assert_eq!(
                    x.to_bits(),
                    n.as_f64().unwrap().to_bits(),
                    "{what}: info[{k}]"
                )
            }
            (InfoValue::Value(Value::MultiBinary(bits)), Json::Array(items)) => {
                let want: Vec<u8> = items.iter().map(|x| x.as_u64().unwrap() as u8).collect();
                assert_eq!(bits, &want, "{what}: info[{k}]");
            }
            (got, w) => panic!("{what}: info[{k}] = {got:?}, Gymnasium has {w}"),
        }
    }
}

fn discrete(v: &Value) -> i64 {
    match v {
        Value::Discrete(x) => *x,
        other => panic!("not discrete: {other:?}"),
    }
}

fn ansi(env: &impl Env, what: &str) -> String {
    match env.render(RenderMode::Ansi) {
        Ok(Frame::Ansi(text)) => text,
        other => panic!("{what}: ansi render gave {other:?}"),
    }
}

/// `info["action_mask"]` as booleans.
fn mask_of(info: &Info) -> Option<Vec<bool>> {
    match info.get("action_mask") {
        Some(InfoValue::Value(Value::MultiBinary(bits))) => {
            Some(bits.iter().map(|&b| b == 1).collect())
        }
        _ => None,
    }
}

/// Replays every episode of a variant through `make`, with Gymnasium's wrappers; `masked`:
/// the actions were sampled with the action mask.
fn replay_episodes(v: &Json, masked: bool) {
    let name = v["name"].as_str().unwrap();
    let id = v["env_id"].as_str().unwrap();
    let mut env = tokengym_envs::make_with(id, &make_options(&v["kwargs"])).unwrap();
    let episodes = v["episodes"].as_array().unwrap();
    assert!(episodes.len() >= 2);
    // The recorded actions are what our seeded action space samples (Gymnasium's
    // `action_space.seed(seed)` then `sample()`, or `sample(mask=info["action_mask"])`).
    let actions: Discrete = match env.action_space() {
        AnySpace::Discrete(d) => *d,
        other => panic!("{name}: action space {other}"),
    };
    for ep in episodes {
        let seed: u64 = ep["seed"].as_str().unwrap().parse().unwrap();
        let what = format!("{name} seed {seed}");
        let mut space_rng = actions.seed(seed);
        let mut mask: Option<Vec<bool>>;
        let (obs, info) = env.reset(Some(seed)).unwrap();
        assert_eq!(
            discrete(&obs),
            ep["reset_obs"].as_i64().unwrap(),
            "{what} reset"
        );
        check_info(&info, &ep["reset_info"], &format!("{what} reset"));
        mask = mask_of(&info);
        if let Some(text) = ep.get("reset_ansi") {
            assert_eq!(
                ansi(&env, &what),
                text.as_str().unwrap(),
                "{what} reset ansi"
            );
        }
        for (t, st) in ep["steps"].as_array().unwrap().iter().enumerate() {
            let what = format!("{what} step {t}");
            let sampled = match &mask {
                Some(m) if masked => actions.sample_masked(space_rng.rng(), m).unwrap(),
                _ => actions.sample_seeded(&mut space_rng),
            };
            assert_eq!(sampled, st["action"].as_i64().unwrap(), "{what} action");
            let step = env
                .step(&Value::Discrete(st["action"].as_i64().unwrap()))
                .unwrap();
            mask = mask_of(&step.info);
            assert_eq!(
                discrete(&step.obs),
                st["obs"].as_i64().unwrap(),
                "{what} obs"
            );
            assert_eq!(step.reward, st["reward"].as_f64().unwrap(), "{what} reward");
            assert_eq!(
                step.terminated,
                st["terminated"].as_bool().unwrap(),
                "{what}"
            );
            assert_eq!(step.truncated, st["truncated"].as_bool().unwrap(), "{what}");
            check_info(&step.info, &st["info"], &what);
            if let Some(text) = st.get("ansi") {
                assert_eq!(ansi(&env, &what), text.as_str().unwrap(), "{what} ansi");
            }
        }
        let (obs, info) = env.reset(None).unwrap();
        assert_eq!(
            discrete(&obs),
            ep["next_reset_obs"].as_i64().unwrap(),
            "{what} next reset"
        );
        check_info(&info, &ep["next_reset_info"], &format!("{what} next reset"));
    }
}

/// The `Mdp` view equals Gymnasium's `P`, entry for entry and bit for bit.
fn check_p(mdp: &impl Mdp, v: &Json) {
    let name = v["name"].as_str().unwrap();
    let p = v["P"].as_array().unwrap();
    assert_eq!(mdp.n_states(), p.len(), "{name}: states");
    for (s, per_action) in p.iter().enumerate() {
        let per_action = per_action.as_array().unwrap();
        assert_eq!(mdp.n_actions(), per_action.len(), "{name}: actions");
        for (a, list) in per_action.iter().enumerate() {
            let got = mdp.transitions(s, a);
            let want = list.as_array().unwrap();
            assert_eq!(got.len(), want.len(), "{name}: P[{s}][{a}]");
            for (o, w) in got.iter().zip(want) {
                assert_eq!(
                    o.prob.to_bits(),
                    w[0].as_f64().unwrap().to_bits(),
                    "{name} P[{s}][{a}]"
                );
                assert_eq!(o.next as u64, w[1].as_u64().unwrap(), "{name} P[{s}][{a}]");
                assert_eq!(o.reward, w[2].as_f64().unwrap(), "{name} P[{s}][{a}]");
                assert_eq!(o.terminal, w[3].as_bool().unwrap(), "{name} P[{s}][{a}]");
            }
            let total: f64 = got.iter().map(|o| o.prob).sum();
            assert!(
                (total - 1.0).abs() < 1e-12,
                "{name}: P[{s}][{a}] sums to {total}"
            );
        }
    }
}

#[test]
fn frozen_lake_replays_gymnasium() {
    let data = fixture();
    assert_eq!(data["gymnasium_version"], "1.4.0");
    for name in [
        "frozenlake_4x4",
        "frozenlake_4x4_not_slippery",
        "frozenlake_8x8",
        "frozenlake_custom",
    ] {
        let v = variant(&data, name);
        check_p(&frozen_lake(v), v);
        replay_episodes(v, false);
    }
}

#[test]
fn cliff_walking_replays_gymnasium() {
    let data = fixture();
    for (name, is_slippery) in [("cliff", false), ("cliff_slippery", true)] {
        let v = variant(&data, name);
        check_p(
            &CliffWalking::with_config(CliffWalkingConfig { is_slippery }),
            v,
        );
        replay_episodes(v, false);
    }
}

#[test]
fn taxi_replays_gymnasium() {
    let data = load("taxi.json");
    assert_eq!(data["gymnasium_version"], "1.4.0");
    let mut destination_changes = 0;
    for v in data["variants"].as_array().unwrap() {
        let kw = &v["kwargs"];
        let flag = |k: &str| kw.get(k).is_some_and(|b| b.as_bool().unwrap());
        let d = TaxiConfig::default();
        let env = Taxi::with_config(TaxiConfig {
            is_rainy: flag("is_rainy"),
            fickle_passenger: flag("fickle_passenger"),
            rainy_probability: d.rainy_probability,
            fickle_probability: kw
                .get("fickle_probability")
                .map_or(d.fickle_probability, |x| x.as_f64().unwrap()),
        })
        .unwrap();
        let (h, n) = p_digest(&env);
        let want = &v["P_digest"];
        assert_eq!(
            n as u64,
            want["outcomes"].as_u64().unwrap(),
            "{}",
            v["name"]
        );
        assert_eq!(
            h.to_string(),
            want["fnv1a64"].as_str().unwrap(),
            "{}",
            v["name"]
        );
        let masked = v["name"].as_str().unwrap().contains("fickle");
        replay_episodes(v, masked);
        // The fickle passenger really changed destination in the recorded episodes.
        for ep in v["episodes"].as_array().unwrap() {
            let mut dest = ep["reset_obs"].as_i64().unwrap() % 4;
            for st in ep["steps"].as_array().unwrap() {
                let now = st["obs"].as_i64().unwrap() % 4;
                destination_changes += usize::from(now != dest);
                dest = now;
            }
        }
    }
    assert!(destination_changes >= 4, "{destination_changes}");
}

#[test]
fn taxi_encode_decode_and_mdp() {
    for s in 0..500 {
        let (r, c, p, d) = Taxi::decode(s);
        assert!(r < 5 && c < 5 && p < 5 && d < 4);
        assert_eq!(Taxi::encode(r, c, p, d), s);
    }
    for env in [
        Taxi::new(),
        Taxi::with_config(TaxiConfig {
            is_rainy: true,
            ..TaxiConfig::default()
        })
        .unwrap(),
    ] {
        for s in 0..env.n_states() {
            for a in 0..env.n_actions() {
                let total: f64 = env.transitions(s, a).iter().map(|o| o.prob).sum();
                assert!((total - 1.0).abs() < 1e-12);
            }
        }
        // The optimal policy delivers the passenger: a positive undiscounted return. Without
        // rain its mean over Gymnasium's start distribution is 7.93 (value iteration on
        // Gymnasium's own `P` gives the same; the "optimum = 8.46" comment of Gymnasium's
        // registration is not this number).
        let v = value_iteration(&env, 1.0);
        let starts = env.initial_state_distribution();
        let mean: f64 = starts.iter().zip(&v).map(|(p, v)| p * v).sum();
        assert!(mean > 0.0, "{mean}");
        if !env.config().is_rainy {
            assert!((mean - 7.93).abs() < 1e-9, "{mean}");
        }
    }
    assert!(
        Taxi::with_config(TaxiConfig {
            rainy_probability: 1.5,
            ..TaxiConfig::default()
        })
        .is_err()
    );
    let mut env = Taxi::new();
    assert!(matches!(env.step(&0), Err(Error::ResetNeeded)));
    env.reset(Some(0)).unwrap();
    assert!(env.step(&6).is_err());
}

fn tuple_obs(obs: &[Value]) -> Vec<i64> {
    obs.iter().map(discrete).collect()
}

fn ints(v: &Json) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect()
}

#[test]
fn blackjack_replays_gymnasium() {
    let data = load("blackjack.json");
    assert_eq!(data["gymnasium_version"], "1.4.0");
    for v in data["variants"].as_array().unwrap() {
        let name = v["name"].as_str().unwrap();
        let kw = &v["kwargs"];
        let flag = |k: &str, d: bool| kw.get(k).map_or(d, |b| b.as_bool().unwrap());
        let config = BlackjackConfig {
            natural: flag("natural", false),
            sab: flag("sab", true),
        };
        let mut env = Blackjack::with_config(config);
        // The registry builds the same environment from the same kwargs.
        let mut made = tokengym_envs::make_with("Blackjack-v1", &make_options(kw)).unwrap();
        for ep in v["episodes"].as_array().unwrap() {
            let seed: u64 = ep["seed"].as_str().unwrap().parse().unwrap();
            let what = format!("{name} seed {seed}");
            let (obs, info) = env.reset(Some(seed)).unwrap();
            assert_eq!(tuple_obs(&obs), ints(&ep["reset_obs"]), "{what}");
            assert!(info.is_empty());
            let (made_obs, _) = made.reset(Some(seed)).unwrap();
            assert_eq!(made_obs, Value::Tuple(obs), "{what}: make");
            let hand = |h: &[u32]| h.iter().map(|&c| i64::from(c)).collect::<Vec<_>>();
            assert_eq!(hand(env.dealer()), ints(&ep["dealer"]), "{what}");
            assert_eq!(hand(env.player()), ints(&ep["player"]), "{what}");
            let (suit, value) = env.dealer_top_card();
            assert_eq!(
                [suit, value],
                [
                    ep["top_card"][0].as_str().unwrap(),
                    ep["top_card"][1].as_str().unwrap()
                ],
                "{what}"
            );
            for (t, st) in ep["steps"].as_array().unwrap().iter().enumerate() {
                let what = format!("{what} step {t}");
                let a = st["action"].as_i64().unwrap();
                let step = env.step(&a).unwrap();
                assert_eq!(tuple_obs(&step.obs), ints(&st["obs"]), "{what}");
                assert_eq!(step.reward, st["reward"].as_f64().unwrap(), "{what}");
                assert_eq!(
                    step.terminated,
                    st["terminated"].as_bool().unwrap(),
                    "{what}"
                );
                assert!(!step.truncated && step.info.is_empty());
                let made_step = made.step(&Value::Discrete(a)).unwrap();
                assert_eq!(made_step.reward, step.reward, "{what}: make");
            }
            assert_eq!(hand(env.dealer()), ints(&ep["final_dealer"]), "{what}");
            let (obs, _) = env.reset(None).unwrap();
            assert_eq!(
                tuple_obs(&obs),
                ints(&ep["next_reset_obs"]),
                "{what} next reset"
            );
        }
    }
    let mut env = Blackjack::new();
    assert!(matches!(env.step(&0), Err(Error::ResetNeeded)));
    env.reset(Some(0)).unwrap();
    assert!(env.step(&2).is_err());
}

#[test]
fn random_maps_match_gymnasium() {
    let data = fixture();
    let maps = data["random_maps"].as_array().unwrap();
    assert!(maps.len() >= 3);
    for m in maps {
        let (size, p, seed) = (
            m["size"].as_u64().unwrap() as usize,
            m["p"].as_f64().unwrap(),
            m["seed"].as_u64().unwrap(),
        );
        let got = generate_random_map(size, p, Some(seed)).unwrap();
        assert_eq!(got, str_list(&m["map"]), "size {size} p {p} seed {seed}");
        // The map is a valid FrozenLake desc.
        let env = FrozenLake::with_config(FrozenLakeConfig {
            desc: Some(got),
            ..FrozenLakeConfig::default()
        })
        .unwrap();
        assert_eq!(env.shape(), (size, size));
    }
    // Unseeded maps are valid too.
    assert_eq!(generate_random_map(6, 0.7, None).unwrap().len(), 6);
}

/// Value iteration on the `Mdp` view: optimal values of the start state.
fn value_iteration(mdp: &impl Mdp, gamma: f64) -> Vec<f64> {
    let mut v = vec![0.0; mdp.n_states()];
    for _ in 0..10_000 {
        let mut delta: f64 = 0.0;
        for s in 0..mdp.n_states() {
            let best = (0..mdp.n_actions())
                .map(|a| {
                    mdp.transitions(s, a)
                        .iter()
                        .map(|o| {
                            o.prob * (o.reward + if o.terminal { 0.0 } else { gamma * v[o.next] })
                        })
                        .sum::<f64>()
                })
                .fold(f64::NEG_INFINITY, f64::max);
            delta = delta.max((best - v[s]).abs());
            v[s] = best;
        }
        if delta < 1e-12 {
            break;
        }
    }
    v
}

#[test]
fn planners_work_on_the_mdp_view() {
    // Slippery 4x4 FrozenLake: the optimal undiscounted success probability is 0.8235 (14/17).
    let lake = FrozenLake::new();
    let v = value_iteration(&lake, 1.0);
    assert!(
        (v[lake.start_state()] - 14.0 / 17.0).abs() < 1e-6,
        "{}",
        v[0]
    );
    // Deterministic 4x4: the goal is reachable, so the value is 1.
    let lake = FrozenLake::with_config(FrozenLakeConfig {
        is_slippery: false,
        ..FrozenLakeConfig::default()
    })
    .unwrap();
    assert!((value_iteration(&lake, 1.0)[0] - 1.0).abs() < 1e-9);
    // CliffWalking: the shortest path along the cliff, 13 steps of -1.
    let cliff = CliffWalking::new();
    let v = value_iteration(&cliff, 1.0);
    assert_eq!(cliff.start_state(), 36);
    assert!((v[36] + 13.0).abs() < 1e-9, "{}", v[36]);
}

#[test]
fn bad_arguments_are_errors() {
    let lake = |desc: &[&str]| {
        FrozenLake::with_config(FrozenLakeConfig {
            desc: Some(desc.iter().map(|s| s.to_string()).collect()),
            ..FrozenLakeConfig::default()
        })
    };
    assert!(lake(&["SFF", "FG"]).is_err()); // ragged
    assert!(lake(&["FFF", "FFG"]).is_err()); // no start
    assert!(lake(&["SXF", "FFG"]).is_err()); // unknown tile
    assert!(lake(&[]).is_err());
    assert!(lake(&[""]).is_err());
    let named = |name: &str| {
        FrozenLake::with_config(FrozenLakeConfig {
            map_name: Some(name.into()),
            ..FrozenLakeConfig::default()
        })
    };
    assert!(named("5x5").unwrap_err().to_string().contains("5x5"));
    assert!(
        FrozenLake::with_config(FrozenLakeConfig {
            success_rate: 1.5,
            ..FrozenLakeConfig::default()
        })
        .is_err()
    );
    assert!(generate_random_map(1, 0.8, Some(0)).is_err());
    assert!(generate_random_map(4, 0.0, Some(0)).is_err());
    assert!(generate_random_map(4, f64::NAN, Some(0)).is_err());

    // Invalid actions, step and render before reset.
    let mut env = FrozenLake::new();
    assert!(matches!(env.step(&0), Err(Error::ResetNeeded)));
    assert!(env.render(RenderMode::Ansi).is_err());
    env.reset(Some(0)).unwrap();
    assert!(env.step(&4).is_err());
    assert!(env.step(&-1).is_err());
    assert!(env.render(RenderMode::RgbArray).is_err());
    let mut cliff = CliffWalking::new();
    assert!(cliff.step(&0).is_err());
    cliff.reset(Some(0)).unwrap();
    assert!(cliff.step(&4).is_err());

    // Through the registry: kwargs as strings, bad ones refused.
    let make = |opts: MakeOptions| tokengym_envs::make_with("FrozenLake-v1", &opts);
    assert!(make(MakeOptions::new().kwarg("map_name", "3x3")).is_err());
    assert!(make(MakeOptions::new().kwarg("reward_schedule", "1,0")).is_err());
    assert!(make(MakeOptions::new().kwarg("desc", "SFF,FHG,FF")).is_err());
    assert!(make(MakeOptions::new().kwarg("map_name", "random")).is_ok());
    let mut env = make(MakeOptions::new().kwarg("desc", "SF,HG")).unwrap();
    env.reset(Some(0)).unwrap();
    assert!(env.step(&Value::Discrete(7)).is_err());
}

#[test]
fn registry_ids() {
    let env = tokengym_envs::make("FrozenLake8x8-v1").unwrap();
    assert_eq!(env.observation_space().to_string(), "Discrete(64)");
    // Our course grid world keeps its id; Gymnasium's is v1 and the newest.
    assert!(tokengym_envs::make("CliffWalking-v0").is_ok());
    assert!(tokengym_envs::make("CliffWalking-v1").is_ok());
    assert!(tokengym_envs::make("CliffWalkingSlippery-v1").is_ok());
    assert!(tokengym_envs::make("Taxi-v4").is_ok());
    assert!(tokengym_envs::make("Blackjack-v1").is_ok());
}

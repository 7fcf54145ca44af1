//! Replays NumPy's seeded draws (`tests/fixtures/numpy_seeding/`, written by
//! `tests/fixtures/gen_numpy_seeding.py` with NumPy 2.x) bit for bit: `SeedSequence` state
//! words, raw `PCG64` outputs and interleaved streams of every `Generator` method we have.

use serde_json::Value as Json;
use tokengym::seeding::{Generator, Pcg64, SeedSequence, bounded_u8_fill};

fn fixture(name: &str) -> Json {
    let path = format!(
        "{}/tests/fixtures/numpy_seeding/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).expect("fixture is JSON")
}

fn big(v: &Json) -> u128 {
    v.as_str()
        .expect("decimal string")
        .parse()
        .expect("integer")
}

fn int(v: &Json) -> i64 {
    v.as_str().expect("decimal string").parse().expect("i64")
}

fn words(v: &Json) -> Vec<u32> {
    let words = v.as_array().expect("array of words");
    words
        .iter()
        .map(|w| w.as_u64().expect("u32") as u32)
        .collect()
}

fn float(v: &Json) -> f64 {
    v.as_f64().expect("float")
}

/// The fixture script's digest: sum((i + 1) * bits(x_i)) mod 2^64.
fn digest(xs: &[f64]) -> u64 {
    xs.iter().enumerate().fold(0u64, |acc, (i, x)| {
        acc.wrapping_add((i as u64 + 1).wrapping_mul(x.to_bits()))
    })
}

fn assert_same(got: f64, want: f64, what: &str) {
    assert_eq!(
        got.to_bits(),
        want.to_bits(),
        "{what}: got {got:e}, NumPy {want:e}"
    );
}

#[test]
fn seed_sequence_matches_numpy() {
    let data = fixture("seed_sequence");
    let cases = data["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for case in cases {
        let seed = big(&case["seed"]);
        let ss = SeedSequence::new(seed);
        assert_eq!(
            ss.pool().to_vec(),
            words(&case["pool"]),
            "pool of seed {seed}"
        );
        let u32s = words(&case["state_u32_10"]);
        assert_eq!(ss.generate_state(10), u32s, "u32 state of seed {seed}");
        let u64s: Vec<u64> = case["state_u64_4"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| big(w) as u64)
            .collect();
        assert_eq!(
            ss.generate_state_u64::<4>().to_vec(),
            u64s,
            "u64 state of seed {seed}"
        );
    }
}

#[test]
fn pcg64_random_raw_matches_numpy() {
    let data = fixture("generator");
    for case in data["random_raw"].as_array().unwrap() {
        let seed = big(&case["seed"]);
        let mut bg = Pcg64::new(seed);
        for (i, w) in case["raw"].as_array().unwrap().iter().enumerate() {
            assert_eq!(
                bg.next_uint64(),
                big(w) as u64,
                "raw word {i} of seed {seed}"
            );
        }
    }
}

/// Replays one interleaved stream of `Generator` calls.
fn replay(seed: u128, ops: &[Json]) {
    let mut g = Generator::new(seed);
    for (k, op) in ops.iter().enumerate() {
        let name = op["op"].as_str().unwrap();
        let args = op["args"].as_array().unwrap();
        let want = &op["value"];
        let what = format!("seed {seed}, call {k} ({name} {args:?})");
        match name {
            "random" => assert_same(g.random_f64(), float(want), &what),
            "uniform" => {
                let got = g.uniform(float(&args[0]), float(&args[1]));
                assert_same(got, float(want), &what);
            }
            "integers" => {
                let got = g
                    .integers(int(&args[0]), int(&args[1]))
                    .expect("low < high");
                assert_eq!(got, int(want), "{what}");
            }
            "standard_normal" => assert_same(g.standard_normal(), float(want), &what),
            "normal" => {
                let got = g.normal(float(&args[0]), float(&args[1]));
                assert_same(got, float(want), &what);
            }
            "standard_exponential" => assert_same(g.standard_exponential(), float(want), &what),
            "exponential" => assert_same(g.exponential(float(&args[0])), float(want), &what),
            "choice" => {
                let n = int(&args[0]) as usize;
                let items: Vec<usize> = (0..n).collect();
                assert_eq!(*g.choice(&items).unwrap() as i64, int(want), "{what}");
            }
            "int8_fill" => {
                let (low, high, n) = (int(&args[0]), int(&args[1]), int(&args[2]) as usize);
                let mut out = vec![0u8; n];
                bounded_u8_fill(&mut g, low as u8, (high - 1 - low) as u8, &mut out);
                let got: Vec<i64> = out.iter().map(|&b| i64::from(b as i8)).collect();
                let want: Vec<i64> = want
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_i64().unwrap())
                    .collect();
                assert_eq!(got, want, "{what}");
            }
            "standard_normal_many" | "standard_exponential_many" => {
                let n = int(&args[0]) as usize;
                let xs: Vec<f64> = (0..n)
                    .map(|_| {
                        if name == "standard_normal_many" {
                            g.standard_normal()
                        } else {
                            g.standard_exponential()
                        }
                    })
                    .collect();
                for (i, w) in want["first"].as_array().unwrap().iter().enumerate() {
                    assert_same(xs[i], float(w), &format!("{what} #{i}"));
                }
                assert_eq!(digest(&xs), big(&want["digest"]) as u64, "{what} digest");
            }
            other => panic!("unknown op {other}"),
        }
    }
}

#[test]
fn generator_streams_match_numpy() {
    let data = fixture("generator");
    let streams = data["streams"].as_array().unwrap();
    assert_eq!(streams.len(), 5);
    for s in streams {
        replay(big(&s["seed"]), s["ops"].as_array().unwrap());
    }
}

mod spaces {
    //! `space.seed(s)` then `space.sample()` as Gymnasium 1.4 does, for every kind of space.

    use super::{big, fixture};
    use serde_json::Value as Json;
    use std::collections::BTreeMap;
    use tokengym::space::{
        AnySpace, BoxSpace, DictSpace, Discrete, MultiBinary, MultiDiscrete, Space, TupleSpace,
        Value,
    };

    fn bound(v: &Json) -> f64 {
        match v.as_str() {
            Some("inf") => f64::INFINITY,
            Some("-inf") => f64::NEG_INFINITY,
            _ => v.as_f64().expect("bound"),
        }
    }

    fn ints<T: TryFrom<i64>>(v: &Json) -> Vec<T> {
        let items = v.as_array().expect("array");
        let to = |x: &Json| {
            T::try_from(x.as_i64().expect("integer"))
                .ok()
                .expect("fits")
        };
        items.iter().map(to).collect()
    }

    fn shape(v: &Json) -> Vec<usize> {
        ints(v)
    }

    /// Our space for the fixture's description of a Gymnasium space.
    fn build(d: &Json) -> AnySpace {
        match d["kind"].as_str().unwrap() {
            "discrete" => {
                let n = d["n"].as_u64().unwrap();
                AnySpace::Discrete(Discrete::with_start(n, d["start"].as_i64().unwrap()).unwrap())
            }
            "box" => {
                let low: Vec<f64> = d["low"].as_array().unwrap().iter().map(bound).collect();
                let high: Vec<f64> = d["high"].as_array().unwrap().iter().map(bound).collect();
                let shape = shape(&d["shape"]);
                match d["dtype"].as_str().unwrap() {
                    "float32" => {
                        let narrow = |v: &[f64]| v.iter().map(|&x| x as f32).collect();
                        AnySpace::BoxF32(BoxSpace::new(narrow(&low), narrow(&high), shape).unwrap())
                    }
                    "float64" => AnySpace::BoxF64(BoxSpace::new(low, high, shape).unwrap()),
                    other => panic!("dtype {other}"),
                }
            }
            "multi_discrete" => AnySpace::MultiDiscrete(
                MultiDiscrete::with_start(ints(&d["nvec"]), ints(&d["start"])).unwrap(),
            ),
            "multi_binary" => {
                AnySpace::MultiBinary(MultiBinary::with_shape(shape(&d["shape"])).unwrap())
            }
            "tuple" => {
                let spaces = d["spaces"].as_array().unwrap().iter().map(build).collect();
                AnySpace::Tuple(TupleSpace::new(spaces).unwrap())
            }
            "dict" => {
                let spaces: BTreeMap<String, AnySpace> = d["spaces"]
                    .as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.clone(), build(v)))
                    .collect();
                AnySpace::Dict(DictSpace::new(spaces).unwrap())
            }
            other => panic!("space kind {other}"),
        }
    }

    /// Whether `got` is exactly the fixture's value `want` (floats bit for bit).
    fn same(got: &Value, want: &Json) -> bool {
        let floats = |xs: Vec<f64>| {
            let w = want.as_array().unwrap();
            xs.len() == w.len()
                && xs
                    .iter()
                    .zip(w)
                    .all(|(x, y)| x.to_bits() == y.as_f64().unwrap().to_bits())
        };
        match got {
            Value::Discrete(x) => want.as_i64() == Some(*x),
            Value::BoxF32(xs) => floats(xs.iter().map(|&x| f64::from(x)).collect()),
            Value::BoxF64(xs) => floats(xs.clone()),
            Value::MultiDiscrete(xs) => ints::<i64>(want) == *xs,
            Value::MultiBinary(xs) => ints::<u8>(want) == *xs,
            Value::Tuple(vs) => {
                let w = want.as_array().unwrap();
                vs.len() == w.len() && vs.iter().zip(w).all(|(v, w)| same(v, w))
            }
            Value::Dict(m) => {
                let w = want.as_object().unwrap();
                m.len() == w.len() && m.iter().all(|(k, v)| w.get(k).is_some_and(|w| same(v, w)))
            }
            Value::Tokens(_) => false,
        }
    }

    fn flat_seeds(v: &Json) -> Vec<u64> {
        match v {
            Json::Array(items) => items.iter().flat_map(flat_seeds).collect(),
            Json::Object(map) => map.values().flat_map(flat_seeds).collect(),
            other => vec![big(other) as u64],
        }
    }

    #[test]
    fn seeded_samples_match_gymnasium() {
        let data = fixture("spaces");
        let cases = data["cases"].as_array().unwrap();
        assert!(cases.len() >= 100);
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let space = build(&case["space"]);
            let seed = big(&case["seed"]) as u64;
            let mut rng = space.seed(seed);
            assert_eq!(
                rng.seeds(),
                flat_seeds(&case["seed_returns"]),
                "{name} seeds"
            );
            let mask: Option<Vec<bool>> = case["mask"]
                .as_array()
                .map(|m| m.iter().map(|x| x.as_i64() == Some(1)).collect());
            for (i, want) in case["samples"].as_array().unwrap().iter().enumerate() {
                let got = match (&mask, &space) {
                    (Some(m), AnySpace::Discrete(d)) => {
                        Value::Discrete(d.sample_masked(rng.rng(), m).unwrap())
                    }
                    _ => space.sample_seeded(&mut rng),
                };
                assert!(
                    same(&got, want),
                    "{name} seed {seed} sample {i}: {got:?} vs {want}"
                );
                assert!(space.contains(&got), "{name}: {got:?} outside the space");
            }
        }
    }

    #[test]
    fn simple_spaces_sample_the_same_with_a_seeded_env_rng() {
        // For a simple space, sample(&mut rng_from_seed(s)) is space.seed(s); space.sample().
        let space = Discrete::with_start(9, -4).unwrap();
        let mut a = tokengym::seeding::rng_from_seed(Some(5));
        let mut b = space.seed(5);
        for _ in 0..20 {
            assert_eq!(space.sample(&mut a), space.sample_seeded(&mut b));
        }
    }
}

mod properties {
    //! Properties for arbitrary seeds and bounds (the fixed vectors above pin the values).

    use proptest::prelude::*;
    use rand::SeedableRng;
    use tokengym::EnvRng;
    use tokengym::seeding::{Generator, SeedSequence, bounded_u64, integers, rng_from_seed};

    proptest! {
        #[test]
        fn every_seeding_path_builds_numpys_generator(seed in any::<u64>()) {
            let want = Generator::new(u128::from(seed));
            prop_assert_eq!(&EnvRng::seed_from_u64(seed), &want);
            prop_assert_eq!(&rng_from_seed(Some(seed)), &want);
            let mut bytes = [0u8; 32];
            bytes[..8].copy_from_slice(&seed.to_le_bytes());
            prop_assert_eq!(&EnvRng::from_seed(bytes), &want);
        }

        #[test]
        fn state_words_are_prefixes_of_longer_requests(seed in any::<u128>(), n in 0usize..40) {
            let ss = SeedSequence::new(seed);
            let long = ss.generate_state(40);
            prop_assert_eq!(&ss.generate_state(n)[..], &long[..n]);
        }

        #[test]
        fn integers_stay_in_range(seed in any::<u64>(), a in any::<i64>(), b in any::<i64>()) {
            let mut g = Generator::new(u128::from(seed));
            let (low, high) = (a.min(b), a.max(b));
            if low == high {
                prop_assert!(integers(&mut g, low, high).is_err());
            } else {
                for _ in 0..8 {
                    let x = integers(&mut g, low, high).unwrap();
                    prop_assert!(low <= x && x < high);
                }
            }
        }

        #[test]
        fn bounded_draws_stay_in_range(seed in any::<u64>(), shift in 0u32..64, raw in any::<u64>()) {
            let mut g = Generator::new(u128::from(seed));
            // Ranges of every width, including the 2^32 - 1 and 2^64 - 1 special cases.
            for range in [raw >> shift, u64::from(u32::MAX), u64::MAX, 0, 1] {
                prop_assert!(bounded_u64(&mut g, range) <= range);
            }
        }

        #[test]
        fn normals_and_exponentials_are_finite(seed in any::<u64>()) {
            let mut g = Generator::new(u128::from(seed));
            for _ in 0..200 {
                prop_assert!(g.standard_normal().is_finite());
                let e = g.standard_exponential();
                prop_assert!(e.is_finite() && e >= 0.0);
                let u = g.random_f64();
                prop_assert!((0.0..1.0).contains(&u));
            }
        }
    }
}

//! Property tests for spaces: sampling stays inside, flattening has `flatdim` entries, values and
//! spaces survive serde and type erasure, and inconsistent parameters are rejected.

use proptest::prelude::*;
use rand::SeedableRng;
use tokengym::EnvRng;
use tokengym::space::{
    AnySpace, BoxSpace, DictSpace, Discrete, MultiBinary, MultiDiscrete, Space, TokenSeq,
    TupleSpace, Value,
};

/// Checks every law a space must satisfy, on `samples` seeded samples.
fn check_laws<S: Space + serde::Serialize + serde::de::DeserializeOwned + PartialEq>(
    space: &S,
    seed: u64,
) {
    let mut rng = EnvRng::seed_from_u64(seed);
    let mut rng2 = EnvRng::seed_from_u64(seed);
    for _ in 0..8 {
        let v = space.sample(&mut rng);
        assert!(
            space.contains(&v),
            "{space:?} does not contain its sample {v:?}"
        );
        // Seeded sampling is reproducible.
        assert_eq!(v, space.sample(&mut rng2));
        let flat = space.flatten(&v).expect("flatten a member");
        assert_eq!(flat.len(), space.flatdim());
        // Type erasure round trip.
        let erased = space.to_value(&v);
        assert_eq!(space.from_value(&erased).expect("from_value"), v);
        let any = space.to_any();
        assert!(any.contains(&erased));
        assert_eq!(any.flatten(&erased).expect("flatten erased"), flat);
        // Values survive serde.
        let json = serde_json::to_string(&erased).expect("serialize value");
        assert_eq!(
            serde_json::from_str::<Value>(&json).expect("parse value"),
            erased
        );
    }
    // Spaces survive serde, both typed and erased.
    let json = serde_json::to_string(space).expect("serialize space");
    assert_eq!(
        &serde_json::from_str::<S>(&json).expect("parse space"),
        space
    );
    let any = space.to_any();
    let json = serde_json::to_string(&any).expect("serialize any");
    assert_eq!(
        serde_json::from_str::<AnySpace>(&json).expect("parse any"),
        any
    );
}

fn bound() -> impl Strategy<Value = f32> {
    prop_oneof![
        4 => -1e6f32..1e6f32,
        1 => Just(f32::INFINITY),
        1 => Just(f32::NEG_INFINITY),
        1 => Just(f32::MAX),
    ]
}

prop_compose! {
    fn box_f32()(pairs in prop::collection::vec((bound(), bound()), 1..6)) -> BoxSpace<f32> {
        let (mut low, mut high) = (Vec::new(), Vec::new());
        for (a, b) in pairs {
            // Order the pair; a pair of equal infinities has no finite member, so fix it up.
            let (mut l, mut h) = if a <= b { (a, b) } else { (b, a) };
            if l == f32::INFINITY { l = 0.0; }
            if h == f32::NEG_INFINITY { h = 0.0; }
            if l > h { std::mem::swap(&mut l, &mut h); }
            low.push(l);
            high.push(h);
        }
        BoxSpace::from_bounds(low, high).expect("ordered bounds are valid")
    }
}

proptest! {
    #[test]
    fn discrete_laws(n in 1u64..1000, start in -1000i64..1000, seed: u64) {
        check_laws(&Discrete::with_start(n, start).unwrap(), seed);
    }

    #[test]
    fn box_f32_laws(space in box_f32(), seed: u64) {
        check_laws(&space, seed);
    }

    #[test]
    fn box_f64_laws(lo in -1e9f64..1e9, width in 0.0f64..1e9, len in 1usize..5, seed: u64) {
        let space = BoxSpace::<f64>::uniform(lo, lo + width, vec![len]).unwrap();
        check_laws(&space, seed);
    }

    #[test]
    fn fixed_array_box_laws(lo in -10f32..0.0, hi in 0f32..10.0, seed: u64) {
        let space = BoxSpace::<f32, [f32; 3]>::uniform(lo, hi, vec![3]).unwrap();
        check_laws(&space, seed);
    }

    #[test]
    fn multi_discrete_laws(nvec in prop::collection::vec(1u64..20, 1..6), seed: u64) {
        check_laws(&MultiDiscrete::new(nvec).unwrap(), seed);
    }

    #[test]
    fn multi_binary_laws(shape in prop::collection::vec(1usize..4, 1..3), seed: u64) {
        check_laws(&MultiBinary::with_shape(shape).unwrap(), seed);
    }

    #[test]
    fn token_seq_laws(vocab in 1u32..50_000, max_len in 1usize..64, seed: u64) {
        check_laws(&TokenSeq::new(vocab, max_len).unwrap(), seed);
    }

    #[test]
    fn composite_laws(n in 1u64..10, space in box_f32(), seed: u64) {
        let tuple = TupleSpace::new(vec![Discrete::new(n).unwrap().to_any(), space.to_any()]).unwrap();
        check_laws(&tuple, seed);
        let dict = DictSpace::new(
            [("a".to_string(), tuple.to_any()), ("b".to_string(), MultiBinary::new(3).unwrap().to_any())]
                .into_iter()
                .collect(),
        )
        .unwrap();
        check_laws(&dict, seed);
    }

    #[test]
    fn masked_sampling_respects_mask(mask in prop::collection::vec(any::<bool>(), 1..20), seed: u64) {
        let space = Discrete::with_start(mask.len() as u64, 5).unwrap();
        let mut rng = EnvRng::seed_from_u64(seed);
        for _ in 0..16 {
            let a = space.sample_masked(&mut rng, &mask).unwrap();
            if mask.iter().any(|&m| m) {
                prop_assert!(mask[(a - 5) as usize]);
            } else {
                prop_assert_eq!(a, 5);
            }
        }
    }

    #[test]
    fn box_rejects_out_of_bounds(space in box_f32(), i in 0usize..6, seed: u64) {
        let mut rng = EnvRng::seed_from_u64(seed);
        let mut v = space.sample(&mut rng);
        let i = i % v.len();
        v[i] = f32::NAN;
        prop_assert!(!space.contains(&v));
        let mut short = space.sample(&mut rng);
        short.pop();
        prop_assert!(!space.contains(&short));
    }
}

#[test]
fn inconsistent_parameters_are_errors() {
    assert!(Discrete::new(0).is_err());
    assert!(Discrete::with_start(u64::MAX, 0).is_err());
    assert!(BoxSpace::<f32>::from_bounds(vec![1.0], vec![0.0]).is_err());
    assert!(BoxSpace::<f32>::from_bounds(vec![f32::NAN], vec![0.0]).is_err());
    assert!(BoxSpace::<f32>::from_bounds(vec![f32::INFINITY], vec![f32::INFINITY]).is_err());
    assert!(BoxSpace::<f32>::new(vec![0.0; 3], vec![1.0; 3], vec![2, 2]).is_err());
    assert!(BoxSpace::<f32, [f32; 4]>::uniform(0.0, 1.0, vec![3]).is_err());
    assert!(MultiDiscrete::new(vec![3, 0]).is_err());
    assert!(MultiDiscrete::with_start(vec![3], vec![0, 1]).is_err());
    assert!(MultiBinary::new(0).is_err());
    assert!(TokenSeq::new(0, 4).is_err());
    assert!(TupleSpace::new(vec![]).is_err());
    assert!(DictSpace::new(Default::default()).is_err());
}

#[test]
fn malformed_serialized_spaces_are_errors() {
    let bad = [
        r#"{"type":"discrete","n":0}"#,
        r#"{"type":"box_f32","low":[1.0],"high":[0.0],"shape":[1],"dtype":"float32"}"#,
        r#"{"type":"box_f32","low":[0.0],"high":[1.0],"shape":[2],"dtype":"float32"}"#,
        r#"{"type":"box_f32","low":[0.0],"high":[1.0],"shape":[1],"dtype":"float64"}"#,
        r#"{"type":"box_f32","low":["minus"],"high":[1.0],"shape":[1],"dtype":"float32"}"#,
        r#"{"type":"multi_discrete","nvec":[2,0]}"#,
        r#"{"type":"token_seq","vocab_size":5,"max_len":0}"#,
        r#"{"type":"warp_drive"}"#,
    ];
    for json in bad {
        assert!(
            serde_json::from_str::<AnySpace>(json).is_err(),
            "accepted {json}"
        );
    }
    // Infinite bounds survive JSON as strings.
    let space = BoxSpace::<f32>::from_bounds(vec![f32::NEG_INFINITY], vec![f32::INFINITY]).unwrap();
    let json = serde_json::to_string(&space).unwrap();
    assert!(json.contains("\"-inf\"") && json.contains("\"inf\""));
    assert_eq!(serde_json::from_str::<BoxSpace<f32>>(&json).unwrap(), space);
}

#[test]
fn flatten_follows_gymnasium_encoding() {
    let d = Discrete::with_start(3, -1).unwrap();
    assert_eq!(d.flatten(&0).unwrap(), vec![0.0, 1.0, 0.0]);
    assert!(d.flatten(&2).is_err());
    let md = MultiDiscrete::new(vec![2, 3]).unwrap();
    assert_eq!(
        md.flatten(&vec![1, 2]).unwrap(),
        vec![0.0, 1.0, 0.0, 0.0, 1.0]
    );
    let b = BoxSpace::<f64>::uniform(-1.0, 1.0, vec![2, 2]).unwrap();
    assert_eq!(
        b.flatten(&vec![0.5, -0.5, 1.0, 0.0]).unwrap(),
        vec![0.5, -0.5, 1.0, 0.0]
    );
    let mut out = [0.0f32; 3];
    assert!(
        b.flatten_into(&vec![0.0; 4], &mut out).is_err(),
        "wrong output length"
    );
}

#[test]
fn box_sampling_is_within_half_bounded_and_unbounded_bounds() {
    let space = BoxSpace::<f64>::from_bounds(
        vec![0.0, f64::NEG_INFINITY, f64::NEG_INFINITY],
        vec![f64::INFINITY, 0.0, f64::INFINITY],
    )
    .unwrap();
    let mut rng = EnvRng::seed_from_u64(3);
    let n = 4000;
    let mut sums = [0.0; 3];
    for _ in 0..n {
        let v = space.sample(&mut rng);
        assert!(v[0] >= 0.0 && v[1] <= 0.0 && v[2].is_finite());
        for (s, x) in sums.iter_mut().zip(&v) {
            *s += x;
        }
    }
    // Exponential(1) has mean 1, the standard normal mean 0.
    assert!((sums[0] / n as f64 - 1.0).abs() < 0.1);
    assert!((sums[1] / n as f64 + 1.0).abs() < 0.1);
    assert!((sums[2] / n as f64).abs() < 0.1);
}

#[test]
fn sizes_that_overflow_are_errors_not_panics() {
    let huge = 1usize << 63;
    assert!(BoxSpace::<f32>::uniform(0.0, 1.0, vec![huge, 2]).is_err());
    assert!(BoxSpace::<f32>::new(vec![], vec![], vec![huge, 2]).is_err());
    assert!(MultiBinary::with_shape(vec![huge, 2]).is_err());
    assert!(MultiDiscrete::new(vec![1 << 63, 1 << 63]).is_err());
    let json = r#"{"low":[],"high":[],"shape":[9223372036854775808,2],"dtype":"float32"}"#;
    assert!(serde_json::from_str::<BoxSpace<f32>>(json).is_err());
    // Membership arithmetic near the ends of i64 does not overflow.
    let md = MultiDiscrete::with_start(vec![1], vec![i64::MIN]).unwrap();
    assert!(!md.contains(&vec![i64::MAX]));
    assert!(md.contains(&vec![i64::MIN]));
}

#[test]
fn boxes_with_the_widest_finite_bounds_sample_inside_and_spread() {
    let space = BoxSpace::<f64>::uniform(-f64::MAX, f64::MAX, vec![1]).unwrap();
    let mut rng = EnvRng::seed_from_u64(0);
    let samples: Vec<f64> = (0..100).map(|_| space.sample(&mut rng)[0]).collect();
    assert!(samples.iter().all(|x| x.is_finite()));
    assert!(samples.iter().any(|&x| x < 0.0) && samples.iter().any(|&x| x > 0.0));
}

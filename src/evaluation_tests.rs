use super::*;

fn one_to(n: usize) -> Vec<f64> {
    (1..=n).map(|i| i as f64).collect()
}

#[test]
fn hand_computed_statistics() {
    let xs = one_to(8);
    assert_eq!(mean(&xs), Some(4.5));
    assert_eq!(median(&xs), Some(4.5)); // (4 + 5) / 2
    assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    assert_eq!(median(&[10.0, -2.0]), Some(4.0));
    // IQM of 1..8: drop 1, 2 and 7, 8; mean of 3, 4, 5, 6.
    assert_eq!(iqm(&xs), Some(4.5));
    assert_eq!(
        iqm(&[100.0, 1.0, 2.0, 3.0, -50.0, 4.0, 5.0, 6.0]),
        Some(3.5)
    );
    // n = 10: floor(10 / 4) = 2 cut at each end -> mean of 3..8.
    assert_eq!(iqm(&one_to(10)), Some(5.5));
    assert_eq!(iqm(&[7.0]), Some(7.0));
    // Population std of 1..8: sqrt(5.25).
    assert!((std_dev(&xs).unwrap() - 5.25f64.sqrt()).abs() < 1e-12);
    assert_eq!(cumulative(&[1.0, -2.0, 4.0]), vec![1.0, -1.0, 3.0]);
    assert_eq!(quantile_sorted(&[0.0, 10.0], 0.25), Some(2.5));
    for f in [mean, median, std_dev, iqm] {
        assert_eq!(f(&[]), None);
    }
}

#[test]
fn bootstrap_interval_contains_the_iqm_and_repeats_for_a_seed() {
    let runs = vec![
        vec![-13.0, -15.0, -13.0, -113.0, -17.0, -13.0],
        vec![-19.0, -21.0, -17.0, -17.0, -15.0, -25.0],
    ];
    let b = Bootstrap {
        resamples: 500,
        confidence: 0.9,
        seed: 4,
    };
    let s = ReturnStats::from_runs(&runs, &b).unwrap();
    assert_eq!((s.runs, s.episodes), (2, 12));
    assert!(s.iqm_ci_low <= s.iqm && s.iqm <= s.iqm_ci_high, "{s:?}");
    assert!(s.iqm_ci_low < s.iqm_ci_high);
    assert_eq!(s, ReturnStats::from_runs(&runs, &b).unwrap());
    let other = ReturnStats::from_runs(&runs, &Bootstrap { seed: 5, ..b }).unwrap();
    assert_ne!(
        (s.iqm_ci_low, s.iqm_ci_high),
        (other.iqm_ci_low, other.iqm_ci_high)
    );
    assert_eq!(s.total, runs.iter().flatten().sum::<f64>());
    assert_eq!((s.min, s.max), (-113.0, -13.0));
    // Sorted: -113 -25 -21 -19 -17 -17 -17 -15 -15 -13 -13 -13; position 0.25 * 11 = 2.75.
    assert!((s.q25 - (-21.0 + 0.75 * 2.0)).abs() < 1e-12);
    assert!((s.q75 - (-15.0 + 0.25 * 2.0)).abs() < 1e-12); // position 8.25: -15 .. -13
    // A constant sample has a zero-width interval.
    let c = ReturnStats::from_returns(&[2.0; 5], &b).unwrap();
    assert_eq!(
        (c.iqm_ci_low, c.iqm, c.iqm_ci_high, c.std),
        (2.0, 2.0, 2.0, 0.0)
    );
}

#[test]
fn bad_inputs_are_errors() {
    let b = Bootstrap::default();
    assert!(ReturnStats::from_runs(&[], &b).is_err());
    assert!(ReturnStats::from_runs(&[vec![]], &b).is_err());
    assert!(ReturnStats::from_returns(&[1.0, f64::NAN], &b).is_err());
    assert!(ReturnStats::from_returns(&[1.0], &Bootstrap { resamples: 0, ..b }).is_err());
    assert!(
        ReturnStats::from_returns(
            &[1.0],
            &Bootstrap {
                confidence: 1.0,
                ..b
            }
        )
        .is_err()
    );
}

#[test]
fn comparison_normalizes_between_random_and_optimum() {
    let b = Bootstrap {
        resamples: 50,
        ..Default::default()
    };
    let cmp = Comparison::new()
        .with(
            "good",
            ReturnStats::from_returns(&[-20.0, -20.0], &b).unwrap(),
        )
        .with(
            "random",
            ReturnStats::from_returns(&[-100.0, -120.0], &b).unwrap(),
        )
        .random_baseline("random")
        .optimum(-10.0);
    let good = cmp.get("good").unwrap();
    // (-20 - -110) / (-10 - -110) = 0.9
    assert!((cmp.normalized_score(good).unwrap() - 0.9).abs() < 1e-12);
    let md = cmp.to_markdown();
    assert!(md.contains("| good | 1 x 2 | -20.00 | -20.00 | 0.00 | -20.00 | [-20.00, -20.00] | -20.00 | -20.00 | -10.00 | 0.90 |"), "{md}");
    assert!(md.contains("| random |") && md.contains("| optimum (planner) |"));
    assert_eq!(
        Comparison::new()
            .with("x", good.clone())
            .normalized_score(good),
        None
    );
}

//! Unit tests of [`Decoder`](super::Decoder): shapes, causality, padding, the KV-cache property, loss,
//! dropout and input errors.

use tch::nn::VarStore;

use super::*;

fn small(position: PositionEncoding, tied: bool) -> DecoderConfig {
    DecoderConfig {
        vocab_size: 50,
        context_len: 24,
        d_model: 32,
        n_layers: 2,
        n_heads: 4,
        position,
        tie_embeddings: tied,
        ..DecoderConfig::tiny(50)
    }
}

fn model(position: PositionEncoding, tied: bool) -> (VarStore, Decoder) {
    let vs = VarStore::new(Device::Cpu);
    let m = Decoder::new(&vs.root(), small(position, tied)).unwrap();
    (vs, m)
}

fn both() -> [(VarStore, Decoder); 2] {
    [
        model(PositionEncoding::Rope, true),
        model(PositionEncoding::Learned, false),
    ]
}

fn tokens(rows: &[&[i64]]) -> Tensor {
    let t = rows[0].len() as i64;
    Tensor::from_slice(&rows.concat()).reshape([rows.len() as i64, t])
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

#[test]
fn shapes_and_variable_names() {
    let (vs, m) = model(PositionEncoding::Learned, false);
    let x = tokens(&[&[1, 2, 3, 4, 5], &[6, 7, 8, 9, 10]]);
    assert_eq!(m.logits(&x, None).unwrap().size(), [2, 5, 50]);
    let names = vs.variables();
    for n in [
        "transformer.wte.weight",
        "transformer.wpe.weight",
        "transformer.h.1.ln_1.bias",
        "transformer.h.1.attn.c_attn.weight",
        "transformer.h.0.mlp.c_proj.weight",
        "transformer.ln_f.weight",
        "lm_head.weight",
    ] {
        assert!(names.contains_key(n), "{n} missing");
    }
    assert_eq!(names["transformer.h.0.attn.c_attn.weight"].size(), [32, 96]);
    assert_eq!(names["transformer.h.0.mlp.c_fc.weight"].size(), [32, 128]);
    let (vs, _) = model(PositionEncoding::Rope, true);
    let names = vs.variables();
    assert!(!names.contains_key("transformer.wpe.weight"));
    assert!(!names.contains_key("lm_head.weight"));
    let vs = VarStore::new(Device::Cpu);
    let no_bias = DecoderConfig {
        bias: false,
        ..small(PositionEncoding::Rope, true)
    };
    Decoder::new(&vs.root(), no_bias).unwrap();
    assert!(vs.variables().keys().all(|n| !n.ends_with("bias")));
}

#[test]
fn changing_a_future_token_keeps_earlier_logits() {
    for (_vs, m) in both() {
        let a = m.logits(&tokens(&[&[1, 2, 3, 4, 5, 6]]), None).unwrap();
        let b = m.logits(&tokens(&[&[1, 2, 3, 4, 49, 6]]), None).unwrap();
        assert!(max_diff(&a.narrow(1, 0, 4), &b.narrow(1, 0, 4)) < 1e-6);
        assert!(max_diff(&a.narrow(1, 4, 2), &b.narrow(1, 4, 2)) > 1e-4);
    }
}

#[test]
fn padded_row_matches_unpadded_row() {
    for (_vs, m) in both() {
        let alone = m.logits(&tokens(&[&[7, 8, 9]]), None).unwrap();
        let batch = tokens(&[&[0, 0, 0, 7, 8, 9], &[1, 2, 3, 4, 5, 6]]);
        let mask = tokens(&[&[0, 0, 0, 1, 1, 1], &[1, 1, 1, 1, 1, 1]]);
        let padded = m.logits(&batch, Some(&mask)).unwrap();
        let row = padded.get(0).narrow(0, 3, 3).unsqueeze(0);
        assert!(max_diff(&row, &alone) < 1e-5);
        assert!(bool::try_from(padded.isfinite().all()).unwrap());
        // Any nonzero mask value marks a real token, whatever the dtype.
        for kind in [Kind::Bool, Kind::Float] {
            let other = m.logits(&batch, Some(&mask.to_kind(kind))).unwrap();
            assert!(other.equal(&padded), "{kind:?} mask");
        }
        // The full row is unaffected by its padded neighbour.
        let full = m.logits(&tokens(&[&[1, 2, 3, 4, 5, 6]]), None).unwrap();
        assert!(max_diff(&padded.get(1), &full.get(0)) < 1e-5);
    }
}

/// Feeds `x` in chunks of the given sizes through the cache and compares every chunk with
/// the full forward pass.
fn check_cache(m: &Decoder, x: &Tensor, mask: Option<&Tensor>, chunks: &[i64]) {
    let full = m.logits(x, mask).unwrap();
    let mut cache = m.empty_cache(x.size()[0]).unwrap();
    let mut start = 0;
    for &len in chunks {
        let m_now = mask.map(|mk| mk.narrow(1, 0, start + len));
        let got = m
            .logits_cached(&x.narrow(1, start, len), m_now.as_ref(), &mut cache)
            .unwrap();
        let want = full.narrow(1, start, len);
        let real = match mask {
            Some(mk) => mk.narrow(1, start, len).ne(0).unsqueeze(-1).expand_as(&got),
            None => got.ones_like().to_kind(Kind::Bool),
        };
        let diff = (&got - &want).abs().masked_select(&real).max();
        assert!(diff.double_value(&[]) < 1e-5, "chunk at {start}");
        start += len;
        assert_eq!(cache.len(), start);
    }
}

#[test]
fn cached_logits_equal_full_logits() {
    let x = tokens(&[
        &[
            0, 0, 0, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27,
        ],
        &[
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
        ],
    ]);
    let mask = x.ne(0).to_kind(Kind::Int64);
    for (_vs, m) in both() {
        // Crossing the first cache growth (16 positions) with one-token steps.
        check_cache(&m, &x, None, &[5, 1, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
        check_cache(&m, &x, Some(&mask), &[4, 1, 1, 2, 1, 4, 7]);
        check_cache(&m, &x, Some(&mask), &[1; 20]);
    }
}

#[test]
fn cache_reorder_keeps_rows_consistent() {
    let (_vs, m) = model(PositionEncoding::Rope, true);
    let x = tokens(&[&[1, 2, 3, 4, 5], &[6, 7, 8, 9, 10]]);
    let mut cache = m.empty_cache(2).unwrap();
    let _ = m
        .logits_cached(&x.narrow(1, 0, 4), None, &mut cache)
        .unwrap();
    cache.reorder(&Tensor::from_slice(&[1i64, 1, 0])).unwrap();
    let next = Tensor::from_slice(&[10i64, 10, 5]).reshape([3, 1]);
    let got = m.logits_cached(&next, None, &mut cache).unwrap();
    let full = m.logits(&x, None).unwrap().select(1, 4);
    assert!(max_diff(&got.get(0).get(0), &full.get(1)) < 1e-5);
    assert!(max_diff(&got.get(1).get(0), &full.get(1)) < 1e-5);
    assert!(max_diff(&got.get(2).get(0), &full.get(0)) < 1e-5);
}

#[test]
fn bad_inputs_are_errors() {
    let (_vs, m) = model(PositionEncoding::Learned, true);
    let long = Tensor::ones([1, 25], (Kind::Int64, Device::Cpu));
    assert!(
        m.logits(&long, None)
            .unwrap_err()
            .to_string()
            .contains("context")
    );
    let big = tokens(&[&[1, 50]]);
    assert!(
        m.logits(&big, None)
            .unwrap_err()
            .to_string()
            .contains("[0, 50)")
    );
    assert!(m.logits(&tokens(&[&[-1, 2]]), None).is_err());
    let x = tokens(&[&[1, 2, 3]]);
    let bad_mask = Tensor::ones([1, 4], (Kind::Int64, Device::Cpu));
    assert!(matches!(
        m.logits(&x, Some(&bad_mask)),
        Err(Error::Shape(_))
    ));
    assert!(m.logits(&x.to_kind(Kind::Float), None).is_err());
    assert!(m.logits(&x.reshape([3]), None).is_err());
    assert!(
        m.logits(&Tensor::zeros([1, 0], (Kind::Int64, Device::Cpu)), None)
            .is_err()
    );
    let mut cache = m.empty_cache(2).unwrap();
    assert!(m.logits_cached(&x, None, &mut cache).is_err()); // batch 1 vs cache 2
    let mut cache = m.empty_cache(1).unwrap();
    let long = Tensor::ones([1, 20], (Kind::Int64, Device::Cpu));
    let _ = m.logits_cached(&long, None, &mut cache).unwrap();
    let err = m.logits_cached(&tokens(&[&[1, 2, 3, 4, 5]]), None, &mut cache);
    assert!(err.is_err());
    assert_eq!(cache.len(), 20, "a rejected call must not change the cache");
    // The cache mask must cover cached + new positions.
    let short = Tensor::ones([1, 1], (Kind::Int64, Device::Cpu));
    assert!(
        m.logits_cached(&tokens(&[&[1]]), Some(&short), &mut cache)
            .is_err()
    );
}

#[test]
fn loss_is_mean_cross_entropy_over_real_targets() {
    let (_vs, m) = model(PositionEncoding::Rope, true);
    let x = tokens(&[&[0, 0, 5, 6, 7], &[1, 2, 3, 4, 5]]);
    let mask = tokens(&[&[0, 0, 1, 1, 1], &[1, 1, 1, 1, 1]]);
    let y = tokens(&[&[3, 3, 6, 7, -100], &[2, 3, 4, 5, 6]]);
    let loss = m.loss(&x, &y, Some(&mask), false).unwrap();
    // Reference: log-softmax picked at the 7 counted positions.
    let logp = m
        .logits(&x, Some(&mask))
        .unwrap()
        .log_softmax(-1, Kind::Float);
    let picks = [
        (0, 2, 6),
        (0, 3, 7),
        (1, 0, 2),
        (1, 1, 3),
        (1, 2, 4),
        (1, 3, 5),
        (1, 4, 6),
    ];
    let want = -picks
        .iter()
        .map(|&(b, t, v)| logp.double_value(&[b, t, v]))
        .sum::<f64>()
        / picks.len() as f64;
    assert!((loss.double_value(&[]) - want).abs() < 1e-5);
    loss.backward();
    assert!(m.wte.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0);
    let all_ignored = Tensor::full([2, 5], IGNORE_INDEX, (Kind::Int64, Device::Cpu));
    let zero = m.loss(&x, &all_ignored, None, false).unwrap();
    assert_eq!(zero.double_value(&[]), 0.0);
    assert!(
        m.loss(
            &x,
            &tokens(&[&[50, 1, 1, 1, 1], &[1, 1, 1, 1, 1]]),
            None,
            false
        )
        .is_err()
    );
    assert!(m.loss(&x, &x.narrow(1, 0, 4), None, false).is_err());
}

#[test]
fn dropout_only_in_training_mode() {
    let vs = VarStore::new(Device::Cpu);
    let cfg = DecoderConfig {
        dropout: 0.3,
        ..small(PositionEncoding::Rope, true)
    };
    let m = Decoder::new(&vs.root(), cfg).unwrap();
    let x = tokens(&[&[1, 2, 3, 4]]);
    let eval_a = m.forward_t(&x, None, None, false).unwrap();
    let eval_b = m.logits(&x, None).unwrap();
    assert!(eval_a.equal(&eval_b));
    let train = m.forward_t(&x, None, None, true).unwrap();
    assert!(max_diff(&train, &eval_a) > 1e-4);
}

use super::*;

#[test]
fn tiny_preset_is_valid() {
    let cfg = DecoderConfig::tiny(50);
    cfg.validate().unwrap();
    assert_eq!(cfg.head_dim(), 32);
    assert_eq!(cfg.kv_heads(), 4);
    assert!(cfg.has_qkv_bias() && cfg.has_attn_out_bias() && cfg.has_mlp_bias());
    assert!(!cfg.is_local(0));
}

#[test]
fn validate_rejects_inconsistent_sizes() {
    let err = |cfg: DecoderConfig| cfg.validate().unwrap_err().to_string();
    let mut cfg = DecoderConfig::tiny(50);
    cfg.n_heads = 3;
    assert!(err(cfg).contains("divisible"));
    let mut cfg = DecoderConfig::tiny(50);
    cfg.vocab_size = 0;
    assert!(cfg.validate().is_err());
    let mut cfg = DecoderConfig::tiny(50);
    cfg.dropout = 1.0;
    assert!(cfg.validate().is_err());
    let mut cfg = DecoderConfig::tiny(50);
    cfg.d_model = 12;
    cfg.n_heads = 4; // head dim 3: odd, RoPE cannot pair it
    assert!(err(cfg.clone()).contains("even"));
    cfg.position = PositionEncoding::Learned;
    cfg.validate().unwrap();
}

fn llama_like() -> DecoderConfig {
    DecoderConfig {
        family: ModelFamily::Llama,
        n_kv_heads: Some(2),
        norm: NormKind::RmsNorm,
        gated_mlp: true,
        activation: Activation::Silu,
        bias: false,
        tie_embeddings: false,
        ..DecoderConfig::tiny(50)
    }
}

#[test]
fn family_options_are_checked() {
    let err = |cfg: DecoderConfig| cfg.validate().unwrap_err().to_string();
    llama_like().validate().unwrap();
    // Qwen3: a head width that is not d_model / n_heads.
    DecoderConfig {
        explicit_head_dim: Some(16),
        qk_norm: true,
        family: ModelFamily::Qwen3,
        ..llama_like()
    }
    .validate()
    .unwrap();
    assert!(
        err(DecoderConfig {
            n_kv_heads: Some(3),
            ..llama_like()
        })
        .contains("multiple")
    );
    // GPT-2's fused c_attn cannot hold grouped-query heads, nor its MLP a gate.
    assert!(
        err(DecoderConfig {
            n_kv_heads: Some(2),
            ..DecoderConfig::tiny(50)
        })
        .contains("layout")
    );
    assert!(
        err(DecoderConfig {
            gated_mlp: false,
            ..llama_like()
        })
        .contains("gated")
    );
    assert!(
        err(DecoderConfig {
            qk_norm: true,
            ..DecoderConfig::tiny(50)
        })
        .contains("q/k norms")
    );
    let neo = DecoderConfig {
        family: ModelFamily::GptNeo,
        position: PositionEncoding::Learned,
        layer_attention: vec![LayerAttention::Global, LayerAttention::Local],
        n_layers: 2,
        window_size: Some(4),
        attn_scale: Some(1.0),
        qkv_bias: Some(false),
        ..DecoderConfig::tiny(50)
    };
    neo.validate().unwrap();
    assert!(neo.is_local(1) && !neo.is_local(0));
    assert!(
        err(DecoderConfig {
            window_size: None,
            ..neo.clone()
        })
        .contains("window_size")
    );
    assert!(
        err(DecoderConfig {
            n_layers: 3,
            ..neo.clone()
        })
        .contains("layer_attention")
    );
    assert!(
        err(DecoderConfig {
            attn_scale: Some(f64::NAN),
            ..neo.clone()
        })
        .contains("attn_scale")
    );
    assert!(
        err(DecoderConfig {
            rope_scaling: Some(RopeScaling::Linear { factor: 2.0 }),
            ..neo
        })
        .contains("rope_scaling")
    );
}

#[test]
fn serde_round_trip_defaults_and_unknown_fields() {
    let json = r#"{"vocab_size": 10, "context_len": 8, "d_model": 16, "n_layers": 1,
                   "n_heads": 2, "position": "learned"}"#;
    let cfg: DecoderConfig = serde_json::from_str(json).unwrap();
    assert_eq!(cfg.ff_dim(), 64);
    assert_eq!(cfg.rope_theta, 10_000.0);
    assert!(cfg.tie_embeddings && cfg.bias);
    assert_eq!(cfg.activation, Activation::Tanh);
    assert_eq!(cfg.family, ModelFamily::Gpt);
    assert_eq!(cfg.norm, NormKind::LayerNorm);
    let text = serde_json::to_string(&cfg).unwrap();
    // The new fields are left out at their defaults: old readers still read new GPT configs.
    for absent in [
        "family",
        "norm",
        "gated_mlp",
        "n_kv_heads",
        "head_dim",
        "rope_scaling",
    ] {
        assert!(
            !text.contains(&format!("\"{absent}\"")),
            "{absent} in {text}"
        );
    }
    let back: DecoderConfig = serde_json::from_str(&text).unwrap();
    assert_eq!(back, cfg);
    let extra = json.replace("\"n_heads\"", "\"n_q_heads\": 1, \"n_heads\"");
    assert!(serde_json::from_str::<DecoderConfig>(&extra).is_err());

    let llama = DecoderConfig {
        rope_scaling: Some(RopeScaling::Llama3 {
            factor: 8.0,
            low_freq_factor: 1.0,
            high_freq_factor: 4.0,
            original_max_position_embeddings: 16,
        }),
        explicit_head_dim: Some(32),
        ..llama_like()
    };
    let text = serde_json::to_string(&llama).unwrap();
    assert!(
        text.contains("\"head_dim\":32") && text.contains("llama3"),
        "{text}"
    );
    assert_eq!(serde_json::from_str::<DecoderConfig>(&text).unwrap(), llama);
}

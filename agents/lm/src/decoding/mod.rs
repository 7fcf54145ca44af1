//! Turning a [`CausalLm`](crate::model::CausalLm) into text and numbers: sampled, greedy and
//! constrained generation with the KV cache ([`generate`](fn@generate)), beam search
//! ([`beam_search`](fn@beam_search)), the logits pipeline that both share
//! ([`SamplingConfig`]: repetition penalty, temperature, top-k, top-p), and scoring
//! (per-token log-probabilities, perplexity, multiple choice).

pub mod beam_search;
pub mod generate;
#[cfg(test)]
mod generate_tests;
pub mod logits_processing;
pub mod scoring;
pub mod stop_tokens;

pub use beam_search::{BeamSearchConfig, Hypothesis, beam_search};
pub use generate::{GenerateConfig, Generation, Strategy, generate, generate_constrained};
pub use logits_processing::{
    SamplingConfig, apply_allowed_mask, apply_repetition_penalty, apply_temperature, apply_top_k,
    apply_top_p,
};
pub use scoring::{
    MultipleChoice, TokenScores, continuation_log_probs, left_pad, multiple_choice, nats_to_bits,
    perplexity, perplexity_of, sequence_log_prob, surprisal, token_log_probs,
};
pub use stop_tokens::{MAX_STOP_TOKENS, StopTokens};

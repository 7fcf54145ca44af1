//! [`TextGenConfig`]: the settings of a text-generation environment.

/// Settings of a [`TextGenEnv`](super::TextGenEnv) (and so of a
/// [`CompletionBandit`](super::CompletionBandit)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextGenConfig {
    /// Most tokens generated per episode, the end-of-sequence token included (positive).
    pub max_new_tokens: usize,
    /// Longest prompt in tokens (a `<bos>` included). `None`: the longest prompt of the set,
    /// measured at construction. A longer prompt is an error when an episode starts with it.
    pub max_prompt_len: Option<usize>,
    /// Put the tokenizer's `<bos>` token in front of every prompt (it must have one).
    pub add_bos: bool,
    /// The id that ends an episode. `None`: the tokenizer's `<eos>` (it must have one).
    pub eos_token: Option<u32>,
    /// The vocabulary size the policy expects (e.g. a language model's output size). When set,
    /// a tokenizer of another size is an error at construction.
    pub vocab_size: Option<usize>,
}

impl Default for TextGenConfig {
    /// 32 new tokens, prompts as long as the longest one, no `<bos>`, the tokenizer's `<eos>`.
    fn default() -> Self {
        TextGenConfig {
            max_new_tokens: 32,
            max_prompt_len: None,
            add_bos: false,
            eos_token: None,
            vocab_size: None,
        }
    }
}

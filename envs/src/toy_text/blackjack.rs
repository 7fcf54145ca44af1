//! Blackjack: beat the dealer with a hand closer to 21 (Gymnasium 1.4's `Blackjack-v1`, draw
//! for draw).

use tokengym::seeding::rng_from_seed;
use tokengym::space::{Discrete, Space, TupleSpace, Value};
use tokengym::{Env, EnvRng, Error, Info, Result, Step};

/// Action 0: stick (stop drawing; the dealer plays).
pub const STICK: i64 = 0;
/// Action 1: hit (draw a card).
pub const HIT: i64 = 1;
/// Gymnasium's infinite deck: 1 is an ace, face cards count 10.
pub const DECK: [u32; 13] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10];
const SUITS: [&str; 4] = ["C", "D", "H", "S"];
const FACES: [&str; 3] = ["J", "Q", "K"];

/// The options of Gymnasium's `BlackjackEnv(natural, sab)`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BlackjackConfig {
    /// A winning natural blackjack (ace + ten-card) pays 1.5 (unless `sab`).
    pub natural: bool,
    /// Sutton & Barto's rules: a natural wins (1.0) unless the dealer has one too; overrides
    /// `natural`. `Blackjack-v1` sets it.
    pub sab: bool,
}

/// Blackjack (Gymnasium 1.4's `BlackjackEnv`; Sutton & Barto, Example 5.1).
///
/// # Description
/// Cards are drawn from an infinite deck ([`DECK`]). The player and the dealer get two cards
/// each; one dealer card is shown. The player hits until they stick or go bust (over 21);
/// then the dealer draws until their sum is 17 or more. An ace counts 11 when that does not
/// bust the hand (a usable ace).
///
/// # Action Space
/// `Discrete(2)`: 0 stick, 1 hit.
///
/// # Observation Space
/// `Tuple(Discrete(32), Discrete(11), Discrete(2))`: as three [`Value::Discrete`].
///
/// | Num | Observation | Min | Max |
/// |---|---|---|---|
/// | 0 | the player's sum (a usable ace as 11) | 2 | 31 |
/// | 1 | the dealer's shown card (1 is an ace) | 1 | 10 |
/// | 2 | whether the player has a usable ace | 0 | 1 |
///
/// # Rewards
/// +1 win, -1 loss (a bust loses at once), 0 draw; +1.5 for a winning natural with `natural`
/// (without `sab`); with `sab` a natural beats any dealer hand but a natural.
///
/// # Starting State
/// Four cards (dealer, dealer, player, player), then the shown card's suit and, for a
/// ten-card, its face: Gymnasium draws those for its picture, so they are drawn here too.
///
/// # Episode End
/// Termination: the player sticks or goes bust. No time limit.
///
/// # Arguments
/// See [`BlackjackConfig`]: `natural` (false), `sab` (true in `Blackjack-v1`'s registration,
/// false in [`BlackjackConfig::default`] as in Gymnasium's constructor). No text rendering
/// (Gymnasium renders only pictures).
///
/// # Version History
/// - v1: Gymnasium 1.4's `Blackjack-v1`.
///
/// ```
/// use tokengym::Env;
/// use tokengym::space::Value;
/// use tokengym_envs::toy_text::Blackjack;
///
/// let mut env = Blackjack::new();
/// let (obs, _) = env.reset(Some(0))?;
/// assert_eq!(obs.len(), 3);
/// let step = env.step(&0)?; // stick: the episode ends
/// assert!(step.terminated);
/// # Ok::<(), tokengym::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Blackjack {
    config: BlackjackConfig,
    player: Vec<u32>,
    dealer: Vec<u32>,
    dealer_top_card_suit: &'static str,
    dealer_top_card_value: String,
    rng: EnvRng,
    obs_space: TupleSpace,
    act_space: Discrete,
}

fn draw_card(rng: &mut EnvRng) -> u32 {
    *rng.choice(&DECK).expect("a deck")
}

/// The hand's sum (a usable ace as 11) and whether it has a usable ace.
fn sum_and_usable_ace(hand: &[u32]) -> (u32, bool) {
    let s: u32 = hand.iter().sum();
    if hand.contains(&1) && s + 10 <= 21 {
        (s + 10, true)
    } else {
        (s, false)
    }
}

fn is_bust(hand: &[u32]) -> bool {
    sum_and_usable_ace(hand).0 > 21
}

fn score(hand: &[u32]) -> u32 {
    if is_bust(hand) {
        0
    } else {
        sum_and_usable_ace(hand).0
    }
}

fn is_natural(hand: &[u32]) -> bool {
    hand.len() == 2 && hand.contains(&1) && hand.contains(&10)
}

impl Blackjack {
    /// `Blackjack-v1` (Sutton & Barto's rules: `sab = true`).
    pub fn new() -> Self {
        Self::with_config(BlackjackConfig {
            natural: false,
            sab: true,
        })
    }

    /// An environment with Gymnasium's constructor arguments.
    pub fn with_config(config: BlackjackConfig) -> Self {
        let d = |n| Discrete::new(n).expect("n > 0").to_any();
        Blackjack {
            config,
            player: Vec::new(),
            dealer: Vec::new(),
            dealer_top_card_suit: "",
            dealer_top_card_value: String::new(),
            rng: rng_from_seed(None),
            obs_space: TupleSpace::new(vec![d(32), d(11), d(2)]).expect("three spaces"),
            act_space: Discrete::new(2).expect("2 actions"),
        }
    }

    /// The player's cards.
    pub fn player(&self) -> &[u32] {
        &self.player
    }

    /// The dealer's cards (the first is the shown one).
    pub fn dealer(&self) -> &[u32] {
        &self.dealer
    }

    /// The shown dealer card as Gymnasium's picture draws it: (suit, value) such as `("H", "K")`.
    pub fn dealer_top_card(&self) -> (&str, &str) {
        (self.dealer_top_card_suit, &self.dealer_top_card_value)
    }

    fn obs(&self) -> Vec<Value> {
        let (sum, ace) = sum_and_usable_ace(&self.player);
        vec![
            Value::Discrete(i64::from(sum)),
            Value::Discrete(i64::from(self.dealer[0])),
            Value::Discrete(i64::from(ace)),
        ]
    }
}

impl Default for Blackjack {
    fn default() -> Self {
        Self::new()
    }
}

impl Env for Blackjack {
    type ObsSpace = TupleSpace;
    type ActSpace = Discrete;

    fn observation_space(&self) -> &TupleSpace {
        &self.obs_space
    }

    fn action_space(&self) -> &Discrete {
        &self.act_space
    }

    fn reset(&mut self, seed: Option<u64>) -> Result<(Vec<Value>, Info)> {
        if seed.is_some() {
            self.rng = rng_from_seed(seed);
        }
        self.dealer = vec![draw_card(&mut self.rng), draw_card(&mut self.rng)];
        self.player = vec![draw_card(&mut self.rng), draw_card(&mut self.rng)];
        self.dealer_top_card_suit = self.rng.choice(&SUITS).expect("four suits");
        self.dealer_top_card_value = match self.dealer[0] {
            1 => "A".to_string(),
            10 => self.rng.choice(&FACES).expect("three faces").to_string(),
            v => v.to_string(),
        };
        Ok((self.obs(), Info::new()))
    }

    fn step(&mut self, action: &i64) -> Result<Step<Vec<Value>>> {
        self.act_space.check_action(action)?;
        if self.dealer.is_empty() {
            return Err(Error::ResetNeeded);
        }
        let (reward, terminated) = if *action == HIT {
            self.player.push(draw_card(&mut self.rng));
            if is_bust(&self.player) {
                (-1.0, true)
            } else {
                (0.0, false)
            }
        } else {
            while sum_and_usable_ace(&self.dealer).0 < 17 {
                self.dealer.push(draw_card(&mut self.rng));
            }
            let (p, d) = (score(&self.player), score(&self.dealer));
            let mut reward = f64::from(u8::from(p > d)) - f64::from(u8::from(p < d));
            if self.config.sab && is_natural(&self.player) && !is_natural(&self.dealer) {
                reward = 1.0;
            } else if !self.config.sab
                && self.config.natural
                && is_natural(&self.player)
                && reward == 1.0
            {
                reward = 1.5;
            }
            (reward, true)
        };
        Ok(Step::new(self.obs(), reward, terminated, false))
    }
}

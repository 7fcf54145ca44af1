//! Course toys: the environments a first reinforcement-learning course starts with.

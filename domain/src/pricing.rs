//! What a chat request may cost and what it did cost (docs/architecture.md, the hard cap):
//! prices per million tokens, the worst case held before the upstream call, and the real cost
//! from the upstream's usage. Integer arithmetic throughout, rounded up to the micro-dollar, so
//! the real cost of a request never exceeds its worst case when its token counts do not.

use crate::money::Money;

/// A model's prices, in micro-dollars per million tokens (so $0.15/Mtok is 150,000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    pub input_micros_per_mtok: i64,
    pub output_micros_per_mtok: i64,
}

/// Why a configured price was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PriceError {
    #[error("a price cannot be negative")]
    Negative,
    #[error("a price must be a finite number of dollars per million tokens")]
    NotFinite,
    #[error("a price above $1,000,000 per million tokens is not a price")]
    TooLarge,
}

/// Token counts, as an upstream reports them in `usage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

impl Price {
    /// From dollars per million tokens, as the providers file writes them; exact to the
    /// micro-dollar per million tokens.
    ///
    /// # Errors
    /// [`PriceError`] for a negative, non-finite or absurd price.
    pub fn from_usd_per_mtok(input: f64, output: f64) -> Result<Self, PriceError> {
        Ok(Price {
            input_micros_per_mtok: micros_per_mtok(input)?,
            output_micros_per_mtok: micros_per_mtok(output)?,
        })
    }

    /// The cost of `usage` at this price, rounded up to the micro-dollar.
    pub fn cost(self, usage: Usage) -> Money {
        let micros_per_mtok = i128::from(usage.prompt_tokens)
            * i128::from(self.input_micros_per_mtok)
            + i128::from(usage.completion_tokens) * i128::from(self.output_micros_per_mtok);
        let micros = (micros_per_mtok + 999_999) / 1_000_000;
        Money(i64::try_from(micros).unwrap_or(i64::MAX))
    }

    /// The most a request may cost: `prompt_bound` tokens in (an upper bound on the prompt) and
    /// `max_output` tokens out.
    pub fn worst_case(self, prompt_bound: u64, max_output: u64) -> Money {
        self.cost(Usage {
            prompt_tokens: prompt_bound,
            completion_tokens: max_output,
        })
    }
}

/// Dollars per million tokens as micro-dollars per million tokens.
///
/// # Errors
/// [`PriceError`] for a negative, non-finite or absurd price.
pub fn micros_per_mtok(usd: f64) -> Result<i64, PriceError> {
    if !usd.is_finite() {
        return Err(PriceError::NotFinite);
    }
    if usd < 0.0 {
        return Err(PriceError::Negative);
    }
    if usd > 1_000_000.0 {
        return Err(PriceError::TooLarge);
    }
    // At most 1e12, well inside i64; rounding removes binary noise such as 0.15 → 0.1499….
    Ok((usd * 1_000_000.0).round() as i64)
}

/// An upper bound on a request's prompt tokens that needs no tokenizer: its body's length in
/// bytes. Every token of a byte-level tokenizer stands for at least one byte of the text, and
/// the JSON around each message (`{"role":"user","content":""}`) is longer than the few tokens
/// the chat format adds per message.
pub fn prompt_bound(body_bytes: usize) -> u64 {
    u64::try_from(body_bytes).unwrap_or(u64::MAX)
}

/// The output tokens a request may use: what it asked for, clamped to the model's maximum; the
/// model's maximum when it did not ask.
pub fn max_output(requested: Option<u64>, model_max: u64) -> u64 {
    requested.map_or(model_max, |asked| asked.min(model_max))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mini() -> Price {
        Price::from_usd_per_mtok(0.15, 0.60).unwrap()
    }

    #[test]
    fn prices_are_exact_micro_dollars_per_million_tokens() {
        assert_eq!(
            mini(),
            Price {
                input_micros_per_mtok: 150_000,
                output_micros_per_mtok: 600_000
            }
        );
        assert_eq!(
            Price::from_usd_per_mtok(-0.01, 1.0),
            Err(PriceError::Negative)
        );
        assert_eq!(
            Price::from_usd_per_mtok(f64::NAN, 1.0),
            Err(PriceError::NotFinite)
        );
        assert_eq!(
            Price::from_usd_per_mtok(1.0, 2e6),
            Err(PriceError::TooLarge)
        );
    }

    #[test]
    fn cost_rounds_up_to_the_micro_dollar() {
        // 1,000 prompt tokens at $0.15/Mtok = $0.00015; 500 out at $0.60/Mtok = $0.0003.
        let usage = Usage {
            prompt_tokens: 1_000,
            completion_tokens: 500,
        };
        assert_eq!(mini().cost(usage), Money(450));
        // One token at $0.15/Mtok is 0.15 µ$: charged as 1 µ$, never 0.
        let one = Usage {
            prompt_tokens: 1,
            completion_tokens: 0,
        };
        assert_eq!(mini().cost(one), Money(1));
        assert_eq!(mini().cost(Usage::default()), Money(0));
    }

    #[test]
    fn real_cost_never_exceeds_the_worst_case_within_its_bounds() {
        let worst = mini().worst_case(2_000, 300);
        for prompt in [0, 1, 999, 2_000] {
            for completion in [0, 7, 300] {
                let usage = Usage {
                    prompt_tokens: prompt,
                    completion_tokens: completion,
                };
                assert!(mini().cost(usage) <= worst);
            }
        }
    }

    #[test]
    fn output_is_clamped_to_the_model() {
        assert_eq!(max_output(None, 16_384), 16_384);
        assert_eq!(max_output(Some(100), 16_384), 100);
        assert_eq!(max_output(Some(1_000_000), 16_384), 16_384);
        assert_eq!(prompt_bound(1_234), 1_234);
    }
}

//! Reading what an upstream used: the `usage` of a whole answer, and the final usage chunk of
//! a stream of server-sent events, however its bytes are split.

use domain::pricing::Usage;
use serde::Deserialize;

/// The `usage` of an OpenAI answer or stream chunk, when it has one.
pub fn usage_of(json: &[u8]) -> Option<Usage> {
    #[derive(Deserialize)]
    struct Answer {
        usage: Option<Counts>,
    }
    /// Both counts are needed: a report without one (`total_tokens` only, other field names)
    /// is no report, and the request is charged its worst case rather than nothing.
    #[derive(Deserialize)]
    struct Counts {
        prompt_tokens: u64,
        completion_tokens: u64,
    }
    let counts = serde_json::from_slice::<Answer>(json).ok()?.usage?;
    Some(Usage {
        prompt_tokens: counts.prompt_tokens,
        completion_tokens: counts.completion_tokens,
    })
}

/// Finds the last `usage` in a stream of `data: {…}` lines, however the bytes are split.
#[derive(Default)]
pub struct UsageScanner {
    partial: Vec<u8>,
    pub usage: Option<Usage>,
}

/// A line longer than this is not a usage chunk; it is passed on but not kept.
const MAX_LINE: usize = 1 << 20;

impl UsageScanner {
    pub fn feed(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            let line = &rest[..end];
            if self.partial.is_empty() {
                self.line(line);
            } else {
                self.partial.extend_from_slice(line);
                let whole = std::mem::take(&mut self.partial);
                self.line(&whole);
            }
            rest = &rest[end + 1..];
        }
        if self.partial.len() + rest.len() <= MAX_LINE {
            self.partial.extend_from_slice(rest);
        } else {
            self.partial.clear();
        }
    }

    fn line(&mut self, line: &[u8]) {
        let Some(data) = line.strip_prefix(b"data:") else {
            return;
        };
        let data = data.trim_ascii();
        if data.windows(7).any(|w| w == b"\"usage\"")
            && let Some(usage) = usage_of(data)
        {
            self.usage = Some(usage);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_usage_chunk_however_it_is_split() {
        let events = concat!(
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34}}\n\n",
            "data: [DONE]\n\n"
        )
        .as_bytes();
        for split in 0..events.len() {
            let mut scanner = UsageScanner::default();
            scanner.feed(&events[..split]);
            scanner.feed(&events[split..]);
            assert_eq!(
                scanner.usage,
                Some(Usage {
                    prompt_tokens: 12,
                    completion_tokens: 34
                }),
                "split at {split}"
            );
        }
    }

    #[test]
    fn no_usage_chunk_is_no_usage() {
        let mut scanner = UsageScanner::default();
        scanner.feed(b"data: {\"choices\":[],\"usage\":null}\n\ndata: [DONE]\n\n");
        assert_eq!(scanner.usage, None);
    }

    #[test]
    fn a_report_missing_a_count_is_no_report() {
        assert_eq!(usage_of(br#"{"usage":{"total_tokens":50}}"#), None);
        assert_eq!(usage_of(br#"{"usage":{"prompt_tokens":50}}"#), None);
        assert!(usage_of(br#"{"usage":{"prompt_tokens":5,"completion_tokens":0}}"#).is_some());
    }
}

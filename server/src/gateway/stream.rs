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

/// Finds the last `usage` in a stream of `data: {…}` lines, however the bytes are split; and,
/// when the client did not ask for it, takes out the usage chunk the gateway asked for (it has
/// no `choices`, and OpenAI's clients read `choices[0]` of every chunk they get).
#[derive(Default)]
pub struct UsageScanner {
    partial: Vec<u8>,
    pub usage: Option<Usage>,
    /// Whether the usage chunk is taken out of what the client is sent.
    take_out: bool,
    /// What is held back from the client until its line is whole (only when taking out).
    held: Vec<u8>,
    /// Within a line too long to hold, passed on as it comes.
    in_long_line: bool,
}

/// A line longer than this is not a usage chunk; it is passed on but not kept.
const MAX_LINE: usize = 1 << 20;

impl UsageScanner {
    /// A scanner for a stream whose client asked for the usage chunk (`client_asked`) or not.
    pub fn new(client_asked: bool) -> Self {
        UsageScanner {
            take_out: !client_asked,
            ..Self::default()
        }
    }

    /// Reads the next bytes of the stream and answers what of it to pass on to the client.
    pub fn pass(&mut self, bytes: bytes::Bytes) -> bytes::Bytes {
        self.feed(&bytes);
        if !self.take_out {
            return bytes;
        }
        let mut out = Vec::new();
        let mut rest = &bytes[..];
        while let Some(end) = rest.iter().position(|b| *b == b'\n') {
            let line = &rest[..=end];
            if self.in_long_line {
                out.extend_from_slice(line);
                self.in_long_line = false;
            } else {
                self.held.extend_from_slice(line);
                let whole = std::mem::take(&mut self.held);
                if !is_usage_only(&whole) {
                    out.extend_from_slice(&whole);
                }
            }
            rest = &rest[end + 1..];
        }
        if self.in_long_line {
            out.extend_from_slice(rest);
        } else {
            self.held.extend_from_slice(rest);
            if self.held.len() > MAX_LINE {
                out.append(&mut self.held);
                self.in_long_line = true;
            }
        }
        out.into()
    }

    /// Once the stream has ended: reads a last line that came without its newline, and answers
    /// what of it is still to pass on.
    pub fn rest(&mut self) -> Option<bytes::Bytes> {
        let last = std::mem::take(&mut self.partial);
        self.line(&last);
        let held = std::mem::take(&mut self.held);
        let dropped = held.is_empty() || (self.take_out && is_usage_only(&held));
        (!dropped).then(|| held.into())
    }

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
        if let Some(data) = data_of(line)
            && data.windows(7).any(|w| w == b"\"usage\"")
            && let Some(usage) = usage_of(data)
        {
            self.usage = Some(usage);
        }
    }
}

/// The JSON of a `data:` line.
fn data_of(line: &[u8]) -> Option<&[u8]> {
    line.strip_prefix(b"data:").map(<[u8]>::trim_ascii)
}

/// Whether `line` is a chunk with a usage report and no choices: the one the gateway asks for.
fn is_usage_only(line: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Chunk {
        choices: Vec<serde::de::IgnoredAny>,
    }
    data_of(line).is_some_and(|data| {
        data.windows(7).any(|w| w == b"\"usage\"")
            && usage_of(data).is_some()
            && serde_json::from_slice::<Chunk>(data).is_ok_and(|c| c.choices.is_empty())
    })
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
    fn the_usage_chunk_is_taken_out_for_a_client_that_did_not_ask_however_it_is_split() {
        let events = concat!(
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":34}}\n\n",
            "data: [DONE]\n\n"
        )
        .as_bytes();
        let without = concat!(
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}],\"usage\":null}\n\n",
            "\n",
            "data: [DONE]\n\n"
        );
        for (asked, expected) in [
            (true, std::str::from_utf8(events).unwrap()),
            (false, without),
        ] {
            for split in 0..events.len() {
                let mut scanner = UsageScanner::new(asked);
                let mut out = Vec::new();
                out.extend_from_slice(
                    &scanner.pass(bytes::Bytes::copy_from_slice(&events[..split])),
                );
                out.extend_from_slice(
                    &scanner.pass(bytes::Bytes::copy_from_slice(&events[split..])),
                );
                out.extend_from_slice(&scanner.rest().unwrap_or_default());
                assert_eq!(
                    std::str::from_utf8(&out).unwrap(),
                    expected,
                    "split at {split}"
                );
                assert_eq!(scanner.usage.map(|u| u.completion_tokens), Some(34));
            }
        }
    }

    #[test]
    fn a_usage_chunk_without_its_newline_at_the_end_is_read_and_taken_out() {
        let events = concat!(
            "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":6}}"
        );
        for asked in [true, false] {
            let mut scanner = UsageScanner::new(asked);
            let mut out = scanner
                .pass(bytes::Bytes::from_static(events.as_bytes()))
                .to_vec();
            out.extend_from_slice(&scanner.rest().unwrap_or_default());
            let out = String::from_utf8(out).unwrap();
            assert_eq!(out.contains("usage"), asked, "{out}");
            assert!(out.contains("Hi"));
            assert_eq!(scanner.usage.map(|u| u.completion_tokens), Some(6));
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

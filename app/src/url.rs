//! Encoding text for a URL query value.

/// Percent-encodes everything but unreserved characters and `/`.
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::encode_component;

    #[test]
    fn encodes_query_characters() {
        assert_eq!(
            encode_component("/dashboard/keys?a=1&b=é"),
            "/dashboard/keys%3Fa%3D1%26b%3D%C3%A9"
        );
    }
}

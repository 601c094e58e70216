//! API keys as the dashboard shows them: the list query (it lives in the URL), the rows and
//! their status, and the one-time answer to issuing a key.

mod query;
mod views;

pub use query::{KeyQuery, KeyScope};
pub use views::{IssuedKey, KeyBlock, KeyPage, KeyRow, KeyStatus};

/// Every key starts with this, so it is recognisable in a config file or a leak scanner.
pub const KEY_PREFIX: &str = "tg_";
/// How much of a key is kept and shown to tell keys apart: `tg_` and 8 characters.
pub const VISIBLE_PREFIX_LEN: usize = 11;
/// Longest key name, in characters.
pub const KEY_NAME_MAX: usize = 100;

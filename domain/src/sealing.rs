//! Secrets the gateway must be able to read back (upstream keys), sealed at rest with
//! XChaCha20-Poly1305 under a 256-bit data key. The key comes from `TOLLGATE_SECRET_KEY`, or —
//! for an SQLite database that has no variable — from a file beside the database, made once
//! with mode 0600. A database copied without its key cannot be read; a sealed value moved to
//! another purpose or another context fails to open (each seal names what it is for and, for a
//! provider's key, the server it may be sent to).
//!
//! Rotating: start with the new key in `TOLLGATE_SECRET_KEY` and the old one in
//! `TOLLGATE_SECRET_KEY_PREVIOUS`; values sealed under the old key still open, and the server
//! seals them again under the new one at start.

use crate::Error;
use crate::secret::Secret;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use std::fmt;
use std::path::Path;

/// What a sealed value begins with: the format's version.
const PREFIX: &str = "v1:";
const NONCE: usize = 24;

/// A 256-bit data key. `Debug` prints a placeholder.
#[derive(Clone)]
pub struct DataKey([u8; 32]);

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(…)")
    }
}

impl DataKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        DataKey(bytes)
    }

    /// From its text: 32 bytes as 64 hex digits or as base64 (standard or URL-safe).
    ///
    /// # Errors
    /// Why the text is not a key, without echoing it.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = hex::decode(text)
            .ok()
            .or_else(|| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok())
            .or_else(|| STANDARD.decode(text).ok())
            .ok_or("is neither hex nor base64")?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|b: Vec<u8>| format!("holds {} bytes; a key is 32", b.len()))?;
        Ok(DataKey(bytes))
    }

    /// The key as text, in the form [`DataKey::parse`] reads (URL-safe base64).
    pub fn to_text(&self) -> Secret {
        Secret::new(URL_SAFE_NO_PAD.encode(self.0))
    }

    /// Reads the key in `path`, or makes one there (mode 0600) when there is no file. The new
    /// file appears whole or not at all (written aside, then linked into place), so processes
    /// starting together agree on one key.
    ///
    /// # Errors
    /// Why the file could not be read or written, or holds no key.
    pub fn load_or_create(path: &Path) -> Result<Self, String> {
        let read = |path: &Path| match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text)
                .map(Some)
                .map_err(|e| format!("{}: {e}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        };
        if let Some(key) = read(path)? {
            return Ok(key);
        }
        let key = Self::generate();
        // A name of its own (processes in containers may share a pid), never removed first.
        let mut tag = [0u8; 8];
        rand::rng().fill_bytes(&mut tag);
        let aside = path.with_extension(format!("new-{}", hex::encode(tag)));
        let placed = write_private(&aside, key.to_text().expose()).and_then(|()| {
            match std::fs::hard_link(&aside, path) {
                // A file system without hard links: create-new still lets one process win.
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                    write_private(path, key.to_text().expose())
                }
                other => other,
            }
        });
        let _ = std::fs::remove_file(&aside);
        match placed {
            Ok(()) => {
                if let Some(dir) = path.parent().and_then(|d| std::fs::File::open(d).ok()) {
                    let _ = dir.sync_all();
                }
                Ok(key)
            }
            // Another process placed its key first: use that one.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                read(path)?.ok_or_else(|| format!("{} vanished while it was made", path.display()))
            }
            Err(e) => Err(format!("cannot write {}: {e}", path.display())),
        }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }
}

/// Writes `text` to a new file only its owner may read.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()
}

/// What a sealed value is for; a value sealed for one purpose does not open as another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An upstream provider's API key.
    ProviderKey,
    /// The single sign-on client secret.
    SsoClientSecret,
    /// A browser's single sign-on in progress (its cookie).
    SsoAttempt,
}

impl Purpose {
    /// The associated data: the purpose and the context it is sealed in.
    fn aad(self, context: &str) -> Vec<u8> {
        let label: &[u8] = match self {
            Purpose::ProviderKey => b"tollgate provider key",
            Purpose::SsoClientSecret => b"tollgate sso client secret",
            Purpose::SsoAttempt => b"tollgate sso attempt",
        };
        let mut aad = label.to_vec();
        aad.push(0);
        aad.extend_from_slice(context.as_bytes());
        aad
    }
}

/// The keys values are sealed and opened with.
#[derive(Debug, Clone)]
pub struct Sealer {
    current: DataKey,
    previous: Option<DataKey>,
}

/// A value opened, and whether it was sealed under the previous key (so should be sealed again).
#[derive(Debug)]
pub struct Opened {
    pub secret: Secret,
    pub under_previous: bool,
}

impl Sealer {
    pub fn new(current: DataKey, previous: Option<DataKey>) -> Self {
        Sealer { current, previous }
    }

    /// Seals `plain` for `purpose` in `context` (for a provider's key: the origin it is sent
    /// to) under the current key, with a fresh random nonce.
    pub fn seal(&self, purpose: Purpose, context: &str, plain: &str) -> String {
        let mut nonce = [0u8; NONCE];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .current
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.as_bytes(),
                    aad: &purpose.aad(context),
                },
            )
            // Encrypting into memory fails only past 256 GiB.
            .unwrap_or_default();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Opens a value [`Sealer::seal`] made for `purpose` in `context`, under the current or
    /// previous key.
    ///
    /// # Errors
    /// [`Error::Internal`] when neither key opens it (a different key, or a value altered);
    /// the cause is logged, never the value.
    pub fn open(&self, purpose: Purpose, context: &str, sealed: &str) -> Result<Opened, Error> {
        let unreadable = || {
            if purpose == Purpose::SsoAttempt {
                // A browser's cookie: anyone can send one that does not open.
                tracing::debug!("a single sign-on cookie did not open");
            } else {
                tracing::error!(
                    "a sealed {purpose:?} does not open with TOLLGATE_SECRET_KEY (or the previous key): was the database moved without its key?"
                );
            }
            Error::internal()
        };
        let bytes = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| URL_SAFE_NO_PAD.decode(b).ok())
            .filter(|b| b.len() > NONCE)
            .ok_or_else(unreadable)?;
        let (nonce, body) = bytes.split_at(NONCE);
        let aad = purpose.aad(context);
        let try_key = |key: &DataKey| {
            key.cipher()
                .decrypt(
                    XNonce::from_slice(nonce),
                    Payload {
                        msg: body,
                        aad: &aad,
                    },
                )
                .ok()
                .and_then(|plain| String::from_utf8(plain).ok())
        };
        if let Some(plain) = try_key(&self.current) {
            return Ok(Opened {
                secret: Secret::new(plain),
                under_previous: false,
            });
        }
        self.previous
            .as_ref()
            .and_then(try_key)
            .map(|plain| Opened {
                secret: Secret::new(plain),
                under_previous: true,
            })
            .ok_or_else(unreadable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_purpose() {
        let sealer = Sealer::new(DataKey::generate(), None);
        let here = "https://api.example.com";
        let sealed = sealer.seal(Purpose::ProviderKey, here, "sk-upstream-1234");
        assert!(sealed.starts_with("v1:") && !sealed.contains("sk-upstream"));
        assert_ne!(
            sealed,
            sealer.seal(Purpose::ProviderKey, here, "sk-upstream-1234")
        );
        let opened = sealer.open(Purpose::ProviderKey, here, &sealed).unwrap();
        assert_eq!(opened.secret.expose(), "sk-upstream-1234");
        assert!(!opened.under_previous);

        // Moved onto a provider of another server, it does not open.
        assert!(
            sealer
                .open(Purpose::ProviderKey, "https://evil.example", &sealed)
                .is_err()
        );
        let stranger = Sealer::new(DataKey::generate(), None);
        assert!(stranger.open(Purpose::ProviderKey, here, &sealed).is_err());
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(sealer.open(Purpose::ProviderKey, here, &altered).is_err());
        assert!(sealer.open(Purpose::ProviderKey, here, "sk-plain").is_err());
    }

    #[test]
    fn the_previous_key_still_opens_until_values_are_sealed_again() {
        let old = DataKey::generate();
        let sealed = Sealer::new(old.clone(), None).seal(Purpose::ProviderKey, "x", "sk-1");
        let rotated = Sealer::new(DataKey::generate(), Some(old));
        let opened = rotated.open(Purpose::ProviderKey, "x", &sealed).unwrap();
        assert_eq!(opened.secret.expose(), "sk-1");
        assert!(opened.under_previous);
    }

    #[test]
    fn keys_read_as_hex_or_base64_and_never_print() {
        let key = DataKey::generate();
        let text = key.to_text();
        let again = DataKey::parse(text.expose()).unwrap();
        assert_eq!(again.0, key.0);
        assert_eq!(DataKey::parse(&hex::encode(key.0)).unwrap().0, key.0);
        assert_eq!(DataKey::parse(&STANDARD.encode(key.0)).unwrap().0, key.0);
        assert!(DataKey::parse("short").is_err());
        assert_eq!(format!("{key:?}"), "DataKey(…)");
    }

    #[test]
    fn a_key_file_is_made_once_and_private() {
        let dir = std::env::temp_dir().join(format!("tollgate-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("tollgate.db.key");
        let _ = std::fs::remove_file(&path);
        let made = DataKey::load_or_create(&path).unwrap();
        let read = DataKey::load_or_create(&path).unwrap();
        assert_eq!(made.0, read.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

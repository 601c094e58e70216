//! Input rules shared by the forms (checked as the person types) and the services (checked again
//! before anything is written). Each function returns the cleaned value or a message for the field.

use crate::Error;

/// Longest email we accept (RFC 5321 path limit).
pub const EMAIL_MAX: usize = 254;
/// Longest display name, in characters.
pub const NAME_MAX: usize = 100;
/// Shortest password we accept (ASVS 2.1.1).
pub const PASSWORD_MIN: usize = 12;
/// Longest password; argon2 is fed at most this many characters.
pub const PASSWORD_MAX: usize = 128;

/// An email address as the person typed it (trimmed), and its normalised form used for uniqueness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub display: String,
    pub normalized: String,
}

/// Checks an email address and returns it trimmed, with its lower-cased form for comparisons.
///
/// # Errors
/// [`Error::Validation`] on field `email` when it is empty, too long or not shaped like an address.
pub fn email(input: &str) -> Result<Email, Error> {
    let display = input.trim();
    let invalid = |message: &str| Err(Error::validation("email", message));
    if display.is_empty() {
        return invalid("Enter an email address.");
    }
    if display.chars().count() > EMAIL_MAX {
        return invalid("That email address is too long.");
    }
    let Some((local, domain)) = display.rsplit_once('@') else {
        return invalid("Enter an email address like name@example.com.");
    };
    let domain_ok = domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..");
    // RFC 5322's specials appear only in quoted local parts and address literals, which no
    // address people type needs, and are what markup and header injection are made of.
    let chars_ok = display
        .chars()
        .all(|c| !c.is_whitespace() && !c.is_control() && !"<>()[]\\,;:\"".contains(c))
        && !local.contains('@');
    if local.is_empty() || local.chars().count() > 64 || !domain_ok || !chars_ok {
        return invalid("Enter an email address like name@example.com.");
    }
    Ok(Email {
        display: display.to_owned(),
        normalized: display.to_lowercase(),
    })
}

/// Checks a display name and returns it trimmed.
///
/// # Errors
/// [`Error::Validation`] on field `name` when it is empty, too long or holds control characters.
pub fn display_name(input: &str) -> Result<String, Error> {
    bounded_text("name", input, NAME_MAX, "Enter a name.")
}

/// Checks a new password (it is not trimmed: spaces are characters like any other).
///
/// # Errors
/// [`Error::Validation`] on field `password` when it is too short or too long.
pub fn password(input: &str) -> Result<(), Error> {
    let len = input.chars().count();
    if len < PASSWORD_MIN {
        return Err(Error::validation(
            "password",
            format!("Use at least {PASSWORD_MIN} characters."),
        ));
    }
    if len > PASSWORD_MAX {
        return Err(Error::validation(
            "password",
            format!("Use at most {PASSWORD_MAX} characters."),
        ));
    }
    Ok(())
}

/// Trims `input` and checks it is non-empty, at most `max` characters and free of control
/// characters.
///
/// # Errors
/// [`Error::Validation`] on `field`.
pub fn bounded_text(
    field: &str,
    input: &str,
    max: usize,
    empty_message: &str,
) -> Result<String, Error> {
    let value = input.trim();
    if value.is_empty() {
        return Err(Error::validation(field, empty_message));
    }
    if value.chars().count() > max {
        return Err(Error::validation(
            field,
            format!("Use at most {max} characters."),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::validation(field, "Remove the control characters."));
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(e: Error) -> String {
        match e {
            Error::Validation { field, .. } => field,
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn emails_are_trimmed_and_normalised() {
        let e = email("  Ada.Lovelace@Example.COM ").unwrap();
        assert_eq!(e.display, "Ada.Lovelace@Example.COM");
        assert_eq!(e.normalized, "ada.lovelace@example.com");
        assert_eq!(
            email("ADA@example.com").unwrap().normalized,
            e.normalized.replace(".lovelace", "")
        );
    }

    #[test]
    fn malformed_emails_are_refused_on_the_email_field() {
        for bad in [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a b@example.com",
            "ada@@example.com",
            "ada@example..com",
            "ada@.example.com",
            "ada@example.com.",
            "<b>x</b>@x.com",
            "ada@exam<ple.com",
            "\"ada lovelace\"@example.com",
            "ada,bob@example.com",
            "ada;bob@example.com",
            "ada(comment)@example.com",
            "ada@[127.0.0.1]",
            "ada\\@example.com",
        ] {
            assert_eq!(field_of(email(bad).unwrap_err()), "email", "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(300));
        assert!(email(&long).is_err());
    }

    #[test]
    fn unicode_emails_and_names_are_fine() {
        assert!(email("zoë@exämple.de").is_ok());
        assert_eq!(
            display_name("  Zoë Ørsted 山田 ").unwrap(),
            "Zoë Ørsted 山田"
        );
    }

    #[test]
    fn names_are_bounded() {
        assert!(display_name("").is_err());
        assert!(display_name(&"x".repeat(10_000)).is_err());
        assert!(display_name(&"é".repeat(NAME_MAX)).is_ok());
        assert!(display_name("tab\tname").is_err());
    }

    #[test]
    fn passwords_are_bounded() {
        assert!(password("short").is_err());
        assert!(password("correct horse battery").is_ok());
        assert!(password(&"x".repeat(PASSWORD_MAX + 1)).is_err());
    }
}

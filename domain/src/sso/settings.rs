//! The single sign-on settings form: what it sends, how each field is checked, and the two
//! questions the settings answer at every sign-in — is this email's domain let in, and which
//! role do this person's groups give.

use super::NewPeople;
use crate::validation::bounded_text;
use crate::{Error, Role, TeamId};
use serde::{Deserialize, Serialize};

/// The longest issuer URL accepted.
const URL_MAX: usize = 500;
/// The longest client id accepted.
const CLIENT_ID_MAX: usize = 255;
/// The longest client secret accepted.
const SECRET_MAX: usize = 1_000;
/// The longest button label, in characters.
pub const LABEL_MAX: usize = 40;
/// The most domains, and the most group lines.
const LIST_MAX: usize = 50;

/// What the settings form sends, as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoInput {
    pub issuer: String,
    pub client_id: String,
    /// Blank keeps the stored secret; write-only.
    pub client_secret: String,
    pub label: String,
    /// Domains separated by commas, spaces or lines; blank lets every domain in.
    pub allowed_domains: String,
    /// [`NewPeople::as_str`].
    pub new_people: String,
    /// A team id, or blank for none.
    pub new_people_team: String,
    /// Blank: groups are not read.
    pub groups_claim: String,
    /// `group = Role` lines.
    pub group_roles: String,
    pub password_sign_in: bool,
}

/// One group a claim may name, and the role it gives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRole {
    pub group: String,
    pub role: Role,
}

/// The settings, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SsoSettings {
    pub issuer: String,
    pub client_id: String,
    pub label: String,
    /// Lower case; empty lets every domain in.
    pub allowed_domains: Vec<String>,
    pub new_people: NewPeople,
    pub new_people_team: Option<TeamId>,
    pub groups_claim: Option<String>,
    pub group_roles: Vec<GroupRole>,
    pub password_sign_in: bool,
}

impl SsoSettings {
    /// The form's fields filled with these settings (the secret stays blank).
    pub fn to_input(&self) -> SsoInput {
        SsoInput {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret: String::new(),
            label: self.label.clone(),
            allowed_domains: self.allowed_domains.join("\n"),
            new_people: self.new_people.as_str().to_owned(),
            new_people_team: self
                .new_people_team
                .map(|t| t.0.to_string())
                .unwrap_or_default(),
            groups_claim: self.groups_claim.clone().unwrap_or_default(),
            group_roles: group_lines(&self.group_roles),
            password_sign_in: self.password_sign_in,
        }
    }

    /// Whether an address at `email`'s domain may sign in.
    pub fn domain_allowed(&self, email: &str) -> bool {
        let domain = email.rsplit_once('@').map_or("", |(_, d)| d).to_lowercase();
        self.allowed_domains.is_empty() || self.allowed_domains.contains(&domain)
    }

    /// The highest role the mapped groups among `groups` give; `None` when none is mapped.
    /// Never Owner: the form refuses to map it.
    pub fn role_for(&self, groups: &[String]) -> Option<Role> {
        self.group_roles
            .iter()
            .filter(|m| groups.contains(&m.group))
            .map(|m| m.role)
            .min_by_key(|r| Role::ALL.iter().position(|a| a == r))
    }
}

/// The `group = Role` lines of `roles`.
pub fn group_lines(roles: &[GroupRole]) -> String {
    roles
        .iter()
        .map(|m| format!("{} = {}", m.group, m.role.label()))
        .collect::<Vec<_>>()
        .join("\n")
}

impl SsoInput {
    /// The form before single sign-on is set up: nobody new let in, passwords still on.
    pub fn blank() -> Self {
        SsoInput {
            new_people: NewPeople::Refuse.as_str().to_owned(),
            password_sign_in: true,
            ..SsoInput::default()
        }
    }

    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::Validation`] naming the first field that cannot be used and why.
    pub fn check(&self) -> Result<SsoSettings, Error> {
        let issuer = check_issuer(&self.issuer)?;
        let client_id = bounded_text(
            "client_id",
            &self.client_id,
            CLIENT_ID_MAX,
            "Enter the client id the identity provider gave this gateway.",
        )?;
        if self.client_secret.chars().count() > SECRET_MAX
            || self.client_secret.chars().any(char::is_control)
        {
            return Err(Error::validation(
                "client_secret",
                "That is not a client secret: paste it as the provider shows it.",
            ));
        }
        let label = bounded_text(
            "label",
            &self.label,
            LABEL_MAX,
            "Enter what the button names, e.g. Okta or Google.",
        )?;
        let new_people = NewPeople::parse(&self.new_people)
            .ok_or_else(|| Error::validation("new_people", "Choose what happens to new people."))?;
        let team = self.new_people_team.trim();
        let new_people_team = if team.is_empty() || new_people == NewPeople::Refuse {
            None
        } else {
            Some(TeamId(team.parse().map_err(|_| {
                Error::validation("new_people_team", "Choose a team from the list.")
            })?))
        };
        let groups_claim = check_claim(&self.groups_claim)?;
        let group_roles = check_group_roles(&self.group_roles)?;
        if groups_claim.is_none() && !group_roles.is_empty() {
            return Err(Error::validation(
                "groups_claim",
                "Name the claim the groups come in, e.g. groups.",
            ));
        }
        Ok(SsoSettings {
            issuer,
            client_id,
            label,
            allowed_domains: check_domains(&self.allowed_domains)?,
            new_people,
            new_people_team,
            groups_claim,
            group_roles,
            password_sign_in: self.password_sign_in,
        })
    }
}

/// An issuer: `https://`, or `http://` to a loopback host (a provider on this machine).
///
/// # Errors
/// [`Error::Validation`] on `issuer` saying what is wrong with it.
pub fn check_issuer(text: &str) -> Result<String, Error> {
    let issuer = text.trim();
    let invalid = |m: &str| Err(Error::validation("issuer", m));
    if issuer.is_empty() {
        return invalid("Enter the issuer URL, e.g. https://accounts.google.com.");
    }
    if issuer.chars().count() > URL_MAX {
        return invalid("That URL is too long.");
    }
    let Ok(url) = url::Url::parse(issuer) else {
        return invalid("Enter a URL like https://login.example.com/realms/main.");
    };
    if url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
        return invalid("An issuer URL has no query, fragment or user name.");
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(issuer.to_owned()),
        "http" if loopback => Ok(issuer.to_owned()),
        "http" => invalid("Use https:// (plain http:// only for a provider on this machine)."),
        _ => invalid("Enter a URL starting with https://."),
    }
}

fn check_domains(text: &str) -> Result<Vec<String>, Error> {
    let mut domains: Vec<String> = Vec::new();
    for word in text
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|w| !w.is_empty())
    {
        let domain = word.trim_start_matches('@').to_lowercase();
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        if domain.len() > 253 || !domain.contains('.') || !domain.split('.').all(label_ok) {
            return Err(Error::validation(
                "allowed_domains",
                format!("‘{word}’ is not a domain like example.com."),
            ));
        }
        if !domains.contains(&domain) {
            domains.push(domain);
        }
    }
    if domains.len() > LIST_MAX {
        return Err(Error::validation(
            "allowed_domains",
            format!("List at most {LIST_MAX} domains."),
        ));
    }
    Ok(domains)
}

fn check_claim(text: &str) -> Result<Option<String>, Error> {
    let claim = text.trim();
    if claim.is_empty() {
        return Ok(None);
    }
    if claim.len() > 64 || claim.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::validation(
            "groups_claim",
            "A claim name is one word of at most 64 characters, e.g. groups.",
        ));
    }
    Ok(Some(claim.to_owned()))
}

/// The `group = Role` lines of `text`, checked.
///
/// # Errors
/// [`Error::Validation`] on `group_roles` for a line that is not `group = Admin|Member|Viewer`,
/// a group listed twice, or too many lines.
pub fn check_group_roles(text: &str) -> Result<Vec<GroupRole>, Error> {
    let invalid = |m: String| Err(Error::validation("group_roles", m));
    let mut roles: Vec<GroupRole> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((group, role)) = line.rsplit_once('=') else {
            return invalid(format!("‘{line}’: write each line as group = Role."));
        };
        let group = group.trim();
        if group.is_empty() || group.chars().count() > 200 || group.chars().any(char::is_control) {
            return invalid(format!("‘{line}’: name the group before the =."));
        }
        let role = match role.trim().parse::<Role>() {
            Ok(Role::Owner) => {
                return invalid(format!(
                    "‘{line}’: Owner is never given by a claim; an Owner makes another Owner on the Users page."
                ));
            }
            Ok(role) => role,
            Err(_) => return invalid(format!("‘{line}’: the role is Admin, Member or Viewer.")),
        };
        if roles.iter().any(|m| m.group == group) {
            return invalid(format!("‘{group}’ is listed twice."));
        }
        roles.push(GroupRole {
            group: group.to_owned(),
            role,
        });
    }
    if roles.len() > LIST_MAX {
        return invalid(format!("Map at most {LIST_MAX} groups."));
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> SsoInput {
        SsoInput {
            issuer: "https://login.example.com/realms/main".into(),
            client_id: "tollgate".into(),
            label: "Keycloak".into(),
            new_people: "member".into(),
            ..Default::default()
        }
    }

    fn field(input: SsoInput) -> String {
        match input.check() {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn a_complete_form_is_accepted() {
        let s = SsoInput {
            allowed_domains: "Example.com, @corp.example.org\nexample.com".into(),
            groups_claim: "groups".into(),
            group_roles: "gateway-admins = Admin\n\n readers = viewer ".into(),
            new_people_team: "7".into(),
            ..input()
        }
        .check()
        .unwrap();
        assert_eq!(s.allowed_domains, ["example.com", "corp.example.org"]);
        assert_eq!(s.new_people_team, Some(TeamId(7)));
        assert_eq!(s.group_roles.len(), 2);
        assert_eq!(s.group_roles[1].role, Role::Viewer);
        assert_eq!(s.to_input().check().unwrap(), s);
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (
                SsoInput {
                    issuer: "".into(),
                    ..input()
                },
                "issuer",
            ),
            (
                SsoInput {
                    issuer: "ftp://x.example".into(),
                    ..input()
                },
                "issuer",
            ),
            (
                SsoInput {
                    issuer: "http://login.example.com".into(),
                    ..input()
                },
                "issuer",
            ),
            (
                SsoInput {
                    issuer: "https://x.example/?a=b".into(),
                    ..input()
                },
                "issuer",
            ),
            (
                SsoInput {
                    client_id: " ".into(),
                    ..input()
                },
                "client_id",
            ),
            (
                SsoInput {
                    client_secret: "a\nb".into(),
                    ..input()
                },
                "client_secret",
            ),
            (
                SsoInput {
                    label: "".into(),
                    ..input()
                },
                "label",
            ),
            (
                SsoInput {
                    label: "x".repeat(41),
                    ..input()
                },
                "label",
            ),
            (
                SsoInput {
                    allowed_domains: "example".into(),
                    ..input()
                },
                "allowed_domains",
            ),
            (
                SsoInput {
                    allowed_domains: "-a.example".into(),
                    ..input()
                },
                "allowed_domains",
            ),
            (
                SsoInput {
                    new_people: "owner".into(),
                    ..input()
                },
                "new_people",
            ),
            (
                SsoInput {
                    new_people_team: "x".into(),
                    ..input()
                },
                "new_people_team",
            ),
            (
                SsoInput {
                    groups_claim: "two words".into(),
                    ..input()
                },
                "groups_claim",
            ),
            (
                SsoInput {
                    group_roles: "admins = Admin".into(),
                    ..input()
                },
                "groups_claim",
            ),
        ];
        for (bad, expected) in cases {
            assert_eq!(field(bad.clone()), expected, "{bad:?}");
        }
    }

    #[test]
    fn no_claim_gives_owner() {
        for lines in [
            "owners = Owner",
            "x = god",
            "no equals sign",
            " = Admin",
            "a = Admin\na = Member",
        ] {
            let bad = SsoInput {
                groups_claim: "groups".into(),
                group_roles: lines.into(),
                ..input()
            };
            assert_eq!(field(bad), "group_roles", "{lines}");
        }
    }

    #[test]
    fn loopback_issuers_may_be_plain_http() {
        for issuer in [
            "http://127.0.0.1:9000",
            "http://localhost:8080/realms/x",
            "http://[::1]:1",
        ] {
            assert!(
                SsoInput {
                    issuer: issuer.into(),
                    ..input()
                }
                .check()
                .is_ok(),
                "{issuer}"
            );
        }
    }

    #[test]
    fn domains_and_groups_decide() {
        let s = SsoInput {
            allowed_domains: "example.com".into(),
            groups_claim: "groups".into(),
            group_roles: "staff = Member\nops = Admin\nread = Viewer".into(),
            ..input()
        }
        .check()
        .unwrap();
        assert!(s.domain_allowed("Ann@EXAMPLE.com"));
        assert!(!s.domain_allowed("ann@example.com.evil.test"));
        assert!(!s.domain_allowed("ann@sub.example.com"));
        let groups = |g: &[&str]| g.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            s.role_for(&groups(&["read", "ops", "staff"])),
            Some(Role::Admin)
        );
        assert_eq!(s.role_for(&groups(&["read"])), Some(Role::Viewer));
        assert_eq!(s.role_for(&groups(&["OPS"])), None);
        assert_eq!(s.role_for(&[]), None);
        let open = input().check().unwrap();
        assert!(open.domain_allowed("x@anything.test"));
    }
}

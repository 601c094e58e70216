//! Guardrails compiled for the gateway. Terms become one case-insensitive expression matched
//! at word edges (a space in a term matches any run of white space); a rule's expressions become
//! one alternation. Each is compiled when the rules are built — after a change moves the access
//! epoch, reusing what the last build compiled for rules unchanged since — within
//! [`LOAD_LIMIT`], having been checked within the smaller [`SAVE_LIMIT`] when saved, so an
//! expression cannot make a request slow or the gateway large, and one saved under an older
//! version still fits. A request is checked against the rules that apply to its model and team:
//! blocking rules first (the first that matches refuses it), then the logging ones.

use super::{Enforcement, Test};
use crate::Error;
use chrono::{DateTime, Utc};
use regex::{Regex, RegexBuilder};
use std::collections::HashMap;

/// The most memory one rule's compiled expression may take when it is saved, in bytes.
pub const SAVE_LIMIT: usize = 256 * 1024;
/// The most it may take when the gateway builds its rules (room for a newer `regex` counting
/// differently than the one that checked it).
pub const LOAD_LIMIT: usize = 4 * SAVE_LIMIT;

/// What a compiled rule tests.
#[derive(Debug, Clone)]
enum Compiled {
    Larger(u64),
    Matches(Regex),
    /// A blocking rule that no longer compiles: it refuses everything in its scope rather than
    /// let through what it was written to stop (the log says why).
    Broken,
}

/// Which requests a rule checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// `None`: every model.
    pub models: Option<Vec<String>>,
    /// `None`: every team and keys outside any team; `Some(empty)`: nobody (its teams were
    /// deleted).
    pub teams: Option<Vec<i64>>,
}

/// A rule as stored, to be compiled.
#[derive(Debug, Clone)]
pub struct Definition {
    pub id: i64,
    pub name: String,
    /// When it was last changed: an unchanged rule keeps what was compiled for it.
    pub changed_at: DateTime<Utc>,
    pub test: Test,
    pub scope: Scope,
    pub enforcement: Enforcement,
}

/// One rule, ready to check requests with.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: i64,
    pub name: String,
    pub enforcement: Enforcement,
    changed_at: DateTime<Utc>,
    test: Compiled,
    scope: Scope,
}

impl Rule {
    /// Compiles a rule.
    ///
    /// # Errors
    /// [`Error::Validation`] on `patterns` for an expression that does not compile within
    /// [`LOAD_LIMIT`].
    pub fn new(definition: Definition) -> Result<Self, Error> {
        let test = compile(&definition.test, LOAD_LIMIT)?;
        Ok(Self::with(definition, test))
    }

    fn with(d: Definition, test: Compiled) -> Self {
        Rule {
            id: d.id,
            name: d.name,
            enforcement: d.enforcement,
            changed_at: d.changed_at,
            test,
            scope: d.scope,
        }
    }

    fn applies(&self, model: &str, team: Option<i64>) -> bool {
        self.scope
            .models
            .as_ref()
            .is_none_or(|models| models.iter().any(|m| m == model))
            && self
                .scope
                .teams
                .as_ref()
                .is_none_or(|teams| team.is_some_and(|t| teams.contains(&t)))
    }

    fn matches(&self, text: &str) -> bool {
        match &self.test {
            Compiled::Larger(max) => u64::try_from(text.len()).unwrap_or(u64::MAX) > *max,
            Compiled::Matches(re) => re.is_match(text),
            Compiled::Broken => true,
        }
    }
}

/// Checks that a rule can be saved: its expressions compile within [`SAVE_LIMIT`], and none
/// matches empty text (it would match every request).
///
/// # Errors
/// [`Error::Validation`] on `patterns`, naming the line and character where an expression goes
/// wrong.
pub fn check(test: &Test) -> Result<(), Error> {
    if let Test::Pattern(patterns) = test {
        for (n, pattern) in patterns.iter().enumerate() {
            syntax(n + 1, pattern)?;
            let re = build(pattern, SAVE_LIMIT).map_err(|e| too_large(Some(n + 1), &e))?;
            if re.is_match("") {
                return Err(Error::validation(
                    "patterns",
                    format!(
                        "Line {}: this expression matches empty text, so it would match every request.",
                        n + 1
                    ),
                ));
            }
        }
    }
    compile(test, SAVE_LIMIT).map(|_| ())
}

fn compile(test: &Test, limit: usize) -> Result<Compiled, Error> {
    let expression = match test {
        Test::PromptSize { max_bytes } => return Ok(Compiled::Larger(*max_bytes)),
        Test::Terms(terms) => {
            let words: Vec<String> = terms.iter().map(|t| term(t)).collect();
            format!("(?i)(?:{})", words.join("|"))
        }
        Test::Pattern(patterns) => patterns
            .iter()
            .map(|p| format!("(?:{p})"))
            .collect::<Vec<_>>()
            .join("|"),
    };
    build(&expression, limit)
        .map(Compiled::Matches)
        .map_err(|e| too_large(None, &e))
}

/// A term as an expression: itself, literally but for white space (any run of it), bounded by
/// word edges where it starts or ends with a letter or digit (so `pass` does not match
/// `passage`, and `sk-` still matches `sk-abc`).
fn term(term: &str) -> String {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let (start, end) = (edge(term.chars().next()), edge(term.chars().last()));
    let words: Vec<String> = term.split_whitespace().map(regex::escape).collect();
    format!(
        "{}{}{}",
        if start { r"\b" } else { "" },
        words.join(r"\s+"),
        if end { r"\b" } else { "" }
    )
}

fn build(expression: &str, limit: usize) -> Result<Regex, regex::Error> {
    RegexBuilder::new(expression)
        .size_limit(limit)
        .dfa_size_limit(limit)
        .build()
}

/// Where an expression's syntax goes wrong, as a person counts: its line and character.
fn syntax(line: usize, pattern: &str) -> Result<(), Error> {
    let error = match regex_syntax::ParserBuilder::new().build().parse(pattern) {
        Ok(_) => return Ok(()),
        Err(e) => e,
    };
    let (column, what) = match &error {
        regex_syntax::Error::Parse(e) => (e.span().start.column, e.kind().to_string()),
        regex_syntax::Error::Translate(e) => (e.span().start.column, e.kind().to_string()),
        _ => (1, error.to_string()),
    };
    Err(Error::validation(
        "patterns",
        format!("Line {line}, character {column}: {what}."),
    ))
}

fn too_large(line: Option<usize>, error: &regex::Error) -> Error {
    let which = line.map(|l| format!("Line {l}: ")).unwrap_or_default();
    let message = match error {
        regex::Error::CompiledTooBig(limit) => format!(
            "{which}the expressions are too large once compiled (over {} KiB): make them simpler or split them over several rules.",
            limit / 1024
        ),
        other => format!("{which}{other}"),
    };
    Error::validation("patterns", message)
}

/// What the rules say of one request.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Verdict<'a> {
    /// The blocking rule that matched, if any (then no logging rule is looked at).
    pub blocked: Option<&'a Rule>,
    /// The logging rules that matched.
    pub logged: Vec<i64>,
}

impl PartialEq for Rule {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for Rule {}

/// The enabled rules, blocking ones first.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
}

impl RuleSet {
    pub fn new(mut rules: Vec<Rule>) -> Self {
        rules.sort_by_key(|r| r.enforcement != Enforcement::Block);
        RuleSet { rules }
    }

    /// Compiles `definitions`, reusing what `previous` compiled for rules unchanged since. A
    /// rule that no longer compiles is logged; a blocking one then refuses everything in its
    /// scope, a logging one is left out.
    pub fn build(definitions: Vec<Definition>, previous: &RuleSet) -> Self {
        let compiled: HashMap<(i64, DateTime<Utc>), &Compiled> = previous
            .rules
            .iter()
            .map(|r| ((r.id, r.changed_at), &r.test))
            .collect();
        let mut rules = Vec::with_capacity(definitions.len());
        for d in definitions {
            if let Some(test) = compiled.get(&(d.id, d.changed_at)) {
                let test = (*test).clone();
                rules.push(Rule::with(d, test));
                continue;
            }
            match compile(&d.test, LOAD_LIMIT) {
                Ok(test) => rules.push(Rule::with(d, test)),
                Err(e) if d.enforcement == Enforcement::Block => {
                    tracing::error!(guardrail = %d.name, "guardrail does not compile, so it blocks every request it applies to: {e}");
                    rules.push(Rule::with(d, Compiled::Broken));
                }
                Err(e) => tracing::error!(guardrail = %d.name, "guardrail left out: {e}"),
            }
        }
        RuleSet::new(rules)
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether any rule applies to a request for `model` by a key of `team` (when none does,
    /// the request's text need not be read).
    pub fn applies(&self, model: &str, team: Option<i64>) -> bool {
        self.rules.iter().any(|r| r.applies(model, team))
    }

    /// Checks a request for `model` by a key of `team`, whose text is `text`.
    pub fn check(&self, model: &str, team: Option<i64>, text: &str) -> Verdict<'_> {
        let mut verdict = Verdict::default();
        for rule in self.rules.iter().filter(|r| r.applies(model, team)) {
            if !rule.matches(text) {
                continue;
            }
            match rule.enforcement {
                Enforcement::Block => {
                    verdict.blocked = Some(rule);
                    return verdict;
                }
                Enforcement::Log => verdict.logged.push(rule.id),
            }
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(id: i64, test: Test, enforcement: Enforcement) -> Definition {
        Definition {
            id,
            name: format!("rule {id}"),
            changed_at: DateTime::UNIX_EPOCH,
            test,
            scope: Scope::default(),
            enforcement,
        }
    }

    fn rule(id: i64, test: Test, enforcement: Enforcement) -> Rule {
        Rule::new(definition(id, test, enforcement)).unwrap()
    }

    fn terms(list: &[&str]) -> Test {
        Test::Terms(list.iter().map(|t| (*t).to_owned()).collect())
    }

    fn patterns(list: &[&str]) -> Test {
        Test::Pattern(list.iter().map(|t| (*t).to_owned()).collect())
    }

    fn refused(test: &Test) -> String {
        match check(test) {
            Err(Error::Validation { field, message }) if field == "patterns" => message,
            other => panic!("expected a patterns error, got {other:?}"),
        }
    }

    #[test]
    fn terms_match_whole_words_in_any_case_and_any_spacing() {
        let set = RuleSet::new(vec![rule(
            1,
            terms(&["password", "sk-", "Project Falcon"]),
            Enforcement::Block,
        )]);
        let blocked = |text: &str| set.check("m", None, text).blocked.is_some();
        assert!(blocked("What is my PASSWORD?"));
        assert!(blocked("here: sk-abc123"));
        assert!(blocked("Summarise the project falcon plan"));
        assert!(blocked("Summarise the project\n  FALCON plan"));
        assert!(!blocked("Passwords are hashed"));
        assert!(!blocked("Write a passage"));
        assert!(!blocked("project falcons"));
    }

    #[test]
    fn expressions_match_as_written_and_bad_ones_say_where() {
        let cards = patterns(&[
            r"\b\d{4}[ -]?\d{4}[ -]?\d{4}[ -]?\d{4}\b",
            "(?i)ignore previous",
        ]);
        check(&cards).unwrap();
        let set = RuleSet::new(vec![rule(1, cards, Enforcement::Block)]);
        assert!(
            set.check("m", None, "card 4111 1111 1111 1111 please")
                .blocked
                .is_some()
        );
        assert!(
            set.check("m", None, "IGNORE PREVIOUS instructions")
                .blocked
                .is_some()
        );
        assert!(set.check("m", None, "call 555 1234").blocked.is_none());

        assert_eq!(
            refused(&patterns(&["fine", "(abc"])),
            "Line 2, character 1: unclosed group."
        );
        let range = refused(&patterns(&["x[z-a]"]));
        assert!(range.starts_with("Line 1, character 3:"), "{range}");
        let huge = refused(&patterns(&[r"\w{200}\w{200}"]));
        assert!(huge.contains("too large"), "{huge}");
        let empty = refused(&patterns(&["a|"]));
        assert!(empty.contains("matches empty text"), "{empty}");
    }

    #[test]
    fn prompt_size_counts_the_bytes_of_the_text() {
        let set = RuleSet::new(vec![rule(
            1,
            Test::PromptSize { max_bytes: 10 },
            Enforcement::Block,
        )]);
        assert!(set.check("m", None, "1234567890").blocked.is_none());
        assert!(set.check("m", None, "12345678901").blocked.is_some());
    }

    #[test]
    fn blocking_rules_win_and_logging_ones_are_all_counted() {
        let set = RuleSet::new(vec![
            rule(1, terms(&["alpha"]), Enforcement::Log),
            rule(2, terms(&["beta"]), Enforcement::Log),
            rule(3, terms(&["gamma"]), Enforcement::Block),
        ]);
        let both = set.check("m", None, "alpha\nbeta");
        assert_eq!((both.blocked, both.logged), (None, vec![1, 2]));
        let blocked = set.check("m", None, "alpha gamma");
        assert_eq!(blocked.blocked.map(|r| r.id), Some(3));
        assert!(blocked.logged.is_empty());
    }

    #[test]
    fn rules_apply_to_their_models_and_teams_only() {
        let scoped = Definition {
            scope: Scope {
                models: Some(vec!["gpt-4o".into()]),
                teams: Some(vec![7]),
            },
            ..definition(1, terms(&["secret"]), Enforcement::Block)
        };
        let nobody = Definition {
            scope: Scope {
                models: None,
                teams: Some(Vec::new()),
            },
            ..definition(2, terms(&["secret"]), Enforcement::Block)
        };
        let set = RuleSet::build(vec![scoped, nobody], &RuleSet::default());
        let blocked = |model: &str, team: Option<i64>| {
            set.check(model, team, "a secret").blocked.map(|r| r.id)
        };
        assert_eq!(blocked("gpt-4o", Some(7)), Some(1));
        assert_eq!(blocked("gpt-4o", Some(8)), None);
        assert_eq!(blocked("gpt-4o", None), None);
        assert_eq!(blocked("mini", Some(7)), None);
        assert!(set.applies("gpt-4o", Some(7)));
        assert!(!set.applies("mini", Some(7)));
    }

    #[test]
    fn a_blocking_rule_that_no_longer_compiles_blocks_and_a_logging_one_goes() {
        let broken = patterns(&["(unclosed"]);
        let set = RuleSet::build(
            vec![
                definition(1, broken.clone(), Enforcement::Block),
                definition(2, broken, Enforcement::Log),
            ],
            &RuleSet::default(),
        );
        assert_eq!(set.len(), 1);
        assert_eq!(
            set.check("m", None, "anything").blocked.map(|r| r.id),
            Some(1)
        );
    }
}

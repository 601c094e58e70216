//! The permission table in `docs/architecture.md` is what `Actor::can` decides, not a copy kept
//! by hand: each row is a situation, each cell is `can` asked for it by an active actor of that
//! column's role. When a rule changes, this test fails and prints the table as it now is;
//! `TOLLGATE_BLESS=1 cargo test -p domain --test permission_table` writes it into the document.

use domain::permission::{Action, Actor, Subject};
use domain::{Role, Status, TeamId, UserId};

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/architecture.md");
const START: &str = "<!-- permission-table:start -->";
const END: &str = "<!-- permission-table:end -->";

const ROLES: [Role; 4] = [Role::Owner, Role::Admin, Role::Member, Role::Viewer];
const ME: UserId = UserId(1);
const OTHER: UserId = UserId(2);
const MY_TEAM: Option<TeamId> = Some(TeamId(1));
const OTHER_TEAM: Option<TeamId> = Some(TeamId(2));

fn someone(role: Role, status: Status) -> Subject {
    Subject {
        id: OTHER,
        role,
        status,
        is_last_active_owner: false,
    }
}

fn active(role: Role) -> Subject {
    someone(role, Status::Active)
}

/// Each row: what is asked, and the actions it stands for (asked by an actor whose id is `ME`).
/// A row's actions must all be decided alike for every role, or the row would hide a rule.
fn rows() -> Vec<(&'static str, Vec<Action>)> {
    let last_owner = Subject {
        is_last_active_owner: true,
        ..active(Role::Owner)
    };
    let me = Subject {
        id: ME,
        ..active(Role::Member)
    };
    let acts_on = |target: Subject| {
        vec![
            Action::Suspend { target },
            Action::Delete { target },
            Action::Reactivate {
                target: Subject {
                    status: Status::Suspended,
                    ..target
                },
            },
        ]
    };
    let invite = |role| Action::ManageInvite {
        target: someone(role, Status::Invited),
    };
    vec![
        (
            "Read users, teams, keys (prefixes), usage",
            vec![Action::Read],
        ),
        (
            "Invite an Admin, Member or Viewer",
            vec![Role::Admin, Role::Member, Role::Viewer]
                .into_iter()
                .map(|role| Action::Invite { role })
                .collect(),
        ),
        (
            "Invite an Owner",
            vec![Action::Invite { role: Role::Owner }],
        ),
        (
            "Resend or revoke a Member's or Viewer's invite",
            vec![invite(Role::Member), invite(Role::Viewer)],
        ),
        (
            "Resend or revoke an Admin's invite",
            vec![invite(Role::Admin)],
        ),
        (
            "Change someone else's role",
            vec![
                Action::ChangeRole {
                    target: active(Role::Member),
                    to: Role::Admin,
                },
                Action::ChangeRole {
                    target: active(Role::Admin),
                    to: Role::Viewer,
                },
            ],
        ),
        (
            "Suspend, reactivate or delete a Member or Viewer",
            [acts_on(active(Role::Member)), acts_on(active(Role::Viewer))].concat(),
        ),
        (
            "Suspend, reactivate or delete an Admin",
            acts_on(active(Role::Admin)),
        ),
        (
            "Suspend, reactivate or delete an Owner (not the last)",
            acts_on(active(Role::Owner)),
        ),
        (
            "Demote, suspend or delete the last active Owner",
            vec![
                Action::ChangeRole {
                    target: last_owner,
                    to: Role::Admin,
                },
                Action::Suspend { target: last_owner },
                Action::Delete { target: last_owner },
            ],
        ),
        (
            "Change one's own role, suspend or delete oneself",
            vec![
                Action::ChangeRole {
                    target: me,
                    to: Role::Viewer,
                },
                Action::Suspend { target: me },
                Action::Delete { target: me },
            ],
        ),
        (
            "Create, edit, delete teams; set their limits",
            vec![Action::ManageTeams],
        ),
        (
            "Move a Member or Viewer between teams; set their own monthly budget",
            vec![
                Action::AssignTeam {
                    target: active(Role::Member),
                },
                Action::AssignTeam {
                    target: active(Role::Viewer),
                },
                Action::SetMemberBudget {
                    target: active(Role::Member),
                },
                Action::SetMemberBudget {
                    target: active(Role::Viewer),
                },
            ],
        ),
        (
            "Move an Admin or Owner between teams; set their own monthly budget",
            vec![
                Action::AssignTeam {
                    target: active(Role::Admin),
                },
                Action::AssignTeam {
                    target: active(Role::Owner),
                },
                Action::SetMemberBudget {
                    target: active(Role::Admin),
                },
                Action::SetMemberBudget {
                    target: active(Role::Owner),
                },
            ],
        ),
        (
            "Issue a key into one's own team",
            vec![Action::IssueKey {
                own_team: MY_TEAM,
                into: MY_TEAM,
            }],
        ),
        (
            "Issue a key into another team, or none",
            vec![
                Action::IssueKey {
                    own_team: MY_TEAM,
                    into: OTHER_TEAM,
                },
                Action::IssueKey {
                    own_team: MY_TEAM,
                    into: None,
                },
            ],
        ),
        (
            "Issue a key while in no team",
            vec![Action::IssueKey {
                own_team: None,
                into: None,
            }],
        ),
        (
            "Call models with a key of one's own team",
            vec![Action::UseKey {
                own_team: MY_TEAM,
                key_team: MY_TEAM,
            }],
        ),
        (
            "Call models with a key of another team, or of none",
            vec![
                Action::UseKey {
                    own_team: MY_TEAM,
                    key_team: OTHER_TEAM,
                },
                Action::UseKey {
                    own_team: MY_TEAM,
                    key_team: None,
                },
            ],
        ),
        (
            "Revoke one's own key",
            vec![Action::RevokeKey { owner: Some(ME) }],
        ),
        (
            "Revoke someone else's key",
            vec![
                Action::RevokeKey { owner: Some(OTHER) },
                Action::RevokeKey { owner: None },
            ],
        ),
        (
            "Tighten the limits or models of one's own key",
            vec![Action::SetKeyLimits {
                owner: Some(ME),
                loosens: false,
            }],
        ),
        (
            "Loosen a key's limits, or set another's",
            vec![
                Action::SetKeyLimits {
                    owner: Some(ME),
                    loosens: true,
                },
                Action::SetKeyLimits {
                    owner: Some(OTHER),
                    loosens: false,
                },
            ],
        ),
        ("Read the audit log", vec![Action::ReadAudit]),
        (
            "Read every team's usage and refusals",
            vec![Action::ReadAllUsage],
        ),
        (
            "Read billing; set gateway-wide limits and alerts",
            vec![Action::ManageBilling],
        ),
        (
            "Configure providers, routes and guardrails",
            vec![Action::ConfigureGateway],
        ),
        (
            "Set up single sign-on; turn password sign-in off",
            vec![Action::ManageSso],
        ),
        (
            "Delete the access list (danger zone)",
            vec![Action::ResetAccessList],
        ),
    ]
}

fn actor(role: Role, status: Status) -> Actor {
    Actor {
        id: ME,
        role,
        status,
    }
}

/// Whether an active `role` may do everything `actions` holds; panics when the row's actions
/// are decided differently (the row would hide a rule).
fn cell(role: Role, label: &str, actions: &[Action]) -> bool {
    let actor = actor(role, Status::Active);
    let first = actor.can(actions[0]);
    for action in &actions[1..] {
        assert_eq!(
            actor.can(*action),
            first,
            "row \"{label}\" mixes decisions for {role:?}: {action:?}"
        );
    }
    first
}

/// The table as `Actor::can` decides it today, in Markdown.
fn rendered() -> String {
    let mut out = String::from("| Action | Owner | Admin | Member | Viewer |\n");
    out.push_str("|---|:-:|:-:|:-:|:-:|\n");
    for (label, actions) in rows() {
        out.push_str("| ");
        out.push_str(label);
        for role in ROLES {
            out.push_str(if cell(role, label, &actions) {
                " | ✓"
            } else {
                " | ✗"
            });
        }
        out.push_str(" |\n");
    }
    out
}

#[test]
fn the_documented_permission_table_is_what_the_code_decides() {
    let doc = std::fs::read_to_string(DOC).expect("docs/architecture.md is readable");
    let (before, rest) = doc
        .split_once(START)
        .expect("the start marker is in the document");
    let (documented, after) = rest
        .split_once(END)
        .expect("the end marker is in the document");
    let expected = format!("\n{}", rendered());
    if documented == expected {
        return;
    }
    if std::env::var_os("TOLLGATE_BLESS").is_some() {
        std::fs::write(DOC, format!("{before}{START}{expected}{END}{after}"))
            .expect("docs/architecture.md is writable");
        return;
    }
    panic!(
        "docs/architecture.md's permission table differs from what Actor::can decides.\n\
         Rerun with TOLLGATE_BLESS=1 to write this table into it:\n{expected}"
    );
}

#[test]
fn a_suspended_or_invited_actor_may_do_nothing() {
    for role in ROLES {
        for status in [Status::Suspended, Status::Invited] {
            let actor = actor(role, status);
            for (label, actions) in rows() {
                for action in actions {
                    assert!(!actor.can(action), "{role:?} {status:?}: {label}");
                }
            }
        }
    }
}

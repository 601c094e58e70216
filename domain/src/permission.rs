//! The one place where Tollgate decides who may do what. The permission table in
//! `docs/architecture.md` is produced from it (`domain/tests/permission_table.rs`).
//!
//! Services call [`Actor::require`] before they touch anything; the UI calls [`Actor::can`] with
//! the same arguments to decide what to show. Nothing else in the code base compares roles.

use crate::{Role, Status, TeamId, UserId};
use serde::{Deserialize, Serialize};

/// The signed-in person asking to do something. Read fresh from the database on every request,
/// so a role change or a suspension takes effect on the very next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: UserId,
    pub role: Role,
    pub status: Status,
}

/// The user an action is aimed at, with the one fact about the rest of the gateway that the
/// guards need: whether this user is the only active Owner left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    pub id: UserId,
    pub role: Role,
    pub status: Status,
    pub is_last_active_owner: bool,
}

/// Everything an actor can ask for that a rule covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read users, teams, key prefixes, usage and the audit log.
    Read,
    /// Invite a new user with this role.
    Invite {
        role: Role,
    },
    /// Resend or revoke the invite of this (invited) user.
    ManageInvite {
        target: Subject,
    },
    /// Give `target` the role `to`.
    ChangeRole {
        target: Subject,
        to: Role,
    },
    Suspend {
        target: Subject,
    },
    Reactivate {
        target: Subject,
    },
    Delete {
        target: Subject,
    },
    /// Create, edit or delete teams and set their limits.
    ManageTeams,
    /// Move `target` into a team, to another, or out of theirs: a team manager's, over people
    /// they outrank (an Admin never moves an Admin or Owner).
    AssignTeam {
        target: Subject,
    },
    /// Set `target`'s own monthly budget as a member of their team: a team manager's, over
    /// people they outrank (an Admin's budget is an Owner's to set).
    SetMemberBudget {
        target: Subject,
    },
    /// Issue or revoke one's own API keys.
    ManageOwnKeys,
    /// Issue an API key into team `into` (`None`: no team) while being in `own_team`.
    IssueKey {
        own_team: Option<TeamId>,
        into: Option<TeamId>,
    },
    /// Call models with a key of team `key_team` (`None`: no team) while being in `own_team`:
    /// decided at every use of a key, for its owner as they are now.
    UseKey {
        own_team: Option<TeamId>,
        key_team: Option<TeamId>,
    },
    /// Revoke a key owned by `owner` (`None`: its owner was deleted).
    RevokeKey {
        owner: Option<UserId>,
    },
    /// Revoke a key that belongs to someone else.
    RevokeAnyKey,
    /// Set the per-minute limits and models of a key owned by `owner`; `loosens` says whether
    /// the change lets the key do anything it may not do now (`rate_limits::loosens`).
    SetKeyLimits {
        owner: Option<UserId>,
        loosens: bool,
    },
    /// Delete every user but the acting Owner, every team and every key.
    ResetAccessList,
    /// Read the audit log.
    ReadAudit,
    /// Read every team's, person's and key's usage and refusals; without it, a reader sees
    /// their own team's figures and their own keys' refusals.
    ReadAllUsage,
    /// Read billing (statements, alerts) and set the gateway-wide limits and who is alerted.
    ManageBilling,
    /// Configure the gateway: add, change, test, disable or delete upstream providers, routes
    /// and guardrails (everyone reads the lists, never a key).
    ConfigureGateway,
    /// Read and change single sign-on: the identity provider, who it lets in, and whether
    /// passwords still sign in.
    ManageSso,
}

/// Why an action was refused. The message is shown to the person as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Denied {
    #[error("Your account is not active.")]
    InactiveActor,
    #[error("Your role does not allow this.")]
    RoleTooLow,
    #[error("Only Owners can change roles.")]
    OnlyOwnersChangeRoles,
    #[error("Invites can only be for Admin, Member or Viewer.")]
    InviteRole,
    #[error("You cannot change your own role.")]
    OwnRole,
    #[error("You cannot suspend yourself.")]
    SuspendSelf,
    #[error("You cannot delete yourself.")]
    DeleteSelf,
    #[error("Admins cannot act on Admins or Owners.")]
    Outranked,
    #[error("The last Owner cannot be demoted.")]
    LastOwnerDemoted,
    #[error("The last Owner cannot be suspended.")]
    LastOwnerSuspended,
    #[error("The last Owner cannot be deleted.")]
    LastOwnerDeleted,
    #[error("Only invited users have an invite to resend or revoke.")]
    NotInvited,
    #[error("This user is already suspended.")]
    AlreadySuspended,
    #[error("Only suspended users can be reactivated.")]
    NotSuspended,
    /// An invited user has no access to take away yet: revoke or delete the invite instead.
    #[error("Only active users can be suspended.")]
    NotActive,
    #[error(
        "You are not in a team yet, so you cannot issue a key. Ask an Owner or Admin to add you to one."
    )]
    NoTeamForKey,
    #[error("Members issue keys only within their own team.")]
    KeyOutsideOwnTeam,
    #[error("Viewers are read-only: their API keys do not work.")]
    ViewerKeys,
    #[error("Members use keys only within their own team.")]
    KeyOutsideOwnersTeam,
    #[error(
        "Members can only tighten the limits on their keys; ask an Owner or Admin to raise or remove one."
    )]
    LimitsOnlyTightened,
}

impl Actor {
    /// Whether the actor may take `action`; for deciding what the UI shows.
    pub fn can(&self, action: Action) -> bool {
        self.require(action).is_ok()
    }

    /// Decides `action` for this actor.
    ///
    /// # Errors
    /// [`Denied`] with the reason, when any rule or guard refuses it.
    pub fn require(&self, action: Action) -> Result<(), Denied> {
        if self.status != Status::Active {
            return Err(Denied::InactiveActor);
        }
        let at_least_admin = self.role.is_admin_or_owner();
        match action {
            Action::Read => Ok(()),
            Action::Invite { role } => {
                ensure(at_least_admin, Denied::RoleTooLow)?;
                ensure(role != Role::Owner, Denied::InviteRole)
            }
            Action::ManageInvite { target } => {
                ensure(at_least_admin, Denied::RoleTooLow)?;
                self.outranks(target)?;
                ensure(target.status == Status::Invited, Denied::NotInvited)
            }
            Action::ChangeRole { target, to } => {
                ensure(self.role == Role::Owner, Denied::OnlyOwnersChangeRoles)?;
                ensure(target.id != self.id, Denied::OwnRole)?;
                ensure(
                    !(target.is_last_active_owner && to != Role::Owner),
                    Denied::LastOwnerDemoted,
                )
            }
            Action::Suspend { target } => {
                ensure(at_least_admin, Denied::RoleTooLow)?;
                ensure(target.id != self.id, Denied::SuspendSelf)?;
                self.outranks(target)?;
                ensure(!target.is_last_active_owner, Denied::LastOwnerSuspended)?;
                ensure(target.status != Status::Suspended, Denied::AlreadySuspended)?;
                ensure(target.status == Status::Active, Denied::NotActive)
            }
            Action::Reactivate { target } => {
                ensure(at_least_admin, Denied::RoleTooLow)?;
                ensure(target.id != self.id, Denied::SuspendSelf)?;
                self.outranks(target)?;
                ensure(target.status == Status::Suspended, Denied::NotSuspended)
            }
            Action::Delete { target } => {
                ensure(at_least_admin, Denied::RoleTooLow)?;
                ensure(target.id != self.id, Denied::DeleteSelf)?;
                self.outranks(target)?;
                ensure(!target.is_last_active_owner, Denied::LastOwnerDeleted)
            }
            Action::ManageTeams
            | Action::RevokeAnyKey
            | Action::ReadAudit
            | Action::ConfigureGateway => ensure(at_least_admin, Denied::RoleTooLow),
            Action::AssignTeam { target } | Action::SetMemberBudget { target } => {
                ensure(at_least_admin, Denied::RoleTooLow)?;
                self.outranks(target)
            }
            Action::ManageOwnKeys => ensure(self.role != Role::Viewer, Denied::RoleTooLow),
            Action::IssueKey { own_team, into } => {
                self.require(Action::ManageOwnKeys)?;
                if at_least_admin {
                    return Ok(());
                }
                ensure(own_team.is_some(), Denied::NoTeamForKey)?;
                ensure(into == own_team, Denied::KeyOutsideOwnTeam)
            }
            Action::UseKey { own_team, key_team } => {
                ensure(self.role != Role::Viewer, Denied::ViewerKeys)?;
                if at_least_admin {
                    return Ok(());
                }
                ensure(
                    own_team.is_some() && key_team == own_team,
                    Denied::KeyOutsideOwnersTeam,
                )
            }
            Action::RevokeKey { owner } => {
                if owner == Some(self.id) {
                    self.require(Action::ManageOwnKeys)
                } else {
                    self.require(Action::RevokeAnyKey)
                }
            }
            Action::SetKeyLimits { owner, loosens } => {
                self.require(Action::RevokeKey { owner })?;
                ensure(!loosens || at_least_admin, Denied::LimitsOnlyTightened)
            }
            Action::ResetAccessList => ensure(self.role == Role::Owner, Denied::RoleTooLow),
            Action::ReadAllUsage => ensure(self.role != Role::Member, Denied::RoleTooLow),
            Action::ManageBilling | Action::ManageSso => {
                ensure(self.role == Role::Owner, Denied::RoleTooLow)
            }
        }
    }

    /// An Admin never acts on an Admin or Owner; an Owner acts on anyone.
    fn outranks(&self, target: Subject) -> Result<(), Denied> {
        ensure(
            self.role == Role::Owner || !target.role.is_admin_or_owner(),
            Denied::Outranked,
        )
    }
}

fn ensure(ok: bool, denied: Denied) -> Result<(), Denied> {
    if ok { Ok(()) } else { Err(denied) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::{Admin, Member, Owner, Viewer};

    const ME: UserId = UserId(1);
    const OTHER: UserId = UserId(2);

    fn actor(role: Role) -> Actor {
        Actor {
            id: ME,
            role,
            status: Status::Active,
        }
    }

    fn other(role: Role) -> Subject {
        Subject {
            id: OTHER,
            role,
            status: Status::Active,
            is_last_active_owner: false,
        }
    }

    fn with_status(mut s: Subject, status: Status) -> Subject {
        s.status = status;
        s
    }

    /// Who may act on a user of each role, for the actions that share the "Admin never acts on
    /// an Admin or Owner" rule: (actor, target) → allowed.
    fn outranking_allowed(actor: Role, target: Role) -> bool {
        match actor {
            Owner => true,
            Admin => matches!(target, Member | Viewer),
            Member | Viewer => false,
        }
    }

    #[test]
    fn every_role_reads() {
        for role in Role::ALL {
            assert!(actor(role).can(Action::Read), "{role} reads");
        }
    }

    #[test]
    fn invite_table() {
        for a in Role::ALL {
            for invited in Role::ALL {
                let expected = a.is_admin_or_owner() && invited != Owner;
                assert_eq!(
                    actor(a).can(Action::Invite { role: invited }),
                    expected,
                    "{a} invites {invited}"
                );
            }
        }
        assert_eq!(
            actor(Owner).require(Action::Invite { role: Owner }),
            Err(Denied::InviteRole)
        );
        assert_eq!(
            actor(Member).require(Action::Invite { role: Viewer }),
            Err(Denied::RoleTooLow)
        );
    }

    #[test]
    fn change_role_table_only_owners_and_never_self() {
        for a in Role::ALL {
            for t in Role::ALL {
                for to in Role::ALL {
                    let got = actor(a).can(Action::ChangeRole {
                        target: other(t),
                        to,
                    });
                    assert_eq!(got, a == Owner, "{a} changes {t} to {to}");
                }
            }
        }
        let me = Subject {
            id: ME,
            ..other(Owner)
        };
        assert_eq!(
            actor(Owner).require(Action::ChangeRole {
                target: me,
                to: Admin
            }),
            Err(Denied::OwnRole)
        );
    }

    #[test]
    fn suspend_reactivate_delete_moves_and_invites_follow_the_outranking_rule() {
        for a in Role::ALL {
            for t in Role::ALL {
                let expected = outranking_allowed(a, t);
                let active = other(t);
                let suspended = with_status(other(t), Status::Suspended);
                let invited = with_status(other(t), Status::Invited);
                assert_eq!(
                    actor(a).can(Action::Suspend { target: active }),
                    expected,
                    "{a} suspends {t}"
                );
                assert_eq!(
                    actor(a).can(Action::Reactivate { target: suspended }),
                    expected,
                    "{a} reactivates {t}"
                );
                assert_eq!(
                    actor(a).can(Action::Delete { target: active }),
                    expected,
                    "{a} deletes {t}"
                );
                assert_eq!(
                    actor(a).can(Action::AssignTeam { target: active }),
                    expected,
                    "{a} moves {t} between teams"
                );
                assert_eq!(
                    actor(a).can(Action::Delete { target: invited }),
                    expected,
                    "{a} deletes invited {t}"
                );
                assert_eq!(
                    actor(a).can(Action::ManageInvite { target: invited }),
                    expected,
                    "{a} resends to {t}"
                );
            }
        }
        assert_eq!(
            actor(Admin).require(Action::Delete {
                target: other(Admin)
            }),
            Err(Denied::Outranked)
        );
    }

    #[test]
    fn status_preconditions() {
        let owner = actor(Owner);
        assert_eq!(
            owner.require(Action::Suspend {
                target: with_status(other(Member), Status::Suspended)
            }),
            Err(Denied::AlreadySuspended)
        );
        assert_eq!(
            owner.require(Action::Suspend {
                target: with_status(other(Member), Status::Invited)
            }),
            Err(Denied::NotActive)
        );
        assert_eq!(
            owner.require(Action::Reactivate {
                target: other(Member)
            }),
            Err(Denied::NotSuspended)
        );
        assert_eq!(
            owner.require(Action::ManageInvite {
                target: other(Member)
            }),
            Err(Denied::NotInvited)
        );
    }

    #[test]
    fn nobody_suspends_or_deletes_themselves() {
        for a in [Owner, Admin] {
            let me = Subject { id: ME, ..other(a) };
            assert_eq!(
                actor(a).require(Action::Suspend { target: me }),
                Err(Denied::SuspendSelf)
            );
            assert_eq!(
                actor(a).require(Action::Delete { target: me }),
                Err(Denied::DeleteSelf)
            );
        }
    }

    #[test]
    fn the_last_active_owner_stays() {
        let last = Subject {
            is_last_active_owner: true,
            ..other(Owner)
        };
        let owner = actor(Owner);
        for to in [Admin, Member, Viewer] {
            assert_eq!(
                owner.require(Action::ChangeRole { target: last, to }),
                Err(Denied::LastOwnerDemoted)
            );
        }
        assert!(owner.can(Action::ChangeRole {
            target: last,
            to: Owner
        }));
        assert_eq!(
            owner.require(Action::Suspend { target: last }),
            Err(Denied::LastOwnerSuspended)
        );
        assert_eq!(
            owner.require(Action::Delete { target: last }),
            Err(Denied::LastOwnerDeleted)
        );
    }

    #[test]
    fn team_key_and_reset_rights() {
        for a in Role::ALL {
            assert_eq!(
                actor(a).can(Action::ManageTeams),
                a.is_admin_or_owner(),
                "{a} teams"
            );
            assert_eq!(
                actor(a).can(Action::RevokeAnyKey),
                a.is_admin_or_owner(),
                "{a} revokes any key"
            );
            assert_eq!(
                actor(a).can(Action::ManageOwnKeys),
                a != Viewer,
                "{a} own keys"
            );
            let (mine, other) = (Some(TeamId(1)), Some(TeamId(2)));
            let issue = |own_team, into| actor(a).require(Action::IssueKey { own_team, into });
            match a {
                Owner | Admin => {
                    for (own, into) in [(None, None), (None, other), (mine, other), (mine, None)] {
                        assert_eq!(issue(own, into), Ok(()), "{a} issues anywhere");
                    }
                }
                Member => {
                    assert_eq!(issue(mine, mine), Ok(()));
                    assert_eq!(issue(mine, other), Err(Denied::KeyOutsideOwnTeam));
                    assert_eq!(issue(mine, None), Err(Denied::KeyOutsideOwnTeam));
                    assert_eq!(issue(None, None), Err(Denied::NoTeamForKey));
                }
                Viewer => assert_eq!(issue(mine, mine), Err(Denied::RoleTooLow)),
            }
            let me = actor(a).id;
            assert_eq!(
                actor(a).can(Action::RevokeKey { owner: Some(me) }),
                a != Viewer,
                "{a} revokes own key"
            );
            assert_eq!(
                actor(a).can(Action::RevokeKey {
                    owner: Some(UserId(me.0 + 1))
                }),
                a.is_admin_or_owner(),
                "{a} revokes another's key"
            );
            assert_eq!(
                actor(a).can(Action::ResetAccessList),
                a == Owner,
                "{a} resets"
            );
            assert_eq!(
                actor(a).can(Action::ManageBilling),
                a == Owner,
                "{a} manages billing"
            );
        }
    }

    #[test]
    fn keys_work_only_as_their_owners_role_and_team_allow() {
        let (mine, other) = (Some(TeamId(1)), Some(TeamId(2)));
        for a in Role::ALL {
            let uses = |own_team, key_team| actor(a).require(Action::UseKey { own_team, key_team });
            match a {
                Owner | Admin => {
                    for (own, key) in [(None, None), (None, other), (mine, other), (mine, None)] {
                        assert_eq!(uses(own, key), Ok(()), "{a} uses any key");
                    }
                }
                Member => {
                    assert_eq!(uses(mine, mine), Ok(()));
                    for (own, key) in [(mine, other), (mine, None), (None, None), (None, mine)] {
                        assert_eq!(
                            uses(own, key),
                            Err(Denied::KeyOutsideOwnersTeam),
                            "a Member in {own:?} uses a key of {key:?}"
                        );
                    }
                }
                Viewer => {
                    for (own, key) in [(mine, mine), (None, None)] {
                        assert_eq!(uses(own, key), Err(Denied::ViewerKeys));
                    }
                }
            }
        }
        let suspended = Actor {
            status: Status::Suspended,
            ..actor(Owner)
        };
        assert_eq!(
            suspended.require(Action::UseKey {
                own_team: None,
                key_team: None
            }),
            Err(Denied::InactiveActor)
        );
    }

    #[test]
    fn an_inactive_actor_can_do_nothing() {
        for status in [Status::Invited, Status::Suspended] {
            let a = Actor {
                status,
                ..actor(Owner)
            };
            assert_eq!(a.require(Action::Read), Err(Denied::InactiveActor));
            assert_eq!(a.require(Action::ManageTeams), Err(Denied::InactiveActor));
        }
    }
}

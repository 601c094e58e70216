//! Single sign-on: the settings are an Owner's, checked field by field, the client secret sealed
//! and never shown again, audited without it; passwords can be turned off only by an Owner who
//! has signed in with the provider, and then neither sign in nor accept invites; the environment
//! may own the settings; and each single sign-on is decided as the sign-in page says it.

use crate::support::{PASSWORD, actor, add_user, databases};
use chrono::{Duration, Utc};
use domain::db::DatabaseConnection;
use domain::entity::{audit_entry, invite, session as session_row, sso_setting, team, user};
use domain::sealing::{DataKey, Purpose, Sealer};
use domain::secret::Secret;
use domain::service::invites::{self, InviteInput};
use domain::service::session::{self, SessionPolicy};
use domain::service::sign_in::{self as password, SignedIn};
use domain::service::sso::sign_in::{self as sso_sign_in, Identity};
use domain::service::sso::{self, PASSWORD_OFF};
use domain::sso::{Refusal, SignInOptions, SsoInput};
use domain::{Actor, Error, Role, Status, TeamId, UserId};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

const ISSUER: &str = "https://login.example.com/realms/main";
const PUBLIC_URL: &str = "https://gateway.example.com";
const SECRET: &str = "client-secret-7c1e9a4f";
/// Where every single sign-on in these tests comes from.
const ADDR: &str = "10.0.0.1";
/// The context `service::sso` seals the client secret in (its private `SEAL_CONTEXT`).
const SEAL_CONTEXT: &str = "sso";

fn sealer() -> Sealer {
    Sealer::new(DataKey::generate(), None)
}

/// A valid settings form: Keycloak at [`ISSUER`], nobody new let in, passwords still on.
fn form() -> SsoInput {
    SsoInput {
        issuer: ISSUER.into(),
        client_id: "tollgate".into(),
        label: "Keycloak".into(),
        new_people: "refuse".into(),
        password_sign_in: true,
        ..Default::default()
    }
}

/// Someone [`ISSUER`] vouches for, with a verified email and no groups.
fn identity(subject: &str, email: &str) -> Identity {
    Identity {
        issuer: ISSUER.into(),
        subject: subject.into(),
        email: Some(email.into()),
        email_verified: true,
        name: None,
        groups: Vec::new(),
    }
}

fn groups(names: &[&str]) -> Vec<String> {
    names.iter().map(|g| (*g).to_owned()).collect()
}

async fn owner(db: &DatabaseConnection) -> Actor {
    actor(
        add_user(db, "owner@example.com", Role::Owner, Status::Active).await,
        Role::Owner,
    )
}

/// Saves `input` as `owner`, which must succeed.
async fn turn_on(db: &DatabaseConnection, owner: &Actor, input: SsoInput) {
    sso::save(db, owner, &input, &sealer())
        .await
        .unwrap_or_else(|e| panic!("saving {input:?}: {e:?}"));
}

async fn add_team(db: &DatabaseConnection, name: &str) -> TeamId {
    let t = team::ActiveModel {
        name: Set(name.into()),
        name_normalized: Set(name.to_lowercase()),
        description: Set(String::new()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    TeamId(t.id)
}

/// The single sign-on settings row, if single sign-on is on.
async fn stored(db: &DatabaseConnection) -> Option<sso_setting::Model> {
    sso_setting::Entity::find_by_id(sso_setting::ROW)
        .one(db)
        .await
        .unwrap()
}

async fn user_row(db: &DatabaseConnection, id: UserId) -> user::Model {
    user::Entity::find_by_id(id.0)
        .one(db)
        .await
        .unwrap()
        .expect("the user exists")
}

async fn users(db: &DatabaseConnection) -> u64 {
    user::Entity::find().count(db).await.unwrap()
}

async fn sessions(db: &DatabaseConnection) -> u64 {
    session_row::Entity::find().count(db).await.unwrap()
}

/// The audit entries of `action`, oldest first.
async fn audit_of(db: &DatabaseConnection, action: &str) -> Vec<audit_entry::Model> {
    audit_entry::Entity::find()
        .filter(audit_entry::Column::Action.eq(action))
        .order_by_asc(audit_entry::Column::Id)
        .all(db)
        .await
        .unwrap()
}

/// Signs `who` in with single sign-on, which must succeed.
async fn signed(db: &DatabaseConnection, who: &Identity) -> SignedIn {
    match sso_sign_in::sign_in(db, who, ADDR, SessionPolicy::default())
        .await
        .unwrap()
    {
        Ok(signed) => signed,
        Err(refusal) => panic!("{} ({:?}) was refused: {refusal:?}", who.subject, who.email),
    }
}

/// Why single sign-on refuses `who`; panics when it signs them in.
async fn refused(db: &DatabaseConnection, who: &Identity) -> Refusal {
    match sso_sign_in::sign_in(db, who, ADDR, SessionPolicy::default())
        .await
        .unwrap()
    {
        Err(refusal) => refusal,
        Ok(signed) => panic!("{} was signed in as {:?}", who.subject, signed.user),
    }
}

fn field_of(err: &Error) -> &str {
    match err {
        Error::Validation { field, .. } => field.as_str(),
        other => panic!("expected a field error, got {other:?}"),
    }
}

#[track_caller]
fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, Error>, context: &str) {
    assert!(
        matches!(result, Err(Error::Forbidden(_))),
        "{context}: {result:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Settings
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn only_owners_view_save_or_turn_off_the_settings() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        let sealer = sealer();
        sso::save(&t.db, &boss, &form(), &sealer).await.unwrap();
        for (email, role) in [
            ("admin@example.com", Role::Admin),
            ("member@example.com", Role::Member),
            ("viewer@example.com", Role::Viewer),
        ] {
            let who = actor(add_user(&t.db, email, role, Status::Active).await, role);
            let context = format!("{}: {role:?}", t.kind);
            assert_forbidden(sso::view(&t.db, &who, PUBLIC_URL).await, &context);
            let hijack = SsoInput {
                label: "Hijacked".into(),
                ..form()
            };
            assert_forbidden(sso::save(&t.db, &who, &hijack, &sealer).await, &context);
            assert_forbidden(sso::turn_off(&t.db, &who).await, &context);
        }

        let view = sso::view(&t.db, &boss, PUBLIC_URL).await.unwrap();
        let settings = view.settings.expect("still on");
        assert_eq!(settings.label, "Keycloak", "{}", t.kind);
        assert_eq!(settings.issuer, ISSUER);
        assert!(!view.has_secret, "no secret was typed");
        assert!(!view.from_env);
        assert!(!view.signed_in_with_it);
        assert_eq!(view.redirect_uri, format!("{PUBLIC_URL}/auth/sso/callback"));
        assert_eq!(audit_of(&t.db, "sso.settings").await.len(), 1, "{}", t.kind);
        assert!(audit_of(&t.db, "sso.off").await.is_empty());
        t.finish().await;
    }
}

#[tokio::test]
async fn a_bad_field_is_named_and_nothing_is_saved() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        let sealer = sealer();
        let first = SsoInput {
            client_secret: SECRET.into(),
            ..form()
        };
        let saved = sso::save(&t.db, &boss, &first, &sealer).await.unwrap();
        let before = stored(&t.db).await.expect("saved");

        let cases = [
            (
                SsoInput {
                    groups_claim: "groups".into(),
                    group_roles: "owners = Owner".into(),
                    ..form()
                },
                "group_roles",
            ),
            (
                SsoInput {
                    issuer: "http://login.example.com/realms/main".into(),
                    ..form()
                },
                "issuer",
            ),
            (
                SsoInput {
                    new_people: "member".into(),
                    new_people_team: "987654".into(),
                    ..form()
                },
                "new_people_team",
            ),
            (
                SsoInput {
                    label: String::new(),
                    client_secret: "another-secret".into(),
                    ..form()
                },
                "label",
            ),
        ];
        for (bad, expected) in cases {
            let err = sso::save(&t.db, &boss, &bad, &sealer).await.unwrap_err();
            assert_eq!(field_of(&err), expected, "{}: {bad:?}", t.kind);
        }

        assert_eq!(stored(&t.db).await, Some(before), "{}", t.kind);
        let view = sso::view(&t.db, &boss, PUBLIC_URL).await.unwrap();
        assert_eq!(view.settings, Some(saved), "{}", t.kind);
        assert_eq!(audit_of(&t.db, "sso.settings").await.len(), 1, "{}", t.kind);
        t.finish().await;
    }
}

#[tokio::test]
async fn the_client_secret_is_sealed_kept_and_never_shown() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        let sealer = sealer();
        let with_secret = SsoInput {
            client_secret: SECRET.into(),
            ..form()
        };
        sso::save(&t.db, &boss, &with_secret, &sealer)
            .await
            .unwrap();

        let sealed = stored(&t.db)
            .await
            .unwrap()
            .client_secret_sealed
            .expect("a secret is stored");
        assert_ne!(sealed, SECRET, "{}", t.kind);
        assert!(!sealed.contains(SECRET), "{}: {sealed}", t.kind);
        let opened = sealer
            .open(Purpose::SsoClientSecret, SEAL_CONTEXT, &sealed)
            .unwrap();
        assert_eq!(opened.secret.expose(), SECRET);
        // The sign-in path opens it; a database moved without its key does not.
        let client = sso::client(&t.db, &sealer).await.unwrap().expect("on");
        assert_eq!(client.secret.as_ref().map(Secret::expose), Some(SECRET));
        let stranger = Sealer::new(DataKey::generate(), None);
        assert!(sso::client(&t.db, &stranger).await.is_err(), "{}", t.kind);

        // A later save with the secret left blank keeps it.
        let relabelled = SsoInput {
            label: "Okta".into(),
            ..form()
        };
        sso::save(&t.db, &boss, &relabelled, &sealer).await.unwrap();
        let row = stored(&t.db).await.unwrap();
        assert_eq!(row.label, "Okta", "{}", t.kind);
        assert_eq!(row.client_secret_sealed.as_deref(), Some(sealed.as_str()));
        let view = sso::view(&t.db, &boss, PUBLIC_URL).await.unwrap();
        assert!(view.has_secret, "{}", t.kind);
        assert!(!format!("{view:?}").contains(SECRET), "{}", t.kind);

        // A new secret replaces it.
        let replaced = SsoInput {
            client_secret: "the-rotated-secret".into(),
            ..relabelled.clone()
        };
        sso::save(&t.db, &boss, &replaced, &sealer).await.unwrap();
        let client = sso::client(&t.db, &sealer).await.unwrap().unwrap();
        assert_eq!(
            client.secret.as_ref().map(Secret::expose),
            Some("the-rotated-secret"),
            "{}",
            t.kind
        );

        // Audited: the first save and the last replaced the secret, the middle one did not.
        let entries = audit_of(&t.db, "sso.settings").await;
        assert_eq!(entries.len(), 3, "{}", t.kind);
        assert!(entries.iter().all(|e| e.target == "sso"));
        assert!(entries.iter().all(|e| e.actor_id == Some(boss.id.0)));
        let replaced_secret: Vec<bool> = entries
            .iter()
            .map(|e| e.detail.contains("client secret replaced"))
            .collect();
        assert_eq!(
            replaced_secret,
            [true, false, true],
            "{}: {entries:?}",
            t.kind
        );
        for e in audit_entry::Entity::find().all(&t.db).await.unwrap() {
            for plain in [SECRET, "the-rotated-secret"] {
                assert!(
                    !e.detail.contains(plain) && !e.target.contains(plain),
                    "{}: {e:?}",
                    t.kind
                );
            }
        }
        t.finish().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Turning passwords off
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn passwords_go_off_only_once_an_owner_has_signed_in_with_the_provider() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        let sealer = sealer();
        let passwords_off = SsoInput {
            password_sign_in: false,
            ..form()
        };

        // Not even on yet: refused, and nothing saved.
        let err = sso::save(&t.db, &boss, &passwords_off, &sealer)
            .await
            .unwrap_err();
        assert_eq!(field_of(&err), "password_sign_in", "{}", t.kind);
        assert!(stored(&t.db).await.is_none(), "{}", t.kind);
        assert_eq!(
            sso::sign_in_options(&t.db).await.unwrap(),
            SignInOptions::default()
        );

        // On, with passwords: still refused until this Owner has used it.
        sso::save(&t.db, &boss, &form(), &sealer).await.unwrap();
        let err = sso::save(&t.db, &boss, &passwords_off, &sealer)
            .await
            .unwrap_err();
        assert_eq!(field_of(&err), "password_sign_in", "{}", t.kind);
        assert!(stored(&t.db).await.unwrap().password_sign_in);
        assert!(
            !sso::view(&t.db, &boss, PUBLIC_URL)
                .await
                .unwrap()
                .signed_in_with_it
        );

        // The Owner signs in once with the provider, as their own email: that links them.
        let me = signed(&t.db, &identity("owner-subject", "Owner@Example.com")).await;
        assert_eq!(
            (me.user.id, me.user.role),
            (boss.id, Role::Owner),
            "{}",
            t.kind
        );
        let row = user_row(&t.db, boss.id).await;
        assert_eq!(row.sso_issuer.as_deref(), Some(ISSUER), "{}", t.kind);
        assert_eq!(row.sso_subject.as_deref(), Some("owner-subject"));
        assert!(
            sso::view(&t.db, &boss, PUBLIC_URL)
                .await
                .unwrap()
                .signed_in_with_it,
            "{}",
            t.kind
        );

        let saved = sso::save(&t.db, &boss, &passwords_off, &sealer)
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", t.kind));
        assert!(!saved.password_sign_in);
        assert_eq!(
            sso::sign_in_options(&t.db).await.unwrap(),
            SignInOptions {
                sso_label: Some("Keycloak".into()),
                password: false,
            },
            "{}",
            t.kind
        );
        let last = audit_of(&t.db, "sso.settings").await.pop().unwrap();
        assert!(
            last.detail.contains("password sign-in off"),
            "{}: {}",
            t.kind,
            last.detail
        );

        // Passwords sign nobody in now, not even the right one.
        let policy = SessionPolicy::default();
        let right = Secret::new(PASSWORD);
        let err = password::sign_in(&t.db, "owner@example.com", &right, ADDR, policy)
            .await
            .unwrap_err();
        assert_eq!(err, Error::Forbidden(PASSWORD_OFF.to_owned()), "{}", t.kind);

        // An invite cannot be accepted by choosing a password either.
        let invited = invites::invite(
            &t.db,
            &boss,
            InviteInput {
                email: "new@example.com".into(),
                role: Role::Member,
                team: None,
            },
        )
        .await
        .unwrap();
        let err = invites::accept(
            &t.db,
            &invited.token,
            "New Person",
            &Secret::new("a long enough password"),
        )
        .await
        .unwrap_err();
        assert_eq!(err, Error::Forbidden(PASSWORD_OFF.to_owned()), "{}", t.kind);
        assert_eq!(
            user_row(&t.db, invited.user.id).await.status,
            Status::Invited
        );

        // Single sign-on still signs the Owner in.
        let again = signed(&t.db, &identity("owner-subject", "owner@example.com")).await;
        assert_eq!(again.user.id, boss.id, "{}", t.kind);

        // Turning single sign-on off lets passwords in again.
        sso::turn_off(&t.db, &boss).await.unwrap();
        let back = password::sign_in(&t.db, "owner@example.com", &right, ADDR, policy)
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", t.kind));
        assert_eq!(back.user.id, boss.id);
        t.finish().await;
    }
}

// ---------------------------------------------------------------------------------------------
// The environment
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn settings_from_the_environment_are_shown_not_changed_and_removed_with_it() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        let sealer = sealer();
        // What an Owner saved is replaced by the environment's.
        let page = SsoInput {
            label: "From the page".into(),
            ..form()
        };
        sso::save(&t.db, &boss, &page, &sealer).await.unwrap();

        let env = SsoInput {
            label: "Corporate SSO".into(),
            allowed_domains: "example.com".into(),
            new_people: "viewer".into(),
            ..form()
        }
        .check()
        .unwrap();
        let env_secret = Secret::new("secret-from-the-environment");
        sso::apply_env(&t.db, Some((&env, Some(&env_secret))), &sealer)
            .await
            .unwrap();

        let view = sso::view(&t.db, &boss, PUBLIC_URL).await.unwrap();
        assert!(view.from_env, "{}", t.kind);
        assert!(view.has_secret);
        assert_eq!(view.settings.as_ref(), Some(&env), "{}", t.kind);
        let client = sso::client(&t.db, &sealer).await.unwrap().unwrap();
        assert_eq!(
            client.secret.as_ref().map(Secret::expose),
            Some("secret-from-the-environment")
        );
        assert_eq!(
            sso::sign_in_options(&t.db).await.unwrap(),
            SignInOptions {
                sso_label: Some("Corporate SSO".into()),
                password: true,
            },
            "{}",
            t.kind
        );

        // The page cannot change or remove them.
        assert_forbidden(sso::save(&t.db, &boss, &form(), &sealer).await, t.kind);
        assert_forbidden(sso::turn_off(&t.db, &boss).await, t.kind);
        assert_eq!(
            sso::view(&t.db, &boss, PUBLIC_URL).await.unwrap().settings,
            Some(env.clone()),
            "{}",
            t.kind
        );

        // Applied again, unchanged, at the next start: one audit entry for both.
        sso::apply_env(&t.db, Some((&env, Some(&env_secret))), &sealer)
            .await
            .unwrap();
        assert_eq!(audit_of(&t.db, "sso.env").await.len(), 1, "{}", t.kind);

        // The environment stops setting them: gone, passwords only.
        sso::apply_env(&t.db, None, &sealer).await.unwrap();
        assert!(stored(&t.db).await.is_none(), "{}", t.kind);
        assert_eq!(
            sso::sign_in_options(&t.db).await.unwrap(),
            SignInOptions::default(),
            "{}",
            t.kind
        );
        let view = sso::view(&t.db, &boss, PUBLIC_URL).await.unwrap();
        assert!(!view.from_env && view.settings.is_none() && !view.has_secret);
        assert_eq!(audit_of(&t.db, "sso.off").await.len(), 1, "{}", t.kind);

        // The page owns them again; an environment that sets none leaves them alone.
        sso::save(&t.db, &boss, &form(), &sealer).await.unwrap();
        sso::apply_env(&t.db, None, &sealer).await.unwrap();
        assert!(stored(&t.db).await.is_some(), "{}", t.kind);
        t.finish().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Signing in with single sign-on
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn refusals_off_unverified_and_domain() {
    for t in databases().await {
        let ann = identity("ann-subject", "ann@example.com");
        assert_eq!(refused(&t.db, &ann).await, Refusal::Off, "{}", t.kind);

        let boss = owner(&t.db).await;
        turn_on(
            &t.db,
            &boss,
            SsoInput {
                allowed_domains: "Example.com".into(),
                new_people: "member".into(),
                ..form()
            },
        )
        .await;

        let unverified = Identity {
            email_verified: false,
            ..ann.clone()
        };
        assert_eq!(
            refused(&t.db, &unverified).await,
            Refusal::Unverified,
            "{}",
            t.kind
        );
        let no_email = Identity {
            email: None,
            ..ann.clone()
        };
        assert_eq!(
            refused(&t.db, &no_email).await,
            Refusal::Unverified,
            "{}",
            t.kind
        );
        for email in [
            "eve@elsewhere.test",
            "sam@sub.example.com",
            "mal@example.com.evil.test",
        ] {
            assert_eq!(
                refused(&t.db, &identity("outsider", email)).await,
                Refusal::Domain,
                "{}: {email}",
                t.kind
            );
        }
        let other_issuer = Identity {
            issuer: "https://login.evil.test".into(),
            ..ann.clone()
        };
        assert_eq!(
            refused(&t.db, &other_issuer).await,
            Refusal::Failed,
            "{}",
            t.kind
        );
        assert_eq!(
            users(&t.db).await,
            1,
            "{}: nobody refused was added",
            t.kind
        );
        assert_eq!(sessions(&t.db).await, 0, "{}", t.kind);

        // The domain matches whatever its case.
        let shouting = signed(&t.db, &identity("ann-subject", "Ann@EXAMPLE.COM")).await;
        assert_eq!(shouting.user.email, "Ann@EXAMPLE.COM", "{}", t.kind);
        assert_eq!(users(&t.db).await, 2);
        t.finish().await;
    }
}

#[tokio::test]
async fn new_people_are_refused_or_created_as_the_settings_say() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        turn_on(&t.db, &boss, form()).await;
        let stranger = Identity {
            name: Some("Stella Stranger".into()),
            ..identity("stella-subject", "stella@example.com")
        };
        assert_eq!(
            refused(&t.db, &stranger).await,
            Refusal::Unknown,
            "{}",
            t.kind
        );
        assert_eq!(users(&t.db).await, 1, "{}", t.kind);
        assert_eq!(sessions(&t.db).await, 0);

        let research = add_team(&t.db, "Research").await;
        turn_on(
            &t.db,
            &boss,
            SsoInput {
                new_people: "member".into(),
                new_people_team: research.0.to_string(),
                ..form()
            },
        )
        .await;
        let stella = signed(&t.db, &stranger).await;
        assert_eq!(stella.user.role, Role::Member, "{}", t.kind);
        assert_eq!(stella.user.name, "Stella Stranger");

        let row = user_row(&t.db, stella.user.id).await;
        assert_eq!(row.role, Role::Member, "{}", t.kind);
        assert_eq!(row.team_id, Some(research.0), "{}", t.kind);
        assert_eq!(row.status, Status::Active);
        assert_eq!(row.email, "stella@example.com");
        assert_eq!(row.sso_issuer.as_deref(), Some(ISSUER));
        assert_eq!(row.sso_subject.as_deref(), Some("stella-subject"));
        assert!(row.password_hash.is_none(), "{}", t.kind);
        assert!(row.joined_at.is_some());

        let created = audit_of(&t.db, "user.sso_create").await;
        assert_eq!(created.len(), 1, "{}", t.kind);
        assert_eq!(created[0].target, format!("user:{}", stella.user.id.0));
        assert_eq!(created[0].actor_id, Some(stella.user.id.0));
        assert_eq!(created[0].detail, "stella@example.com as member");
        let sign_ins = audit_of(&t.db, "session.sign_in_sso").await;
        assert_eq!(sign_ins.len(), 1, "{}", t.kind);
        assert_eq!(sign_ins[0].detail, format!("Keycloak from {ADDR}"));

        // The session is a real one.
        let policy = SessionPolicy::default();
        let me = session::authenticate(&t.db, &stella.token, policy)
            .await
            .unwrap_or_else(|e| panic!("{}: {e:?}", t.kind));
        assert_eq!(
            (me.id, me.role, me.status),
            (stella.user.id, Role::Member, Status::Active)
        );
        assert_eq!(sessions(&t.db).await, 1);
        t.finish().await;
    }
}

#[tokio::test]
async fn mapped_groups_give_roles_but_never_change_an_owner() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        turn_on(
            &t.db,
            &boss,
            SsoInput {
                new_people: "viewer".into(),
                groups_claim: "groups".into(),
                group_roles: "gateway-admins = Admin\nstaff = Member".into(),
                ..form()
            },
        )
        .await;

        // A newcomer in a mapped group is created with its role; one in none, with the default.
        let admin_newcomer = Identity {
            groups: groups(&["everyone", "gateway-admins"]),
            ..identity("ada-subject", "ada@example.com")
        };
        let ada = signed(&t.db, &admin_newcomer).await;
        assert_eq!(ada.user.role, Role::Admin, "{}", t.kind);
        assert_eq!(user_row(&t.db, ada.user.id).await.role, Role::Admin);
        assert_eq!(
            audit_of(&t.db, "user.sso_create").await[0].detail,
            "ada@example.com as admin"
        );
        let plain = signed(&t.db, &identity("pat-subject", "pat@example.com")).await;
        assert_eq!(plain.user.role, Role::Viewer, "{}", t.kind);

        // An existing Member is raised at sign-in.
        let mia = add_user(&t.db, "mia@example.com", Role::Member, Status::Active).await;
        let raised = Identity {
            groups: groups(&["gateway-admins"]),
            ..identity("mia-subject", "mia@example.com")
        };
        let signed_mia = signed(&t.db, &raised).await;
        assert_eq!(signed_mia.user.id, mia, "{}", t.kind);
        assert_eq!(signed_mia.user.role, Role::Admin, "{}", t.kind);
        assert_eq!(user_row(&t.db, mia).await.role, Role::Admin);
        let session_user =
            session::authenticate(&t.db, &signed_mia.token, SessionPolicy::default())
                .await
                .unwrap();
        assert_eq!(session_user.role, Role::Admin, "{}", t.kind);
        let role_changes = audit_of(&t.db, "user.sso_role").await;
        assert_eq!(role_changes.len(), 1, "{}", t.kind);
        assert_eq!(role_changes[0].target, format!("user:{}", mia.0));
        assert_eq!(role_changes[0].detail, "Member → Admin");

        // No mapped group this time: the role stays as it is.
        let ungrouped = signed(&t.db, &identity("mia-subject", "mia@example.com")).await;
        assert_eq!(ungrouped.user.role, Role::Admin, "{}", t.kind);

        // An Owner in a mapped group stays an Owner.
        let owner_in_group = Identity {
            groups: groups(&["gateway-admins", "staff"]),
            ..identity("owner-subject", "owner@example.com")
        };
        let me = signed(&t.db, &owner_in_group).await;
        assert_eq!(
            (me.user.id, me.user.role),
            (boss.id, Role::Owner),
            "{}",
            t.kind
        );
        assert_eq!(user_row(&t.db, boss.id).await.role, Role::Owner);
        assert_eq!(
            audit_of(&t.db, "user.sso_role").await.len(),
            1,
            "{}",
            t.kind
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn an_invited_person_accepts_their_invite_by_signing_in() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        let research = add_team(&t.db, "Research").await;
        // New people would be Members: the invite's role wins.
        turn_on(
            &t.db,
            &boss,
            SsoInput {
                new_people: "member".into(),
                ..form()
            },
        )
        .await;
        let invited = invites::invite(
            &t.db,
            &boss,
            InviteInput {
                email: "ivy@example.com".into(),
                role: Role::Viewer,
                team: Some(research),
            },
        )
        .await
        .unwrap();
        let ivy = invited.user.id;

        let who = Identity {
            name: Some("Ivy Example".into()),
            ..identity("ivy-subject", "IVY@example.com")
        };
        let signed_in = signed(&t.db, &who).await;
        assert_eq!(signed_in.user.id, ivy, "{}", t.kind);
        assert_eq!(signed_in.user.role, Role::Viewer, "{}", t.kind);
        assert_eq!(users(&t.db).await, 2, "{}: no second account", t.kind);

        let row = user_row(&t.db, ivy).await;
        assert_eq!(row.status, Status::Active, "{}", t.kind);
        assert_eq!(row.role, Role::Viewer);
        assert_eq!(row.team_id, Some(research.0));
        assert_eq!(row.name.as_deref(), Some("Ivy Example"));
        assert_eq!(row.sso_issuer.as_deref(), Some(ISSUER));
        assert_eq!(row.sso_subject.as_deref(), Some("ivy-subject"));
        assert!(row.joined_at.is_some());

        let inv = invite::Entity::find()
            .filter(invite::Column::UserId.eq(ivy.0))
            .one(&t.db)
            .await
            .unwrap()
            .unwrap();
        assert!(inv.used_at.is_some(), "{}", t.kind);
        let accepted = audit_of(&t.db, "user.accept_invite").await;
        assert_eq!(accepted.len(), 1, "{}", t.kind);
        assert_eq!(accepted[0].target, format!("user:{}", ivy.0));
        assert_eq!(accepted[0].actor_id, Some(ivy.0));
        assert_eq!(accepted[0].detail, "with single sign-on");

        // The link in the invite email is spent.
        let again = invites::accept(
            &t.db,
            &invited.token,
            "Ivy",
            &Secret::new("a long enough password"),
        )
        .await;
        assert!(
            matches!(again, Err(Error::NotFound(_))),
            "{}: {again:?}",
            t.kind
        );
        t.finish().await;
    }
}

#[tokio::test]
async fn an_expired_or_revoked_invite_is_not_accepted() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        // Even while new people are created: they are on the list already, as invited.
        turn_on(
            &t.db,
            &boss,
            SsoInput {
                new_people: "member".into(),
                ..form()
            },
        )
        .await;
        let invite_of = |email: &'static str| InviteInput {
            email: email.into(),
            role: Role::Member,
            team: None,
        };
        let expired = invites::invite(&t.db, &boss, invite_of("old@example.com"))
            .await
            .unwrap()
            .user
            .id;
        let revoked = invites::invite(&t.db, &boss, invite_of("gone@example.com"))
            .await
            .unwrap()
            .user
            .id;
        invite::Entity::update_many()
            .col_expr(
                invite::Column::ExpiresAt,
                Expr::value(Utc::now() - Duration::days(1)),
            )
            .filter(invite::Column::UserId.eq(expired.0))
            .exec(&t.db)
            .await
            .unwrap();
        invite::Entity::update_many()
            .col_expr(invite::Column::RevokedAt, Expr::value(Utc::now()))
            .filter(invite::Column::UserId.eq(revoked.0))
            .exec(&t.db)
            .await
            .unwrap();

        assert_eq!(
            refused(&t.db, &identity("old-subject", "old@example.com")).await,
            Refusal::Unknown,
            "{}",
            t.kind
        );
        assert_eq!(
            refused(&t.db, &identity("gone-subject", "gone@example.com")).await,
            Refusal::Unknown,
            "{}",
            t.kind
        );
        for id in [expired, revoked] {
            let row = user_row(&t.db, id).await;
            assert_eq!(row.status, Status::Invited, "{}: {}", t.kind, row.email);
            assert!(row.sso_subject.is_none());
        }
        assert_eq!(users(&t.db).await, 3, "{}", t.kind);
        assert_eq!(sessions(&t.db).await, 0, "{}", t.kind);
        assert!(audit_of(&t.db, "user.accept_invite").await.is_empty());
        t.finish().await;
    }
}

#[tokio::test]
async fn a_suspended_person_is_refused_without_a_session() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        turn_on(
            &t.db,
            &boss,
            SsoInput {
                new_people: "member".into(),
                ..form()
            },
        )
        .await;

        // Suspended before ever using single sign-on: found by email.
        let sam = add_user(&t.db, "sam@example.com", Role::Member, Status::Suspended).await;
        assert_eq!(
            refused(&t.db, &identity("sam-subject", "sam@example.com")).await,
            Refusal::Suspended,
            "{}",
            t.kind
        );
        assert_eq!(sessions(&t.db).await, 0, "{}", t.kind);
        assert!(
            user_row(&t.db, sam).await.sso_subject.is_none(),
            "{}",
            t.kind
        );

        // Suspended after signing in with it: found by subject.
        let mia = signed(&t.db, &identity("mia-subject", "mia@example.com")).await;
        user::Entity::update_many()
            .col_expr(user::Column::Status, Expr::value("suspended"))
            .filter(user::Column::Id.eq(mia.user.id.0))
            .exec(&t.db)
            .await
            .unwrap();
        let before = sessions(&t.db).await;
        assert_eq!(
            refused(&t.db, &identity("mia-subject", "mia@example.com")).await,
            Refusal::Suspended,
            "{}",
            t.kind
        );
        assert_eq!(sessions(&t.db).await, before, "{}", t.kind);
        assert_eq!(audit_of(&t.db, "session.sign_in_sso").await.len(), 1);
        t.finish().await;
    }
}

#[tokio::test]
async fn the_subject_keeps_its_account_when_the_email_changes() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        turn_on(
            &t.db,
            &boss,
            SsoInput {
                new_people: "member".into(),
                ..form()
            },
        )
        .await;
        let first = signed(&t.db, &identity("ann-subject", "ann@example.com")).await;
        let renamed = signed(&t.db, &identity("ann-subject", "ann.smith@example.com")).await;
        assert_eq!(renamed.user.id, first.user.id, "{}", t.kind);
        assert_eq!(users(&t.db).await, 2, "{}: no second account", t.kind);
        assert_eq!(audit_of(&t.db, "user.sso_create").await.len(), 1);
        t.finish().await;
    }
}

#[tokio::test]
async fn an_email_tied_to_another_subject_is_refused_as_linked() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        turn_on(
            &t.db,
            &boss,
            SsoInput {
                new_people: "member".into(),
                ..form()
            },
        )
        .await;
        let ann = signed(&t.db, &identity("ann-subject", "ann@example.com")).await;
        let sessions_before = sessions(&t.db).await;

        let impostor = identity("someone-else", "ANN@example.com");
        assert_eq!(
            refused(&t.db, &impostor).await,
            Refusal::Linked,
            "{}",
            t.kind
        );
        assert_eq!(users(&t.db).await, 2, "{}", t.kind);
        assert_eq!(sessions(&t.db).await, sessions_before, "{}", t.kind);
        let row = user_row(&t.db, ann.user.id).await;
        assert_eq!(
            row.sso_subject.as_deref(),
            Some("ann-subject"),
            "{}",
            t.kind
        );
        t.finish().await;
    }
}

// ---------------------------------------------------------------------------------------------
// Turning it off
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn turning_off_removes_the_settings_and_is_audited() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        turn_on(
            &t.db,
            &boss,
            SsoInput {
                client_secret: SECRET.into(),
                new_people: "member".into(),
                ..form()
            },
        )
        .await;
        sso::turn_off(&t.db, &boss).await.unwrap();

        assert!(stored(&t.db).await.is_none(), "{}", t.kind);
        assert_eq!(
            sso::sign_in_options(&t.db).await.unwrap(),
            SignInOptions::default()
        );
        let view = sso::view(&t.db, &boss, PUBLIC_URL).await.unwrap();
        assert!(view.settings.is_none() && !view.has_secret, "{}", t.kind);
        let off = audit_of(&t.db, "sso.off").await;
        assert_eq!(off.len(), 1, "{}", t.kind);
        assert_eq!(off[0].actor_id, Some(boss.id.0));
        assert_eq!(off[0].target, "sso");
        assert_eq!(off[0].detail, ISSUER);

        assert_eq!(
            refused(&t.db, &identity("ann-subject", "ann@example.com")).await,
            Refusal::Off,
            "{}",
            t.kind
        );
        let again = sso::turn_off(&t.db, &boss).await;
        assert!(
            matches!(again, Err(Error::NotFound(_))),
            "{}: {again:?}",
            t.kind
        );
        assert_eq!(audit_of(&t.db, "sso.off").await.len(), 1);
        t.finish().await;
    }
}

/// After the Owner moves single sign-on to another provider, the first sign-in there ties each
/// account to the new provider: the Owner can turn passwords off again, and an address taken
/// by someone else at the new provider is refused as linked.
#[tokio::test]
async fn a_new_issuer_ties_accounts_to_itself() {
    const NEW_ISSUER: &str = "https://accounts.example.org";
    for t in databases().await {
        let boss = owner(&t.db).await;
        turn_on(&t.db, &boss, form()).await;
        signed(&t.db, &identity("owner-old", "owner@example.com")).await;
        turn_on(
            &t.db,
            &boss,
            SsoInput {
                issuer: NEW_ISSUER.into(),
                ..form()
            },
        )
        .await;
        let at_new = |subject: &str, email: &str| Identity {
            issuer: NEW_ISSUER.into(),
            ..identity(subject, email)
        };
        let off = SsoInput {
            issuer: NEW_ISSUER.into(),
            password_sign_in: false,
            ..form()
        };
        let refused_off = sso::save(&t.db, &boss, &off, &sealer()).await.unwrap_err();
        assert_eq!(field_of(&refused_off), "password_sign_in", "{}", t.kind);

        let me = signed(&t.db, &at_new("owner-new", "owner@example.com")).await;
        assert_eq!(me.user.id, boss.id, "{}", t.kind);
        let row = user_row(&t.db, boss.id).await;
        assert_eq!(row.sso_issuer.as_deref(), Some(NEW_ISSUER), "{}", t.kind);
        assert_eq!(row.sso_subject.as_deref(), Some("owner-new"), "{}", t.kind);
        turn_on(&t.db, &boss, off).await;
        assert_eq!(
            refused(&t.db, &at_new("someone-else", "owner@example.com")).await,
            Refusal::Linked,
            "{}",
            t.kind
        );
        t.finish().await;
    }
}

/// An address that only matches an account after Unicode lower-casing (a Kelvin sign for the
/// `k`) is refused; the real address links the account, and the link is in the audit log.
#[tokio::test]
async fn look_alike_addresses_do_not_link_and_links_are_audited() {
    for t in databases().await {
        let boss = owner(&t.db).await;
        turn_on(&t.db, &boss, form()).await;
        let kate = add_user(&t.db, "kate@example.com", Role::Member, Status::Active).await;
        assert_eq!(
            refused(&t.db, &identity("mallory", "\u{212A}ate@example.com")).await,
            Refusal::Failed,
            "{}",
            t.kind
        );
        assert_eq!(user_row(&t.db, kate).await.sso_subject, None, "{}", t.kind);
        assert!(audit_of(&t.db, "user.sso_link").await.is_empty());

        let signed_in = signed(&t.db, &identity("kate-subject", "kate@example.com")).await;
        assert_eq!(signed_in.user.id, kate, "{}", t.kind);
        let links = audit_of(&t.db, "user.sso_link").await;
        assert_eq!(links.len(), 1, "{}", t.kind);
        assert_eq!(links[0].target, format!("user:{}", kate.0));
        assert!(
            links[0].detail.contains("kate-subject"),
            "{}",
            links[0].detail
        );
        t.finish().await;
    }
}

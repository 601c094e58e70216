//! Demo and benchmark data: users spread over teams, with realistic names, roles, statuses and
//! activity. Deterministic, so benchmark runs are comparable.

use crate::db::{begin_ledger_write, begin_write};
use crate::entity::{budget_alert, team, user};
use crate::secret::{Secret, hash_password};
use crate::{Error, Role, Status};
use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

const FIRST: [&str; 16] = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Margaret",
    "Linus",
    "Ken",
    "Frances",
    "John",
    "Radia",
    "Dennis",
    "Hedy",
    "Tim",
    "Katherine",
];
const LAST: [&str; 16] = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Torvalds",
    "Thompson",
    "Allen",
    "Backus",
    "Perlman",
    "Ritchie",
    "Lamarr",
    "Berners-Lee",
    "Johnson",
];
const TEAMS: [&str; 8] = [
    "Engineering",
    "Research",
    "Support",
    "Sales",
    "Platform",
    "Data",
    "Design",
    "Security",
];
/// Rows per INSERT: well under SQLite's bound-parameter limit.
const BATCH: usize = 500;

/// What a seed run added, and the Owner it created with their password — random for every run,
/// so a seeded gateway is not open to a password anyone could read here. Print it once.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub users: u64,
    pub teams: u64,
    pub owner_email: String,
    /// The seeded Owner's password; only its hash is stored.
    pub owner_password: Secret,
}

/// Brings the query planner's statistics up to date after seeding (call it once the bulk load
/// is done), as a running gateway's would be: `ANALYZE` on SQLite (statistics taken before a
/// table grew tenfold send queries down the wrong index); on PostgreSQL `VACUUM ANALYZE`, what
/// autovacuum does soon after a bulk load (without it, index-only scans still visit the table).
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn settle(db: &DatabaseConnection) -> Result<(), Error> {
    let statement = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "VACUUM ANALYZE",
        _ => "ANALYZE",
    };
    db.execute_unprepared(statement).await?;
    Ok(())
}

/// Adds `users` users (the first an active Owner, with a random password) spread over `teams`
/// new teams. Demo data only: never seed a real gateway.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn seed(db: &DatabaseConnection, users: u64, teams: u64) -> Result<Seeded, Error> {
    let offset = user::Entity::find().count(db).await? + team::Entity::find().count(db).await?;
    let now = Utc::now();
    let mut rng = Lcg(0x5EED_0000 + offset);

    let txn = begin_ledger_write(db).await?;
    let mut first_team_id = None;
    for chunk in (0..teams).collect::<Vec<_>>().chunks(BATCH) {
        let rows = chunk.iter().map(|i| {
            let name = format!("{} {}", TEAMS[(*i as usize) % TEAMS.len()], offset + i + 1);
            team::ActiveModel {
                name_normalized: Set(name.to_lowercase()),
                name: Set(name),
                description: Set(String::new()),
                monthly_limit_micros: Set(
                    (i % 3 != 0).then_some(((i % 50) as i64 + 1) * 100_000_000)
                ),
                created_at: Set(now - Duration::days((i % 300) as i64)),
                ..Default::default()
            }
        });
        team::Entity::insert_many(rows).exec(&txn).await?;
    }
    if teams > 0 {
        // Ids are handed out in order: the new teams are the last `teams` ids.
        let last = team::Entity::find()
            .order_by_desc(team::Column::Id)
            .one(&txn)
            .await?
            .map(|t| t.id);
        first_team_id = last.map(|id| id - teams as i64 + 1);
    }
    let owner_password = Secret::random();
    let owner_hash = hash_password(&owner_password).await?;
    let owner_email = format!("owner{}@seed.example.com", offset + 1);
    for chunk in (0..users).collect::<Vec<_>>().chunks(BATCH) {
        let rows = chunk.iter().map(|i| {
            let n = offset + i + 1;
            let (first, last) = (FIRST[rng.below(16)], LAST[rng.below(16)]);
            let (role, status) = if *i == 0 {
                (Role::Owner, Status::Active)
            } else {
                let role = match rng.below(100) {
                    0..=1 => Role::Admin,
                    2..=71 => Role::Member,
                    _ => Role::Viewer,
                };
                let status = match rng.below(100) {
                    0..=84 => Status::Active,
                    85..=94 => Status::Invited,
                    _ => Status::Suspended,
                };
                (role, status)
            };
            let email = if *i == 0 {
                owner_email.clone()
            } else {
                format!(
                    "{}.{}.{n}@seed.example.com",
                    first.to_lowercase(),
                    last.to_lowercase()
                )
            };
            let invited = status == Status::Invited;
            user::ActiveModel {
                email_normalized: Set(email.clone()),
                email: Set(email),
                name: Set((!invited).then(|| format!("{first} {last}"))),
                role: Set(role),
                status: Set(status),
                team_id: Set(first_team_id
                    .filter(|_| teams > 0 && rng.below(10) < 8)
                    .map(|t| t + rng.below(teams as usize) as i64)),
                password_hash: Set((*i == 0).then(|| owner_hash.clone())),
                created_at: Set(now - Duration::days(rng.below(365) as i64)),
                joined_at: Set((!invited).then(|| now - Duration::days(rng.below(365) as i64))),
                last_active_at: Set((!invited && rng.below(10) < 9)
                    .then(|| now - Duration::minutes(rng.below(60 * 24 * 60) as i64))),
                ..Default::default()
            }
        });
        user::Entity::insert_many(rows).exec(&txn).await?;
    }
    if let Some(first) = first_team_id {
        record_usage(&txn, first, teams, &mut rng).await?;
        // Made-up spend crossing made-up teams' bands tells nobody, whoever is set up later.
        let now = Utc::now();
        budget_alert::Entity::update_many()
            .col_expr(budget_alert::Column::SentAt, Expr::value(now))
            .col_expr(
                budget_alert::Column::Outcome,
                Expr::value(budget_alert::Outcome::Nobody),
            )
            .filter(budget_alert::Column::SentAt.is_null())
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(Seeded {
        users,
        teams,
        owner_email,
        owner_password,
    })
}

/// A small deterministic generator (Knuth's MMIX constants); quality is beside the point.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n.max(1) as u64) as usize
    }
}

/// Models the seeded requests are spread over.
const SEED_MODELS: [&str; 3] = ["gpt-4o-mini", "gpt-4o", "o3-mini"];

/// Gives each new team a key (held by one of its active members) and requests through the
/// metering service, so every figure the Teams and Usage pages show comes from real aggregates:
/// this month, spend across the budget bands for teams with a limit (a few dollars otherwise),
/// spread over the days so far; before it, a few dollars a week back to 90 days ago.
async fn record_usage(
    txn: &sea_orm::DatabaseTransaction,
    first_team: i64,
    teams: u64,
    rng: &mut Lcg,
) -> Result<(), Error> {
    use crate::entity::api_key;
    use crate::money::Money;
    use crate::service::keys::new_secret;
    use crate::service::usage::{self, Metered, Served};
    use crate::{KeyId, TeamId, UserId};
    use chrono::{Datelike, TimeZone};
    use sea_orm::{ActiveModelTrait, ColumnTrait, QueryFilter};
    use std::collections::HashMap;

    let last_team = first_team + i64::try_from(teams).unwrap_or(0) - 1;
    let mut holder: HashMap<i64, i64> = HashMap::new();
    for u in user::Entity::find()
        .filter(user::Column::TeamId.between(first_team, last_team))
        .filter(user::Column::Status.eq(Status::Active))
        .all(txn)
        .await?
    {
        if let Some(team) = u.team_id {
            holder.entry(team).or_insert(u.id);
        }
    }
    let limits: HashMap<i64, Option<i64>> = team::Entity::find()
        .filter(team::Column::Id.between(first_team, last_team))
        .all(txn)
        .await?
        .into_iter()
        .map(|t| (t.id, t.monthly_limit_micros))
        .collect();
    let now = Utc::now();
    let month_start = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    let this_month = (now - month_start).num_seconds().max(1);
    let history = (month_start - (now - Duration::days(90)))
        .num_seconds()
        .max(0);
    // Shares of the limit spent, one per band: green, green, yellow, yellow, red, at the cap.
    const SHARES: [i64; 6] = [25, 50, 72, 85, 93, 100];
    let mut team_ids: Vec<i64> = holder.keys().copied().collect();
    team_ids.sort_unstable();
    let models: Vec<std::sync::Arc<str>> = SEED_MODELS.iter().map(|m| (*m).into()).collect();
    for team_id in team_ids {
        let user_id = holder[&team_id];
        let secret = new_secret();
        let key = api_key::ActiveModel {
            user_id: Set(Some(user_id)),
            team_id: Set(Some(team_id)),
            name: Set("Seeded key".to_owned()),
            prefix: Set(secret.expose().chars().take(11).collect()),
            secret_hash: Set(secret.digest()),
            created_at: Set(now - Duration::days(90)),
            ..Default::default()
        }
        .insert(txn)
        .await?;
        let request = |cost: i64, at, rng: &mut Lcg| Metered {
            key: KeyId(key.id),
            user: UserId(user_id),
            team: Some(TeamId(team_id)),
            cost: Money::from_micros(cost),
            at,
            served: Served {
                model: std::sync::Arc::clone(&models[rng.below(models.len())]),
                tokens_in: 200 + rng.below(4_000) as u64,
                tokens_out: 50 + rng.below(1_000) as u64,
            },
        };
        let mut metered = Vec::new();
        let total = match limits.get(&team_id).copied().flatten() {
            Some(limit) => limit / 100 * SHARES[rng.below(SHARES.len())],
            None => (1 + rng.below(50) as i64) * 1_000_000,
        };
        let requests = 3 + rng.below(10) as i64;
        for n in 0..requests {
            let share = total / requests + if n == 0 { total % requests } else { 0 };
            let at = month_start + Duration::seconds(rng.below(this_month as usize) as i64);
            metered.push(request(share, at, rng));
        }
        if history > 0 {
            for _ in 0..(history / (7 * 86_400)).max(1) {
                let at = month_start - Duration::seconds(1 + rng.below(history as usize) as i64);
                let cost = (1 + rng.below(20) as i64) * 250_000;
                metered.push(request(cost, at, rng));
            }
        }
        usage::record_all(txn, &metered).await?;
    }
    Ok(())
}

/// Gives every team key `months` earlier months of usage (one request a month, a few dollars),
/// through the metering service, so the month aggregates hold history as on a gateway that has
/// run for a while. Answers how many team-months were added.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn earlier_months(db: &DatabaseConnection, months: i64) -> Result<u64, Error> {
    use crate::entity::api_key;
    use crate::money::Money;
    use crate::service::usage::{self, Metered, Served};
    use crate::{KeyId, TeamId, UserId};
    use sea_orm::{ColumnTrait, QueryFilter};

    let keys = api_key::Entity::find()
        .filter(api_key::Column::TeamId.is_not_null())
        .all(db)
        .await?;
    let now = Utc::now();
    let txn = begin_ledger_write(db).await?;
    let mut recorded = 0;
    for key in keys {
        let (Some(team), Some(user)) = (key.team_id, key.user_id) else {
            continue;
        };
        for months_ago in 1..=months {
            let request = Metered {
                key: KeyId(key.id),
                user: UserId(user),
                team: Some(TeamId(team)),
                cost: Money::from_micros((team % 97 + 1) * 1_000_000),
                at: now - Duration::days(31 * months_ago),
                served: Served::default(),
            };
            usage::record(&txn, &request).await?;
            recorded += 1;
        }
    }
    txn.commit().await?;
    Ok(recorded)
}

/// The actions [`audit_entries`] writes, in the proportions a busy gateway's log has them:
/// sign-ins most, then keys, then people and teams.
const AUDIT_ACTIONS: [(&str, &str); 10] = [
    ("session.sign_in", "user"),
    ("session.sign_in", "user"),
    ("session.sign_in", "user"),
    ("key.issue", "key"),
    ("key.revoke", "key"),
    ("key.limits", "key"),
    ("user.invite", "user"),
    ("user.change_role", "user"),
    ("user.budget", "user"),
    ("team.edit", "team"),
];

/// Appends `entries` audit-log entries spread evenly over the last year, by 200 different people,
/// in batches of 1,000 rows: a log the size of a gateway's after years of use. Deterministic.
/// Answers how many were written.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn audit_entries(db: &DatabaseConnection, entries: u64) -> Result<u64, Error> {
    use crate::entity::audit_entry;
    const BATCH: u64 = 1_000;
    let now = Utc::now();
    let year_ms: i64 = 365 * 24 * 3_600 * 1_000;
    let mut written = 0;
    while written < entries {
        let rows: Vec<audit_entry::ActiveModel> = (written..entries.min(written + BATCH))
            .map(|n| {
                let n = i64::try_from(n).unwrap_or(i64::MAX);
                let (action, kind) = AUDIT_ACTIONS[(n % 10) as usize];
                let person = n % 200;
                let first = FIRST[(person % 16) as usize];
                let last = LAST[(person / 16 % 16) as usize];
                let email = format!(
                    "{}.{}.{person}@audit.example.com",
                    first.to_lowercase(),
                    last.to_lowercase()
                );
                // Oldest first, so ids grow with time as on a real gateway.
                let back = year_ms - year_ms / i64::try_from(entries).unwrap_or(1) * n;
                audit_entry::ActiveModel {
                    at: Set(now - Duration::milliseconds(back)),
                    actor_id: Set(Some(person + 1)),
                    actor_email: Set(email),
                    action: Set(action.to_owned()),
                    target: Set(format!("{kind}:{}", n % 5_000)),
                    detail: Set(format!("{first} {last}, entry {n}")),
                    ..Default::default()
                }
            })
            .collect();
        let count = rows.len() as u64;
        let txn = begin_write(db).await?;
        audit_entry::Entity::insert_many(rows).exec(&txn).await?;
        txn.commit().await?;
        written += count;
    }
    Ok(written)
}

/// Fills `usage_days` with `days` days of history up to today, as a gateway of `users` people in
/// `teams` teams (person `u` in team `u % teams + 1`, one key each, ids made up) would leave
/// it: each person active on about three days in ten, on one or two of three models, a few
/// requests each — 100,000 people over 90 days make about 10 million requests — with the sums
/// the metering keeps beside them (month rows, day totals, model days). For the Usage page's
/// benchmark, on an empty database; answers the rows and requests written.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub async fn usage_history(
    db: &DatabaseConnection,
    teams: u64,
    users: u64,
    days: u32,
) -> Result<(u64, u64), Error> {
    use crate::entity::{
        usage_day, usage_day_total, usage_gateway_month, usage_key_month, usage_model_day,
        usage_team_month, usage_user_month,
    };
    use crate::service::{day_key, month_key};
    use std::collections::HashMap;
    /// Spend, requests, tokens in, tokens out.
    type Sums = [i64; 4];
    fn add(sums: &mut Sums, row: Sums) {
        sums.iter_mut().zip(row).for_each(|(s, r)| *s += r);
    }
    let now = Utc::now();
    let today = day_key(now);
    let (mut rows, mut requests) = (0_u64, 0_u64);
    let mut months: [HashMap<(i64, i32), Sums>; 3] = Default::default();
    let mut day_totals: HashMap<i32, Sums> = HashMap::new();
    let mut model_days: HashMap<(i32, &str), Sums> = HashMap::new();
    let mut batch: Vec<usage_day::ActiveModel> = Vec::with_capacity(1_000);
    let mut txn = begin_ledger_write(db).await?;
    for d in 0..days {
        let day = today - i32::try_from(d).unwrap_or(0);
        let month = month_key(now - Duration::days(i64::from(d)));
        for u in 0..users {
            let mut h = Lcg(u64::from(d) << 32 | u);
            if h.below(10) >= 3 {
                continue;
            }
            let models = 1 + usize::from(h.below(10) < 3);
            for m in 0..models {
                let n = 1 + h.below(5) as i64;
                let model = SEED_MODELS[(u as usize + d as usize + m) % SEED_MODELS.len()];
                let (team, user) = (
                    i64::try_from(u % teams.max(1)).unwrap_or(0) + 1,
                    i64::try_from(u).unwrap_or(0) + 1,
                );
                let sums: Sums = [
                    n * (1 + h.below(2_000) as i64) * 100,
                    n,
                    n * (200 + h.below(3_000) as i64),
                    n * (50 + h.below(800) as i64),
                ];
                batch.push(usage_day::ActiveModel {
                    day: Set(day),
                    team_id: Set(team),
                    user_id: Set(user),
                    key_id: Set(user),
                    model: Set(model.to_owned()),
                    spend_micros: Set(sums[0]),
                    requests: Set(sums[1]),
                    tokens_in: Set(sums[2]),
                    tokens_out: Set(sums[3]),
                });
                // The sums the metering keeps beside the day rows.
                add(months[0].entry((team, month)).or_default(), sums);
                add(months[1].entry((user, month)).or_default(), sums);
                add(months[2].entry((user, month)).or_default(), sums);
                add(day_totals.entry(day).or_default(), sums);
                add(model_days.entry((day, model)).or_default(), sums);
                rows += 1;
                requests += u64::try_from(n).unwrap_or(0);
                if batch.len() == 1_000 {
                    usage_day::Entity::insert_many(std::mem::take(&mut batch))
                        .exec(&txn)
                        .await?;
                    if rows % 100_000 == 0 {
                        txn.commit().await?;
                        txn = begin_ledger_write(db).await?;
                    }
                }
            }
        }
    }
    if !batch.is_empty() {
        usage_day::Entity::insert_many(batch).exec(&txn).await?;
    }
    let [team_months, user_months, key_months] = months;
    let team_months_sums: Vec<((i64, i32), Sums)> = team_months.into_iter().collect();
    for chunk in team_months_sums.chunks(BATCH) {
        usage_team_month::Entity::insert_many(chunk.iter().map(|((id, month), s)| {
            usage_team_month::ActiveModel {
                team_id: Set(*id),
                month: Set(*month),
                spend_micros: Set(s[0]),
                requests: Set(s[1]),
                tokens_in: Set(s[2]),
                tokens_out: Set(s[3]),
                reserved_micros: Set(0),
                team_deleted: sea_orm::ActiveValue::NotSet,
            }
        }))
        .exec(&txn)
        .await?;
    }
    for chunk in user_months.into_iter().collect::<Vec<_>>().chunks(BATCH) {
        usage_user_month::Entity::insert_many(chunk.iter().map(|((id, month), s)| {
            usage_user_month::ActiveModel {
                user_id: Set(*id),
                month: Set(*month),
                spend_micros: Set(s[0]),
                requests: Set(s[1]),
                tokens_in: Set(s[2]),
                tokens_out: Set(s[3]),
                reserved_micros: Set(0),
            }
        }))
        .exec(&txn)
        .await?;
    }
    for chunk in key_months.into_iter().collect::<Vec<_>>().chunks(BATCH) {
        usage_key_month::Entity::insert_many(chunk.iter().map(|((id, month), s)| {
            usage_key_month::ActiveModel {
                key_id: Set(*id),
                month: Set(*month),
                spend_micros: Set(s[0]),
                requests: Set(s[1]),
                tokens_in: Set(s[2]),
                tokens_out: Set(s[3]),
                reserved_micros: Set(0),
            }
        }))
        .exec(&txn)
        .await?;
    }
    // Every person is in a team here: the gateway's months are the teams' summed.
    let mut gateway: HashMap<i32, Sums> = HashMap::new();
    for ((_, month), s) in &team_months_sums {
        add(gateway.entry(*month).or_default(), *s);
    }
    usage_gateway_month::Entity::insert_many(gateway.into_iter().map(|(month, s)| {
        usage_gateway_month::ActiveModel {
            scope: Set(usage_gateway_month::Scope::All.id()),
            month: Set(month),
            spend_micros: Set(s[0]),
            requests: Set(s[1]),
            reserved_micros: Set(0),
        }
    }))
    .exec(&txn)
    .await?;
    usage_day_total::Entity::insert_many(day_totals.into_iter().map(|(day, s)| {
        usage_day_total::ActiveModel {
            day: Set(day),
            spend_micros: Set(s[0]),
            requests: Set(s[1]),
            tokens_in: Set(s[2]),
            tokens_out: Set(s[3]),
        }
    }))
    .exec(&txn)
    .await?;
    usage_model_day::Entity::insert_many(model_days.into_iter().map(|((day, model), s)| {
        usage_model_day::ActiveModel {
            day: Set(day),
            model: Set(model.to_owned()),
            spend_micros: Set(s[0]),
            requests: Set(s[1]),
            tokens_in: Set(s[2]),
            tokens_out: Set(s[3]),
        }
    }))
    .exec(&txn)
    .await?;
    txn.commit().await?;
    Ok((rows, requests))
}

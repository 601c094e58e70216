//! Where each team with a monthly limit is heading this month, from its spend so far: the
//! month's spend divided by the time gone (at least a day, so a quiet first hour does not
//! project wildly) gives a daily rate, carried on to the limit or to the month's end.

use super::{Only, day_of};
use crate::Error;
use crate::entity::refusal_day::{self, RefusalKind};
use crate::entity::{team, usage_team_month};
use crate::money::Money;
use crate::service::leases::next_month;
use crate::service::month_key;
use crate::usage::{Forecast, Outlook};
use chrono::{DateTime, Datelike, TimeZone, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, JoinType, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashMap;

/// The most forecasts shown, the teams nearest their limit first.
const SHOWN: usize = 12;

/// A team still this close to its limit after being refused over it is at its limit: no
/// request fits any more. (Raising the limit moves it away again.)
const AT_LIMIT_PERMILLE: i64 = 10;

/// The forecasts of the teams the reader may see, nearest their limit first.
///
/// # Errors
/// [`Error::Internal`] on database failure.
pub(super) async fn forecasts(
    db: &impl ConnectionTrait,
    only: Option<Only>,
    now: DateTime<Utc>,
) -> Result<Vec<Forecast>, Error> {
    let team_filter = match only {
        Some(Only::User(_)) => return Ok(Vec::new()),
        Some(Only::Team(team)) => Some(team),
        None => None,
    };
    let month = month_key(now);
    let mut select = Query::select();
    select
        .column((team::Entity, team::Column::Id))
        .column((team::Entity, team::Column::Name))
        .column((team::Entity, team::Column::MonthlyLimitMicros))
        .column((
            usage_team_month::Entity,
            usage_team_month::Column::SpendMicros,
        ))
        .from(team::Entity)
        .join(
            JoinType::LeftJoin,
            usage_team_month::Entity,
            Expr::col((usage_team_month::Entity, usage_team_month::Column::TeamId))
                .equals((team::Entity, team::Column::Id))
                .and(
                    Expr::col((usage_team_month::Entity, usage_team_month::Column::Month))
                        .eq(month),
                ),
        )
        .and_where(Expr::col((team::Entity, team::Column::MonthlyLimitMicros)).is_not_null());
    if let Some(team) = team_filter {
        select.and_where(Expr::col((team::Entity, team::Column::Id)).eq(team));
    }
    let mut teams = Vec::new();
    for row in db.query_all(&select).await? {
        teams.push((
            row.try_get_by_index::<i64>(0)?,
            row.try_get_by_index::<String>(1)?,
            Money(row.try_get_by_index::<Option<i64>>(2)?.unwrap_or(0)),
            Money(row.try_get_by_index::<Option<i64>>(3)?.unwrap_or(0)),
        ));
    }
    let month_start = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    let refused = first_refused(db, &teams, month_start, now).await?;
    let mut forecasts: Vec<(i64, Forecast)> = teams
        .into_iter()
        .map(|(id, name, limit, spent)| {
            let outlook = outlook(limit, spent, refused.get(&id).copied(), now);
            let urgency = match &outlook {
                Outlook::AtLimit { .. } => i64::MIN,
                Outlook::Reaches(day) => i64::from(day_of(*day)) - i64::from(i32::MAX),
                Outlook::StaysUnder { projected } => {
                    -(projected.micros().saturating_mul(1000) / Ord::max(limit.micros(), 1))
                }
            };
            (
                urgency,
                Forecast {
                    team: name,
                    limit,
                    spent,
                    outlook,
                },
            )
        })
        .collect();
    forecasts.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.team.cmp(&b.1.team)));
    Ok(forecasts.into_iter().take(SHOWN).map(|(_, f)| f).collect())
}

/// The first refusal over its own limit this month of each team that had one.
async fn first_refused(
    db: &impl ConnectionTrait,
    teams: &[(i64, String, Money, Money)],
    month_start: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<HashMap<i64, DateTime<Utc>>, Error> {
    let ids: Vec<i64> = teams.iter().map(|t| t.0).collect();
    let rows: Vec<(i64, Option<DateTime<Utc>>)> = refusal_day::Entity::find()
        .select_only()
        .column(refusal_day::Column::TeamId)
        .column_as(refusal_day::Column::FirstAt.min(), "first")
        .filter(refusal_day::Column::Kind.eq(RefusalKind::TeamBudget))
        .filter(refusal_day::Column::Day.gte(day_of(month_start.date_naive())))
        .filter(refusal_day::Column::Day.lte(day_of(now.date_naive())))
        .filter(refusal_day::Column::TeamId.is_in(ids))
        .group_by(refusal_day::Column::TeamId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(team, first)| first.map(|f| (team, f)))
        .collect())
}

/// One team's outlook: `spent` of `limit` so far this month, first refused over it at
/// `refused` (if it was).
fn outlook(
    limit: Money,
    spent: Money,
    refused: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Outlook {
    let resets_at = next_month(now);
    let left = limit.micros() - spent.micros();
    let nearly_spent = left.saturating_mul(1000) <= limit.micros() * AT_LIMIT_PERMILLE;
    if left <= 0 || (refused.is_some() && nearly_spent) {
        return Outlook::AtLimit {
            since: refused.unwrap_or(now).date_naive(),
            resets_at,
        };
    }
    let month_start = Utc
        .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
        .single()
        .unwrap_or(now);
    let gone = Ord::max((now - month_start).num_seconds(), 86_400) as f64;
    let month = (resets_at - month_start).num_seconds() as f64;
    let per_second = spent.micros() as f64 / gone;
    let projected = Money((per_second * month) as i64);
    if per_second > 0.0 && projected.micros() >= limit.micros() {
        let reached = now + chrono::Duration::seconds((left as f64 / per_second).ceil() as i64);
        return Outlook::Reaches(reached.date_naive());
    }
    Outlook::StaysUnder { projected }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, day, hour, 0, 0).unwrap()
    }

    fn date(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, day).unwrap()
    }

    const USD: i64 = 1_000_000;

    #[test]
    fn a_steady_team_reaches_its_limit_when_its_rate_says() {
        // $40 in the first 10 days of a 31-day month: $4 a day; $100 is reached 15 days on.
        assert_eq!(
            outlook(Money(100 * USD), Money(40 * USD), None, at(11, 0)),
            Outlook::Reaches(date(26))
        );
    }

    #[test]
    fn a_slow_team_stays_under_with_its_projection() {
        // $10 in 10 days: $31 by the month's end.
        assert_eq!(
            outlook(Money(100 * USD), Money(10 * USD), None, at(11, 0)),
            Outlook::StaysUnder {
                projected: Money(31 * USD)
            }
        );
        assert_eq!(
            outlook(Money(100 * USD), Money::ZERO, None, at(11, 0)),
            Outlook::StaysUnder {
                projected: Money::ZERO
            }
        );
    }

    #[test]
    fn the_first_hours_of_a_month_do_not_project_wildly() {
        // $5 in the first hour counts as $5 a day, not $120.
        assert_eq!(
            outlook(Money(1000 * USD), Money(5 * USD), None, at(1, 1)),
            Outlook::StaysUnder {
                projected: Money(155 * USD)
            }
        );
    }

    #[test]
    fn a_team_at_its_limit_says_since_when_and_when_it_resets() {
        let refused = at(20, 9);
        let resets_at = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        // Refused with less than 1% left: at its limit since the first refusal.
        assert_eq!(
            outlook(
                Money(100 * USD),
                Money(99 * USD + 500_000),
                Some(refused),
                at(22, 0)
            ),
            Outlook::AtLimit {
                since: date(20),
                resets_at
            }
        );
        // Spent in full without a refusal yet: since now.
        assert_eq!(
            outlook(Money(100 * USD), Money(100 * USD), None, at(22, 0)),
            Outlook::AtLimit {
                since: date(22),
                resets_at
            }
        );
        // Refused once, then the limit was raised: heading somewhere again.
        assert!(matches!(
            outlook(Money(500 * USD), Money(99 * USD), Some(refused), at(22, 0)),
            Outlook::StaysUnder { .. }
        ));
    }
}

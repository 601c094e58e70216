//! `guardrails`: a rule checked before a request is forwarded (migration `m20261201_000019`).

use crate::guardrails::{Check, Enforcement};
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "guardrails")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// The name lower-cased: unique, so names differing only in case clash.
    pub name_key: String,
    pub check_kind: Check,
    /// For [`Check::PromptSize`]: the most bytes of text let through.
    pub max_bytes: Option<i64>,
    /// For terms and expressions: the list.
    pub patterns: Lines,
    /// The models it checks; empty: every model.
    pub models: Lines,
    /// Whether it checks every team; otherwise those in `guardrail_teams` (none left: nobody).
    pub all_teams: bool,
    pub action: Enforcement,
    pub enabled: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

/// A list of strings, stored as JSON.
#[derive(
    Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, FromJsonQueryResult,
)]
pub struct Lines(pub Vec<String>);

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

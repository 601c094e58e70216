//! Test databases: a fresh SQLite file and a fresh PostgreSQL database per test, both migrated,
//! both removed afterwards. Plus helpers to add users directly.

use chrono::Utc;
use domain::db::{self, DatabaseConnection};
use domain::entity::user;
use domain::secret::{Secret, hash_password};
use domain::{Role, Status, UserId};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};

/// One migrated, empty database for one test.
pub struct TestDb {
    pub db: DatabaseConnection,
    pub kind: &'static str,
    cleanup: Cleanup,
}

enum Cleanup {
    File(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

/// A fresh database of every kind this run covers.
pub async fn databases() -> Vec<TestDb> {
    let mut out = vec![sqlite().await];
    match std::env::var("TOLLGATE_TEST_POSTGRES_URL") {
        Ok(url) => out.push(postgres(&url).await),
        Err(_) if std::env::var("TOLLGATE_REQUIRE_POSTGRES").is_ok() => {
            panic!("TOLLGATE_REQUIRE_POSTGRES is set but TOLLGATE_TEST_POSTGRES_URL is not")
        }
        Err(_) => {
            eprintln!("note: TOLLGATE_TEST_POSTGRES_URL unset; PostgreSQL not covered by this run")
        }
    }
    out
}

fn unique_name() -> String {
    format!(
        "tollgate_test_{}",
        Secret::random().digest()[..16].to_owned()
    )
}

async fn sqlite() -> TestDb {
    let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
    let db = db::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .expect("open sqlite");
    db::migrate(&db).await.expect("migrate sqlite");
    TestDb {
        db,
        kind: "sqlite",
        cleanup: Cleanup::File(path),
    }
}

async fn postgres(admin_url: &str) -> TestDb {
    let name = unique_name();
    let admin = db::connect(admin_url)
        .await
        .expect("connect to the test PostgreSQL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    admin.close().await.ok();
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
    let db = db::connect(&format!("{base}/{name}"))
        .await
        .expect("connect to the new database");
    db::migrate(&db).await.expect("migrate postgres");
    TestDb {
        db,
        kind: "postgres",
        cleanup: Cleanup::Postgres {
            admin_url: admin_url.to_owned(),
            name,
        },
    }
}

impl TestDb {
    /// Closes and removes the database.
    pub async fn finish(self) {
        self.db.close().await.ok();
        match self.cleanup {
            Cleanup::File(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
                }
            }
            Cleanup::Postgres { admin_url, name } => {
                let admin = db::connect(&admin_url).await.expect("reconnect to drop");
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                    .expect("drop database");
                admin.close().await.ok();
            }
        }
    }
}

pub const PASSWORD: &str = "correct horse battery staple";

/// Adds a user directly (as later flows like invites will), with `PASSWORD` when active.
pub async fn add_user(db: &DatabaseConnection, email: &str, role: Role, status: Status) -> UserId {
    let hash = if status == Status::Invited {
        None
    } else {
        Some(hash_password(&Secret::new(PASSWORD)).await.expect("hash"))
    };
    let model = user::ActiveModel {
        email: Set(email.to_owned()),
        email_normalized: Set(email.to_lowercase()),
        name: Set(
            (status != Status::Invited).then(|| email.split('@').next().unwrap_or("x").to_owned())
        ),
        role: Set(role),
        status: Set(status),
        password_hash: Set(hash),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .expect("insert user");
    UserId(model.id)
}

/// The acting user for `id` as a service sees them.
pub fn actor(id: UserId, role: Role) -> domain::Actor {
    domain::Actor {
        id,
        role,
        status: Status::Active,
    }
}

//! Whether the dependencies answer: for `/readyz`, and for the
//! `shiminhua_dependency_up` gauge kept current by a background probe.

use std::{future::Future, time::Duration};

use crate::{services::calendar, state::AppState};

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);
const PROBE_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    Database,
    Redis,
}

impl Dependency {
    pub fn as_str(self) -> &'static str {
        match self {
            Dependency::Database => "database",
            Dependency::Redis => "redis",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Check {
    pub dependency: Dependency,
    pub up: bool,
    /// What failed, in words safe to show (no addresses, no credentials).
    pub failure: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct Readiness {
    pub checks: Vec<Check>,
}

impl Readiness {
    pub fn ready(&self) -> bool {
        self.checks.iter().all(|c| c.up)
    }
}

async fn bounded<E>(check: impl Future<Output = Result<(), E>>) -> Option<&'static str> {
    match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(Ok(())) => None,
        Ok(Err(_)) => Some("unreachable"),
        Err(_) => Some("timed out"),
    }
}

/// Checks each dependency once, concurrently, each within a time bound. The
/// in-process store cannot fail, so only a configured Redis is checked.
pub async fn readiness(state: &AppState) -> Readiness {
    let database = bounded(state.db.ping());
    let redis = async {
        if state.store.kind() == "redis" {
            Some(bounded(state.store.ping()).await)
        } else {
            None
        }
    };
    let (database, redis) = tokio::join!(database, redis);
    let mut checks = vec![Check {
        dependency: Dependency::Database,
        up: database.is_none(),
        failure: database,
    }];
    if let Some(redis) = redis {
        checks.push(Check {
            dependency: Dependency::Redis,
            up: redis.is_none(),
            failure: redis,
        });
    }
    for check in &checks {
        metrics::gauge!("shiminhua_dependency_up", "dependency" => check.dependency.as_str()).set(if check.up {
            1.0
        } else {
            0.0
        });
    }
    Readiness { checks }
}

/// The years whose deadlines are counted now and whose official holiday
/// schedule nobody has entered: `/readyz` stays 200 and names them, for the
/// operator to have a national administrator enter the State Council's
/// notice. Empty when the database cannot tell (its check reports that).
pub async fn missing_calendar_years(state: &AppState) -> Vec<i32> {
    let today = crate::domain::china_time::today();
    let years = calendar::years_in_use(today);
    match tokio::time::timeout(CHECK_TIMEOUT, calendar::missing_years(&state.db, &years)).await {
        Ok(Ok(years)) => years,
        _ => Vec::new(),
    }
}

/// Keeps the dependency gauges current between scrapes of `/readyz`.
pub fn spawn_probe(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(PROBE_INTERVAL);
        loop {
            ticker.tick().await;
            let readiness = readiness(&state).await;
            for check in readiness.checks.iter().filter(|c| !c.up) {
                tracing::warn!(
                    dependency = check.dependency.as_str(),
                    failure = check.failure,
                    "dependency down"
                );
            }
        }
    })
}

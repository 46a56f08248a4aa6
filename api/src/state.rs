use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{config::Config, infra::store::KeyValueStore, services::regions::RegionDirectory};

/// What every request may use; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub store: Arc<dyn KeyValueStore>,
    pub regions: Arc<RegionDirectory>,
}

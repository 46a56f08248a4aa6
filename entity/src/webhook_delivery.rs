use sea_orm::entity::prelude::*;

/// One event for one integrator's webhook: the delivery log and its queue.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_delivery")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub client_id: String,
    pub event: String,
    /// The JSON body POSTed.
    pub payload: String,
    pub created_at: DateTimeUtc,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub claimed_until: Option<DateTimeUtc>,
    pub delivered_at: Option<DateTimeUtc>,
    /// The HTTP status of the last attempt, when there was an answer.
    pub last_status: Option<i32>,
    /// What became of the last attempt, in the public vocabulary of
    /// `services::webhooks::DeliveryOutcome`; never free error text.
    pub last_outcome: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

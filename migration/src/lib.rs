//! Schema changes and seed data, applied at start-up and by `shiminhua migrate`.

pub use sea_orm_migration::prelude::*;

mod columns;

mod m20261122_000001_create_region;
mod m20261122_000002_seed_regions;
mod m20261122_000003_create_identity;
mod m20261122_000004_create_policy;
mod m20261122_000005_seed_policies;
mod m20261122_000006_create_applications;
mod m20261122_000007_seed_programs;
mod m20261122_000008_create_upload;
mod m20261122_000009_create_outbox;
mod m20261122_000010_create_si_transfer;
mod m20261122_000011_create_webhooks;
mod m20261122_000012_create_wage_report;
mod m20261122_000013_wage_report_acceptance;
mod m20261122_000014_export_order;
mod m20261122_000015_anonymised_at;
mod m20261122_000016_audit_region;
mod m20261130_000017_client_region;
mod m20261130_000018_identity_evidence;
mod m20261130_000019_sign_in_attempts;
mod m20261130_000021_webhook_outcomes;
mod m20261130_000022_transfer_bounds;
mod m20261130_000023_case_versions;
mod m20261130_000024_report_documents;
mod m20261130_000026_coherent_programs;
mod m20261130_000027_seed_holidays;
mod m20261130_000032_payee_accounts;
mod m20261130_000033_payment_batches;
mod m20261130_000034_provincial_days;
mod m20261130_000036_one_open_transfer;
mod m20261130_000038_transfer_outcomes;
mod m20261130_000039_seed_holidays_2026;
mod m20261130_000040_review_queue_order;
mod m20261201_000041_recommendations;
mod m20261201_000042_program_offers;
mod m20261201_000045_relative_grants;
mod m20261201_000046_acted_by_relative;
mod m20261201_000049_window_filing;
mod m20261201_000050_certificates;
mod m20261201_000053_create_case_rating;
mod m20261201_000054_create_follow_up;
mod m20261201_000055_create_complaint;
mod m20261201_000060_keyset_order;
mod m20261201_000061_fewer_write_indexes;
mod seeds;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_region::Migration),
            Box::new(m20261122_000002_seed_regions::Migration),
            Box::new(m20261122_000003_create_identity::Migration),
            Box::new(m20261122_000004_create_policy::Migration),
            Box::new(m20261122_000005_seed_policies::Migration),
            Box::new(m20261122_000006_create_applications::Migration),
            Box::new(m20261122_000007_seed_programs::Migration),
            Box::new(m20261122_000008_create_upload::Migration),
            Box::new(m20261122_000009_create_outbox::Migration),
            Box::new(m20261122_000010_create_si_transfer::Migration),
            Box::new(m20261122_000011_create_webhooks::Migration),
            Box::new(m20261122_000012_create_wage_report::Migration),
            Box::new(m20261122_000013_wage_report_acceptance::Migration),
            Box::new(m20261122_000014_export_order::Migration),
            Box::new(m20261122_000015_anonymised_at::Migration),
            Box::new(m20261122_000016_audit_region::Migration),
            Box::new(m20261130_000017_client_region::Migration),
            Box::new(m20261130_000018_identity_evidence::Migration),
            Box::new(m20261130_000019_sign_in_attempts::Migration),
            Box::new(m20261130_000021_webhook_outcomes::Migration),
            Box::new(m20261130_000022_transfer_bounds::Migration),
            Box::new(m20261130_000023_case_versions::Migration),
            Box::new(m20261130_000024_report_documents::Migration),
            Box::new(m20261130_000026_coherent_programs::Migration),
            Box::new(m20261130_000027_seed_holidays::Migration),
            Box::new(m20261130_000032_payee_accounts::Migration),
            Box::new(m20261130_000033_payment_batches::Migration),
            Box::new(m20261130_000034_provincial_days::Migration),
            Box::new(m20261130_000036_one_open_transfer::Migration),
            Box::new(m20261130_000038_transfer_outcomes::Migration),
            Box::new(m20261130_000039_seed_holidays_2026::Migration),
            Box::new(m20261130_000040_review_queue_order::Migration),
            Box::new(m20261201_000041_recommendations::Migration),
            Box::new(m20261201_000042_program_offers::Migration),
            Box::new(m20261201_000045_relative_grants::Migration),
            Box::new(m20261201_000046_acted_by_relative::Migration),
            Box::new(m20261201_000049_window_filing::Migration),
            Box::new(m20261201_000050_certificates::Migration),
            Box::new(m20261201_000053_create_case_rating::Migration),
            Box::new(m20261201_000054_create_follow_up::Migration),
            Box::new(m20261201_000055_create_complaint::Migration),
            Box::new(m20261201_000060_keyset_order::Migration),
            Box::new(m20261201_000061_fewer_write_indexes::Migration),
        ]
    }
}

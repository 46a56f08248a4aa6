//! Outside services: webhook targets, the identity verifier and the
//! electronic-licence service.

use crate::infra::outbound::AddressPolicy;

use super::{CertificateProviderMode, IdentityVerifierMode};

pub(super) fn identity_verifier(
    var: &dyn Fn(&str) -> Option<String>,
    production: bool,
    problems: &mut Vec<String>,
) -> IdentityVerifierMode {
    let identity_verifier = match var("SHIMINHUA_IDENTITY_VERIFIER").as_deref() {
        None if production => IdentityVerifierMode::Off,
        None | Some("sandbox") => IdentityVerifierMode::Sandbox,
        Some("off") => IdentityVerifierMode::Off,
        Some(other) => {
            problems.push(format!(
                "SHIMINHUA_IDENTITY_VERIFIER must be off or sandbox, not {other:?}"
            ));
            IdentityVerifierMode::Off
        }
    };
    if production && identity_verifier == IdentityVerifierMode::Sandbox {
        problems.push("SHIMINHUA_IDENTITY_VERIFIER is sandbox: production needs off or a real provider".to_owned());
    }
    identity_verifier
}

pub(super) fn certificate_provider(
    var: &dyn Fn(&str) -> Option<String>,
    production: bool,
    problems: &mut Vec<String>,
) -> CertificateProviderMode {
    let provider = match var("SHIMINHUA_CERTIFICATE_PROVIDER").as_deref() {
        None if production => CertificateProviderMode::Off,
        None | Some("sandbox") => CertificateProviderMode::Sandbox,
        Some("off") => CertificateProviderMode::Off,
        Some(other) => {
            problems.push(format!(
                "SHIMINHUA_CERTIFICATE_PROVIDER must be off or sandbox, not {other:?}"
            ));
            CertificateProviderMode::Off
        }
    };
    if production && provider == CertificateProviderMode::Sandbox {
        problems.push(
            "SHIMINHUA_CERTIFICATE_PROVIDER is sandbox: production needs off or a real licence service".to_owned(),
        );
    }
    provider
}

pub(super) fn webhook_addresses(
    var: &dyn Fn(&str) -> Option<String>,
    production: bool,
    problems: &mut Vec<String>,
) -> AddressPolicy {
    let allow_loopback = match var("SHIMINHUA_WEBHOOK_ALLOW_LOOPBACK").as_deref() {
        None | Some("0") => false,
        Some("1") => true,
        Some(other) => {
            problems.push(format!(
                "SHIMINHUA_WEBHOOK_ALLOW_LOOPBACK must be 0 or 1, not {other:?}"
            ));
            false
        }
    };
    if production && allow_loopback {
        problems.push(
            "SHIMINHUA_WEBHOOK_ALLOW_LOOPBACK is set: webhooks to loopback are for tests, production refuses them"
                .to_owned(),
        );
    }
    AddressPolicy { allow_loopback }
}

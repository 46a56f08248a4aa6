//! Who is calling: tokens, sessions, the request guard and the OpenAPI security schemes.

pub mod acting;
pub mod guard;
pub mod password;
pub mod schemes;
pub mod sessions;
pub mod tokens;

use serde::{Deserialize, Serialize};

use crate::domain::RegionCode;

/// The three kinds of caller, each with its own tokens and routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    Worker,
    Staff,
    Integrator,
}

impl Audience {
    pub const ALL: [Audience; 3] = [Audience::Worker, Audience::Staff, Audience::Integrator];

    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Worker => "worker",
            Audience::Staff => "staff",
            Audience::Integrator => "integrator",
        }
    }

    /// The security scheme name of the audience in the OpenAPI document.
    pub fn scheme(self) -> &'static str {
        match self {
            Audience::Worker => "WorkerAuth",
            Audience::Staff => "StaffAuth",
            Audience::Integrator => "IntegratorAuth",
        }
    }

    pub fn from_scheme(name: &str) -> Option<Self> {
        Audience::ALL.into_iter().find(|a| a.scheme() == name)
    }
}

crate::text_enum! {
    /// What a staff member may do; a staff member may hold several roles.
    Role {
        Admin => "admin",
        Reviewer => "reviewer",
        Inspector => "inspector",
        PolicyEditor => "policy_editor",
        Finance => "finance",
        /// May export personal data in clear; each such export is audited.
        PersonalData => "personal_data",
        /// Files applications at a service window (窗口代办) for workers
        /// present in person, in the staff member's region.
        ServiceWindow => "service_window",
    }
}

crate::text_enum! {
    /// What an integrator client may do.
    Scope {
        SiTransferRead => "si_transfer:read",
        SiTransferWrite => "si_transfer:write",
    }
}

crate::text_enum! {
    /// What a worker lets a relative do for them (亲情代办).
    Right {
        /// Subsidy applications: apply, edit, submit, withdraw, follow; upload documents.
        Applications => "applications",
        /// Unpaid-wage reports: file, supplement, follow.
        WageReports => "wage_reports",
        /// Social-insurance transfers: open, claim, answer, follow.
        Transfers => "transfers",
    }
}

/// A relative acting for a worker under a grant, checked live by the guard
/// on this very request (see `auth::acting`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acting {
    /// The relative's own worker account: who really acts.
    pub relative_id: String,
    pub grant_id: String,
    pub rights: Vec<Right>,
    /// Whether the worker lets the relative see their personal data in clear.
    pub may_see_personal_data: bool,
}

/// An authenticated caller, as the guard established it for this request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub audience: Audience,
    /// Worker or staff id, or the integrator's client id.
    pub subject: String,
    pub session_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionCode>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<Scope>,
    /// Set by the guard for a relative acting for the worker `subject`
    /// (`X-Acting-For`); never stored in a session or a token.
    #[serde(default, skip)]
    pub acting: Option<Acting>,
}

impl Principal {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_scope(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

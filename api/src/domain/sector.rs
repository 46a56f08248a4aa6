crate::text_enum! {
    /// The trade the work was in.
    Sector {
        Construction => "construction",
        Manufacturing => "manufacturing",
        Services => "services",
        Agriculture => "agriculture",
        Transport => "transport",
        Other => "other",
    }
}

impl Sector {
    /// What people read in exports.
    pub fn label(self) -> &'static str {
        match self {
            Sector::Construction => "建筑业",
            Sector::Manufacturing => "制造业",
            Sector::Services => "服务业",
            Sector::Agriculture => "农业",
            Sector::Transport => "交通运输业",
            Sector::Other => "其他",
        }
    }
}

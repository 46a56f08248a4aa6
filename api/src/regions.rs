//! The administrative divisions, held in memory: the table is fixed between
//! releases and every region-scoped rule (queues, policy inheritance, the
//! access rules) asks it. Below the services: it knows no caller.

use std::collections::HashMap;

use entity::region;
use sea_orm::{DatabaseConnection, EntityTrait};

use crate::{
    domain::{RegionCode, TextType},
    error::{AppError, AppResult, ErrorCode},
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RegionLevel {
    Province,
    City,
    County,
}

impl RegionLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RegionLevel::Province => "province",
            RegionLevel::City => "city",
            RegionLevel::County => "county",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Region {
    pub code: RegionCode,
    pub name: String,
    pub level: RegionLevel,
    pub parent: Option<RegionCode>,
    pub kind: String,
}

#[derive(Debug, Default)]
pub struct RegionDirectory {
    by_code: HashMap<RegionCode, Region>,
    children: HashMap<Option<RegionCode>, Vec<RegionCode>>,
}

impl RegionDirectory {
    pub async fn load(db: &DatabaseConnection) -> anyhow::Result<Self> {
        let rows = region::Entity::find().all(db).await?;
        let regions = rows
            .into_iter()
            .map(|row| {
                let level = match row.level.as_str() {
                    "province" => RegionLevel::Province,
                    "city" => RegionLevel::City,
                    "county" => RegionLevel::County,
                    other => anyhow::bail!("region {} has an unknown level {other}", row.code),
                };
                let parse = |code: &str| {
                    RegionCode::parse(code).map_err(|_| anyhow::anyhow!("region code {code:?} is malformed"))
                };
                Ok(Region {
                    code: parse(&row.code)?,
                    parent: row.parent_code.as_deref().map(parse).transpose()?,
                    name: row.name,
                    level,
                    kind: row.kind,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self::from_regions(regions))
    }

    pub fn from_regions(regions: Vec<Region>) -> Self {
        let mut directory = RegionDirectory::default();
        for region in regions {
            directory.children.entry(region.parent).or_default().push(region.code);
            directory.by_code.insert(region.code, region);
        }
        for codes in directory.children.values_mut() {
            codes.sort_unstable();
        }
        directory
    }

    pub fn get(&self, code: RegionCode) -> Option<&Region> {
        self.by_code.get(&code)
    }

    /// The region, or the problem a client should see for an unknown code.
    pub fn require(&self, code: RegionCode) -> AppResult<&Region> {
        self.get(code).ok_or_else(|| {
            AppError::new(ErrorCode::RegionNotFound).with_details(serde_json::json!({ "region_code": code }))
        })
    }

    /// The direct subdivisions of `parent`, or the provinces when it is `None`.
    pub fn children(&self, parent: Option<RegionCode>) -> AppResult<Vec<&Region>> {
        if let Some(code) = parent {
            self.require(code)?;
        }
        Ok(self
            .children
            .get(&parent)
            .map(|codes| codes.iter().filter_map(|c| self.by_code.get(c)).collect())
            .unwrap_or_default())
    }

    /// From the province down to the region's parent.
    pub fn ancestors(&self, code: RegionCode) -> Vec<&Region> {
        let mut chain = Vec::new();
        let mut next = self.get(code).and_then(|r| r.parent);
        while let Some(parent) = next.and_then(|c| self.get(c)) {
            chain.push(parent);
            next = parent.parent;
        }
        chain.reverse();
        chain
    }

    /// The name with its ancestors' before it, e.g. 江苏省南京市玄武区; the
    /// code itself when it is not a known region.
    pub fn full_name(&self, code: &str) -> String {
        let Some(region) = RegionCode::parse(code).ok().and_then(|code| self.get(code)) else {
            return code.to_owned();
        };
        self.ancestors(region.code)
            .into_iter()
            .chain([region])
            .map(|r| r.name.as_str())
            .collect()
    }

    /// Every region below `code`, at any depth.
    pub fn descendants(&self, code: RegionCode) -> Vec<&Region> {
        let mut found = Vec::new();
        let mut pending = vec![code];
        while let Some(next) = pending.pop() {
            for child in self.children.get(&Some(next)).into_iter().flatten() {
                if let Some(region) = self.by_code.get(child) {
                    found.push(region);
                    pending.push(*child);
                }
            }
        }
        found
    }

    /// True when `scope` is `region` itself or one of its ancestors; the
    /// national code covers everything.
    pub fn covers(&self, scope: RegionCode, region: RegionCode) -> bool {
        scope.is_national() || scope == region || self.ancestors(region).iter().any(|a| a.code == scope)
    }

    /// Every scope that covers one of `regions` (by [`Self::covers`]): each
    /// region, its ancestors and the national code, to select in SQL whoever
    /// may hear of something happening there.
    pub fn covering(&self, regions: &[RegionCode]) -> Vec<String> {
        let mut codes = vec![RegionCode::NATIONAL.as_str().to_owned()];
        for region in regions {
            codes.push(region.as_str().to_owned());
            codes.extend(self.ancestors(*region).into_iter().map(|a| a.code.as_str().to_owned()));
        }
        codes.sort_unstable();
        codes.dedup();
        codes
    }

    pub fn len(&self) -> usize {
        self.by_code.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_code.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> RegionCode {
        RegionCode::parse(text).unwrap()
    }

    fn region(c: &str, name: &str, level: RegionLevel, parent: Option<&str>) -> Region {
        Region {
            code: code(c),
            name: name.to_owned(),
            level,
            parent: parent.map(code),
            kind: String::new(),
        }
    }

    fn jiangsu() -> RegionDirectory {
        RegionDirectory::from_regions(vec![
            region("320000", "江苏省", RegionLevel::Province, None),
            region("320100", "南京市", RegionLevel::City, Some("320000")),
            region("320115", "江宁区", RegionLevel::County, Some("320100")),
            region("320116", "六合区", RegionLevel::County, Some("320100")),
        ])
    }

    #[test]
    fn ancestors_run_from_the_province_down() {
        let names: Vec<_> = jiangsu()
            .ancestors(code("320115"))
            .iter()
            .map(|r| r.name.clone())
            .collect();
        assert_eq!(names, ["江苏省", "南京市"]);
    }

    #[test]
    fn a_scope_covers_itself_and_its_descendants_only() {
        let d = jiangsu();
        assert!(d.covers(code("320000"), code("320115")));
        assert!(d.covers(code("320115"), code("320115")));
        assert!(d.covers(RegionCode::NATIONAL, code("320116")));
        assert!(!d.covers(code("320115"), code("320116")));
        assert!(!d.covers(code("320115"), code("320100")));
    }

    #[test]
    fn the_covering_scopes_are_exactly_those_that_cover() {
        let d = jiangsu();
        let covering = d.covering(&[code("320115"), code("320116")]);
        assert_eq!(covering, ["000000", "320000", "320100", "320115", "320116"]);
        for scope in ["000000", "320000", "320100", "320115", "320116"] {
            assert!(d.covers(code(scope), code("320115")) || d.covers(code(scope), code("320116")));
        }
    }

    #[test]
    fn descendants_reach_every_depth() {
        let mut codes: Vec<_> = jiangsu()
            .descendants(code("320000"))
            .iter()
            .map(|r| r.code.as_str().to_owned())
            .collect();
        codes.sort();
        assert_eq!(codes, ["320100", "320115", "320116"]);
    }

    #[test]
    fn children_of_an_unknown_region_is_an_error() {
        let d = jiangsu();
        assert_eq!(d.children(None).unwrap().len(), 1);
        assert_eq!(d.children(Some(code("320100"))).unwrap().len(), 2);
        assert_eq!(
            d.children(Some(code("990000"))).unwrap_err().code,
            ErrorCode::RegionNotFound
        );
    }
}

use poem::web::Data;
use poem_openapi::{
    Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    types::Example,
};

use super::{ApiTags, Page};
use crate::http::params::{PageNumber, PageSize, Paging};
use crate::{
    domain::{RegionCode, TextType},
    http::problem::{ApiResult, status},
    regions::Region,
    state::AppState,
};

pub struct RegionApi;

/// An administrative division.
#[derive(Debug, Object)]
#[oai(rename = "Region", example, skip_serializing_if_is_none)]
pub struct RegionView {
    pub code: RegionCode,
    pub name: String,
    /// `province`, `city` or `county`.
    pub level: String,
    /// 省, 地级市, 市辖区, 县级市, 县, 自治县, …
    pub kind: String,
    /// Absent for provinces.
    pub parent_code: Option<RegionCode>,
}

impl Example for RegionView {
    fn example() -> Self {
        RegionView {
            code: RegionCode::parse("320115").expect("a valid example code"),
            name: "江宁区".to_owned(),
            level: "county".to_owned(),
            kind: "市辖区".to_owned(),
            parent_code: RegionCode::parse("320100").ok(),
        }
    }
}

impl From<&Region> for RegionView {
    fn from(region: &Region) -> Self {
        RegionView {
            code: region.code,
            name: region.name.clone(),
            level: region.level.as_str().to_owned(),
            kind: region.kind.clone(),
            parent_code: region.parent,
        }
    }
}

/// A region with the chain of regions above it.
#[derive(Debug, Object)]
pub struct RegionDetail {
    #[oai(flatten)]
    pub region: RegionView,
    /// From the province down to the parent; empty for a province.
    pub ancestors: Vec<RegionView>,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Regions")]
impl RegionApi {
    /// List regions under a parent
    ///
    /// The direct subdivisions of `parent`, ordered by code; the provinces
    /// when `parent` is absent.
    #[oai(path = "/regions", method = "get", operation_id = "listRegions")]
    async fn list(
        &self,
        state: Data<&AppState>,
        /// The region whose subdivisions to list.
        parent: Query<Option<RegionCode>>,
        /// Page number, from 1.
        page: Query<PageNumber>,
        /// Items per page, at most 100.
        page_size: Query<PageSize>,
    ) -> ApiResult<Json<Page<RegionView>>, { status::BAD_REQUEST | status::NOT_FOUND | status::ANY }> {
        let paging = Paging::new(page.0, page_size.0)?;
        let children = state.regions.children(parent.0)?;
        Ok(Json(Page::slice(&children, paging, |r| RegionView::from(*r))))
    }

    /// Get a region with its ancestors
    ///
    /// The GB/T 2260 region `code` with its province and city above it;
    /// an unknown code is 404 `REGION_NOT_FOUND`.
    #[oai(path = "/regions/:code", method = "get", operation_id = "getRegion")]
    async fn get(
        &self,
        state: Data<&AppState>,
        /// Six-digit region code, e.g. 320115.
        code: Path<RegionCode>,
    ) -> ApiResult<Json<RegionDetail>, { status::BAD_REQUEST | status::NOT_FOUND | status::ANY }> {
        let region = state.regions.require(code.0)?;
        Ok(Json(RegionDetail {
            region: region.into(),
            ancestors: state
                .regions
                .ancestors(code.0)
                .into_iter()
                .map(RegionView::from)
                .collect(),
        }))
    }
}

//! The routes of the app as the OpenAPI document lists them: the template a
//! metric is labelled with, and the methods a 405 answer must name in `Allow`.

use std::collections::HashMap;

use serde_json::Value;

#[derive(Debug)]
struct Route {
    template: String,
    segments: Vec<Option<String>>,
    methods: Vec<String>,
    security: HashMap<String, OperationAccess>,
}

/// What the guard needs to know of an operation before it runs.
#[derive(Debug, Clone, Default)]
pub struct OperationAccess {
    /// The security schemes that may authorize it.
    pub schemes: Vec<String>,
    /// Whether a caller without a token may call it too.
    pub anonymous: bool,
    /// Its `operationId`: what the delegation rules (`access::delegable`) name.
    pub operation_id: Option<String>,
}

#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
    by_operation: HashMap<String, String>,
}

impl RouteTable {
    /// Reads the paths of an OpenAPI document, plus routes served outside it.
    pub fn from_spec(spec: &Value, extra_get_routes: &[&str]) -> Self {
        let mut table = RouteTable::default();
        let paths = spec.get("paths").and_then(Value::as_object);
        for (template, item) in paths.into_iter().flatten() {
            let mut methods = Vec::new();
            let mut security = HashMap::new();
            for (method, operation) in item.as_object().into_iter().flatten() {
                let method = method.to_ascii_uppercase();
                if let Some(id) = operation.get("operationId").and_then(Value::as_str) {
                    table.by_operation.insert(id.to_owned(), template.clone());
                }
                let requirements: Vec<&serde_json::Map<String, Value>> = operation
                    .get("security")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_object)
                    .collect();
                let access = OperationAccess {
                    schemes: requirements.iter().flat_map(|r| r.keys().cloned()).collect(),
                    anonymous: requirements.is_empty() || requirements.iter().any(|r| r.is_empty()),
                    operation_id: operation.get("operationId").and_then(Value::as_str).map(str::to_owned),
                };
                security.insert(method.clone(), access);
                methods.push(method);
            }
            table.push(template, methods, security);
        }
        for template in extra_get_routes {
            let public = OperationAccess {
                schemes: Vec::new(),
                anonymous: true,
                operation_id: None,
            };
            table.push(
                template,
                vec!["GET".to_owned()],
                HashMap::from([("GET".to_owned(), public)]),
            );
        }
        table
    }

    fn push(&mut self, template: &str, mut methods: Vec<String>, mut security: HashMap<String, OperationAccess>) {
        if let Some(get) = security.get("GET").cloned() {
            security.insert("HEAD".to_owned(), get);
        }
        if methods.iter().any(|m| m == "GET") {
            methods.push("HEAD".to_owned());
        }
        methods.sort();
        let segments = template
            .split('/')
            .map(|s| (!(s.starts_with('{') && s.ends_with('}'))).then(|| s.to_owned()))
            .collect();
        self.routes.push(Route {
            template: template.to_owned(),
            segments,
            methods,
            security,
        });
    }

    /// The operation `method` `path` reaches, if any.
    pub fn operation(&self, method: &str, path: &str) -> Option<&OperationAccess> {
        self.find(path)?.security.get(method)
    }

    pub fn template_of_operation(&self, operation_id: &str) -> Option<&str> {
        self.by_operation.get(operation_id).map(String::as_str)
    }

    fn find(&self, path: &str) -> Option<&Route> {
        let parts: Vec<&str> = path.split('/').collect();
        self.routes.iter().find(|route| {
            route.segments.len() == parts.len()
                && route.segments.iter().zip(&parts).all(|(segment, part)| match segment {
                    Some(literal) => literal == part,
                    None => !part.is_empty(),
                })
        })
    }

    /// The `Allow` header value for `path`, when a route matches it.
    pub fn allow(&self, path: &str) -> Option<String> {
        self.find(path).map(|route| route.methods.join(", "))
    }

    /// The names of the path parameters of the route matching `path`, in order.
    pub fn path_params(&self, path: &str) -> Vec<String> {
        self.find(path)
            .map(|route| {
                route
                    .template
                    .split('/')
                    .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The template to label `path` with when no operation id says it.
    pub fn template_of_path(&self, path: &str) -> Option<&str> {
        self.find(path).map(|route| route.template.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_by_segment() {
        let spec = serde_json::json!({"paths": {
            "/api/v1/regions/{code}": {"get": {"operationId": "getRegion"}},
            "/api/v1/regions": {"get": {"operationId": "listRegions"}, "post": {"security": [{"StaffAuth": []}]}}
        }});
        let table = RouteTable::from_spec(&spec, &["/metrics"]);
        assert_eq!(table.allow("/api/v1/regions/320115").as_deref(), Some("GET, HEAD"));
        assert_eq!(table.allow("/api/v1/regions").as_deref(), Some("GET, HEAD, POST"));
        assert_eq!(table.allow("/api/v1/regions/"), None);
        assert_eq!(table.allow("/metrics").as_deref(), Some("GET, HEAD"));
        assert_eq!(table.template_of_operation("getRegion"), Some("/api/v1/regions/{code}"));
        assert_eq!(table.path_params("/api/v1/regions/32011x"), ["code"]);
        assert_eq!(
            table.operation("POST", "/api/v1/regions").unwrap().schemes,
            ["StaffAuth"]
        );
        assert!(table.operation("HEAD", "/api/v1/regions").unwrap().schemes.is_empty());
        assert!(table.operation("PUT", "/api/v1/regions").is_none());
    }
}

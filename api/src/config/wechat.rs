//! The WeChat mini-program: login mode, app credentials, API address and templates.

use std::time::Duration;

use super::{WechatConfig, WechatMode, parse_or};
use crate::infra::subscribe_message::{Templates, parse_templates};

pub(super) fn mode(var: &dyn Fn(&str) -> Option<String>, production: bool, problems: &mut Vec<String>) -> WechatMode {
    let wechat_mode = match var("SHIMINHUA_WECHAT_MODE").as_deref() {
        None | Some("sandbox") => WechatMode::Sandbox,
        Some("live") => WechatMode::Live,
        Some(other) => {
            problems.push(format!("SHIMINHUA_WECHAT_MODE must be sandbox or live, not {other:?}"));
            WechatMode::Sandbox
        }
    };
    if production && wechat_mode == WechatMode::Sandbox {
        problems.push("SHIMINHUA_WECHAT_MODE is sandbox: production needs live".to_owned());
    }
    wechat_mode
}

/// Everything but the mode, which [`mode`] reads first.
pub(super) fn wechat(
    var: &dyn Fn(&str) -> Option<String>,
    wechat_mode: WechatMode,
    problems: &mut Vec<String>,
) -> WechatConfig {
    let app_id = var("SHIMINHUA_WECHAT_APPID");
    let app_secret = var("SHIMINHUA_WECHAT_SECRET");
    if wechat_mode == WechatMode::Live {
        if app_id.is_none() {
            problems.push("SHIMINHUA_WECHAT_APPID is missing (needed in live WeChat mode)".to_owned());
        }
        match &app_secret {
            None => problems.push("SHIMINHUA_WECHAT_SECRET is missing (needed in live WeChat mode)".to_owned()),
            Some(secret) if secret.len() < 16 => {
                problems.push("SHIMINHUA_WECHAT_SECRET is too short: at least 16 characters".to_owned())
            }
            Some(_) => {}
        }
    }
    let api_base = var("SHIMINHUA_WECHAT_API_BASE")
        .unwrap_or_else(|| "https://api.weixin.qq.com".to_owned())
        .trim_end_matches('/')
        .to_owned();
    if !(api_base.starts_with("https://") || api_base.starts_with("http://")) {
        problems.push("SHIMINHUA_WECHAT_API_BASE must be an http(s) URL".to_owned());
    }

    let wechat_timeout_ms: u64 = parse_or(
        &var("SHIMINHUA_WECHAT_TIMEOUT_MS"),
        "5000",
        "SHIMINHUA_WECHAT_TIMEOUT_MS",
        problems,
    );
    WechatConfig {
        mode: wechat_mode,
        app_id,
        app_secret: app_secret.map(Into::into),
        api_base,
        timeout: Duration::from_millis(wechat_timeout_ms.clamp(100, 60_000)),
        templates: templates(var, problems),
    }
}

/// The subscribe-message templates by event (see the README).
fn templates(var: &dyn Fn(&str) -> Option<String>, problems: &mut Vec<String>) -> Templates {
    if var("SHIMINHUA_WECHAT_TEMPLATE_ID").is_some() {
        problems.push(
            "SHIMINHUA_WECHAT_TEMPLATE_ID is replaced by SHIMINHUA_WECHAT_TEMPLATES, a template and its fields per event"
                .to_owned(),
        );
    }
    let Some(text) = var("SHIMINHUA_WECHAT_TEMPLATES") else {
        return Templates::default();
    };
    parse_templates(&text).unwrap_or_else(|found| {
        problems.extend(
            found
                .into_iter()
                .map(|problem| format!("SHIMINHUA_WECHAT_TEMPLATES {problem}")),
        );
        Templates::default()
    })
}

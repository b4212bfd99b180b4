//! cron extractor.

use crate::extract::FileFacts;
use crate::rules::models::Models;

pub fn extract(path: &str, _text: &str, _models: &Models) -> FileFacts {
    let _ = path;
    FileFacts::default()
}
pub fn looks_like_cron_path(path: &str) -> bool { path.ends_with("crontab") || path.contains("cron.d/") }

//! The picture as JSON: [`super::view::GraphView`] as it is, versioned like `check`'s output
//! (extend, do not break).

use super::view::GraphView;

pub fn render(view: &GraphView) -> String {
    let mut text = serde_json::to_string_pretty(view)
        .unwrap_or_else(|e| format!("{{\"version\": 1, \"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

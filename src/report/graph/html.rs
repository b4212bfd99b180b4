//! The picture as one self-contained HTML page: the graph as inline SVG (laid out by
//! [`super::layout`]), a legend, the notes on what is not drawn, a table of every drawn access
//! and one of the jobs. Every node links to its rows in the tables, and every site links to the
//! file in the repository (`file://`).
//!
//! Nothing is fetched when the page is viewed: styles and the small script that highlights a
//! node's edges are inline, and a Content-Security-Policy forbids any other source. Every text
//! from analysed code is HTML-escaped (and its control characters shown as `\u{..}`).

use super::dot::colour;
use super::layout::{self, GAP, Layout};
use super::view::{EdgeKind, GraphView, NodeKind, edge_class};
use crate::report::text::clean;
use crate::report::truncate;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;
use std::path::PathBuf;

/// Up to this many edges, each access edge carries its modes as a label.
const LABELLED_EDGES: usize = 60;

/// Text safe in HTML content and in quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in clean(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A `file://` URL for a path, every byte but unreserved ones and `/` percent-encoded (so no
/// path can end the attribute or become another scheme).
pub fn file_url(path: &std::path::Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let mut out = String::from("file://");
    if !text.starts_with('/') {
        out.push('/');
    }
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const STYLE: &str = r#"
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0; color: #212121; background: #fafafa; }
header { padding: 12px 20px 4px; }
h1 { font-size: 20px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 24px 20px 8px; }
.meta { color: #555; margin: 0 0 6px; }
.legend { display: flex; flex-wrap: wrap; gap: 16px; list-style: none; padding: 0; margin: 6px 0; }
.legend li { display: flex; align-items: center; gap: 6px; }
.legend .swatch { display: inline-block; width: 28px; height: 0; border-top: 3px solid; }
.legend .dashed { border-top-style: dashed; }
.notes { margin: 4px 0 8px; color: #6d4c41; }
.canvas { overflow: auto; background: #fff; border-top: 1px solid #e0e0e0; border-bottom: 1px solid #e0e0e0; }
svg.graph { display: block; }
svg.graph text { font: 12px system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; }
svg.graph .band rect { fill: #f7f9fb; stroke: #cfd8dc; }
svg.graph .band.repo rect { fill: #f9f7f4; stroke: #d7ccc8; }
svg.graph .band text { font-weight: 600; fill: #455a64; }
svg.graph .column { font-weight: 700; fill: #37474f; font-size: 13px; }
svg.graph .node rect { stroke-width: 1.2; }
svg.graph .node.unit rect { fill: #e3f2fd; stroke: #1565c0; }
svg.graph .node.job rect { fill: #fff8e1; stroke: #8d6e63; }
svg.graph .node.resource rect { fill: #eceff1; stroke: #607d8b; }
svg.graph .node.resource.credential rect { fill: #fce4ec; stroke: #ad1457; }
svg.graph .node.resource.queue rect { fill: #ede7f6; stroke: #5e35b1; }
svg.graph .node.hidden rect { fill: #fff; stroke: #9e9e9e; stroke-dasharray: 4 3; }
svg.graph .node.hidden text { fill: #616161; font-style: italic; }
svg.graph .edge path { fill: none; stroke-width: 1.6; }
svg.graph .edge.runs path { stroke-dasharray: 5 4; }
svg.graph .edge text { font-size: 10px; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
svg.graph.focus .edge:not(.hl) { opacity: 0.07; }
svg.graph.focus .node:not(.hl) { opacity: 0.3; }
svg.graph .edge.hl path { stroke-width: 2.6; }
svg.graph a:hover rect { stroke-width: 2.4; }
table { border-collapse: collapse; margin: 0 20px 20px; background: #fff; font-size: 13px; }
th, td { border: 1px solid #e0e0e0; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #eceff1; }
td code { white-space: pre-wrap; word-break: break-all; }
tr:target, tr:has(span:target) { background: #fff59d; }
.mode { font-weight: 600; }
td.site { white-space: nowrap; }
.mode.produces { color: #1565c0; } .mode.removes { color: #c62828; } .mode.consumes { color: #2e7d32; } .mode.other { color: #757575; }
"#;

const SCRIPT: &str = r#"
(function () {
  var svg = document.querySelector('svg.graph');
  if (!svg) { return; }
  var edges = Array.prototype.slice.call(svg.querySelectorAll('.edge'));
  var nodes = {};
  Array.prototype.forEach.call(svg.querySelectorAll('.node'), function (n) { nodes[n.getAttribute('data-id')] = n; });
  Object.keys(nodes).forEach(function (id) {
    var n = nodes[id];
    n.addEventListener('mouseenter', function () {
      svg.classList.add('focus');
      n.classList.add('hl');
      edges.forEach(function (e) {
        var a = e.getAttribute('data-a'), b = e.getAttribute('data-b');
        if (a === id || b === id) {
          e.classList.add('hl');
          var other = nodes[a === id ? b : a];
          if (other) { other.classList.add('hl'); }
        }
      });
    });
    n.addEventListener('mouseleave', function () {
      svg.classList.remove('focus');
      Array.prototype.forEach.call(svg.querySelectorAll('.hl'), function (x) { x.classList.remove('hl'); });
    });
  });
})();
"#;

/// The page; `roots` maps repository names to their directories, for `file://` links.
pub fn render(view: &GraphView, roots: &BTreeMap<String, PathBuf>) -> String {
    let layout = layout::layout(view);
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n",
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        out,
        "<title>knockon graph: {}</title>",
        escape(&view.repositories.join(", "))
    );
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    header(&mut out, view);
    out.push_str("<div class=\"canvas\">\n");
    svg(&mut out, view, &layout);
    out.push_str("</div>\n");
    tables(&mut out, view, roots);
    let _ = writeln!(out, "<script>{SCRIPT}</script>\n</body>\n</html>");
    out
}

fn count(view: &GraphView, kind: NodeKind) -> usize {
    view.nodes.iter().filter(|n| n.kind == kind).count()
}

fn header(out: &mut String, view: &GraphView) {
    out.push_str("<header>\n<h1>knockon graph</h1>\n");
    let mut selection = Vec::new();
    if !view.selection.resources.is_empty() {
        selection.push(format!(
            "resources {}",
            escape(&view.selection.resources.join(", "))
        ));
    }
    if !view.selection.repos.is_empty() {
        selection.push(format!(
            "repositories {}",
            escape(&view.selection.repos.join(", "))
        ));
    }
    let _ = writeln!(
        out,
        "<p class=\"meta\">{} · {} units, {} resources, {} schedules and triggers, {} accesses drawn{}</p>",
        escape(&view.repositories.join(", ")),
        count(view, NodeKind::Unit),
        count(view, NodeKind::Resource),
        count(view, NodeKind::Job),
        view.accesses.len(),
        if selection.is_empty() {
            String::new()
        } else {
            format!(" · selected: {}", selection.join("; "))
        }
    );
    out.push_str("<ul class=\"legend\">\n");
    for (class, words) in [
        ("produces", "writes, appends, moves to, sets, publishes"),
        ("removes", "deletes, moves away"),
        (
            "consumes",
            "reads, lists, checks, consumes (arrow towards the reader)",
        ),
        ("other", "other"),
    ] {
        let _ = writeln!(
            out,
            "<li><span class=\"swatch\" style=\"border-color:{}\"></span>{words}</li>",
            colour(class)
        );
    }
    out.push_str("<li><span class=\"swatch dashed\" style=\"border-color:#8d6e63\"></span>runs (a schedule or trigger starts the unit)</li>\n");
    out.push_str("<li>hover a node to follow its edges; click it for its rows below</li>\n</ul>\n");
    out.push_str("<ul class=\"notes\" id=\"notes\">\n");
    for note in &view.notes {
        let _ = writeln!(out, "<li>{}</li>", escape(note));
    }
    out.push_str("</ul>\n</header>\n");
}

fn svg(out: &mut String, view: &GraphView, layout: &Layout) {
    let _ = writeln!(
        out,
        "<svg class=\"graph\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" role=\"img\" aria-label=\"producer and consumer graph\">",
        w = layout.width,
        h = layout.height
    );
    out.push_str("<defs>\n");
    for class in ["produces", "removes", "consumes", "other", "runs"] {
        let fill = if class == "runs" {
            "#8d6e63"
        } else {
            colour(class)
        };
        let _ = writeln!(
            out,
            "<marker id=\"arrow-{class}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"{fill}\"/></marker>"
        );
    }
    out.push_str("</defs>\n");
    for (title, x) in &layout.columns {
        let _ = writeln!(
            out,
            "<text class=\"column\" x=\"{x:.0}\" y=\"20\">{}</text>",
            escape(title)
        );
    }
    for band in &layout.bands {
        let r = band.rect;
        let _ = writeln!(
            out,
            "<g class=\"band{}\"><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"8\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text></g>",
            if band.repository { " repo" } else { "" },
            r.x,
            r.y,
            r.w,
            r.h,
            r.x + 10.0,
            r.y + 16.0,
            escape(&truncate(&band.label, ((r.w - 20.0) / 7.0) as usize))
        );
    }
    let labelled = view.edges.len() <= LABELLED_EDGES;
    // A label goes near the end where its edge is alone: near the resource when the unit fans
    // out to several, near the unit when several units meet at the resource.
    let mut out_degree: BTreeMap<&str, usize> = BTreeMap::new();
    let mut in_degree: BTreeMap<&str, usize> = BTreeMap::new();
    for edge in &view.edges {
        *out_degree.entry(edge.from.as_str()).or_default() += 1;
        *in_degree.entry(edge.to.as_str()).or_default() += 1;
    }
    for edge in &view.edges {
        let Some(((x1, y1), (x2, y2))) = layout::edge_points(layout, &edge.from, &edge.to) else {
            continue;
        };
        let dx = GAP / 2.0;
        let (class, markers, text) = match edge.kind {
            EdgeKind::Runs => (
                "runs",
                "marker-end=\"url(#arrow-runs)\"".to_string(),
                "runs".to_string(),
            ),
            EdgeKind::Access => {
                let class = edge_class(&edge.modes);
                let marker = if class == "consumes" {
                    format!("marker-start=\"url(#arrow-{class})\"")
                } else {
                    format!("marker-end=\"url(#arrow-{class})\"")
                };
                let modes: Vec<&str> = edge.modes.iter().map(|m| m.as_str()).collect();
                (class, marker, modes.join(", "))
            }
        };
        let stroke = if class == "runs" {
            "#8d6e63"
        } else {
            colour(class)
        };
        let (c1, c2) = ((x1 + dx, y1), (x2 - dx, y2));
        let _ = write!(
            out,
            "<g class=\"edge {class}\" data-a=\"{}\" data-b=\"{}\"><title>{}</title><path d=\"M{x1:.1},{y1:.1} C{:.1},{:.1} {:.1},{:.1} {x2:.1},{y2:.1}\" stroke=\"{stroke}\" {markers}/>",
            escape(&edge.from),
            escape(&edge.to),
            escape(&text),
            c1.0,
            c1.1,
            c2.0,
            c2.1,
        );
        // Runs edges are told by their dashes (see the legend); access edges by their modes.
        if labelled && edge.kind == EdgeKind::Access {
            let fans_out = out_degree.get(edge.from.as_str()).copied().unwrap_or(0);
            let meets = in_degree.get(edge.to.as_str()).copied().unwrap_or(0);
            let t = if meets > fans_out { 0.25 } else { 0.75 };
            let (lx, ly) = bezier((x1, y1), c1, c2, (x2, y2), t);
            let _ = write!(
                out,
                "<text x=\"{lx:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"{stroke}\">{}</text>",
                ly - 3.0,
                escape(&text)
            );
        }
        out.push_str("</g>\n");
    }
    for node in &view.nodes {
        let Some(r) = layout.nodes.get(&node.id) else {
            continue;
        };
        let kind = match node.kind {
            NodeKind::Job => "job",
            NodeKind::Unit => "unit",
            NodeKind::Resource => "resource",
            NodeKind::Hidden => "hidden",
        };
        let resource_kind = node
            .resource_kind
            .map(|k| format!(" {}", k.as_str()))
            .unwrap_or_default();
        let mut title = node.label.clone();
        if let Some(detail) = &node.detail {
            title.push_str(" — ");
            title.push_str(detail);
        }
        if let Some(site) = &node.site {
            title.push_str(&format!(" — {site}"));
        }
        let href = if node.kind == NodeKind::Hidden {
            "#notes".to_string()
        } else {
            format!("#n-{}", node.id)
        };
        let chars = ((r.w - 14.0) / 6.6).max(4.0) as usize;
        let _ = writeln!(
            out,
            "<a href=\"{}\"><g class=\"node {kind}{resource_kind}\" data-id=\"{}\"><title>{}</title><rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" rx=\"{}\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text></g></a>",
            escape(&href),
            escape(&node.id),
            escape(&title),
            r.x,
            r.y,
            r.w,
            r.h,
            if node.kind == NodeKind::Job { 12 } else { 4 },
            r.x + 7.0,
            r.y + r.h / 2.0 + 4.0,
            escape(&truncate(&node.drawn_label(), chars))
        );
    }
    out.push_str("</svg>\n");
}

/// The point at `t` on a cubic Bézier curve.
fn bezier(p0: (f64, f64), p1: (f64, f64), p2: (f64, f64), p3: (f64, f64), t: f64) -> (f64, f64) {
    let u = 1.0 - t;
    let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
    (
        a * p0.0 + b * p1.0 + c * p2.0 + d * p3.0,
        a * p0.1 + b * p1.1 + c * p2.1 + d * p3.1,
    )
}

fn site_link(site: &crate::model::Site, roots: &BTreeMap<String, PathBuf>) -> String {
    let text = escape(&site.to_string());
    match roots.get(&site.repo) {
        Some(root) => format!(
            "<a href=\"{}\">{text}</a>",
            escape(&file_url(&root.join(&site.path)))
        ),
        None => text,
    }
}

fn tables(out: &mut String, view: &GraphView, roots: &BTreeMap<String, PathBuf>) {
    let labels: BTreeMap<&str, &str> = view
        .nodes
        .iter()
        .map(|n| (n.id.as_str(), n.label.as_str()))
        .collect();
    let _ = writeln!(
        out,
        "<h2 id=\"accesses\">Accesses ({})</h2>",
        view.accesses.len()
    );
    out.push_str("<table>\n<tr><th>Site</th><th>Unit</th><th>Mode</th><th>Access</th><th>Runs</th><th>Line</th></tr>\n");
    let mut anchored: BTreeSet<&str> = BTreeSet::new();
    for a in &view.accesses {
        let mut anchors = String::new();
        for id in [a.unit.as_str(), a.resource.as_str()] {
            if anchored.insert(id) {
                let _ = write!(anchors, "<span id=\"n-{}\"></span>", escape(id));
            }
        }
        let class = super::view::mode_class(a.mode);
        let jobs: Vec<String> = a.jobs.iter().map(|j| escape(j)).collect();
        let _ = writeln!(
            out,
            "<tr id=\"{}\"><td class=\"site\">{anchors}{}</td><td>{}</td><td class=\"mode {class}\">{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            escape(&a.id),
            site_link(&a.site, roots),
            escape(&a.unit_name),
            escape(a.mode.as_str()),
            escape(&a.description),
            jobs.join("<br>"),
            escape(a.excerpt.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</table>\n");
    let jobs: Vec<&super::view::ViewNode> = view
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Job)
        .collect();
    if jobs.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<h2 id=\"jobs\">Schedules and triggers ({})</h2>",
        jobs.len()
    );
    out.push_str("<table>\n<tr><th>Job</th><th>Declared at</th><th>Starts</th></tr>\n");
    for job in jobs {
        let started: Vec<String> = view
            .edges
            .iter()
            .filter(|e| e.kind == EdgeKind::Runs && e.from == job.id)
            .filter_map(|e| labels.get(e.to.as_str()))
            .map(|l| escape(l))
            .collect();
        let _ = writeln!(
            out,
            "<tr id=\"n-{}\"><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&job.id),
            escape(job.detail.as_deref().unwrap_or(&job.label)),
            job.site
                .as_ref()
                .map(|s| site_link(s, roots))
                .unwrap_or_default(),
            started.join("<br>")
        );
    }
    out.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_urls() {
        assert_eq!(
            escape("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
        assert_eq!(
            file_url(std::path::Path::new("/r/a b/\"x\".py")),
            "file:///r/a%20b/%22x%22.py"
        );
        assert_eq!(
            file_url(std::path::Path::new("javascript:alert(1)")),
            "file:///javascript%3Aalert%281%29"
        );
    }
}

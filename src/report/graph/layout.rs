//! A layered layout for the HTML picture, in Rust: three columns — jobs (schedules and
//! triggers), units, resources — since every edge goes job -> unit or unit -> resource. Units and
//! jobs are stacked in one band per repository, resources in one band per group (`/data/ticker`,
//! environment variables, queues); bands and the nodes inside them are ordered by the barycentre
//! of their neighbours (a few sweeps of the Sugiyama heuristic), which removes most crossings.
//!
//! The picture grows downwards, one row per node, so a few hundred nodes stay legible (labels
//! never shrink or overlap) and the page scrolls; edges are drawn as curves between columns.

use super::view::{GraphView, NodeKind};
use std::collections::BTreeMap;

pub const ROW: f64 = 30.0;
pub const NODE_H: f64 = 24.0;
pub const JOB_W: f64 = 230.0;
pub const UNIT_W: f64 = 330.0;
pub const RESOURCE_W: f64 = 360.0;
pub const GAP: f64 = 170.0;
pub const MARGIN: f64 = 16.0;
const BAND_HEAD: f64 = 22.0;
const BAND_PAD: f64 = 6.0;
const BAND_GAP: f64 = 14.0;
const TOP: f64 = 34.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// A cluster's frame and title.
#[derive(Clone, Debug)]
pub struct Band {
    pub label: String,
    pub rect: Rect,
    /// A repository's band (left) or a resource group's (right).
    pub repository: bool,
}

#[derive(Clone, Debug)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    /// Node id -> its box.
    pub nodes: BTreeMap<String, Rect>,
    pub bands: Vec<Band>,
    /// Column titles and their x.
    pub columns: Vec<(&'static str, f64)>,
}

/// One side's bands: (group, members in order).
type Side = Vec<(String, Vec<usize>)>;

pub fn layout(view: &GraphView) -> Layout {
    let has_jobs = view.nodes.iter().any(|n| n.kind == NodeKind::Job);
    let job_x = MARGIN;
    let unit_x = if has_jobs {
        job_x + JOB_W + GAP
    } else {
        MARGIN
    };
    let resource_x = unit_x + UNIT_W + GAP;
    let index: BTreeMap<&str, usize> = view
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();
    let mut neighbours: Vec<Vec<usize>> = vec![Vec::new(); view.nodes.len()];
    for edge in &view.edges {
        if let (Some(a), Some(b)) = (index.get(edge.from.as_str()), index.get(edge.to.as_str())) {
            neighbours[*a].push(*b);
            neighbours[*b].push(*a);
        }
    }
    let left_group = |i: usize| {
        let n = &view.nodes[i];
        matches!(n.kind, NodeKind::Unit | NodeKind::Job)
            || (n.kind == NodeKind::Hidden && view.repositories.contains(&n.group))
    };
    let mut left: Side = Vec::new();
    let mut right: Side = Vec::new();
    for (i, node) in view.nodes.iter().enumerate() {
        let side = if left_group(i) { &mut left } else { &mut right };
        match side.iter_mut().find(|(g, _)| *g == node.group) {
            Some((_, members)) => members.push(i),
            None => side.push((node.group.clone(), vec![i])),
        }
    }
    let mut y = vec![0.0f64; view.nodes.len()];
    place(&left, view, &mut y);
    for _ in 0..4 {
        order(&mut right, &neighbours, &y, view);
        place(&right, view, &mut y);
        order(&mut left, &neighbours, &y, view);
        place(&left, view, &mut y);
    }
    // The shorter side is stretched: each node moves down to the mean height of its neighbours
    // (never up, never over the one above), so its edges run short and level.
    let left_bottom = place(&left, view, &mut y);
    let right_bottom = place(&right, view, &mut y);
    let desired: Vec<Option<f64>> = (0..view.nodes.len())
        .map(|i| {
            let ys: Vec<f64> = neighbours[i].iter().map(|n| y[*n]).collect();
            (!ys.is_empty()).then(|| ys.iter().sum::<f64>() / ys.len() as f64)
        })
        .collect();
    if right_bottom < left_bottom {
        stretch(&right, view, &mut y, &desired);
    } else if left_bottom < right_bottom {
        stretch(&left, view, &mut y, &desired);
    }
    // Final positions and bands.
    let mut nodes = BTreeMap::new();
    let mut bands = Vec::new();
    let left_bottom = frame(
        &left,
        view,
        &mut y,
        &mut nodes,
        &mut bands,
        true,
        |kind| match kind {
            NodeKind::Job => (job_x, JOB_W),
            _ => (unit_x, UNIT_W),
        },
    );
    let right_bottom = frame(&right, view, &mut y, &mut nodes, &mut bands, false, |_| {
        (resource_x, RESOURCE_W)
    });
    let mut columns = Vec::new();
    if has_jobs {
        columns.push(("schedules and triggers", job_x));
    }
    columns.push(("units (functions, scripts, entries)", unit_x));
    columns.push(("resources", resource_x));
    Layout {
        width: resource_x + RESOURCE_W + MARGIN,
        height: left_bottom.max(right_bottom) + MARGIN,
        nodes,
        bands,
        columns,
    }
}

/// Rows a band takes: jobs and the rest are stacked in their own columns side by side.
fn rows(members: &[usize], view: &GraphView) -> usize {
    let jobs = members
        .iter()
        .filter(|i| view.nodes[**i].kind == NodeKind::Job)
        .count();
    jobs.max(members.len() - jobs).max(1)
}

/// Assigns each node's centre y from the bands' order, row after row; returns the bottom.
fn place(side: &Side, view: &GraphView, y: &mut [f64]) -> f64 {
    let mut top = TOP;
    for (_, members) in side {
        let (mut job_row, mut row) = (0usize, 0usize);
        for i in members {
            let r = if view.nodes[*i].kind == NodeKind::Job {
                job_row += 1;
                job_row - 1
            } else {
                row += 1;
                row - 1
            };
            y[*i] = top + BAND_HEAD + BAND_PAD + ROW * r as f64 + ROW / 2.0;
        }
        top += BAND_HEAD + 2.0 * BAND_PAD + ROW * rows(members, view) as f64 + BAND_GAP;
    }
    top
}

/// Like [`place`], but a node (other than a job, which stays stacked at its band's top) goes
/// down to its desired height when there is room above it.
fn stretch(side: &Side, view: &GraphView, y: &mut [f64], desired: &[Option<f64>]) {
    let mut top = TOP;
    for (_, members) in side {
        let first = members
            .iter()
            .find(|i| view.nodes[**i].kind != NodeKind::Job)
            .and_then(|i| desired[*i]);
        let band_top = match first {
            Some(d) => top.max(d - ROW / 2.0 - BAND_PAD - BAND_HEAD),
            None => top,
        };
        let first_row = band_top + BAND_HEAD + BAND_PAD + ROW / 2.0;
        let (mut job_row, mut next) = (0usize, first_row);
        let mut bottom = first_row;
        for i in members {
            if view.nodes[*i].kind == NodeKind::Job {
                y[*i] = first_row + ROW * job_row as f64;
                job_row += 1;
            } else {
                y[*i] = desired[*i].map_or(next, |d| d.max(next));
                next = y[*i] + ROW;
            }
            bottom = bottom.max(y[*i]);
        }
        top = bottom + ROW / 2.0 + BAND_PAD + BAND_GAP;
    }
}

/// Sorts the bands of a side, and the nodes in each, by the mean y of their neighbours on the
/// other side; nodes with no neighbour keep their place at the end (hidden counts).
fn order(side: &mut Side, neighbours: &[Vec<usize>], y: &[f64], view: &GraphView) {
    let bary = |i: usize| -> Option<f64> {
        let ys: Vec<f64> = neighbours[i].iter().map(|n| y[*n]).collect();
        (!ys.is_empty()).then(|| ys.iter().sum::<f64>() / ys.len() as f64)
    };
    for (_, members) in side.iter_mut() {
        members.sort_by(|a, b| {
            let hidden = |i: usize| view.nodes[i].kind == NodeKind::Hidden;
            let (ka, kb) = (bary(*a).unwrap_or(f64::MAX), bary(*b).unwrap_or(f64::MAX));
            hidden(*a)
                .cmp(&hidden(*b))
                .then(ka.total_cmp(&kb))
                .then_with(|| view.nodes[*a].label.cmp(&view.nodes[*b].label))
        });
    }
    side.sort_by(|(ga, a), (gb, b)| {
        let mean = |m: &Vec<usize>| {
            let ys: Vec<f64> = m.iter().filter_map(|i| bary(*i)).collect();
            if ys.is_empty() {
                f64::MAX
            } else {
                ys.iter().sum::<f64>() / ys.len() as f64
            }
        };
        mean(a).total_cmp(&mean(b)).then_with(|| ga.cmp(gb))
    });
}

/// Places the boxes and frames of one side; returns its bottom.
fn frame(
    side: &Side,
    view: &GraphView,
    y: &mut [f64],
    nodes: &mut BTreeMap<String, Rect>,
    bands: &mut Vec<Band>,
    repository: bool,
    column: impl Fn(NodeKind) -> (f64, f64),
) -> f64 {
    let mut bottom = TOP;
    for (group, members) in side {
        let ys = members.iter().map(|i| y[*i]);
        let first = ys.clone().fold(f64::MAX, f64::min);
        let last = ys.fold(0.0, f64::max);
        let top = first - ROW / 2.0 - BAND_PAD - BAND_HEAD;
        let height = last + ROW / 2.0 + BAND_PAD - top;
        let xs: Vec<(f64, f64)> = members
            .iter()
            .map(|i| column(view.nodes[*i].kind))
            .collect();
        let x0 = xs.iter().map(|(x, _)| *x).fold(f64::MAX, f64::min);
        let x1 = xs.iter().map(|(x, w)| x + w).fold(0.0, f64::max);
        bands.push(Band {
            label: group.clone(),
            rect: Rect {
                x: x0 - 8.0,
                y: top,
                w: x1 - x0 + 16.0,
                h: height,
            },
            repository,
        });
        for i in members {
            let (x, w) = column(view.nodes[*i].kind);
            nodes.insert(
                view.nodes[*i].id.clone(),
                Rect {
                    x,
                    y: y[*i] - NODE_H / 2.0,
                    w,
                    h: NODE_H,
                },
            );
        }
        bottom = bottom.max(top + height + BAND_GAP);
    }
    bottom
}

/// The edges' end points: from the right side of the source to the left side of the target.
pub fn edge_points(layout: &Layout, from: &str, to: &str) -> Option<((f64, f64), (f64, f64))> {
    let (a, b) = (layout.nodes.get(from)?, layout.nodes.get(to)?);
    Some(((a.x + a.w, a.y + a.h / 2.0), (b.x, b.y + b.h / 2.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Mode;
    use crate::report::graph::view::EdgeKind;
    use crate::report::graph::view::{Hidden, SelectionInfo, ViewEdge, ViewNode};

    fn node(id: &str, kind: NodeKind, group: &str) -> ViewNode {
        ViewNode {
            id: id.into(),
            kind,
            label: id.into(),
            group: group.into(),
            resource_kind: None,
            site: None,
            detail: None,
            units_not_drawn: 0,
        }
    }

    fn edge(from: &str, to: &str) -> ViewEdge {
        ViewEdge {
            from: from.into(),
            to: to.into(),
            kind: EdgeKind::Access,
            modes: vec![Mode::Read],
            accesses: Vec::new(),
        }
    }

    #[test]
    fn crossings_are_removed_and_boxes_do_not_overlap() {
        // u0 touches r1 and u1 touches r0: the barycentre order uncrosses them.
        let view = GraphView {
            version: 1,
            selection: SelectionInfo {
                resources: vec![],
                repos: vec![],
            },
            repositories: vec!["a".into()],
            nodes: vec![
                node("u0", NodeKind::Unit, "a"),
                node("u1", NodeKind::Unit, "a"),
                node("r0", NodeKind::Resource, "/x"),
                node("r1", NodeKind::Resource, "/x"),
            ],
            edges: vec![edge("u0", "r1"), edge("u1", "r0")],
            accesses: vec![],
            hidden: Hidden::default(),
            notes: vec![],
        };
        let l = layout(&view);
        let y = |id: &str| l.nodes[id].y;
        assert_eq!(y("u0") < y("u1"), y("r1") < y("r0"));
        let boxes: Vec<&Rect> = l.nodes.values().collect();
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                let apart =
                    a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
                assert!(apart, "{a:?} overlaps {b:?}");
            }
        }
        assert!(
            l.nodes
                .values()
                .all(|r| r.x + r.w <= l.width && r.y + r.h <= l.height)
        );
        assert_eq!(l.bands.len(), 2);
    }
}

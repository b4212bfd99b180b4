//! Select: the indexed repositories a change can involve, read by keys, not whole.
//!
//! Input: the probes of the change (the keys of the changed repository's accesses at base and
//! head, its program keys, and the program keys of the checked-out context repositories) and
//! the names that must not come from the index (the changed and the context repositories: a
//! checkout wins). Output: those repositories' stored entries.
//!
//! Round 0 selects repositories with a key matching a resource probe or a program probe; each
//! following round probes with the program keys of what the last round selected (what runs
//! their files, what their launches run), so a crontab in one repository that runs a cleanup
//! of another comes along with it. Rounds stop when nothing new is found.

use super::keys::{self, Key};
use super::{IndexError, Reader, RepoEntry, RowCounts};
use std::collections::{BTreeMap, BTreeSet};

/// Rounds of program closure before selection gives up growing (a launch chain longer than
/// this is not followed further).
const MAX_ROUNDS: usize = 16;

/// What a selection read and chose.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub repos: Vec<RepoEntry>,
    pub rows_read: RowCounts,
    pub rounds: usize,
}

/// Selects and loads the repositories `probes` reach, leaving out `excluded` names.
pub fn select(
    reader: &mut dyn Reader,
    probes: &BTreeSet<Key>,
    excluded: &BTreeSet<String>,
) -> Result<Selection, IndexError> {
    let mut chosen: BTreeMap<i64, String> = BTreeMap::new();
    let mut probes: Vec<Key> = probes.iter().cloned().collect();
    let mut rounds = 0;
    while !probes.is_empty() && rounds < MAX_ROUNDS {
        rounds += 1;
        let rows = reader.matching(&probes)?;
        let mut found: BTreeMap<i64, String> = BTreeMap::new();
        for row in rows {
            if chosen.contains_key(&row.repo_id)
                || excluded.contains(&row.repo)
                || !probes.iter().any(|p| p.matches(&row.key))
            {
                continue;
            }
            found.insert(row.repo_id, row.repo);
        }
        if found.is_empty() {
            break;
        }
        let ids: Vec<i64> = found.keys().copied().collect();
        chosen.extend(found);
        let program = reader.program_keys(&ids)?;
        probes = keys::probes_of(program.iter().map(|r| &r.key))
            .into_iter()
            .collect();
    }
    let ids: Vec<i64> = chosen.keys().copied().collect();
    let mut repos = reader.load(&ids)?;
    repos.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Selection {
        repos,
        rows_read: reader.rows_read(),
        rounds,
    })
}

/// Loads every stored repository but the `excluded` names: what an audit, which asks about the
/// whole world, reads (no keys are probed; one round).
pub fn select_all(
    reader: &mut dyn Reader,
    excluded: &BTreeSet<String>,
) -> Result<Selection, IndexError> {
    let ids: Vec<i64> = reader
        .all_repos()?
        .into_iter()
        .filter(|(_, name)| !excluded.contains(name))
        .map(|(id, _)| id)
        .collect();
    let mut repos = reader.load(&ids)?;
    repos.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Selection {
        repos,
        rows_read: reader.rows_read(),
        rounds: 1,
    })
}

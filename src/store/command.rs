//! `knockon cache stats|prune|clear`: look at and trim the content cache.

use crate::cli::{CacheAction, CacheCommandArgs};
use crate::error::Error;
use crate::store::{self, cache};

/// Runs one cache action; the text to print.
pub fn run(args: &CacheCommandArgs) -> Result<String, Error> {
    let Some(mut cache) = store::open(args.cache.cache.as_deref(), args.cache.no_cache)? else {
        return Ok("cache: off (--no-cache, KNOCKON_CACHE=off, or no cache directory)\n".into());
    };
    let text = match &args.action {
        CacheAction::Stats => render_stats(&cache.stats().map_err(usage)?),
        CacheAction::Prune { max_size } => {
            let max = match max_size {
                Some(text) => {
                    cache::parse_size(text).map_err(|e| Error::Usage(format!("--max-size: {e}")))?
                }
                None => store::max_bytes(|name| std::env::var_os(name))?,
            };
            let deleted = cache.prune(max).map_err(usage)?;
            let stats = cache.stats().map_err(usage)?;
            format!(
                "pruned {deleted} entries; {} entries, {} used\n",
                stats.entries,
                human(stats.used_bytes)
            )
        }
        CacheAction::Clear => {
            cache.clear().map_err(usage)?;
            format!("cleared {}\n", cache.path().display())
        }
    };
    store::print_warnings(Some(&mut cache));
    Ok(text)
}

fn usage(e: cache::CacheError) -> Error {
    Error::Usage(e.to_string())
}

fn render_stats(stats: &cache::Stats) -> String {
    let lookups = stats.hits + stats.misses;
    let rate = if lookups == 0 {
        String::new()
    } else {
        format!(" ({:.1}% hits)", stats.hits as f64 * 100.0 / lookups as f64)
    };
    format!(
        "path:    {}\nentries: {} ({} of facts)\nsize:    {} used of {}\nlookups: {} hits, {} misses{rate}\nworlds:  {} hits, {} misses (whole workspaces resolved)\n",
        stats.path.display(),
        stats.entries,
        human(stats.entry_bytes),
        human(stats.used_bytes),
        human(stats.max_bytes),
        stats.hits,
        stats.misses,
        stats.world_hits,
        stats.world_misses,
    )
}

/// `31.2 MiB`.
fn human(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

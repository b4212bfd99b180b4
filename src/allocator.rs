//! The executable's allocator: jemalloc, for Rust and for tree-sitter's C code alike.
//!
//! Extraction builds millions of small facts on every thread, and tree-sitter allocates every
//! node of every syntax tree. Against glibc's malloc a whole run over the benchmark corpus is
//! ~20 % faster with jemalloc (README, issue 12); tree-sitter calls `malloc` from C, so it is
//! handed jemalloc's functions too, or its trees would still go through glibc. On Linux jemalloc
//! is also the process's `malloc` (unprefixed), for the C code that calls `malloc` itself: the
//! Python grammar's scanner allocates and frees its indentation stack each time the parser
//! restores its state, 1.6 % of a cold run's instructions in glibc's allocator (1 % less in all).

#[cfg(not(target_env = "msvc"))]
use knockon::extract::tree_memory;
#[cfg(not(target_env = "msvc"))]
use std::ffi::c_void;

/// Every Rust allocation.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read at its first allocation. One arena per CPU: with its default (four
/// per CPU) the threads' garbage is spread over more arenas and the peak is ~15 MiB higher for
/// no gain; a single arena is as small but makes many threads contend. `MALLOC_CONF` in the
/// environment still overrides it (jemalloc is unprefixed on Linux, so the symbol and variable
/// are `malloc`'s own). Linux only: elsewhere jemalloc cannot tell the CPU.
#[cfg(all(target_os = "linux", not(target_env = "msvc")))]
#[unsafe(export_name = "malloc_conf")]
static JEMALLOC_OPTIONS: &[u8; 20] = b"percpu_arena:percpu\0";

/// Makes tree-sitter allocate with jemalloc. Called first thing in `main`, before any parser
/// exists and while there is one thread, as `tree_sitter::set_allocator` requires.
pub fn share_with_tree_sitter() {
    #[cfg(not(target_env = "msvc"))]
    // SAFETY: the four functions are jemalloc's own, so memory one allocates another frees;
    // they never return null for a non-zero size (an exhausted heap aborts, as Rust's
    // allocations do); jemalloc aligns as malloc does; and no tree-sitter object exists yet.
    unsafe {
        tree_sitter::set_allocator(Some(tree_sitter::Allocator {
            malloc: ts_malloc,
            calloc: ts_calloc,
            realloc: ts_realloc,
            free: ts_free,
        }));
        tree_memory::route();
    }
}

/// Aborts when jemalloc has no memory left: tree-sitter must never see a null allocation.
#[cfg(not(target_env = "msvc"))]
fn or_abort(ptr: *mut c_void, size: usize) -> *mut c_void {
    if ptr.is_null() && size != 0 {
        std::process::abort();
    }
    ptr
}

// While a file is extracted its trees take memory from the thread's region
// (`knockon::extract::tree_memory`), which takes it all back when the file is done; outside
// that, and for memory from before, jemalloc's.

#[cfg(not(target_env = "msvc"))]
unsafe extern "C" fn ts_malloc(size: usize) -> *mut c_void {
    match tree_memory::alloc(size) {
        Some(block) => block.cast(),
        // SAFETY: plain malloc.
        None => or_abort(unsafe { tikv_jemalloc_sys::malloc(size) }, size),
    }
}

#[cfg(not(target_env = "msvc"))]
unsafe extern "C" fn ts_calloc(count: usize, size: usize) -> *mut c_void {
    let bytes = count.saturating_mul(size);
    match tree_memory::alloc(bytes) {
        Some(block) => {
            // SAFETY: the block holds `bytes` bytes.
            unsafe { block.write_bytes(0, bytes) };
            block.cast()
        }
        // SAFETY: plain calloc.
        None => or_abort(unsafe { tikv_jemalloc_sys::calloc(count, size) }, bytes),
    }
}

#[cfg(not(target_env = "msvc"))]
unsafe extern "C" fn ts_realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: plain malloc, for a block of the region that moves to the heap.
    let heap = |size: usize| unsafe { tikv_jemalloc_sys::malloc(size) }.cast::<u8>();
    // SAFETY: `ptr` is null or a live block from these functions (tree-sitter grows only what
    // it allocated through them).
    match unsafe { tree_memory::realloc(ptr.cast(), size, heap) } {
        Some(block) => or_abort(block.cast(), size),
        // SAFETY: `ptr` came from jemalloc through these functions (tree-sitter frees and grows
        // only what it allocated through them), as it is not the region's.
        None => or_abort(unsafe { tikv_jemalloc_sys::realloc(ptr, size) }, size),
    }
}

#[cfg(not(target_env = "msvc"))]
unsafe extern "C" fn ts_free(ptr: *mut c_void) {
    if !tree_memory::free(ptr.cast()) {
        // SAFETY: as for `ts_realloc`.
        unsafe { tikv_jemalloc_sys::free(ptr) }
    }
}

/// Gives the pages freed so far back to the system, and every page freed from now on as soon
/// as it is free. Called once extraction is over.
///
/// Extraction frees most of what it allocates (source text, syntax trees) while it builds the
/// facts; jemalloc keeps freed pages for reuse for ten seconds, and resolution, whose own
/// temporary values (evaluations, edges, per-file answers) come and go on other size classes,
/// added its pages on top: resident − active was ~20 MiB at the peak of a whole-corpus `who`
/// (166 MiB resident in all, README). Extraction keeps the default, so that its churn reuses
/// pages instead of faulting them in again; past it, returning them at once costs no
/// measurable time.
pub fn return_free_pages() {
    #[cfg(not(target_env = "msvc"))]
    {
        use std::ffi::{CString, c_void};
        // jemalloc's MALLCTL_ARENAS_ALL: every arena at once.
        const ALL_ARENAS: u32 = 4096;
        let control = |name: &str, new: Option<isize>| {
            let Ok(name) = CString::new(name) else {
                return;
            };
            let mut value = new.unwrap_or(0);
            let (new_ptr, new_len) = match new {
                Some(_) => (
                    (&raw mut value).cast::<c_void>(),
                    std::mem::size_of::<isize>(),
                ),
                None => (std::ptr::null_mut(), 0),
            };
            // SAFETY: `name` is a NUL-terminated control name; a purge takes no value, a
            // decay time is an `ssize_t` read from `value`, which outlives the call. An
            // unknown name only returns an error code, which changes nothing here.
            unsafe {
                tikv_jemalloc_sys::mallctl(
                    name.as_ptr(),
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                    new_ptr,
                    new_len,
                );
            }
        };
        control(&format!("arena.{ALL_ARENAS}.purge"), None);
        let mut arenas: u32 = 0;
        let mut size = std::mem::size_of::<u32>();
        // SAFETY: `arenas.narenas` is an `unsigned`, written into `arenas` of that size.
        unsafe {
            tikv_jemalloc_sys::mallctl(
                c"arenas.narenas".as_ptr(),
                (&raw mut arenas).cast::<c_void>(),
                &raw mut size,
                std::ptr::null_mut(),
                0,
            );
        }
        for arena in 0..arenas {
            control(&format!("arena.{arena}.dirty_decay_ms"), Some(0));
        }
    }
}

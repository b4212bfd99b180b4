//! The executable's allocator: jemalloc, for Rust and for tree-sitter's C code alike.
//!
//! Extraction builds millions of small facts on every thread, and tree-sitter allocates every
//! node of every syntax tree. Against glibc's malloc a whole run over the benchmark corpus is
//! ~20 % faster with jemalloc (README, issue 12); tree-sitter calls `malloc` from C, so it is
//! handed jemalloc's functions too, or its trees would still go through glibc.

#[cfg(not(target_env = "msvc"))]
use std::ffi::c_void;

/// Every Rust allocation.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read at its first allocation. One arena per CPU: with its default (four
/// per CPU) the threads' garbage is spread over more arenas and the peak is ~15 MiB higher for
/// no gain; a single arena is as small but makes many threads contend. `_RJEM_MALLOC_CONF` in
/// the environment still overrides it. Linux only: elsewhere jemalloc cannot tell the CPU.
#[cfg(all(target_os = "linux", not(target_env = "msvc")))]
#[unsafe(export_name = "_rjem_malloc_conf")]
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

#[cfg(not(target_env = "msvc"))]
unsafe extern "C" fn ts_malloc(size: usize) -> *mut c_void {
    // SAFETY: plain malloc.
    or_abort(unsafe { tikv_jemalloc_sys::malloc(size) }, size)
}

#[cfg(not(target_env = "msvc"))]
unsafe extern "C" fn ts_calloc(count: usize, size: usize) -> *mut c_void {
    // SAFETY: plain calloc.
    or_abort(
        unsafe { tikv_jemalloc_sys::calloc(count, size) },
        count.saturating_mul(size),
    )
}

#[cfg(not(target_env = "msvc"))]
unsafe extern "C" fn ts_realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: `ptr` came from one of these functions (tree-sitter frees and grows only what
    // it allocated through them).
    or_abort(unsafe { tikv_jemalloc_sys::realloc(ptr, size) }, size)
}

#[cfg(not(target_env = "msvc"))]
unsafe extern "C" fn ts_free(ptr: *mut c_void) {
    // SAFETY: as for `ts_realloc`.
    unsafe { tikv_jemalloc_sys::free(ptr) }
}

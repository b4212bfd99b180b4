//! Memory for syntax trees: one region per thread, handed out by bumping a pointer while a file
//! is extracted and taken back whole when its extraction ends.
//!
//! tree-sitter allocates every node of every tree one by one, and frees them one by one: freeing
//! a file's trees walks every node again (2 % of a cold run's CPU over the benchmark corpus, the
//! allocations inside parsing another 1.5 %). Inside [`scope`], the executable's tree-sitter
//! allocator ([`alloc`], [`realloc`], [`free`], routed there by [`route`]) takes memory from
//! the thread's region instead of the heap; freeing is a no-op, and a file's trees are left to
//! the region ([`release`]) instead of walked. When the scope ends the region goes back to where
//! it began, and to a few megabytes when it is the outermost.
//!
//! Invariants: a scope only ever returns to its own start, so scopes nest (a YAML file's
//! embedded script is extracted inside the file's scope); nothing tree-sitter allocated inside
//! a scope outlives it (every parser, tree and cursor of an extraction is its own: callers of
//! [`scope`] keep none); memory from before a scope that grows inside it moves to the heap, so
//! the scope's end cannot take it back; and without [`route`] (the library alone, its tests)
//! nothing here is used and trees are freed as usual.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether tree-sitter allocates through this module (the executable says so once, first thing).
static ROUTED: AtomicBool = AtomicBool::new(false);

/// Size of a chunk (a request larger than this gets a chunk of its own size).
const CHUNK_BYTES: usize = 1 << 20;
/// What a thread's region keeps between files; more is given back when the outermost scope ends.
const RETAINED_BYTES: usize = 4 << 20;
/// The most a thread's region grows to; past it, the heap's turn. Freeing in a region is a
/// no-op, so a file whose parse allocates and frees over and over (error recovery in a garbled
/// file: 2.8 GiB for one 0.9 MB file without a bound) would otherwise hold all it ever
/// allocated until it is done. Most files' trees fit; a larger tree goes on in the heap.
const MAX_REGION_BYTES: usize = 8 << 20;
/// Alignment of every block, as `malloc` aligns (and room for the block's size before it).
const ALIGN: usize = 16;

/// Says that tree-sitter's allocator calls [`alloc`], [`realloc`] and [`free`] (and the heap
/// when they decline). Without it no region is used.
pub fn route() {
    ROUTED.store(true, Ordering::Release);
}

struct Chunk {
    base: *mut u8,
    capacity: usize,
}

/// A position in the region: a chunk and an offset into it.
#[derive(Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Mark {
    chunk: usize,
    offset: usize,
}

#[derive(Default)]
struct Region {
    chunks: Vec<Chunk>,
    next: Mark,
    /// Where each open scope began, innermost last.
    starts: Vec<Mark>,
    /// Whether a block of an open scope went to the heap (the region was full): a tree may then
    /// be partly in the heap, and [`release`] frees it as usual.
    spilled: bool,
}

thread_local! {
    static REGION: RefCell<Region> = RefCell::new(Region::default());
}

fn layout(capacity: usize) -> Option<std::alloc::Layout> {
    std::alloc::Layout::from_size_align(capacity, ALIGN).ok()
}

impl Region {
    /// A block of `size` bytes with its size written before it.
    fn alloc(&mut self, size: usize) -> Option<*mut u8> {
        let total = size.checked_add(2 * ALIGN - 1)? & !(ALIGN - 1);
        loop {
            if let Some(chunk) = self.chunks.get(self.next.chunk)
                && self.next.offset + total <= chunk.capacity
            {
                // SAFETY: the block lies inside the chunk (checked just above), and a chunk's
                // base is aligned to ALIGN, as is every offset.
                let block = unsafe { chunk.base.add(self.next.offset) };
                // SAFETY: the first ALIGN bytes of the block are its header.
                unsafe { block.cast::<usize>().write(size) };
                self.next.offset += total;
                // SAFETY: inside the block.
                return Some(unsafe { block.add(ALIGN) });
            }
            if self.next.chunk + 1 < self.chunks.len() {
                self.next = Mark {
                    chunk: self.next.chunk + 1,
                    offset: 0,
                };
                continue;
            }
            let held: usize = self.chunks.iter().map(|c| c.capacity).sum();
            let capacity = total.max(CHUNK_BYTES);
            if held + capacity > MAX_REGION_BYTES {
                return None;
            }
            // SAFETY: the layout's size is non-zero.
            let base = unsafe { std::alloc::alloc(layout(capacity)?) };
            if base.is_null() {
                return None;
            }
            self.chunks.push(Chunk { base, capacity });
            self.next = Mark {
                chunk: self.chunks.len() - 1,
                offset: 0,
            };
        }
    }

    /// Where a block handed out by [`Region::alloc`] is, if `ptr` is one.
    fn find(&self, ptr: *const u8) -> Option<Mark> {
        let address = ptr as usize;
        self.chunks.iter().enumerate().find_map(|(index, chunk)| {
            let base = chunk.base as usize;
            (address >= base + ALIGN && address < base + chunk.capacity).then(|| Mark {
                chunk: index,
                offset: address - base - ALIGN,
            })
        })
    }

    /// Gives the chunks beyond the first `keep_bytes` back to the heap.
    fn trim(&mut self, keep_bytes: usize) {
        let mut kept = 0;
        let mut keep = 0;
        for chunk in &self.chunks {
            if kept + chunk.capacity > keep_bytes {
                break;
            }
            kept += chunk.capacity;
            keep += 1;
        }
        for chunk in self.chunks.drain(keep..) {
            if let Some(layout) = layout(chunk.capacity) {
                // SAFETY: allocated by `Region::alloc` with this layout, and no block in it is
                // alive (the outermost scope has ended).
                unsafe { std::alloc::dealloc(chunk.base, layout) };
            }
        }
    }
}

impl Drop for Region {
    fn drop(&mut self) {
        for chunk in self.chunks.drain(..) {
            if let Some(layout) = layout(chunk.capacity) {
                // SAFETY: allocated by `Region::alloc` with this layout; the thread is ending,
                // and with it every scope.
                unsafe { std::alloc::dealloc(chunk.base, layout) };
            }
        }
    }
}

/// Runs `extract` with this thread's tree-sitter allocations in its region, and takes them all
/// back when it returns (or unwinds). `extract` must leave no tree-sitter object alive.
pub fn scope<R>(extract: impl FnOnce() -> R) -> R {
    struct End;
    impl Drop for End {
        fn drop(&mut self) {
            REGION.with_borrow_mut(|region| {
                if let Some(start) = region.starts.pop() {
                    region.next = start;
                }
                if region.starts.is_empty() {
                    region.trim(RETAINED_BYTES);
                    region.next = Mark::default();
                    region.spilled = false;
                }
            });
        }
    }
    if !ROUTED.load(Ordering::Acquire) {
        return extract();
    }
    REGION.with_borrow_mut(|region| {
        let start = region.next;
        region.starts.push(start);
    });
    let _end = End;
    extract()
}

/// Gives this thread's region back to the heap, once no more files are to be extracted: what it
/// keeps between files would otherwise count at the run's peak (resolution's).
pub fn give_back() {
    REGION.with_borrow_mut(|region| {
        if region.starts.is_empty() {
            region.trim(0);
            region.next = Mark::default();
        }
    });
}

/// A block of `size` bytes from the region, or `None` outside a scope or when the region is
/// full (the heap's turn).
pub fn alloc(size: usize) -> Option<*mut u8> {
    REGION.with_borrow_mut(|region| {
        if region.starts.is_empty() {
            return None;
        }
        let block = region.alloc(size);
        region.spilled |= block.is_none();
        block
    })
}

/// What `realloc(ptr, size)` does for a block of the region: a block of the current scope
/// moves within it (growing in place when it is the last one); an older block, or any block
/// outside a scope, moves to `heap_alloc`'s memory, so that no scope's end can take it back.
/// `None` when `ptr` is not the region's (the heap's turn).
///
/// # Safety
///
/// `ptr` is null or a live block that [`alloc`], this function or the heap handed out.
pub unsafe fn realloc(
    ptr: *mut u8,
    size: usize,
    heap_alloc: impl FnOnce(usize) -> *mut u8,
) -> Option<*mut u8> {
    if ptr.is_null() {
        return alloc(size);
    }
    REGION.with_borrow_mut(|region| {
        let at = region.find(ptr)?;
        // SAFETY: `ptr` is a block of the region: its size is in the header before it.
        let old_size = unsafe { ptr.sub(ALIGN).cast::<usize>().read() };
        let in_scope = region.starts.last().is_some_and(|start| at >= *start);
        let moved = if in_scope {
            let total = |size: usize| size.saturating_add(2 * ALIGN - 1) & !(ALIGN - 1);
            let chunk_end = region.chunks.get(at.chunk).map_or(0, |c| c.capacity);
            let is_last =
                at.chunk == region.next.chunk && at.offset + total(old_size) == region.next.offset;
            if is_last && at.offset + total(size) <= chunk_end {
                region.next.offset = at.offset + total(size);
                // SAFETY: the header of the block being grown.
                unsafe { ptr.sub(ALIGN).cast::<usize>().write(size) };
                return Some(ptr);
            }
            match region.alloc(size) {
                Some(block) => block,
                None => {
                    region.spilled = true;
                    heap_alloc(size)
                }
            }
        } else {
            region.spilled = true;
            heap_alloc(size)
        };
        if !moved.is_null() {
            // SAFETY: both blocks hold at least the bytes copied, and a new block never
            // overlaps a live one.
            unsafe { std::ptr::copy_nonoverlapping(ptr, moved, old_size.min(size)) };
        }
        Some(moved)
    })
}

/// Whether `ptr` is the region's, which freeing leaves to the scope's end. `false`: the heap's.
pub fn free(ptr: *mut u8) -> bool {
    !ptr.is_null() && REGION.with_borrow(|region| region.find(ptr).is_some())
}

/// Drops a tree, or leaves it to the region when all its nodes are there: freeing them one by
/// one would walk the whole tree for nothing.
pub fn release(tree: tree_sitter::Tree) {
    let root = tree.root_node().id() as *const u8;
    let in_region = REGION.with_borrow(|region| {
        !region.starts.is_empty() && !region.spilled && region.find(root).is_some()
    });
    if in_region {
        std::mem::forget(tree);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn heap(size: usize) -> *mut u8 {
        // SAFETY: a non-zero size; the test frees it with the same layout.
        unsafe { std::alloc::alloc(layout(size.max(1)).unwrap()) }
    }

    fn fill(ptr: *mut u8, len: usize, byte: u8) {
        // SAFETY: the block holds `len` bytes.
        unsafe { ptr.write_bytes(byte, len) };
    }

    fn bytes(ptr: *const u8, len: usize) -> Vec<u8> {
        // SAFETY: the block holds `len` bytes.
        unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec()
    }

    #[test]
    fn blocks_come_from_the_region_only_inside_a_scope_and_go_back_when_it_ends() {
        route();
        // Each test runs on a thread of its own, so the region is this test's alone.
        assert!(alloc(64).is_none(), "outside a scope, the heap's turn");
        let (first, reused) = scope(|| {
            let first = alloc(64).unwrap();
            fill(first, 64, 1);
            assert!(free(first), "a block of the region is the region's to free");
            assert_eq!(first as usize % ALIGN, 0);
            // The last block grows in place; its bytes stay.
            // SAFETY: `first` is a live block.
            let grown = unsafe { realloc(first, 200, |_| panic!("no heap")) }.unwrap();
            assert_eq!(grown, first);
            assert_eq!(bytes(grown, 64), vec![1; 64]);
            // A block from the outer scope that grows inside an inner one moves to the heap
            // (the inner scope's end would take it back otherwise), bytes and all.
            let outer = alloc(32).unwrap();
            fill(outer, 32, 7);
            let (inner, moved) = scope(|| {
                let inner = alloc(16).unwrap();
                let mut asked = 0;
                // SAFETY: `outer` is a live block.
                let moved = unsafe {
                    realloc(outer, 100, |size| {
                        asked = size;
                        heap(size)
                    })
                }
                .unwrap();
                assert_eq!(asked, 100);
                (inner, moved)
            });
            assert!(!free(moved), "the moved block is the heap's");
            assert_eq!(bytes(moved, 32), vec![7; 32]);
            // SAFETY: allocated by `heap` with this layout.
            unsafe { std::alloc::dealloc(moved, layout(100).unwrap()) };
            // The inner scope's memory is handed out again.
            assert_eq!(alloc(16).unwrap(), inner);
            (first, alloc(8).unwrap())
        });
        assert_ne!(first, reused);
        // The outer scope went back to its start: the next file gets the same memory.
        assert_eq!(scope(|| alloc(64).unwrap()), first);
        assert!(alloc(64).is_none());
        // A null pointer grows as a new block; a pointer that is not the region's is the heap's.
        scope(|| {
            // SAFETY: null is always allowed.
            let fresh =
                unsafe { realloc(std::ptr::null_mut(), 24, |_| panic!("no heap")) }.unwrap();
            assert!(free(fresh));
            let foreign = heap(8);
            assert!(!free(foreign));
            // SAFETY: `foreign` is a live block of the heap.
            assert!(unsafe { realloc(foreign, 16, |_| panic!("no heap")) }.is_none());
            // SAFETY: allocated by `heap` with this layout.
            unsafe { std::alloc::dealloc(foreign, layout(8).unwrap()) };
        });
    }

    #[test]
    fn a_request_larger_than_a_chunk_gets_its_own_and_the_region_shrinks_after() {
        route();
        let big = CHUNK_BYTES * 3;
        scope(|| {
            let small = alloc(100).unwrap();
            let large = alloc(big).unwrap();
            fill(large, big, 3);
            assert!(free(small) && free(large));
            assert_eq!(bytes(large, big).iter().filter(|b| **b == 3).count(), big);
        });
        let held = REGION.with_borrow(|r| r.chunks.iter().map(|c| c.capacity).sum::<usize>());
        assert!(held <= RETAINED_BYTES, "{held}");
        give_back();
        assert_eq!(REGION.with_borrow(|r| r.chunks.len()), 0);
    }

    #[test]
    fn a_full_region_leaves_the_rest_to_the_heap_and_its_trees_to_be_freed() {
        route();
        scope(|| {
            let mut handed = 0;
            while alloc(CHUNK_BYTES / 2).is_some() {
                handed += CHUNK_BYTES / 2;
                assert!(handed <= MAX_REGION_BYTES, "{handed}");
            }
            assert!(handed >= MAX_REGION_BYTES / 2, "{handed}");
            assert!(REGION.with_borrow(|r| r.spilled));
        });
        assert!(!REGION.with_borrow(|r| r.spilled));
        assert!(scope(|| alloc(64)).is_some());
    }

    #[test]
    fn an_unwinding_scope_still_goes_back_to_its_start() {
        route();
        let start = scope(|| alloc(8).unwrap());
        let unwound = std::panic::catch_unwind(|| {
            scope(|| {
                alloc(4096).unwrap();
                panic!("a file's extraction panics");
            })
        });
        assert!(unwound.is_err());
        assert_eq!(scope(|| alloc(8).unwrap()), start);
    }
}

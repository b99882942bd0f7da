//! The allocator: jemalloc (Redis's own, so size classes and fragmentation behave
//! alike) wrapped to count allocated bytes, which is what `used_memory` and the
//! maxmemory checks read (as Redis's zmalloc counter).

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicUsize, Ordering};
use tikv_jemallocator::Jemalloc;

/// jemalloc with a live byte count.
pub struct CountingAlloc;

static USED: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to jemalloc unchanged; the counter has no effect on
// the memory handed out.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = Jemalloc.alloc(layout);
        if !p.is_null() {
            USED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = Jemalloc.alloc_zeroed(layout);
        if !p.is_null() {
            USED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        USED.fetch_sub(layout.size(), Ordering::Relaxed);
        Jemalloc.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = Jemalloc.realloc(ptr, layout, new_size);
        if !p.is_null() {
            if new_size >= layout.size() {
                USED.fetch_add(new_size - layout.size(), Ordering::Relaxed);
            } else {
                USED.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

/// Bytes currently allocated by the process (Redis's `used_memory`).
pub fn used_memory() -> u64 {
    USED.load(Ordering::Relaxed) as u64
}

/// jemalloc's own figures: (allocated, active, resident, mapped, retained).
pub fn allocator_stats() -> (u64, u64, u64, u64, u64) {
    use tikv_jemalloc_ctl::{epoch, stats};
    let _ = epoch::advance();
    (
        stats::allocated::read().unwrap_or(0) as u64,
        stats::active::read().unwrap_or(0) as u64,
        stats::resident::read().unwrap_or(0) as u64,
        stats::mapped::read().unwrap_or(0) as u64,
        stats::retained::read().unwrap_or(0) as u64,
    )
}

/// Resident set size of the process in bytes (from /proc).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map(|pages| pages * page_size())
        .unwrap_or(0)
}

fn page_size() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 {
        p as u64
    } else {
        4096
    }
}

/// jemalloc's statistics report (`malloc_stats_print`), for MEMORY MALLOC-STATS.
pub fn malloc_stats_text() -> String {
    unsafe extern "C" fn write_cb(opaque: *mut libc::c_void, s: *const libc::c_char) {
        // SAFETY: `opaque` is the &mut String passed below, alive during the call;
        // jemalloc hands a NUL-terminated string.
        unsafe {
            let out = &mut *(opaque as *mut String);
            out.push_str(&std::ffi::CStr::from_ptr(s).to_string_lossy());
        }
    }
    let mut out = String::new();
    // SAFETY: the callback only appends to `out`, which outlives the call.
    unsafe {
        tikv_jemalloc_sys::malloc_stats_print(
            Some(write_cb),
            &mut out as *mut String as *mut libc::c_void,
            std::ptr::null(),
        );
    }
    out
}

/// Returns unused dirty pages of every arena to the system (MEMORY PURGE).
pub fn purge() {
    // "arena.<MALLCTL_ARENAS_ALL>.purge": jemalloc's MALLCTL_ARENAS_ALL is 4096.
    let name = b"arena.4096.purge\0";
    // SAFETY: a void control: no old or new value is read or written.
    unsafe {
        tikv_jemalloc_sys::mallctl(
            name.as_ptr() as *const libc::c_char,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            0,
        );
    }
}

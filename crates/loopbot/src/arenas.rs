//! How many heaps (arenas) glibc's `malloc` keeps: a few, instead of one per thread that
//! allocates.
//!
//! glibc gives each thread that allocates while the others hold theirs an arena of its own, up
//! to eight per core, and memory freed in one is kept for it. `loopbot serve` has a runtime
//! worker, the writers' lane, a thread per SQLite connection (sqlx's) and tokio's blocking
//! threads. Under `LOAD_MIX=submissions cargo bench --bench load` on 2 cores its peak was
//! 28.4–30.4 MiB, at or over the 30 MiB target in two runs of nine; with two arenas 26.9–28.7
//! MiB at the same rate and latency (docs/performance.md, fifteenth run). One arena was no
//! smaller.

/// Bounds glibc's arenas at `arenas` (at least 2), or at `MALLOC_ARENA_MAX` where that is set
/// (glibc reads it only as the process starts, not from a `.env` file read later). Call before
/// any thread starts. Nothing where the C library is not glibc.
pub fn bound_malloc_arenas(arenas: usize) {
    set_arena_max(arena_count(
        std::env::var("MALLOC_ARENA_MAX").ok().as_deref(),
        arenas,
    ));
}

/// The operator's `MALLOC_ARENA_MAX` when it is a positive number, else `arenas`, at least 2.
fn arena_count(set: Option<&str>, arenas: usize) -> usize {
    set.and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(arenas.max(2))
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn set_arena_max(arenas: usize) {
    let arenas = libc::c_int::try_from(arenas).unwrap_or(libc::c_int::MAX);
    // SAFETY: `mallopt` only sets a parameter of the allocator, which glibc reads under its
    // own lock; it takes no pointers. A refusal (0) leaves glibc's default, which is harmless.
    let _ = unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) };
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn set_arena_max(_arenas: usize) {}

#[cfg(test)]
mod tests {
    use super::arena_count;

    #[test]
    fn the_operators_number_stands_else_one_per_core_and_never_fewer_than_two() {
        assert_eq!(arena_count(None, 2), 2);
        assert_eq!(arena_count(None, 1), 2);
        assert_eq!(arena_count(None, 8), 8);
        assert_eq!(arena_count(Some("4"), 2), 4);
        assert_eq!(arena_count(Some(" 1 "), 8), 1);
        assert_eq!(arena_count(Some("0"), 8), 8, "0 is not a number of arenas");
        assert_eq!(arena_count(Some("many"), 3), 3);
        // Once set, the process goes on allocating from any thread.
        super::bound_malloc_arenas(2);
        let handles: Vec<_> = (0..4)
            .map(|i| std::thread::spawn(move || vec![i; 100_000].len()))
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), 100_000);
        }
    }
}

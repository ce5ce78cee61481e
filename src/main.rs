//! The `syndic` binary: everything lives in the library; this only chooses the allocator and
//! hands over to [`syndic::cli`].

/// jemalloc rather than glibc's malloc. Items are made on the worker threads and freed on
/// the store's writer thread; there, glibc's `malloc` and `free` with their chunk
/// consolidation (`malloc_consolidate`, `unlink_chunk`) were 9 % of the run's CPU. The
/// first poll of the 5000-feed benchmark went from 2.58 s to 2.48 s median wall, and from
/// 4.25 s to 3.93 s of CPU (10 runs each, interleaved); its peak memory from 70–72 MB to
/// 80–86 MB. A build without the `jemalloc` feature keeps the system's allocator.
#[cfg(all(feature = "jemalloc", not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    syndic::cli::main()
}

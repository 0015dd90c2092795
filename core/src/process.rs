//! Process-wide settings for the programs built around the engine (the CLI
//! and the service). A library loaded into someone else's process (the C,
//! Python and Node bindings) leaves its host's settings alone.

use std::sync::OnceLock;

/// Turns transparent huge pages off for this process (Linux; elsewhere it
/// does nothing).
///
/// tract allocates every batch's activations afresh and frees them at its
/// end. With huge pages the kernel zeroes a whole 2 MiB page the first time
/// any byte of it is touched, and keeps it resident while any byte is in
/// use: on the UD EWT dev sentences (entities + parse, AVX2+FMA only,
/// 2 cores) the CLI took 7.8–8.2 s and peaked at 277–287 MB with them, and
/// 7.0–7.7 s and 251–263 MB without (three runs each).
pub fn use_small_pages() -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    rustix::thread::disable_transparent_huge_pages(true)?;
    Ok(())
}

static RETURN_FREE_MEMORY: OnceLock<fn()> = OnceLock::new();

/// Registers how this process hands the memory its allocator keeps free
/// back to the system; the first registration stands (false for later ones).
///
/// The engine calls it after the two steps that free tens of MB at once
/// and never again soon: loading a graph (the file's tensors and tract's
/// intermediate copies, ≈ 80 MB) and building a tract plan (its own
/// packing of the weights, dropped for the one already shared, ≈ 50 MB).
/// An allocator keeps such memory for reuse, so without this it stays in
/// the process's resident size. A program that owns its allocator (the
/// CLI and the service, with mimalloc: `mi_collect(true)`) registers it;
/// the bindings do not, their host's allocator being the host's business.
/// The CLI's resident size right after loading the default model (tract,
/// read from `/proc/self/status` by a build that printed it) was 177 MB
/// without it and 99 MB with it; the README has its peaks.
pub fn return_free_memory_with(release: fn()) -> bool {
    RETURN_FREE_MEMORY.set(release).is_ok()
}

/// Hands free memory back with the function registered, if any.
pub(crate) fn return_free_memory() {
    if let Some(release) = RETURN_FREE_MEMORY.get() {
        release();
    }
}

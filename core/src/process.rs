//! Process-wide settings for the programs built around the engine (the CLI
//! and the service). A library loaded into someone else's process (the C,
//! Python and Node bindings) leaves its host's settings alone.

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

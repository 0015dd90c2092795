//! `include/edgemine.h` is what cbindgen makes of the sources today, so the
//! committed header never drifts from the library. To regenerate it:
//!
//!     EDGEMINE_BLESS=1 cargo test -p edgemine-ffi --test header

use std::path::Path;

#[test]
fn committed_header_is_freshly_generated() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("ffi/cbindgen.toml");
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen cannot read ffi/src")
        .write(&mut generated);
    let header = crate_dir.join("include").join("edgemine.h");
    if std::env::var_os("EDGEMINE_BLESS").is_some() {
        std::fs::write(&header, &generated).expect("write include/edgemine.h");
        return;
    }
    let committed = std::fs::read(&header).unwrap_or_default();
    assert!(
        committed == generated,
        "ffi/include/edgemine.h differs from what cbindgen generates from ffi/src; regenerate it with \
         `EDGEMINE_BLESS=1 cargo test -p edgemine-ffi --test header` and commit it"
    );
}

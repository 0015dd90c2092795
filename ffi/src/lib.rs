//! The C ABI of edgemine, in the manner of rustls-ffi: opaque objects
//! created and freed by their own functions, a status code from every call
//! that can fail plus a per-thread message, UTF-8 strings with explicit
//! lengths, and no panic across the boundary.
//!
//! - [`status`]: status codes, the last error, the version, the guard
//!   every entry point runs in;
//! - [`engine`]: `edgemine_engine`, `edgemine_options` and `edgemine_extract`;
//! - [`result`]: `edgemine_result` and its accessors.
//!
//! `include/edgemine.h` is generated from these files by cbindgen (see
//! `tests/header.rs`); `make -C ffi install` installs it with the
//! libraries, a pkg-config file and the default models.
#![allow(non_camel_case_types)]

pub mod engine;
pub mod result;
pub mod status;

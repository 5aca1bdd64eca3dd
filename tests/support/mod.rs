//! Helpers shared by the integration tests (each test file declares `mod support;`): running
//! the binary and a dead port (`bin`), the embedded server, client targets and raw HTTP calls
//! (`server`), result blocks and their keys (`block`), dataset fixtures (`fixtures`). Every
//! helper is re-exported here, so a test imports `support::{name, …}`.
#![allow(dead_code, unused_imports)]

pub mod bin;
pub mod block;
pub mod fixtures;
pub mod server;

pub use bin::*;
pub use block::*;
pub use fixtures::*;
pub use server::*;

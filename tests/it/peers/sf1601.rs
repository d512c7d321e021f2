//! Test peer: sf1601 (see peers/mod.rs).

//! Test peer: kannel (see peers/mod.rs).

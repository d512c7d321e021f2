//! Test peer: smtp (see peers/mod.rs).

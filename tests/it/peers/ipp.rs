//! Test peer: ipp (see peers/mod.rs).

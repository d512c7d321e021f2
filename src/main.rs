//! `budbringer`: see `budbringer --help`. Everything lives in the library.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    budbringer::cli::main()
}

//! `budbringer`: see `budbringer --help`. Everything lives in the library.

fn main() -> std::process::ExitCode {
    budbringer::cli::main()
}

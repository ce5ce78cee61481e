//! The `syndic` binary: everything lives in the library; this only hands over to [`syndic::cli`].

fn main() -> std::process::ExitCode {
    syndic::cli::main()
}

fn main() -> std::process::ExitCode {
    netrepro::cli::main()
}

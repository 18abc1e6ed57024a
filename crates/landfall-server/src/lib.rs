//! Landfall's HTTP server (stub being filled in).
pub mod settings;
pub use settings::ServeArgs;

/// Run `landfall serve` until SIGTERM/Ctrl-C.
pub async fn run(args: ServeArgs) -> Result<(), std::io::Error> {
    let _ = args;
    Ok(())
}

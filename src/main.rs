use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match knockon::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                knockon::exit_codes::ERROR
            } else {
                0
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match knockon::app::run(&cli) {
        Ok(outcome) => {
            let mut stdout = std::io::stdout().lock();
            match stdout
                .write_all(outcome.output.as_bytes())
                .and_then(|_| stdout.flush())
            {
                Ok(()) => ExitCode::from(outcome.exit_code),
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(0),
                Err(e) => {
                    eprintln!("knockon: cannot write the report: {e}");
                    ExitCode::from(knockon::exit_codes::ERROR)
                }
            }
        }
        Err(e) => {
            eprintln!("knockon: {e:#}");
            ExitCode::from(knockon::exit_codes::ERROR)
        }
    }
}

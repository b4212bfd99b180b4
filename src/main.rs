use clap::Parser;
use knockon::error::{escape_controls, print_line};
use std::io::Write;
use std::process::ExitCode;

mod allocator;

fn main() -> ExitCode {
    allocator::share_with_tree_sitter();
    knockon::app::after_extraction(allocator::return_free_pages);
    knockon::app::leave_to_exit();
    knockon::app::start_thread_pool();
    let cli = match knockon::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                knockon::exit_codes::ERROR
            } else {
                0
            };
            print_clap_error(&e);
            return ExitCode::from(code);
        }
    };
    knockon::progress::set_quiet(cli.quiet);
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
                    print_line(&format!("cannot write the report: {e}"));
                    ExitCode::from(knockon::exit_codes::ERROR)
                }
            }
        }
        Err(e) => {
            print_line(&format!("{e:#}"));
            ExitCode::from(knockon::exit_codes::ERROR)
        }
    }
}

/// clap's message as clap prints it, unless an argument has control characters in it (clap may
/// quote it): then without styles, each line with its controls escaped.
fn print_clap_error(e: &clap::Error) {
    let hostile =
        std::env::args_os().any(|arg| arg.to_string_lossy().chars().any(char::is_control));
    if !hostile {
        let _ = e.print();
        return;
    }
    let text = e.render().to_string();
    let lines: Vec<String> = text.lines().map(escape_controls).collect();
    let out = lines.join("\n");
    if e.use_stderr() {
        eprintln!("{out}");
    } else {
        println!("{out}");
    }
}

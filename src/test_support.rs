//! What unit tests share: the harness that parses a subcommand's flags as
//! the binary does and hands its `validate`/`settings` an environment that
//! is not the process's, and small builders.

#![allow(clippy::panic)]

use std::collections::HashMap;

use clap::{Args, FromArgMatches, Parser};

use crate::scope::SecretPath;

/// A folder path the test knows to be valid.
pub fn path(text: &str) -> SecretPath {
    SecretPath::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// A flattened set of flags, parsed on its own.
#[derive(Parser)]
pub struct Cli<A: Args + FromArgMatches> {
    #[command(flatten)]
    pub args: A,
}

/// `argv` (without the program name) parsed into `A`. Flags that clap
/// would also read from the process environment are parsed too, so callers
/// reset the ones a test must not inherit.
pub fn parse<A: Args + FromArgMatches>(argv: &[&str]) -> A {
    match Cli::<A>::try_parse_from(std::iter::once("x").chain(argv.iter().copied())) {
        Ok(cli) => cli.args,
        Err(e) => panic!("{argv:?} does not parse: {e}"),
    }
}

/// The value given after `name` in `argv`, as the test wrote it.
pub fn flag(argv: &[&str], name: &str) -> Option<String> {
    argv.iter()
        .position(|a| *a == name)
        .and_then(|i| argv.get(i + 1))
        .map(|v| (*v).to_string())
}

/// An environment of exactly these variables.
pub fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

//! Subcommands (to be written).

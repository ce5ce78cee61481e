//! Integration tests: the `syndic` binary against fixtures served from 127.0.0.1:0.
//! One binary, a module per area; helpers in `support/`.

mod support;

mod bad_input;
mod commands;
mod daemon;
mod demo;
mod fetch;
mod fulltext;
mod pipeline;
mod systemd;
mod web;

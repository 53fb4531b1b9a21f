//! Tend: a self-hostable platform for compassionate therapy.
//!
//! `main.rs` parses the command line; [`app`] builds state and the router; each feature lives
//! in its own module with a `routes()` function. ARCHITECTURE.md is the map.

pub mod accounts;
pub mod admin;
pub mod alerts;
pub mod app;
pub mod audit;
pub mod authz;
pub mod backup;
pub mod care;
pub mod cli;
pub mod coach;
pub mod config;
pub mod crypto;
pub mod db;
pub mod demo;
pub mod directory;
pub mod email;
pub mod encoder;
pub mod error;
pub mod home;
pub mod http_server;
pub mod jobs;
pub mod measures;
pub mod messaging;
pub mod notes;
pub mod openapi;
pub mod outcomes;
pub mod plans;
pub mod practice;
pub mod rights;
pub mod safety;
pub mod web;

//! The rules, one file per family, and the registry that lists them.
pub mod sysctl;

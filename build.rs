//! Rebuilds the service when a migration changes: `sqlx::migrate!` embeds the files of
//! `migrations/` at compile time, and cargo does not otherwise look at them.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

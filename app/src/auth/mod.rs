//! Signing in and out, first-start setup, and the signed-in user.

pub mod api;
mod login;
mod setup;

pub use login::LoginPage;
pub use setup::SetupPage;

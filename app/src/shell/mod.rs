//! The signed-in frame: navigation, the user's name and role, sign-out, and the pages that
//! later work fills in.

mod home;
mod layout;
mod placeholder;

pub use home::DashboardHome;
pub use layout::DashboardLayout;
pub use placeholder::{NotFound, TeamsPage};

//! The signed-in frame: navigation, the user's name and role, sign-out, and the pages that
//! later work fills in.

mod layout;
mod not_found;
mod route_progress;

pub use layout::DashboardLayout;
pub use not_found::NotFound;
pub use route_progress::RouteProgress;

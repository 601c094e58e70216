//! Components shared by every page.

mod brand;
mod field;
mod form_alert;

pub use brand::Brand;
pub use field::Field;
pub use form_alert::FormAlert;

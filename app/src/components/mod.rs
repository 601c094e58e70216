//! Components shared by every page.

mod brand;
mod budget_bar;
mod cards;
mod copy;
mod dialog;
mod field;
mod filter_form;
mod form_alert;
mod loaded;
mod pager;
mod sort_header;
mod time;
mod toasts;

pub use brand::Brand;
pub use budget_bar::{BudgetBar, MemberBudgetUse};
pub use cards::SummaryCards;
pub use copy::CopyField;
pub use dialog::{ConfirmDialog, Modal, saved_closes};
pub use field::Field;
pub use filter_form::FilterForm;
pub use form_alert::{FormAlert, FormErrors};
pub use loaded::Loaded;
pub use pager::Pager;
pub use sort_header::SortHeader;
pub use time::{Ago, exact, relative};
pub use toasts::{ToastRegion, Toasts, use_toasts};

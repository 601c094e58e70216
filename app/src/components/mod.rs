//! Components shared by every page.

mod brand;
mod budget_bar;
mod cards;
mod confirm_button;
mod copy;
mod dialog;
mod field;
mod filter_form;
mod form_alert;
mod loaded;
mod page_header;
mod pager;
mod row_switches;
mod sort_header;
mod team_scope;
mod time;
mod toasts;

pub use brand::Brand;
pub use budget_bar::{BudgetBar, MemberBudgetUse};
pub use cards::SummaryCards;
pub use confirm_button::ConfirmButton;
pub use copy::CopyField;
pub use dialog::{ConfirmDialog, Modal, saved_closes};
pub use field::{Field, FieldError, TextAreaField};
pub use filter_form::FilterForm;
pub use form_alert::{FormAlert, FormErrors, succeeded};
pub use loaded::Loaded;
pub use page_header::{OpenButton, PageHeader};
pub use pager::Pager;
pub use row_switches::RowSwitches;
pub use sort_header::SortHeader;
pub use team_scope::{ScopeChoice, TeamScope};
pub use time::{Ago, exact, relative};
pub use toasts::{ToastRegion, Toasts, use_toasts};

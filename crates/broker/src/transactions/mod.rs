//! The transaction coordinator (issue 12), being built. So far: the `__transaction_state`
//! record formats ([`records`]). Until the coordinator serves requests, transactional producers
//! are refused (see `crate::refusals`).

pub mod records;

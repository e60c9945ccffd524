//! The transaction coordinator, a sibling of the group coordinator: [`coordinator`] serves
//! InitProducerId with a transactional id, AddPartitionsToTxn, AddOffsetsToTxn, EndTxn and the
//! transaction views, following Kafka's state machine ([`metadata`]) and storing it in
//! `__transaction_state` in Kafka's formats ([`records`]).

pub mod coordinator;
pub mod metadata;
pub mod records;

pub use coordinator::{Settings, TRANSACTION_STATE_TOPIC, TransactionCoordinator};

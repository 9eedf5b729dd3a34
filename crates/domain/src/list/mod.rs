//! Lists: the aggregate, its repository port and the use cases.

mod error;
mod model;
mod ports;
mod service;

pub use error::ListError;
pub use model::{Color, List, ListCounts, ListId, ListName, ListPatch, ListRecord, NewList};
pub use ports::ListRepository;
#[cfg(any(test, feature = "mocks"))]
pub use ports::MockListRepository;
pub use service::ListService;

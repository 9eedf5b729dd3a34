//! Users: the identity a token carries, the row the server keeps, and who may touch whose tasks.

mod model;
mod ports;
mod service;

pub use model::{AuthenticatedUser, User, UserId};
#[cfg(any(test, feature = "mocks"))]
pub use ports::MockUserRepository;
pub use ports::UserRepository;
pub use service::{Forbidden, UserError, UserService};

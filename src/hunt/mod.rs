//! Continuous hunting, the pure part: which indicators are hunted ([`indicators`]) and which
//! windows of alerts a cycle searches ([`window`]).
pub mod detect;
pub mod indicators;
pub mod window;

//! landfall-notify's tests: signatures against independent computations of each documented
//! algorithm, payload and robot body snapshots, translations, the retry policy.

mod events;
mod fixtures;
mod messages;
mod retry;
mod robots;
mod webhook;

//! landfall-crypto

//! landfall-client

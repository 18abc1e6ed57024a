//! landfall-api-types

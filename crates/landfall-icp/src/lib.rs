//! landfall-icp

//! Pipeline (to be written).

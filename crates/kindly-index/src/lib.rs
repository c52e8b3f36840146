//! Vector indexes behind `kindly_core::VectorIndex`.
//!
//! [`ExactIndex`] is the embedded default: every vector is persisted through a
//! `kindly_core::PointStore` (SQLite, beside its record) and mirrored in an in-memory row-major
//! matrix that is scanned exactly with SIMD dot products. Exact search over 100k × 384 vectors
//! takes milliseconds, which is why a support knowledge base needs no approximate index.

mod exact;

pub use exact::ExactIndex;

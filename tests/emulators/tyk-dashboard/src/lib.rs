//! An in-memory Tyk Dashboard that answers like the real one, quirks included.
